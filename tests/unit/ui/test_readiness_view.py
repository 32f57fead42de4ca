"""A plan's readiness on the plans page, without a database: the check XCom read defensively, the
plan's last check and history, and the page's readiness column (plan data shown as text)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from drs_provider.ui.airflow_source import PlanSummary
from drs_provider.ui.app import templates
from drs_provider.ui.format import jsonable
from drs_provider.ui.plans_view import StatusMark, plan_rows
from drs_provider.ui.readiness_source import (
    Finding,
    PlanReadiness,
    ReadinessCheck,
    ReadinessMark,
    parse_readiness,
)
from tests.unit.recovery.runs import WAVES, at

pytestmark = pytest.mark.unit

LAG = {
    "severity": "warning",
    "code": "lag_over_rpo",
    "wave": "db",
    "server": "s-0a000000000000001",
    "message": "replication lag 20m over the 15m RPO",
}
MISSING = {"severity": "error", "code": "server_missing", "wave": None, "server": None, "message": "gone"}
#: A plan's last two checks, newest first: at risk an hour after it was ready.
AT_RISK_AFTER_READY = (ReadinessCheck(at(3600), "at_risk", (Finding(**LAG),)), ReadinessCheck(at(0), "ready"))


def check_value(checked_at: str = "2026-12-01T10:00:00+00:00", **plans: Any) -> dict[str, Any]:
    return {"checked_at": checked_at, "plans": plans}


def render(name: str, **context: Any) -> str:
    request = SimpleNamespace(scope={})
    return templates.get_template(name).render(
        request=request, refresh_seconds=3, airflow_root="", static_root="/static", **context
    )


def plan(**changes: Any) -> PlanSummary:
    return replace(PlanSummary("drs_plan_shop", "shop", "Web shop", False, None, None, WAVES, ()), **changes)


# -- the check XCom ---------------------------------------------------------------------------------


def test_a_check_gives_each_plan_its_status_and_findings() -> None:
    checks = parse_readiness(
        check_value(
            shop={"status": "at_risk", "findings": [LAG]},
            portal={"status": "not_ready", "findings": [MISSING]},
            billing={"status": "ready", "findings": []},
        )
    )

    moment = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert checks == {
        "shop": ReadinessCheck(moment, "at_risk", (Finding(**LAG),)),
        "portal": ReadinessCheck(
            moment, "not_ready", (Finding("error", "server_missing", None, None, "gone"),)
        ),
        "billing": ReadinessCheck(moment, "ready", ()),
    }


def test_a_check_returned_as_json_text_reads_the_same() -> None:
    value = check_value(shop={"status": "ready", "findings": []})

    assert parse_readiness(json.dumps(value)) == parse_readiness(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "not json {",
        ["a", "list"],
        {"plans": {"shop": {"status": "ready"}}},  # no checked_at
        check_value("yesterday", shop={"status": "ready"}),
        check_value(shop={"status": "ready"}) | {"plans": "shop"},
    ],
    ids=["missing", "not json", "a list", "no time", "bad time", "plans not a map"],
)
def test_a_value_that_is_not_a_check_gives_nothing(value: Any) -> None:
    assert parse_readiness(value) is None


def test_entries_that_do_not_fit_are_left_out_and_the_rest_kept() -> None:
    checks = parse_readiness(
        check_value(
            "2026-12-01T10:00:00Z",
            shop={"status": "ready", "findings": [{"code": "drill_overdue"}, "text", {"message": "no code"}]},
            unknown_status={"status": "green", "findings": []},
            not_a_map="ready",
            findings_not_a_list={"status": "at_risk", "findings": "lag"},
        )
    )

    assert checks is not None
    assert sorted(checks) == ["findings_not_a_list", "shop"]
    # a finding without a severity counts as an error: the safe side
    assert checks["shop"].findings == (Finding("error", "drill_overdue", None, None, ""),)
    assert checks["findings_not_a_list"].findings == ()


def test_a_check_time_without_a_zone_is_utc() -> None:
    checks = parse_readiness(check_value("2026-12-01T10:00:00", shop={"status": "ready"}))

    assert checks is not None
    assert checks["shop"].checked_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


# -- a plan's readiness -----------------------------------------------------------------------------


def test_a_plans_readiness_is_its_last_check_with_the_history_of_all() -> None:
    readiness = PlanReadiness.of(AT_RISK_AFTER_READY)

    assert readiness == PlanReadiness(
        status="at_risk",
        checked_at=at(3600),
        findings=(Finding(**LAG),),
        history=(ReadinessMark(at(3600), "at_risk"), ReadinessMark(at(0), "ready")),
    )
    assert PlanReadiness.of([]) == PlanReadiness(status=None, checked_at=None, findings=(), history=())


def test_the_json_of_a_plan_holds_its_readiness_and_null_when_not_shown() -> None:
    readiness = PlanReadiness.of(AT_RISK_AFTER_READY)

    assert jsonable(plan(readiness=readiness))["readiness"] == {
        "status": "at_risk",
        "checked_at": "2026-12-01T11:00:00+00:00",
        "findings": [LAG],
        "history": [
            {"checked_at": "2026-12-01T11:00:00+00:00", "status": "at_risk"},
            {"checked_at": "2026-12-01T10:00:00+00:00", "status": "ready"},
        ],
    }
    assert jsonable(plan())["readiness"] is None


def test_the_marks_read_oldest_first_like_the_trend_each_titled_with_its_time() -> None:
    readiness = PlanReadiness.of(
        [
            ReadinessCheck(at(7200), "not_ready"),
            ReadinessCheck(at(3600), "at_risk"),
            ReadinessCheck(at(0), "ready"),
        ]
    )

    (row,) = plan_rows([plan(readiness=readiness)])

    assert row.readiness_marks == (
        StatusMark("ok", "2026-12-01 10:00:00 UTC: ready"),
        StatusMark("ask", "2026-12-01 11:00:00 UTC: at risk"),
        StatusMark("bad", "2026-12-01 12:00:00 UTC: not ready"),
    )
    (hidden,) = plan_rows([plan()])
    assert hidden.readiness_marks == ()


# -- the page ---------------------------------------------------------------------------------------


def page_of(*plans: PlanSummary) -> str:
    return render("plans.html", plans=plan_rows(list(plans)), recent_runs=10, readiness_checks=24)


def readiness_cell(page: str, dag_id: str) -> str:
    row = page.split(f'<tr data-dag-id="{dag_id}"', 1)[1].split("</tr>", 1)[0]
    return row.split('<td class="readiness">', 1)[1].split("</td>", 1)[0]


def test_the_page_shows_the_status_when_checked_its_findings_and_marks() -> None:
    readiness = PlanReadiness.of(AT_RISK_AFTER_READY)

    page = page_of(plan(readiness=readiness))

    assert "<th>readiness</th>" in page
    cell = readiness_cell(page, "drs_plan_shop")
    assert '<span class="badge ask readiness-status">at risk</span>' in cell
    assert "checked 2026-12-01 11:00:00 UTC" in cell
    assert '<span class="mark ok" title="2026-12-01 10:00:00 UTC: ready"></span>' in cell
    assert '<span class="mark ask" title="2026-12-01 11:00:00 UTC: at risk"></span>' in cell
    assert (
        '<li><span class="badge ask">warning</span> <code>lag_over_rpo</code> '
        '<span class="muted">wave db, server s-0a000000000000001</span>: '
        "replication lag 20m over the 15m RPO</li>"
    ) in cell


def test_a_plan_no_check_has_covered_is_not_checked_yet() -> None:
    cell = readiness_cell(page_of(plan(readiness=PlanReadiness.of([]))), "drs_plan_shop")

    assert '<span class="badge none readiness-status">not checked yet</span>' in cell
    assert "checked-at" not in cell and 'class="marks"' not in cell and "findings" not in cell


def test_without_readiness_the_page_has_no_readiness_column() -> None:
    page = page_of(plan())

    assert "<th>readiness</th>" not in page and 'class="readiness"' not in page
    assert "drs_readiness" not in page


def test_a_finding_is_text_on_the_page_never_markup() -> None:
    hostile = Finding(
        severity='error"><script>alert(1)</script>',
        code="<b>code</b>",
        wave="<i>db</i>",
        server="s-<img src=x onerror=alert(2)>",
        message="<script>alert('owned')</script>",
    )
    checks = [ReadinessCheck(at(0), "not_ready", (hostile,))]

    cell = readiness_cell(page_of(plan(readiness=PlanReadiness.of(checks))), "drs_plan_shop")

    assert "<script" not in cell and "<img" not in cell and "<b>" not in cell and "<i>" not in cell
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in cell
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in cell
    assert '<span class="badge none">error&#34;&gt;&lt;script&gt;' in cell
