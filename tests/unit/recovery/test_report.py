"""The run report (docs/reference/run-report.md) built from task instances and XComs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drs_provider.recovery.report import build_report, combined_state
from drs_provider.recovery.run_record import WaveShape, step_kind
from drs_provider.recovery.wave_shapes import in_dependency_order, wave_depths
from drs_provider.ui.live_report import run_report
from tests.unit.recovery.runs import (
    APP_IDS,
    DB_IDS,
    PREFLIGHT_XCOM,
    RUN_ID,
    at,
    failed_run,
    succeeded_run,
    task,
    waiting_run,
)

REPORT_KEYS = {
    "plan", "dag_id", "run_id", "mode", "state", "started", "ended",
    "rto_seconds", "rto_target", "rto_met", "waves", "cleanup",
    # beyond the contract, for the people who read the report
    "triggered_by", "simulator_speed", "preempted_by",
}  # fmt: skip
WAVE_KEYS = {"name", "state", "started", "ended", "duration_seconds", "job_ids", "servers", "steps"}


def test_a_succeeded_run_has_every_field_of_the_report_contract():
    report = build_report(succeeded_run())

    assert set(report) == REPORT_KEYS
    assert (report["plan"], report["run_id"], report["mode"], report["state"]) == (
        "shop",
        RUN_ID,
        "drill",
        "success",
    )
    assert [set(wave) for wave in report["waves"]] == [WAVE_KEYS, WAVE_KEYS]
    db, app = report["waves"]
    assert (db["state"], db["started"], db["ended"], db["duration_seconds"]) == (
        "success", at(2).isoformat(), at(40).isoformat(), 38.0,
    )  # fmt: skip
    assert db["job_ids"] == ["drsjob-0000000000000000a"]
    assert [(s["hostname"], s["launchStatus"], s["rawError"]) for s in db["servers"]] == [
        ("db-1", "LAUNCHED", None),
        ("db-2", "LAUNCHED", None),
    ]
    assert [(step["name"], step["kind"], step["state"]) for step in db["steps"]] == [
        ("pre_1_approval", "approval", "success")
    ]
    assert [(step["name"], step["kind"]) for step in app["steps"]] == [("post_1_lambda", "lambda")]


def test_rto_runs_from_preflight_start_to_the_last_wave_task_including_post_steps():
    report = build_report(succeeded_run())

    assert report["rto_seconds"] == 61.0
    assert report["rto_target"] is None and report["rto_met"] is None


@pytest.mark.parametrize(("target", "met"), [(61, True), (60, False)])
def test_rto_target_from_the_resolved_run_says_whether_it_was_met(target, met):
    run = succeeded_run()
    preflight = dict(run.xcom("preflight"), rto_target=target)
    run = replace(run, xcoms={**run.xcoms, ("preflight", "return_value"): preflight})

    report = build_report(run)

    assert (report["rto_target"], report["rto_met"]) == (target, met)


def test_a_failed_wave_keeps_its_servers_and_errors_and_has_no_rto():
    report = build_report(failed_run())

    assert report["state"] == "failed"
    assert report["rto_seconds"] is None
    db, app = report["waves"]
    assert db["state"] == "failed"
    failed = [s for s in db["servers"] if s["launchStatus"] == "FAILED"]
    assert [(s["sourceServerID"], s["rawError"]) for s in failed] == [
        (DB_IDS[1], "Disk /dev/xvdb could not be attached")
    ]
    assert app["state"] == "upstream_failed"
    assert (app["started"], app["ended"]) == (None, None)
    # Never launched: the servers preflight resolved, without any status.
    assert [(s["sourceServerID"], s["launchStatus"]) for s in app["servers"]] == [(APP_IDS[0], None)]


def test_a_waiting_approval_shows_in_the_run_and_the_wave_and_its_step():
    report = build_report(waiting_run())

    assert report["state"] == "awaiting_input"
    assert report["ended"] is None and report["rto_seconds"] is None
    db, app = report["waves"]
    assert db["state"] == "awaiting_input"
    assert db["steps"][0]["message"] == "waiting for an answer: Fail the shop database over?"
    assert [s["sourceServerID"] for s in db["servers"]] == DB_IDS
    assert app["state"] == "pending"


def test_an_answered_approval_says_who_answered_what():
    (step,) = build_report(succeeded_run())["waves"][0]["steps"]

    assert step["message"] == "answered Approve by alice at 2026-12-01 10:00:08 UTC"


def test_a_failed_step_carries_the_error_from_its_log():
    run = succeeded_run()
    tasks = {**run.tasks, "app.post_1_lambda": task("app.post_1_lambda", "failed", 58, 59)}
    run = replace(
        run,
        state="failed",
        tasks=tasks,
        errors={"app.post_1_lambda": "ResourceNotFoundException: no dr-switch-dns"},
    )

    app = build_report(run)["waves"][1]

    assert app["state"] == "failed"
    assert app["steps"][0]["message"] == "ResourceNotFoundException: no dr-switch-dns"


def test_a_wave_left_out_of_the_run_is_skipped_and_does_not_stop_the_rto():
    run = succeeded_run()
    tasks = dict(run.tasks)
    for task_id in ("app.start_recovery", "app.wait_for_recovery", "app.post_1_lambda"):
        tasks[task_id] = task(task_id, "skipped", 2, 2)
    report = build_report(replace(run, tasks=tasks))

    assert [wave["state"] for wave in report["waves"]] == ["success", "skipped"]
    assert report["rto_seconds"] == 40.0


def test_cleanup_reports_what_its_task_returned():
    run = succeeded_run()
    tasks = {**run.tasks, "cleanup": task("cleanup", "success", 62, 70)}
    xcoms = {**run.xcoms, ("cleanup", "return_value"): {"terminated": ["i-1", "i-2"], "failed": []}}

    report = build_report(replace(run, tasks=tasks, xcoms=xcoms))

    assert report["cleanup"] == {
        "state": "success",
        "terminated": ["i-1", "i-2"],
        "failed": [],
        "reason": None,
        "left_alone": [],
    }
    assert report["rto_seconds"] == 61.0  # clean-up is not part of the recovery time
    assert build_report(succeeded_run())["cleanup"] is None


def test_a_stored_report_is_shown_as_it_is_and_only_then():
    run = succeeded_run()
    stored = {**build_report(run), "rto_seconds": 1.0, "rto_target": 5}

    assert run_report(replace(run, xcoms={**run.xcoms, ("report", "return_value"): stored})) == (
        stored,
        "report",
    )
    report, source = run_report(run)
    assert source == "live" and report["rto_seconds"] == 61.0


@pytest.mark.parametrize(
    ("states", "succeeded", "expected"),
    [
        (["success", "success"], True, "success"),
        (["success", "failed", "upstream_failed"], False, "failed"),
        (["upstream_failed", "upstream_failed"], False, "upstream_failed"),
        (["skipped", "skipped"], False, "skipped"),
        (["success", "awaiting_input", None], False, "awaiting_input"),
        (["success", "deferred"], False, "running"),
        (["success", None], False, "running"),
        ([None, None], False, "pending"),
        ([], False, "pending"),
    ],
)
def test_combined_state(states, succeeded, expected):
    assert combined_state(states, succeeded=succeeded) == expected


@pytest.mark.parametrize(
    ("task_id", "operator", "kind"),
    [
        ("db.pre_1_approval", "ApprovalOperator", "approval"),
        ("db.check_db", "SsmRunCommandOperator", "ssm_command"),
        ("db.post_2_ssm_automation", "SomeAutomationOperator", "ssm_automation"),
        ("db.post_3_wait", None, "wait"),
        ("db.notify", "PythonOperator", "PythonOperator"),
    ],
)
def test_step_kind_by_operator_then_by_default_name(task_id, operator, kind):
    assert step_kind(task_id, operator) == kind


def test_waves_are_numbered_and_ordered_by_dependency_step():
    shapes = [
        WaveShape("web", (), ("api", "cache")),
        WaveShape("api", (), ("db",)),
        WaveShape("db", (), ()),
        WaveShape("cache", (), ("db",)),
        WaveShape("batch", (), ()),
    ]

    assert wave_depths(shapes, "drs_plan_portal") == {"db": 1, "batch": 1, "api": 2, "cache": 2, "web": 3}
    assert [shape.name for shape in in_dependency_order(shapes, "drs_plan_portal")] == [
        "batch", "db", "api", "cache", "web",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "run_type", "expected"),
    [
        ("alice", "manual", "alice"),
        (None, "scheduled", "the schedule"),
        (None, "asset_triggered", "nobody recorded (asset triggered run)"),
        (None, None, "nobody recorded"),
    ],
)
def test_the_report_says_who_started_the_run(user, run_type, expected):
    report = build_report(replace(succeeded_run(), triggered_by=user, run_type=run_type))

    assert report["triggered_by"] == expected


def test_the_report_says_when_drs_was_the_simulator_and_at_what_speed():
    on_aws = build_report(succeeded_run())
    run = succeeded_run()
    preflight = {**run.xcom("preflight"), "simulator_speed": 10.0}
    simulated = build_report(replace(run, xcoms={**run.xcoms, ("preflight", "return_value"): preflight}))

    assert (on_aws["simulator_speed"], simulated["simulator_speed"]) == (None, 10.0)
    # one clock: the RTO is Airflow's task times whatever DRS's clock says
    assert simulated["rto_seconds"] == on_aws["rto_seconds"] == 61.0


def test_a_wave_says_where_it_ran_when_not_in_the_runs_own_region():
    run = succeeded_run()
    resolved = {**PREFLIGHT_XCOM, "waves": dict(PREFLIGHT_XCOM["waves"])}
    resolved["waves"]["app"] = {**resolved["waves"]["app"], "region": "us-west-2", "aws_conn_id": "aws_west"}
    run = replace(run, xcoms={**run.xcoms, ("preflight", "return_value"): resolved})

    db, app = build_report(run)["waves"]

    assert (app["region"], app["aws_conn_id"]) == ("us-west-2", "aws_west")
    assert "region" not in db and "aws_conn_id" not in db
