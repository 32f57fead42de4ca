"""Failback runs of a plan DAG (``dag.test()``) against the simulator's two regions.

The plan's servers replicate into us-west-2 (the recovery region) from EC2 machines in us-east-1
(their origin). A confirmed recovery launches them in us-west-2; a confirmed failback then brings
them home: ReverseReplication, the wait for the copy, StartRecovery in us-east-1, re-protection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    EC2_SERVER_DEFAULT_SYNC,
    FLEET,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
)
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

PLAN = f"""\
plan: homeward
region: {RECOVERY_REGION}
waves:
  - name: db
    servers: {{ids: [{EC2_SERVER}]}}
  - name: app
    servers: {{ids: [{EC2_SERVER_DEFAULT_SYNC}]}}
"""
#: A one-wave plan of the on-premises server, recovered in the fleet's region.
LEDGER = f"""\
plan: ledger
region: {ORIGIN_REGION}
waves:
  - name: db
    servers: {{ids: [{ON_PREMISES_SERVER}]}}
"""
RECOVERY = {"mode": "recovery", "confirm": "homeward"}
FAILBACK = {"mode": "failback", "confirm": "homeward"}


@pytest.fixture
def homeward(plan_dag: Callable[..., DAG], drs_simulator: Any) -> DAG:
    """The two-wave plan, really recovered into the recovery region."""
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("homeward", PLAN)
    state, tasks = run_dag(dag, RECOVERY)
    assert state == "success", tasks
    return dag


def calls(simulator: Any, operation: str, region: str) -> list[dict[str, Any]]:
    return [call for call in simulator.calls(operation) if call["region"] == region and not call["error"]]


def recovery_instances(simulator: Any, region: str) -> list[dict[str, Any]]:
    return list(simulator.client(region).describe_recovery_instances(filters={})["items"])


def test_a_failback_brings_every_server_home_in_wave_order_and_re_protects_it(
    homeward: DAG, drs_simulator: Any
) -> None:
    recovered = {i["sourceServerID"]: i for i in recovery_instances(drs_simulator, RECOVERY_REGION)}
    assert set(recovered) == {EC2_SERVER, EC2_SERVER_DEFAULT_SYNC}

    state, tasks = run_dag(homeward, FAILBACK)

    assert state == "success", tasks
    # Reversed once each (the recovered instances), then re-protected once each (the new ones).
    reversed_from = [
        c["request"]["recoveryInstanceID"]
        for c in calls(drs_simulator, "ReverseReplication", RECOVERY_REGION)
    ]
    assert sorted(reversed_from) == sorted(i["recoveryInstanceID"] for i in recovered.values())
    launches = calls(drs_simulator, "StartRecovery", ORIGIN_REGION)
    assert [c["request"]["isDrill"] for c in launches] == [False, False]
    home = {i["recoveryInstanceID"]: i for i in recovery_instances(drs_simulator, ORIGIN_REGION)}
    assert len(home) == 2 and all(i["isDrill"] is False for i in home.values())
    reprotected = [
        c["request"]["recoveryInstanceID"] for c in calls(drs_simulator, "ReverseReplication", ORIGIN_REGION)
    ]
    assert sorted(reprotected) == sorted(home)
    # Waves in order: app's launch home starts after db's job ended.
    report = xcom_of(homeward, "report")
    db, app = report["waves"]
    assert (db["name"], app["name"]) == ("db", "app")
    assert (
        launches[0]["request"]["sourceServers"][0]["sourceServerID"]
        == db["servers"][0]["failbackSourceServerID"]
    )
    assert db["servers"][0]["endDateTime"] <= app["servers"][0]["jobCreationDateTime"]
    # The wave's console links open its job and server at home (without them Airflow's link
    # lookup at the task's end logged "XCom not found" as an error).
    db_job = xcom_of(homeward, "db.start_recovery", "drs_job")
    assert (db_job["region_name"], db_job["job_id"]) == (ORIGIN_REGION, launches[0]["job_ids"][0])
    db_server = xcom_of(homeward, "db.start_recovery", "drs_source_server")
    assert db_server["region_name"] == ORIGIN_REGION
    assert db_server["source_server_id"] == db["servers"][0]["failbackSourceServerID"]
    # The report names the plan's servers, where they came home, and on which instance.
    assert report["mode"] == "failback"
    entries = {s["sourceServerID"]: s for wave in report["waves"] for s in wave["servers"]}
    assert set(entries) == {EC2_SERVER, EC2_SERVER_DEFAULT_SYNC}
    for server_id, entry in entries.items():
        assert entry["originRegion"] == ORIGIN_REGION
        assert entry["failedBackFrom"] == recovered[server_id]["recoveryInstanceID"]
        assert entry["ec2InstanceID"] == home[entry["recoveryInstanceID"]]["ec2InstanceID"]
    # The plan's servers replicate again, now from the instances at home.
    client = drs_simulator.client(RECOVERY_REGION)
    for server in client.describe_source_servers(filters={"sourceServerIDs": list(entries)})["items"]:
        hints = server["sourceProperties"]["identificationHints"]
        assert hints["awsInstanceID"] == entries[server["sourceServerID"]]["ec2InstanceID"]
    # failback_cleanup defaults to keep: the recovery region's instances are untouched.
    assert not drs_simulator.calls("TerminateRecoveryInstances")
    assert {i["recoveryInstanceID"] for i in recovery_instances(drs_simulator, RECOVERY_REGION)} == {
        i["recoveryInstanceID"] for i in recovered.values()
    }


def test_a_failback_of_a_plan_never_recovered_fails_preflight_naming_each_server(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("homeward", PLAN)

    state, tasks = run_dag(dag, FAILBACK)

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    assert not drs_simulator.calls("ReverseReplication") and not drs_simulator.calls("StartRecovery")
    error = xcom_of(dag, "preflight", "task_error")
    for server_id in (EC2_SERVER, EC2_SERVER_DEFAULT_SYNC):
        assert f"{server_id} (" in error and "was never recovered" in error


def test_a_failback_to_an_origin_region_without_drs_fails_preflight(
    homeward: DAG, drs_simulator: Any
) -> None:
    drs_simulator.set_faults(uninitialized_regions=[ORIGIN_REGION])

    state, tasks = run_dag(homeward, FAILBACK)

    assert (state, tasks["preflight"]) == ("failed", "failed")
    error = xcom_of(homeward, "preflight", "task_error")
    assert f"origin region {ORIGIN_REGION}: DRS is not initialised there" in error
    assert EC2_SERVER in error
    assert not drs_simulator.calls("ReverseReplication")


def test_an_on_premises_server_comes_home_through_its_failback_client(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("ledger", LEDGER)
    assert run_dag(dag, {"mode": "recovery", "confirm": "ledger"})[0] == "success"
    (instance,) = recovery_instances(drs_simulator, ORIGIN_REGION)
    drs_simulator.connect_failback_client(instance["recoveryInstanceID"])

    state, tasks = run_dag(dag, {"mode": "failback", "confirm": "ledger"})

    assert state == "success", tasks
    [launch] = calls(drs_simulator, "StartFailbackLaunch", ORIGIN_REGION)
    assert launch["request"]["recoveryInstanceIDs"] == [instance["recoveryInstanceID"]]
    (after,) = recovery_instances(drs_simulator, ORIGIN_REGION)
    assert after["failback"]["state"] == "FAILBACK_COMPLETED"
    report = xcom_of(dag, "report")
    [entry] = report["waves"][0]["servers"]
    assert (entry["sourceServerID"], entry["originEnvironment"]) == (ON_PREMISES_SERVER, "ON_PREMISES")
    wave = report["waves"][0]["name"]
    job_link = xcom_of(dag, f"{wave}.start_recovery", "drs_job")
    assert (job_link["region_name"], job_link["job_id"]) == (ORIGIN_REGION, launch["job_ids"][0])


def test_an_on_premises_failback_left_unfinished_is_stopped_by_the_runs_cleanup(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    assert run_dag(plan_dag("ledger", LEDGER), {"mode": "recovery", "confirm": "ledger"})[0] == "success"
    (instance,) = recovery_instances(drs_simulator, ORIGIN_REGION)
    drs_simulator.connect_failback_client(instance["recoveryInstanceID"])
    # The launch at home never ends (the clock stands still); the wave gives up at its timeout,
    # the shortest a plan may set, as if an operator had marked it failed.
    drs_simulator.set_speed(0)
    dag = plan_dag("ledger", LEDGER + "    timeout: 60\n    poll_interval: 10\n")

    state, tasks = run_dag(dag, {"mode": "failback", "confirm": "ledger"})

    assert (state, tasks["db.wait_for_recovery"], tasks["cleanup"]) == ("failed", "failed", "skipped"), tasks
    [stop] = calls(drs_simulator, "StopFailback", ORIGIN_REGION)
    assert stop["request"]["recoveryInstanceID"] == instance["recoveryInstanceID"]
    (after,) = recovery_instances(drs_simulator, ORIGIN_REGION)
    assert after["failback"]["state"] == "FAILBACK_NOT_STARTED"
    cleanup = xcom_of(dag, "cleanup")
    assert cleanup["stopped_failbacks"] == [instance["recoveryInstanceID"]]


def test_a_failback_drill_launches_drills_at_home_terminates_them_and_re_protects_nothing(
    homeward: DAG, drs_simulator: Any
) -> None:
    recovered = {i["recoveryInstanceID"] for i in recovery_instances(drs_simulator, RECOVERY_REGION)}

    state, tasks = run_dag(homeward, {**FAILBACK, "failback_drill": True})

    assert state == "success", tasks
    launches = calls(drs_simulator, "StartRecovery", ORIGIN_REGION)
    assert [c["request"]["isDrill"] for c in launches] == [True, True]
    assert not calls(drs_simulator, "ReverseReplication", ORIGIN_REGION)  # a rehearsal re-protects nothing
    report = xcom_of(homeward, "report")
    launched = sorted(s["recoveryInstanceID"] for wave in report["waves"] for s in wave["servers"])
    assert sorted(report["cleanup"]["terminated"]) == launched
    [terminate] = calls(drs_simulator, "TerminateRecoveryInstances", ORIGIN_REGION)
    assert sorted(terminate["request"]["recoveryInstanceIDs"]) == launched
    # the recovery region is as the recovery left it
    assert {i["recoveryInstanceID"] for i in recovery_instances(drs_simulator, RECOVERY_REGION)} == recovered
    assert not calls(drs_simulator, "TerminateRecoveryInstances", RECOVERY_REGION)


def test_failback_cleanup_terminate_stops_the_copies_then_terminates_the_recovery_region_instances(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("homeward", PLAN + "failback_cleanup: terminate\ncleanup: never\n")
    assert run_dag(dag, RECOVERY)[0] == "success"
    recovered = sorted(i["recoveryInstanceID"] for i in recovery_instances(drs_simulator, RECOVERY_REGION))

    state, tasks = run_dag(dag, FAILBACK)

    assert (state, tasks["cleanup"]) == ("success", "success"), tasks
    stops = calls(drs_simulator, "StopReplication", ORIGIN_REGION)
    [terminate] = calls(drs_simulator, "TerminateRecoveryInstances", RECOVERY_REGION)
    assert len(stops) == 2 and all(stop["seq"] < terminate["seq"] for stop in stops)
    assert sorted(terminate["request"]["recoveryInstanceIDs"]) == recovered
    assert sorted(xcom_of(dag, "report")["cleanup"]["terminated"]) == recovered


def test_a_failback_in_reverse_order_brings_the_last_wave_home_first(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("homeward", PLAN + "failback_order: reverse\n")
    state, tasks = run_dag(dag, RECOVERY)
    # A recovery goes through the waves in the plan's order; the reversed ones are skipped.
    assert state == "success", tasks
    assert (tasks["db.start_recovery"], tasks["failback-reverse.db.start_recovery"]) == ("success", "skipped")
    assert [
        c["request"]["sourceServers"][0]["sourceServerID"]
        for c in calls(drs_simulator, "StartRecovery", RECOVERY_REGION)
    ] == [EC2_SERVER, EC2_SERVER_DEFAULT_SYNC]

    state, tasks = run_dag(dag, FAILBACK)

    assert state == "success", tasks
    assert tasks["wave-order"] == "success"
    assert {tasks[f"{wave}.start_recovery"] for wave in ("db", "app")} == {"skipped"}
    report = xcom_of(dag, "report")
    app, db = report["waves"]
    assert (app["name"], db["name"], app["state"], db["state"]) == ("app", "db", "success", "success")
    # app comes home first: db's launch home starts after app's job ended
    launches = calls(drs_simulator, "StartRecovery", ORIGIN_REGION)
    assert [c["request"]["sourceServers"][0]["sourceServerID"] for c in launches] == [
        app["servers"][0]["failbackSourceServerID"],
        db["servers"][0]["failbackSourceServerID"],
    ]
    assert app["servers"][0]["endDateTime"] <= db["servers"][0]["jobCreationDateTime"]
    assert {s["sourceServerID"] for s in (*app["servers"], *db["servers"])} == {
        EC2_SERVER,
        EC2_SERVER_DEFAULT_SYNC,
    }


def test_a_failback_drill_of_an_on_premises_server_is_refused_naming_it(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("ledger", LEDGER)
    assert run_dag(dag, {"mode": "recovery", "confirm": "ledger"})[0] == "success"
    (instance,) = recovery_instances(drs_simulator, ORIGIN_REGION)
    drs_simulator.connect_failback_client(instance["recoveryInstanceID"])

    state, tasks = run_dag(dag, {"mode": "failback", "confirm": "ledger", "failback_drill": True})

    assert (state, tasks["preflight"]) == ("failed", "failed")
    error = xcom_of(dag, "preflight", "task_error")
    assert f"{ON_PREMISES_SERVER} (ledger-db) is on premises: a failback drill cannot rehearse" in error
    assert not drs_simulator.calls("StartFailbackLaunch")


def test_a_wave_in_its_own_region_fails_back_and_is_cleaned_up_there(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    """The plan's region is the origin; its one wave names the recovery region itself."""
    drs_simulator.reset(fleet=FLEET)
    plan = f"""\
plan: homeward
region: {ORIGIN_REGION}
cleanup: never
failback_cleanup: terminate
waves:
  - name: db
    region: {RECOVERY_REGION}
    servers: {{ids: [{EC2_SERVER}]}}
"""
    dag = plan_dag("homeward", plan)
    assert run_dag(dag, RECOVERY)[0] == "success"
    [recovered] = recovery_instances(drs_simulator, RECOVERY_REGION)

    state, tasks = run_dag(dag, FAILBACK)

    assert (state, tasks["cleanup"]) == ("success", "success"), tasks
    [terminate] = calls(drs_simulator, "TerminateRecoveryInstances", RECOVERY_REGION)
    assert terminate["request"]["recoveryInstanceIDs"] == [recovered["recoveryInstanceID"]]
    assert not calls(drs_simulator, "TerminateRecoveryInstances", ORIGIN_REGION)
    [entry] = xcom_of(dag, "report")["waves"][0]["servers"]
    [server] = drs_simulator.client(RECOVERY_REGION).describe_source_servers(
        filters={"sourceServerIDs": [EC2_SERVER]}
    )["items"]
    assert server["sourceProperties"]["identificationHints"]["awsInstanceID"] == entry["ec2InstanceID"]
