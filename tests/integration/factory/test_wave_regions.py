"""A plan whose waves are in different regions, run with ``dag.test()`` against the simulator,
which serves every region: each wave launches, waits and is cleaned up in its own region."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    EC2_SERVER_DEFAULT_SYNC,
    FLEET,
    ON_PREMISES_SERVER,
    RECOVERY_REGION,
)
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

#: ON_PREMISES_SERVER lives in the fleet's region (the plan's), EC2_SERVER in RECOVERY_REGION.
PLAN = f"""\
plan: two_regions
region: us-east-1
waves:
  - name: ledger
    servers: {{ids: [{ON_PREMISES_SERVER}]}}
  - name: orders
    region: {RECOVERY_REGION}
    servers: {{ids: [{EC2_SERVER}]}}
"""


def launches(simulator: Any) -> dict[str, list[str]]:
    """Region -> the servers StartRecovery launched there."""
    found: dict[str, list[str]] = {}
    for call in simulator.calls("StartRecovery"):
        if not call["error"]:
            found.setdefault(call["region"], []).extend(
                s["sourceServerID"] for s in call["request"]["sourceServers"]
            )
    return found


def test_a_drill_launches_each_wave_in_its_region_and_cleans_up_in_both(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("two_regions", PLAN)

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert launches(drs_simulator) == {"us-east-1": [ON_PREMISES_SERVER], RECOVERY_REGION: [EC2_SERVER]}
    # ledger before orders (the default chain), each judged where its job ran
    report = xcom_of(dag, "report")
    launched = {s["sourceServerID"]: s for wave in report["waves"] for s in wave["servers"]}
    assert {server_id: s["launchStatus"] for server_id, s in launched.items()} == {
        ON_PREMISES_SERVER: "LAUNCHED",
        EC2_SERVER: "LAUNCHED",
    }
    terminated = {
        call["region"]: call["request"]["recoveryInstanceIDs"]
        for call in drs_simulator.calls("TerminateRecoveryInstances")
        if not call["error"]
    }
    assert terminated == {
        "us-east-1": [launched[ON_PREMISES_SERVER]["recoveryInstanceID"]],
        RECOVERY_REGION: [launched[EC2_SERVER]["recoveryInstanceID"]],
    }
    assert sorted(report["cleanup"]["terminated"]) == sorted(
        s["recoveryInstanceID"] for s in launched.values()
    )
    preflight = xcom_of(dag, "preflight")
    assert preflight["waves"]["orders"]["region"] == RECOVERY_REGION
    assert "region" not in preflight["waves"]["ledger"]


def test_each_wave_is_resolved_in_its_own_region_and_a_server_of_another_is_named(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    # ledger, in the plan's region, names a server of the other region
    wrong = PLAN.replace(f"ids: [{ON_PREMISES_SERVER}]", f"ids: [{EC2_SERVER_DEFAULT_SYNC}]")
    dag = plan_dag("two_regions", wrong)

    state, tasks = run_dag(dag)

    assert (state, tasks["preflight"]) == ("failed", "failed")
    error = xcom_of(dag, "preflight", "task_error")
    assert f"wave 'ledger': servers.ids: unknown source server(s) {EC2_SERVER_DEFAULT_SYNC}" in error
    assert "wave 'orders'" not in error  # resolved in its own region, where its server is
    assert not launches(drs_simulator)
