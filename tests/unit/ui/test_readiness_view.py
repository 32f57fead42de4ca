"""A plan's readiness without a database: the check XCom read defensively, and the plan's last check
and history as the plans API shows them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from drs_provider.ui.airflow_source import (
    Finding,
    PlanReadiness,
    PlanSummary,
    ReadinessCheck,
    ReadinessMark,
    parse_readiness,
)
from drs_provider.ui.format import jsonable
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
