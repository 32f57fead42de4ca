"""Failback on a real Airflow (contract "failback"), through the REST API and the simulator's regions.

Every plan of this module is first really recovered (``HOME`` by a confirmed recovery run, the
others by a StartRecovery that is not a drill), then failed back (a confirmed failback run), all
side by side on the shared stack of each set-up:

1. ``HOME``: a two-wave plan of EC2-origin servers comes home to its origin region wave by wave,
   non-drill, re-protected; with the default ``failback_cleanup: keep`` the recovery region is
   untouched. DRS's calls per server are counted (one reversal, one launch, one re-protection).
2. ``TERMINATE``: the same with ``failback_cleanup: terminate`` and ``failback_order: reverse``:
   the second wave comes home first, and once both are home the recovery-region instances are
   terminated, after their FAILBACK source servers stopped replicating from them.
3. ``REHEARSED``: a failback drill launches drills at home, re-protects nothing, terminates them,
   and leaves the recovery region as the recovery left it.
4. ``ON_PREMISES``: an on-premises server comes home once its Failback Client connected.
5. ``STALLED``: a reversed copy that stays STALLED fails its wave at ``failback_sync_timeout``,
   naming the server, its state and its lag; nothing launches at home.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from tools.processes import wait_until

from tests.e2e.harness import REGION, Deployment, Scenario, drs_client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 420.0
RECOVERY_REGION = "us-west-2"
ORIGIN_REGION = REGION
#: Simulated seconds a reversed copy takes (the fleet's ``reverse_sync_seconds``; DRS's default is
#: 30 minutes): 10 s of wall time at SPEED.
SYNC_SECONDS = 100
#: The STALLED plan's ``failback_sync_timeout`` (wall-clock seconds: a copy's wait is real time).
STALL_TIMEOUT = 60

HOME, TERMINATE, REHEARSED, ON_PREMISES, STALLED = (
    "e2e_failback_home",
    "e2e_failback_terminate",
    "e2e_failback_rehearsed",
    "e2e_failback_on_premises",
    "e2e_failback_stalled",
)


def ec2_server(number: int, hostname: str) -> dict[str, Any]:
    """A source server in the recovery region protecting an EC2 machine in the origin region."""
    return {
        "id": f"s-e2f{number:014d}",
        "hostname": hostname,
        "region": RECOVERY_REGION,
        "origin": {"region": ORIGIN_REGION},
        "launch_seconds": 20,
        "reverse_sync_seconds": SYNC_SECONDS,
    }


HOME_DB, HOME_APP = ec2_server(1, "home-db"), ec2_server(2, "home-app")
TERMINATE_SERVER = ec2_server(3, "terminate-app")
TERMINATE_DB = ec2_server(7, "terminate-db")
REHEARSED_SERVER = ec2_server(4, "rehearsed-app")
STALLED_SERVER = ec2_server(5, "stalled-app")
#: Lives in the fleet's region (the connection's), protecting a machine in a data centre.
ON_PREMISES_SERVER = {"id": f"s-e2f{6:014d}", "hostname": "ledger", "launch_seconds": 20}


def one_wave(plan: str, server: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {
        "plan": plan,
        "region": RECOVERY_REGION,
        **keys,
        "waves": [{"name": "app", "servers": {"ids": [server["id"]]}, "poll_interval": 1}],
    }


PLANS: dict[str, dict[str, Any]] = {
    HOME: {
        "plan": HOME,
        "description": "Two waves of EC2-origin servers, failed back in plan order",
        "region": RECOVERY_REGION,
        "waves": [
            {"name": "db", "servers": {"ids": [HOME_DB["id"]]}, "poll_interval": 1},
            {"name": "app", "servers": {"ids": [HOME_APP["id"]]}, "poll_interval": 1},
        ],
    },
    TERMINATE: {
        "plan": TERMINATE,
        "region": RECOVERY_REGION,
        "failback_cleanup": "terminate",
        "failback_order": "reverse",
        "waves": [
            {"name": "db", "servers": {"ids": [TERMINATE_DB["id"]]}, "poll_interval": 1},
            {"name": "app", "servers": {"ids": [TERMINATE_SERVER["id"]]}, "poll_interval": 1},
        ],
    },
    REHEARSED: one_wave(REHEARSED, REHEARSED_SERVER),
    STALLED: one_wave(STALLED, STALLED_SERVER, failback_sync_timeout=STALL_TIMEOUT),
    ON_PREMISES: {
        "plan": ON_PREMISES,
        "waves": [{"name": "ledger", "servers": {"ids": [ON_PREMISES_SERVER["id"]]}, "poll_interval": 1}],
    },
}


@dataclass
class FailbackDeployment(Deployment):
    #: plan -> its recovery run, then its failback run
    recoveries: dict[str, str] = field(default_factory=dict)
    failbacks: dict[str, str] = field(default_factory=dict)
    #: plan -> (source server ID, recovery instance ID) after the recovery
    recovered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: when each failback was triggered (epoch seconds)
    triggered: dict[str, float] = field(default_factory=dict)


def region_of(plan: str) -> str:
    return REGION if plan == ON_PREMISES else RECOVERY_REGION


def recover_then_fail_back(deployment: FailbackDeployment) -> None:
    """HOME is recovered by a confirmed recovery run; the others as DRS leaves a server after any
    recovery (a StartRecovery that is not a drill), which is all a failback needs, and cheaper."""
    rest = deployment.rest
    deployment.simulator.control("faults", {"stall_reverse_sync": [STALLED_SERVER["id"]]})
    deployment.recoveries[HOME] = rest.trigger(f"drs_plan_{HOME}", {"mode": "recovery", "confirm": HOME})
    jobs = {
        plan: drs_client(deployment.simulator.url, region_of(plan)).start_recovery(
            isDrill=False, sourceServers=[{"sourceServerID": i} for i in servers_of(plan)]
        )["job"]["jobID"]
        for plan in PLANS
        if plan != HOME
    }
    assert (
        rest.wait_for_run(f"drs_plan_{HOME}", deployment.recoveries[HOME], timeout=RUN_TIMEOUT) == "success"
    )
    for plan, job_id in jobs.items():
        client = drs_client(deployment.simulator.url, region_of(plan))
        wait_until(
            f"{plan}'s recovery job to end",
            lambda c=client, j=job_id: (
                c.describe_jobs(filters={"jobIDs": [j]})["items"][0]["status"] == "COMPLETED"
            ),
            timeout=RUN_TIMEOUT,
        )
    for plan in PLANS:
        deployment.recovered[plan] = recovery_instances(deployment, region_of(plan), servers_of(plan))
    (ledger,) = deployment.recovered[ON_PREMISES]
    deployment.simulator.control("failback-client", {"recoveryInstanceID": ledger["recoveryInstanceID"]})
    for plan in PLANS:
        conf: dict[str, Any] = {"mode": "failback", "confirm": plan}
        if plan == REHEARSED:
            conf["failback_drill"] = True
        deployment.triggered[plan] = time.time()
        deployment.failbacks[plan] = rest.trigger(f"drs_plan_{plan}", conf)


def servers_of(plan: str) -> list[str]:
    return [server_id for wave in PLANS[plan]["waves"] for server_id in wave["servers"]["ids"]]


def recovery_instances(deployment: Deployment, region: str, server_ids: list[str]) -> list[dict[str, Any]]:
    client = drs_client(deployment.simulator.url, region)
    return list(client.describe_recovery_instances(filters={"sourceServerIDs": server_ids})["items"])


def calls(deployment: Deployment, operation: str, region: str) -> list[dict[str, Any]]:
    return [
        call
        for call in deployment.simulator.calls(operation)
        if call.get("region") == region and not call.get("error") and not call.get("dropped")
    ]


def finished(airflow: FailbackDeployment, plan: str) -> str:
    return airflow.rest.wait_for_run(f"drs_plan_{plan}", airflow.failbacks[plan], timeout=RUN_TIMEOUT)


SCENARIO = Scenario(
    "failback",
    plans=PLANS,
    fleet=[
        HOME_DB,
        HOME_APP,
        TERMINATE_DB,
        TERMINATE_SERVER,
        REHEARSED_SERVER,
        STALLED_SERVER,
        ON_PREMISES_SERVER,
    ],
    speed=SPEED,
    deployment_class=FailbackDeployment,
    start=recover_then_fail_back,
)


def test_a_two_wave_plan_comes_home_in_order_re_protected_and_the_recovery_region_is_kept(
    airflow: FailbackDeployment, e2e_figures: list[str]
) -> None:
    assert finished(airflow, HOME) == "success"
    took = time.time() - airflow.triggered[HOME]
    rest, dag_id, run_id = airflow.rest, f"drs_plan_{HOME}", airflow.failbacks[HOME]
    recovered = {i["sourceServerID"]: i for i in airflow.recovered[HOME]}
    ours = set(servers_of(HOME))

    reversals = [c for c in calls(airflow, "ReverseReplication", RECOVERY_REGION)]
    reversed_ids = [c["request"]["recoveryInstanceID"] for c in reversals]
    home_instances = {
        i["recoveryInstanceID"]: i
        for i in drs_client(airflow.simulator.url, ORIGIN_REGION).describe_recovery_instances(filters={})[
            "items"
        ]
    }
    report = rest.xcom(dag_id, run_id, "report")
    assert report["mode"] == "failback" and report["state"] == "success"
    db, app = report["waves"]
    entries = {s["sourceServerID"]: s for wave in (db, app) for s in wave["servers"]}
    assert set(entries) == ours
    for server_id, entry in entries.items():
        assert reversed_ids.count(recovered[server_id]["recoveryInstanceID"]) == 1  # one reversal
        assert entry["originRegion"] == ORIGIN_REGION and entry["launchStatus"] == "LAUNCHED"
        home = home_instances[entry["recoveryInstanceID"]]
        assert home["isDrill"] is False and home["ec2InstanceID"] == entry["ec2InstanceID"]
    launches = [
        c
        for c in calls(airflow, "StartRecovery", ORIGIN_REGION)
        if c["request"].get("tags", {}).get("airflow:dag_id") == dag_id
    ]
    launched = [s["sourceServerID"] for c in launches for s in c["request"]["sourceServers"]]
    assert sorted(launched) == sorted(
        e["failbackSourceServerID"] for e in entries.values()
    )  # one launch each
    # Waves in order: app's launch home came after db's job ended.
    assert db["servers"][0]["endDateTime"] <= app["servers"][0]["jobCreationDateTime"]
    # Re-protected once each (the module's other plans re-protect their own servers meanwhile).
    came_home = sorted(e["recoveryInstanceID"] for e in entries.values())
    reprotections = [
        c["request"]["recoveryInstanceID"]
        for c in calls(airflow, "ReverseReplication", ORIGIN_REGION)
        if c["request"]["recoveryInstanceID"] in came_home
    ]
    assert sorted(reprotections) == came_home
    recovery_side = drs_client(airflow.simulator.url, RECOVERY_REGION)
    for server in recovery_side.describe_source_servers(filters={"sourceServerIDs": sorted(ours)})["items"]:
        assert (
            server["sourceProperties"]["identificationHints"]["awsInstanceID"]
            == entries[server["sourceServerID"]]["ec2InstanceID"]
        )
    # keep: the recovery region's instances are as the recovery left them
    still = recovery_instances(airflow, RECOVERY_REGION, sorted(ours))
    assert {i["recoveryInstanceID"] for i in still} == {i["recoveryInstanceID"] for i in recovered.values()}
    assert all(i["ec2InstanceState"] == "RUNNING" for i in still)
    e2e_figures.append(
        f"failback of a 2-wave EC2-origin plan ({airflow.backend}, simulator x{SPEED:g}, "
        f"{SYNC_SECONDS} simulated s per copy): {took:.1f} s from trigger to success; DRS calls per "
        "server: 1 ReverseReplication, 1 StartRecovery at home, 1 ReverseReplication to re-protect"
    )


def test_a_reverse_failback_brings_the_last_wave_home_first_then_terminates_the_recovery_region(
    airflow: FailbackDeployment,
) -> None:
    assert finished(airflow, TERMINATE) == "success"
    dag_id, run_id = f"drs_plan_{TERMINATE}", airflow.failbacks[TERMINATE]
    report = airflow.rest.xcom(dag_id, run_id, "report")
    # failback_order: reverse: app, then db (the plan's order is db, then app)
    app, db = report["waves"]
    assert (app["name"], db["name"], app["state"], db["state"]) == ("app", "db", "success", "success")
    assert app["servers"][0]["endDateTime"] <= db["servers"][0]["jobCreationDateTime"]
    states = airflow.rest.task_states(dag_id, run_id)
    assert states["wave-order"] == "success"
    assert {states[f"failback-reverse.{w}.start_recovery"] for w in ("app", "db")} == {"success"}
    assert {states[f"{w}.start_recovery"] for w in ("app", "db")} == {"skipped"}
    # failback_cleanup: terminate: both recovery-region instances, after their copies stopped
    recovered = sorted(i["recoveryInstanceID"] for i in airflow.recovered[TERMINATE])
    [terminated] = [
        c
        for c in calls(airflow, "TerminateRecoveryInstances", RECOVERY_REGION)
        if set(recovered) & set(c["request"]["recoveryInstanceIDs"])
    ]
    assert sorted(terminated["request"]["recoveryInstanceIDs"]) == recovered
    stopped = [c for c in calls(airflow, "StopReplication", ORIGIN_REGION)]
    assert stopped and stopped[0]["seq"] < terminated["seq"]  # DRS's order: stop the copy first
    cleanup = airflow.rest.xcom(dag_id, run_id, "cleanup")
    assert sorted(cleanup["terminated"]) == recovered


def test_a_failback_drill_launches_drills_at_home_and_terminates_them(airflow: FailbackDeployment) -> None:
    assert finished(airflow, REHEARSED) == "success"
    dag_id = f"drs_plan_{REHEARSED}"
    report = airflow.rest.xcom(dag_id, airflow.failbacks[REHEARSED], "report")
    [entry] = report["waves"][0]["servers"]
    [launch] = [
        c
        for c in calls(airflow, "StartRecovery", ORIGIN_REGION)
        if c["request"].get("tags", {}).get("airflow:dag_id") == dag_id
    ]
    assert launch["request"]["isDrill"] is True
    assert report["cleanup"]["terminated"] == [entry["recoveryInstanceID"]]
    assert entry["recoveryInstanceID"] not in [
        c["request"]["recoveryInstanceID"] for c in calls(airflow, "ReverseReplication", ORIGIN_REGION)
    ]  # a rehearsal re-protects nothing
    [recovered] = airflow.recovered[REHEARSED]
    [still] = recovery_instances(airflow, RECOVERY_REGION, [REHEARSED_SERVER["id"]])
    assert (still["recoveryInstanceID"], still["ec2InstanceState"]) == (
        recovered["recoveryInstanceID"],
        "RUNNING",
    )


def test_an_on_premises_server_comes_home_through_its_failback_client(airflow: FailbackDeployment) -> None:
    assert finished(airflow, ON_PREMISES) == "success"
    [recovered] = airflow.recovered[ON_PREMISES]
    [launch] = calls(airflow, "StartFailbackLaunch", REGION)
    assert launch["request"]["recoveryInstanceIDs"] == [recovered["recoveryInstanceID"]]
    [after] = recovery_instances(airflow, REGION, [ON_PREMISES_SERVER["id"]])
    assert after["failback"]["state"] == "FAILBACK_COMPLETED"


def test_a_stalled_copy_fails_its_wave_at_the_timeout_naming_server_and_lag(
    airflow: FailbackDeployment,
) -> None:
    assert finished(airflow, STALLED) == "failed"
    dag_id, run_id = f"drs_plan_{STALLED}", airflow.failbacks[STALLED]
    error = airflow.rest.xcom(dag_id, run_id, "app.start_recovery", key="task_error")
    assert "DrsFailbackWaitError" in error and f"after {STALL_TIMEOUT} s" in error, error
    assert f"{STALLED_SERVER['id']} (stalled-app), FAILBACK source server s-" in error, error
    assert "STALLED" in error and "lag" in error, error
    dag = f"drs_plan_{STALLED}"
    assert not [
        c
        for c in calls(airflow, "StartRecovery", ORIGIN_REGION)
        if c["request"].get("tags", {}).get("airflow:dag_id") == dag
    ]
