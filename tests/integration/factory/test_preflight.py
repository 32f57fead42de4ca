"""The preflight operator against the DRS simulator: every problem at once, read-only calls only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drs_provider.exceptions import DrsPreflightError
from drs_provider.operators.preflight import DrsPlanPreflightOperator

pytestmark = pytest.mark.integration

READ_ONLY = {
    "DescribeSourceServers",
    "DescribeJobs",
    "DescribeRecoveryInstances",
    "DescribeRecoverySnapshots",
}


class RunStandIn:
    def __init__(self, run_type: str) -> None:
        self.run_type = run_type


def context(run_type: str = "manual", **params: Any) -> dict[str, Any]:
    return {
        "params": {"mode": "drill", "confirm": "", "waves": None, "point_in_time": None, **params},
        "dag_run": RunStandIn(run_type),
    }


def wave(
    name: str,
    *,
    ids: list[str] | None = None,
    tags: dict[str, str] | None = None,
    optional: dict[str, Any] | None = None,
    depends_on: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "servers": {"ids": ids or [], "tags": tags or {}},
        "optional_servers": optional,
        "depends_on": depends_on or [],
    }


def preflight(waves: list[dict[str, Any]], aws_conn: str, **kwargs: Any) -> DrsPlanPreflightOperator:
    return DrsPlanPreflightOperator(
        task_id="preflight", plan_name="shop", waves=waves, aws_conn_id=aws_conn, **kwargs
    )


SHOP = [
    wave(
        "database", tags={"App": "shop", "Role": "db"}, optional={"ids": [], "tags": {"Role": "db-replica"}}
    ),
    wave("app", tags={"App": "shop", "Role": "app"}, depends_on=["database"]),
    wave("web", ids=["s-0a000000000000005", "s-0a000000000000006"], depends_on=["app"]),
]


def test_a_clean_run_resolves_every_wave_and_only_reads(aws_conn: str, drs_simulator: Any) -> None:
    result = preflight(SHOP, aws_conn).run_task(context(waves=["database", "web"]))

    assert result["is_drill"] is True
    assert result["waves"]["database"] == {
        "run": True,
        "source_server_ids": ["s-0a000000000000001", "s-0a000000000000002"],
        "optional_source_server_ids": ["s-0a000000000000007"],
        "hostnames": {
            "s-0a000000000000001": "db-1",
            "s-0a000000000000002": "db-2",
            "s-0a000000000000007": "db-replica-1",
        },
        "recovery_snapshot_ids": {},  # no point_in_time: each server launches from its latest data
    }
    assert result["waves"]["app"]["run"] is False
    assert result["waves"]["web"]["source_server_ids"] == ["s-0a000000000000005", "s-0a000000000000006"]
    assert {call["operation"] for call in drs_simulator.calls()} <= READ_ONLY


@pytest.mark.parametrize(
    ("run_type", "params", "expected"),
    [
        ("manual", {"mode": "recovery"}, ["confirm: mode=recovery needs confirm='shop'"]),
        ("manual", {"mode": "recovery", "confirm": "portal"}, ["got 'portal'"]),
        ("scheduled", {"mode": "recovery", "confirm": "shop"}, ["a scheduled run is always a drill"]),
    ],
)
def test_an_unconfirmed_or_scheduled_recovery_fails_before_any_drs_call(
    aws_conn: str, drs_simulator: Any, run_type: str, params: dict[str, Any], expected: list[str]
) -> None:
    with pytest.raises(DrsPreflightError) as caught:
        preflight(SHOP, aws_conn).run_task(context(run_type, **params))

    for text in expected:
        assert any(text in problem for problem in caught.value.problems), caught.value.problems
    assert "no recovery was launched" in str(caught.value)
    assert drs_simulator.calls() == []


def test_every_problem_is_reported_at_once_naming_wave_server_and_cause(
    aws_conn: str, drs_simulator: Any
) -> None:
    drs_simulator.set_speed(0)  # keep the job below active
    busy_job = drs_simulator.client().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": "s-0a000000000000003"}]
    )["job"]["jobID"]
    waves = [
        wave("typo", tags={"App": "shop", "Role": "dbb"}),
        wave("unknown", ids=["s-0a000000000000099"]),
        wave("stalled", tags={"App": "lab", "Role": "stalled"}),
        wave("busy", ids=["s-0a000000000000003"]),
        wave("overlap", tags={"Role": "web"}),
        wave("shop_web", ids=["s-0a000000000000005"]),
    ]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    with pytest.raises(DrsPreflightError) as caught:
        preflight(waves, aws_conn).run_task(
            context(waves=["nope", *[w["name"] for w in waves]], point_in_time=future)
        )

    problems = caught.value.problems
    expected = [
        "waves: unknown wave(s) 'nope'",
        "point_in_time: ",
        "wave 'typo': servers.tags {App=shop, Role=dbb} match no source server",
        "wave 'unknown': servers.ids: unknown source server(s) s-0a000000000000099",
        "wave 'stalled': s-0c000000000000001 (lab-stalled) is not recoverable: replication state STALLED",
        f"wave 'busy': s-0a000000000000003 (app-1) is busy in active DRS job {busy_job}",
        "s-0a000000000000005 (web-1) is selected by more than one wave: 'overlap', 'shop_web'",
    ]
    for text in expected:
        assert any(text in problem for problem in problems), (text, problems)
    assert "in the future" in next(p for p in problems if p.startswith("point_in_time"))
    assert len(problems) == len(expected)
    assert {call["operation"] for call in drs_simulator.calls()} - {"StartRecovery"} <= READ_ONLY
    assert len(drs_simulator.calls("StartRecovery")) == 1  # only the test's own job


def test_unusable_optional_servers_are_left_out_without_failing(aws_conn: str, drs_simulator: Any) -> None:
    drs_simulator.set_speed(0)
    drs_simulator.client().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": "s-0a000000000000007"}]
    )
    waves = [
        wave(
            "database",
            tags={"App": "shop", "Role": "db"},
            optional={"ids": [], "tags": {"Role": "db-replica"}},
        )
    ]

    result = preflight(waves, aws_conn).run_task(context())

    assert result["waves"]["database"]["optional_source_server_ids"] == []
    assert any("db-replica-1" in warning and "left out" in warning for warning in result["warnings"])


def test_quotas_count_only_waves_that_can_run_together_and_only_warn(
    aws_conn: str, drs_simulator: Any
) -> None:
    chained = [
        wave("one", ids=["s-0b000000000000001"]),
        wave("two", ids=["s-0b000000000000002"], depends_on=["one"]),
    ]
    parallel = [
        wave("one", ids=["s-0b000000000000001"]),
        wave("two", ids=["s-0b000000000000002"]),
    ]

    assert preflight(chained, aws_conn, max_concurrent_jobs=1).run_task(context())["warnings"] == []
    # Over the quotas a run still passes: its waves wait for DRS capacity at launch.
    warnings = preflight(parallel, aws_conn, max_concurrent_jobs=1, max_servers_in_active_jobs=1).run_task(
        context()
    )["warnings"]

    assert len(warnings) == 2
    assert "up to 2 server(s) of this run may recover at once" in warnings[0]
    assert "more than the 1 concurrent jobs allowed" in warnings[1]
    assert all(warning.endswith("waves will wait for DRS capacity") for warning in warnings)


def test_a_point_in_time_before_any_snapshot_names_each_server(aws_conn: str, drs_simulator: Any) -> None:
    long_ago = "2001-01-01T00:00:00Z"

    with pytest.raises(DrsPreflightError) as caught:
        preflight([wave("web", ids=["s-0a000000000000005"])], aws_conn).run_task(
            context(point_in_time=long_ago)
        )

    assert caught.value.problems == (
        "wave 'web': s-0a000000000000005 (web-1) has no recovery snapshot at or before point_in_time "
        "2001-01-01T00:00:00+00:00",
    )


class XComStandIn:
    """A task instance whose preflight XCom is ``value``."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.pulled: list[dict[str, Any]] = []

    def xcom_pull(self, **kwargs: Any) -> Any:
        self.pulled.append(kwargs)
        return self.value


def wave_start(aws_conn: str) -> Any:
    from drs_provider.operators.plan_run import DrsPlanWaveStartOperator

    return DrsPlanWaveStartOperator(
        task_id="start_recovery",
        plan_name="shop",
        wave_name="web",
        tags={"Role": "web"},
        aws_conn_id=aws_conn,
    )


def test_a_wave_never_launches_without_a_preflight_result(aws_conn: str, drs_simulator: Any) -> None:
    ti = XComStandIn(None)

    with pytest.raises(DrsPreflightError, match="no result from task 'preflight'"):
        wave_start(aws_conn).run_task({"ti": ti, **context()})

    assert ti.pulled == [{"task_ids": "preflight", "map_indexes": -1}]
    assert drs_simulator.calls() == []


def test_a_wave_refuses_a_recovery_that_the_run_did_not_confirm(aws_conn: str, drs_simulator: Any) -> None:
    resolved = {
        "is_drill": False,
        "waves": {
            "web": {
                "run": True,
                "source_server_ids": ["s-0a000000000000005"],
                "optional_source_server_ids": [],
            }
        },
    }

    with pytest.raises(DrsPreflightError, match="a recovery needs a manual run with confirm"):
        wave_start(aws_conn).run_task({"ti": XComStandIn(resolved), **context(mode="recovery", confirm="")})

    assert drs_simulator.calls() == []
