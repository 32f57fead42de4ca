from __future__ import annotations

from drs_provider.readiness.findings import ERROR, WARNING, Finding, status_of


def test_an_error_makes_a_plan_not_ready_and_a_warning_at_risk() -> None:
    error = Finding(ERROR, "server_missing", "gone", "db", "s-1")
    warning = Finding(WARNING, "drill_overdue", "old")
    assert status_of([]) == "ready"
    assert status_of([warning]) == "at_risk"
    assert status_of([warning, error]) == "not_ready"


def test_a_finding_is_the_contracts_json() -> None:
    assert Finding(WARNING, "drill_overdue", "old").to_json() == {
        "severity": "warning",
        "code": "drill_overdue",
        "wave": None,
        "server": None,
        "message": "old",
    }
