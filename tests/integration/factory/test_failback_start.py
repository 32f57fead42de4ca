"""A failback wave's ``start_recovery`` run again and again, as retries and resumes run it: it
reverses each server once, waits while the copy runs, and launches home once."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from drs_provider.operators.plan_run import DrsPlanWaveStartOperator
from drs_provider.operators.preflight import DrsPlanPreflightOperator
from drs_provider.triggers.failback import DrsFailbackReadyTrigger
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    FLEET,
    ORIGIN_REGION,
    RECOVERY_REGION,
    SYNC_SECONDS,
    recover,
)
from tests.integration.factory.test_recovered_guard import RunStandIn, TaskInstanceStandIn

pytestmark = pytest.mark.integration

FAILBACK = {"mode": "failback", "confirm": "homeward"}


def failback_context(ti: TaskInstanceStandIn) -> dict[str, Any]:
    return {"params": dict(FAILBACK), "dag_run": RunStandIn(), "ti": ti}


@pytest.fixture
def resolved(aws_conn: str, drs_simulator: Any) -> dict[str, Any]:
    """EC2_SERVER really recovered (speed 0: the test moves the clock), and its failback preflighted."""
    drs_simulator.reset(fleet=FLEET, speed=0)
    recover(drs_simulator.client(RECOVERY_REGION), drs_simulator, EC2_SERVER)
    preflight = DrsPlanPreflightOperator(
        task_id="preflight",
        plan_name="homeward",
        waves=[{"name": "db", "servers": {"ids": [EC2_SERVER]}, "depends_on": []}],
        aws_conn_id=aws_conn,
        region_name=RECOVERY_REGION,
    )
    result: dict[str, Any] = preflight.run_task(failback_context(TaskInstanceStandIn("manual__failback")))
    return result


def test_retries_reverse_once_wait_for_the_copy_and_launch_home_once(
    aws_conn: str, drs_simulator: Any, resolved: dict[str, Any]
) -> None:
    wave = resolved["waves"]["db"]
    assert wave["home_region"] == ORIGIN_REGION
    assert wave["failback"][EC2_SERVER]["origin_region"] == ORIGIN_REGION
    start = DrsPlanWaveStartOperator(
        task_id="db.start_recovery",
        plan_name="homeward",
        wave_name="db",
        aws_conn_id=aws_conn,
        region_name=RECOVERY_REGION,
    )
    ti = TaskInstanceStandIn("manual__failback", resolved)

    for _ in range(2):  # the first try, then a retry while the copy still runs
        with pytest.raises(TaskDeferred) as deferred:
            start.run_task(failback_context(ti))
        trigger = deferred.value.trigger
        assert isinstance(trigger, DrsFailbackReadyTrigger)
    assert len(drs_simulator.calls("ReverseReplication")) == 1
    assert not drs_simulator.calls("StartRecovery")[1:]  # the recovery's launch only

    drs_simulator.advance(SYNC_SECONDS + 60)
    first = start.run_task(failback_context(ti))
    again = start.run_task(failback_context(ti))

    assert first == again and len(first) == 1
    [launch] = [c for c in drs_simulator.calls("StartRecovery") if c["region"] == ORIGIN_REGION]
    assert launch["request"]["isDrill"] is False
    assert len(drs_simulator.calls("ReverseReplication")) == 1
    assert ti.pushed["home_region"] == ORIGIN_REGION
    [failback_server] = ti.pushed["failback_servers"]
    assert ti.pushed["failback_servers"] == {failback_server: EC2_SERVER}
    assert launch["request"]["sourceServers"] == [{"sourceServerID": failback_server}]
