"""The run page's view model: rows, badges, failures, approvals, RTO, links, the timeline."""

from __future__ import annotations

from dataclasses import replace

from drs_provider.links.drs import DrsJobLink
from drs_provider.recovery.report import build_report
from drs_provider.recovery.times import format_duration
from drs_provider.ui.live_report import run_report
from drs_provider.ui.run_rows import ReportView
from drs_provider.ui.view import build_run_view
from tests.unit.recovery.runs import (
    DB_IDS,
    DRS_JOB_LINK,
    RUN_ID,
    WAVES,
    at,
    failed_run,
    succeeded_run,
    task,
    waiting_run,
)

#: the run's report as an HTML page, to download
PAGE_URL = "/drs-recovery/runs/drs_plan_shop/manual__2026-12-01T10%3A00%3A00%2B00%3A00/report.html"


def view_of(run, now_seconds=100.0, may_answer=lambda approval: True, **kwargs):
    report, source = run_report(run)
    return build_run_view(run, report, source=source, may_answer=may_answer, now=at(now_seconds), **kwargs)


def test_a_succeeded_run_lists_every_server_with_its_instances():
    view = view_of(succeeded_run())

    assert (view.state, view.state_text, view.badge, view.finished, view.source) == (
        "success", "succeeded", "ok", True, "live",
    )  # fmt: skip
    assert [(s.wave, s.hostname, s.ec2_instance_id, s.status, s.badge) for s in view.servers] == [
        ("db", "db-1", "i-00000001", "LAUNCHED", "ok"),
        ("db", "db-2", "i-00000002", "LAUNCHED", "ok"),
        ("app", "app-1", "i-00000003", "LAUNCHED", "ok"),
    ]
    assert [(wave.name, wave.step, wave.depends_on, wave.duration) for wave in view.waves] == [
        ("db", 1, (), "38.0s"),
        ("app", 2, ("db",), "21.0s"),
    ]
    assert view.failures == () and view.approvals == ()
    assert (view.rto.seconds, view.rto.text, view.rto.badge) == (61.0, "1m01s (no target set)", "ok")


def test_console_links_use_the_region_the_jobs_ran_in_and_the_providers_link_format():
    view = view_of(succeeded_run())

    (job,) = view.waves[0].jobs
    expected = DrsJobLink().format_link(**DRS_JOB_LINK)
    assert job.url == expected and "eu-west-1" in expected
    assert view.servers[0].console_url.endswith(f"#/sourceServers/{DB_IDS[0]}")
    assert view.console_url.endswith("#/sourceServers")


def test_console_links_of_a_wave_in_another_region_use_that_region():
    run = succeeded_run()
    west = {**DRS_JOB_LINK, "region_name": "us-west-2", "job_id": "drsjob-0000000000000000b"}
    run = replace(run, xcoms={**run.xcoms, ("app.start_recovery", "drs_job"): west})

    view = view_of(run)

    db, app = view.waves
    assert "region=eu-west-1" in db.jobs[0].url and "region=eu-west-1" in db.servers[0].console_url
    assert "region=us-west-2" in app.jobs[0].url and "region=us-west-2" in app.servers[0].console_url
    assert "region=eu-west-1" in view.console_url  # the run's own page: its first wave's region


def test_a_failed_run_names_the_failed_server_and_its_error():
    view = view_of(failed_run())

    assert (view.state_text, view.badge) == ("failed", "bad")
    assert [(f.where, f.message) for f in view.failures] == [
        ("wave db, server db-2 (s-0a000000000000002)", "FAILED: Disk /dev/xvdb could not be attached")
    ]
    failed = [server for server in view.servers if server.badge == "bad"]
    assert [(s.hostname, s.error) for s in failed] == [("db-2", "Disk /dev/xvdb could not be attached")]
    app = view.waves[1]
    assert (app.state_text, app.servers[0].status) == ("not run (upstream failed)", "not launched")
    assert view.rto.text == "no RTO: wave db failed (no target set)"


def test_a_failed_wave_without_a_failed_server_shows_its_tasks_error():
    run = failed_run()
    xcoms = {key: value for key, value in run.xcoms.items() if key != ("db.wait_for_recovery", "servers")}

    view = view_of(replace(run, xcoms=xcoms))

    assert [(f.where, f.message) for f in view.failures] == [
        ("wave db, wait_for_recovery", "DrsJobFailedError: 1 of 2 required servers did not launch")
    ]


def test_a_failed_preflight_is_named_first():
    run = failed_run()
    tasks = {**run.tasks, "preflight": replace(run.tasks["preflight"], state="failed")}
    errors = {"preflight": "DrsPreflightError: confirm: mode=recovery needs confirm='shop'"}

    view = view_of(replace(run, tasks=tasks, errors=errors))

    assert view.failures[0].where == "preflight"
    assert view.failures[0].message == errors["preflight"]


def test_a_waiting_approval_can_be_answered_through_the_rest_apis_hitl_endpoint():
    view = view_of(waiting_run(), now_seconds=20, airflow_root="/airflow")

    (approval,) = view.approvals
    assert (approval.wave, approval.step, approval.options) == ("db", "pre_1_approval", ("Approve", "Reject"))
    assert approval.answer_url == (
        "/airflow/api/v2/dags/drs_plan_shop/dagRuns/manual__2026-12-01T10%3A00%3A00%2B00%3A00"
        "/taskInstances/db.pre_1_approval/-1/hitlDetails"
    )
    assert (view.state_text, view.finished) == ("awaiting approval", False)
    assert view.rto.text == "running for 20.0s (no target set)"
    assert (
        view.airflow_run_url
        == f"/airflow/dags/drs_plan_shop/runs/{RUN_ID.replace(':', '%3A').replace('+', '%2B')}"
    )


def test_an_approval_is_offered_only_to_a_user_whose_answer_the_rest_api_would_take():
    asked = []

    view = view_of(
        waiting_run(), now_seconds=20, may_answer=lambda approval: asked.append(approval) and False
    )

    assert view.approvals == ()
    assert [approval.task_id for approval in asked] == ["db.pre_1_approval"]
    step = next(step for step in view.steps if step.task_id == "db.pre_1_approval")
    assert (step.state_text, step.message) == (
        "awaiting approval",
        "waiting for an answer: Fail the shop database over?",
    )


def test_a_running_run_past_its_target_says_so():
    run = waiting_run()
    preflight = dict(run.xcom("preflight"), rto_target=15)
    run = replace(run, xcoms={**run.xcoms, ("preflight", "return_value"): preflight})

    view = view_of(run, now_seconds=20)

    assert view.rto.text == "running for 20.0s (target 15.0s): target exceeded"
    assert (view.rto.met, view.rto.badge) == (False, "bad")


def test_an_answered_approval_is_no_longer_offered():
    assert view_of(succeeded_run()).approvals == ()


def test_a_stored_report_is_shown_with_its_own_numbers():
    run = succeeded_run()
    stored = {**build_report(run), "rto_seconds": 59.5, "rto_target": 1800, "rto_met": True}
    run = replace(run, xcoms={**run.xcoms, ("report", "return_value"): stored})

    view = view_of(run)

    assert view.source == "report"
    assert view.rto.text == "59.5s (target 30m00s): target met"


def with_report(run, stored, state="success"):
    """``run`` once its ``report`` task ended in ``state``, having kept ``stored`` as its XCom."""
    tasks = {**run.tasks, "report": task("report", state, 62, 63)}
    xcoms = {**run.xcoms, ("report", "return_value"): stored} if stored is not None else run.xcoms
    return replace(run, tasks=tasks, xcoms=xcoms)


STORE_ERROR = {
    "bucket": "dr-evidence",
    "key": f"shop/drs_plan_shop/{RUN_ID}.json",
    "error": "AccessDenied: Access Denied",
}
NOT_STORED = (
    f"not stored in S3: bucket dr-evidence, key shop/drs_plan_shop/{RUN_ID}.json: AccessDenied: Access Denied"
)


def run_html(view):
    from drs_provider.ui.app import templates

    return templates.env.get_template("_run.html").render(view=view, refresh_seconds=3)


def test_a_report_s3_would_not_store_shows_on_the_run_page_as_a_failure():
    run = with_report(
        succeeded_run(), {**build_report(succeeded_run()), "store_error": STORE_ERROR}, "failed"
    )

    view = view_of(run)

    assert (view.state, view.source) == ("success", "report")  # the waves' verdict, from the stored report
    assert view.report == ReportView(
        False,
        "NOT stored",
        "bad",
        error=NOT_STORED,
        note="the report is still the report task's XCom and in its log",
        page_url=PAGE_URL,
    )
    assert [(f.where, f.message) for f in view.failures] == [("report", NOT_STORED)]
    assert view.to_json()["report"]["stored"] is False
    html = run_html(view)
    assert '<span class="badge bad" id="report-state">report not stored</span>' in html
    card = html.split('id="report"', 1)[1].split("</div>", 1)[0]
    assert "NOT stored" in card and NOT_STORED in card
    failures = html.split('id="failures"', 1)[1].split("</section>", 1)[0]
    assert "<strong>report</strong>" in failures and NOT_STORED in failures


def test_a_report_task_that_failed_before_keeping_a_report_is_named_with_its_error():
    run = replace(
        with_report(succeeded_run(), None, "failed"), errors={"report": "RuntimeError: Task SDK gone"}
    )

    view = view_of(run)

    assert view.source == "live"
    assert (view.report.stored, view.report.error) == (False, "RuntimeError: Task SDK gone")
    assert [(f.where, f.message) for f in view.failures] == [("report", "RuntimeError: Task SDK gone")]


def test_a_stored_report_shows_where_it_is_and_no_failure():
    location = f"s3://dr-evidence/shop/drs_plan_shop/{RUN_ID}.json"
    run = with_report(succeeded_run(), {**build_report(succeeded_run()), "location": location})

    view = view_of(run)

    assert view.report == ReportView(True, "stored", "ok", location=location, page_url=PAGE_URL)
    assert view.failures == ()
    html = run_html(view)
    link = html.split('id="report-page"', 1)[1].split("</a>", 1)[0]
    assert f'href="{PAGE_URL}"' in link and "Download the report" in link
    assert 'id="report-state"' not in html and f"<code>{location}</code>" in html
    assert (
        view_of(with_report(succeeded_run(), build_report(succeeded_run()))).report.text == "in Airflow only"
    )
    assert view_of(waiting_run(), now_seconds=20).report.text == "at the end of the run"


def test_the_timeline_has_preflight_then_one_row_per_wave_by_step():
    timeline = view_of(succeeded_run()).timeline

    assert [(bar.label, bar.state) for bar in timeline.bars] == [
        ("preflight", "success"),
        ("db", "success"),
        ("app", "success"),
    ]
    assert [band.label for band in timeline.bands] == ["checks", "step 1", "step 2"]


def test_json_form_has_iso_times_and_no_drawing():
    data = view_of(succeeded_run()).to_json()

    assert "timeline" not in data
    assert data["started"] == at(0).isoformat()
    assert data["waves"][0]["servers"][0]["hostname"] == "db-1"


def test_format_duration():
    assert [format_duration(value) for value in (None, 4.25, 61, 3599, 3725)] == [
        "-", "4.2s", "1m01s", "59m59s", "1h02m",
    ]  # fmt: skip


def test_plan_rows_group_waves_by_step_and_link_each_run_to_its_recovery_tab():
    from drs_provider.ui.airflow_source import PlanSummary, RunSummary
    from drs_provider.ui.plans_view import plan_rows

    runs = (
        RunSummary("manual__2", "failed", "drill", at(100), None, 120.0),
        RunSummary("manual__1", "success", "drill", at(0), 61.0, 120.0),
    )
    plan = PlanSummary("drs_plan_shop", "shop", "Web shop", False, "0 3 * * 1", at(500), WAVES, runs)

    (row,) = plan_rows([plan], "/airflow")

    assert row.steps == ((1, ("db",)), (2, ("app",)))
    assert (row.last.run_id, row.rto_target) == ("manual__2", 120.0)
    assert row.last_url == "/airflow/dags/drs_plan_shop/runs/manual__2/plugin/recovery"
    assert [(bar.state, bar.href.rsplit("/runs/", 1)[1]) for bar in row.trend.bars] == [
        ("success", "manual__1/plugin/recovery"),
        ("failed", "manual__2/plugin/recovery"),
    ]


def test_a_wave_waiting_for_drs_capacity_says_why_while_it_waits():
    why = (
        "waiting for DRS capacity: 20 of 20 jobs active, 140 of 500 servers in active jobs; "
        "1 job(s) for 2 server(s) still to launch"
    )
    ran = succeeded_run()
    waiting = replace(
        ran,
        state="running",
        end_date=None,
        tasks={
            "preflight": ran.tasks["preflight"],
            "db.pre_1_approval": ran.tasks["db.pre_1_approval"],
            "db.start_recovery": task("db.start_recovery", "deferred", 9),
        },
        xcoms={
            ("preflight", "return_value"): ran.xcoms[("preflight", "return_value")],
            ("db.start_recovery", "capacity_wait"): why,
        },
    )

    [db, app] = view_of(waiting).waves
    assert (db.waiting_for, app.waiting_for) == (why, None)
    assert f'<div class="muted waiting-for">{why}</div>' in run_html(view_of(waiting))
    # once it launched, the reason is gone from the view and from the report
    launched = replace(
        waiting, tasks={**waiting.tasks, "db.start_recovery": task("db.start_recovery", "success", 9, 30)}
    )
    assert view_of(launched).waves[0].waiting_for is None
    assert all("waiting_for" not in wave for wave in build_report(launched)["waves"])


TERMINATE_URL = "/drs-recovery/api/runs/drs_plan_shop/run/terminate-instances"


def test_a_finished_drill_that_kept_its_instances_offers_to_terminate_them_to_who_may_act_on_it():
    kept = {**build_report(succeeded_run()), "cleanup": {"state": "skipped", "terminated": [], "failed": []}}

    view = view_of(with_report(succeeded_run(), kept), terminate_url=TERMINATE_URL)

    assert view.terminate is not None
    assert (view.terminate.url, view.terminate.confirm) == (TERMINATE_URL, RUN_ID)
    assert view.terminate.instances == ("i-00000001", "i-00000002", "i-00000003")
    html = run_html(view)
    action = html.split('<div class="terminate"', 1)[1].split("</div>\n      </div>", 1)[0]
    assert f'data-terminate-url="{TERMINATE_URL}"' in action and f'data-confirm="{RUN_ID}"' in action
    assert "Terminate this drill&#39;s instances" in action or "Terminate this drill's instances" in action
    assert view_of(with_report(succeeded_run(), kept)).terminate is None  # not for who may not act on it


def test_terminate_is_not_offered_while_running_for_a_recovery_or_once_every_instance_is_terminated():
    cleaned = {
        **build_report(succeeded_run()),
        "cleanup": {
            "state": "success",
            "terminated": ["i-00000001", "i-00000002", "i-00000003"],
            "failed": [],
        },
    }
    recovery = {**build_report(succeeded_run()), "mode": "recovery"}

    assert view_of(waiting_run(), now_seconds=20, terminate_url=TERMINATE_URL).terminate is None
    assert view_of(with_report(succeeded_run(), recovery), terminate_url=TERMINATE_URL).terminate is None
    assert view_of(with_report(succeeded_run(), cleaned), terminate_url=TERMINATE_URL).terminate is None
    assert 'class="terminate"' not in run_html(view_of(with_report(succeeded_run(), cleaned)))


def test_a_cleanup_done_from_the_page_says_who_did_it_and_what_is_still_terminating():
    done = {
        **build_report(succeeded_run()),
        "cleanup": {
            "state": "terminating",
            "terminated": ["i-00000001", "i-00000002"],
            "failed": [],
            "terminating": ["i-00000003"],
            "requested_by": "admin",
            "requested_at": "2026-12-01T10:05:00+00:00",
            "via": "recovery_view",
        },
    }

    view = view_of(with_report(succeeded_run(), done), terminate_url=TERMINATE_URL)

    assert view.cleanup is not None
    assert (view.cleanup.requested_by, view.cleanup.terminating) == ("admin", ("i-00000003",))
    card = run_html(view).split('id="cleanup"', 1)[1].split('id="report"', 1)[0]
    assert "still terminating: i-00000003" in card
    assert "terminated from this page by admin at 2026-12-01 10:05:00 UTC" in card
    assert view.terminate is not None and view.terminate.instances == ("i-00000003",)
