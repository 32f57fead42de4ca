"""The run and plans pages' details: who triggered a run, approval Markdown rendered safely,
hostnames beside instance and server IDs, and a scheduled plan whose DAG is paused."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from drs_provider.recovery.report import triggered_by
from drs_provider.ui.airflow_source import PlanSummary, RunSummary
from drs_provider.ui.app import templates
from drs_provider.ui.live_report import run_report
from drs_provider.ui.markdown import render_markdown
from drs_provider.ui.plans_view import plan_rows
from drs_provider.ui.view import build_run_view
from tests.unit.recovery.runs import DB_IDS, PREFLIGHT_XCOM, WAVES, at, succeeded_run, waiting_run

pytestmark = pytest.mark.unit

HOSTILE = (
    "**Fail over** the shop database?\n\n"
    "<script>alert('owned')</script>\n\n"
    '<img src=x onerror="alert(1)">\n\n'
    "[runbook](https://wiki.example.com/dr) [bad](javascript:alert(1))\n\n"
    "![tracker](https://evil.example.com/pixel.png)"
)


def view_of(run: Any, **kwargs: Any) -> Any:
    report, source = run_report(run)
    return build_run_view(run, report, source=source, may_answer=lambda approval: True, now=at(20), **kwargs)


def render(name: str, **context: Any) -> str:
    request = SimpleNamespace(scope={})
    return templates.get_template(name).render(
        request=request, refresh_seconds=3, airflow_root="", static_root="/static", **context
    )


# -- Markdown ---------------------------------------------------------------------------------------


def test_approval_markdown_is_rendered_and_html_or_script_is_escaped() -> None:
    html = str(render_markdown(HOSTILE))

    assert "<strong>Fail over</strong>" in html
    assert "<script" not in html and "&lt;script&gt;alert('owned')&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    assert (
        '<a href="https://wiki.example.com/dr" target="_blank" rel="noopener noreferrer">runbook</a>' in html
    )
    assert 'href="javascript:' not in html
    # images are off: the pixel is a plain link at most, never loaded by the page
    assert '<img src="https://evil.example.com' not in html
    assert render_markdown(None) == "" and render_markdown("") == ""


def test_the_run_page_shows_the_approval_as_safe_markdown() -> None:
    run = waiting_run()
    approval = replace(run.approvals["db.pre_1_approval"], body=HOSTILE)
    run = replace(run, approvals={"db.pre_1_approval": approval})

    page = render("_run.html", view=view_of(run))

    body = page.split('class="body markdown">', 1)[1].split("</div>", 1)[0]
    assert "<strong>Fail over</strong>" in body
    assert "<script" not in page and 'onerror="alert' not in page
    assert "&lt;script&gt;" in body


# -- who triggered ---------------------------------------------------------------------------------


def test_who_triggered_a_run_reads_as_a_person_expects() -> None:
    assert triggered_by("alice", "manual") == "alice"
    assert triggered_by(None, "scheduled") == "the schedule"
    assert triggered_by(None, "asset_triggered") == "nobody recorded (asset triggered run)"
    assert triggered_by(None, None) == "nobody recorded"


def test_the_run_page_and_its_json_say_who_triggered_the_run() -> None:
    view = view_of(replace(succeeded_run(), triggered_by="alice", run_type="manual"))

    assert (view.triggered_by, view.triggered_by_text) == ("alice", "alice")
    assert view.to_json()["triggered_by"] == "alice"
    assert '<strong id="triggered-by">alice</strong>' in render("_run.html", view=view)
    scheduled = view_of(replace(succeeded_run(), run_type="scheduled"))
    assert (scheduled.triggered_by, scheduled.triggered_by_text) == (None, "the schedule")


def plan(runs: tuple[RunSummary, ...] = (), **changes: Any) -> PlanSummary:
    base = PlanSummary("drs_plan_shop", "shop", "Web shop", False, "0 3 * * 1", at(500), WAVES, runs)
    return replace(base, **changes)


def test_the_plans_page_says_who_triggered_the_last_run() -> None:
    runs = (RunSummary("manual__1", "success", "recovery", at(0), 61.0, None, "alice", "manual"),)

    (row,) = plan_rows([plan(runs)])
    page = render("plans.html", plans=[row], recent_runs=10)

    assert '<span class="triggered-by">alice</span>' in page
    assert "triggered by alice" in row.trend.bars[0].title


# -- a scheduled plan whose DAG is paused -------------------------------------------------------------


def test_a_paused_scheduled_plan_is_said_loudly_and_a_paused_plan_without_schedule_is_not() -> None:
    paused = plan(is_paused=True)
    by_hand = plan(dag_id="drs_plan_manual", plan="manual", schedule=None, is_paused=True)
    running = plan(dag_id="drs_plan_weekly", plan="weekly", is_paused=False)
    assert (paused.drills_paused, by_hand.drills_paused, running.drills_paused) == (True, False, False)

    page = render("plans.html", plans=plan_rows([paused, by_hand, running]), recent_runs=10)

    alert = page.split('id="paused-plans"', 1)[1].split("</div>", 1)[0]
    assert "Scheduled drills are NOT running" in alert
    assert ">shop</a>" in alert and "manual" not in alert and "weekly" not in alert
    assert '<tr data-dag-id="drs_plan_shop" class="paused" data-paused="true">' in page
    assert "none: the DAG is paused" in page
    assert 'id="paused-plans"' not in render("plans.html", plans=plan_rows([running]), recent_runs=10)


# -- hostnames --------------------------------------------------------------------------------------


def test_a_server_result_without_a_hostname_gets_the_one_preflight_resolved() -> None:
    run = succeeded_run()
    preflight = {
        **PREFLIGHT_XCOM,
        "waves": {
            **PREFLIGHT_XCOM["waves"],
            "db": {**PREFLIGHT_XCOM["waves"]["db"], "hostnames": {DB_IDS[0]: "db-1.internal"}},
        },
    }
    servers = [dict(entry, hostname=None) for entry in run.xcom("db.wait_for_recovery", "servers")]
    run = replace(
        run,
        xcoms={
            **run.xcoms,
            ("preflight", "return_value"): preflight,
            ("db.wait_for_recovery", "servers"): servers,
        },
    )

    view = view_of(run)

    assert [(server.source_server_id, server.hostname) for server in view.servers][:2] == [
        (DB_IDS[0], "db-1.internal"),
        (DB_IDS[1], None),
    ]


def test_cleanup_names_the_hostname_of_each_instance_it_terminated() -> None:
    run = succeeded_run()
    instance = f"i-{DB_IDS[0][-8:]}"
    cleanup = {"state": "success", "terminated": [instance, "i-unknown"], "failed": []}
    run = replace(run, xcoms={**run.xcoms, ("cleanup", "return_value"): cleanup})
    report, _ = run_report(run)
    report = {**report, "cleanup": cleanup}

    view = build_run_view(run, report, source="report", may_answer=lambda approval: True, now=at(70))

    assert view.cleanup is not None and dict(view.cleanup.hostnames) == {instance: "db-1"}
    page = render("_run.html", view=view)
    assert f"<code>{instance}</code> (db-1), <code>i-unknown</code>" in page
