"""Airflow processes killed mid-run (SIGKILL), on the shared stack of each set-up, after every
other module of that set-up (``Scenario(kills_processes=True)``), so that nothing else is in flight.

1. The triggerer is killed while a wave waits in it: the run completes without a second job,
   and a new triggerer sees the job end.
2. postgres-celery only: the Celery worker is SIGKILLed while a wave's ``start_recovery`` waits
   on DRS after its job was created, and started again. The scheduler fails the lost task after
   the heartbeat timeout, the retry adopts the job, and the run succeeds on its own with exactly
   one job per wave.
3. postgres-celery only: the same mid-failback, while ``start_recovery`` waits on DRS after its
   ReverseReplication took effect: the retry finds the FAILBACK source server instead of reversing
   again, and the server comes home with exactly one reversal and one launch.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from tools.processes import wait_until
from tools.wave_timing import started_jobs, succeeded

from tests.e2e.harness import REGION, Deployment, Scenario, drs_client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 420.0
CRASH = "e2e_crash"
LOST_WORKER = "e2e_lost_worker"
LOST_FAILBACK = "e2e_lost_failback_worker"
#: The failback plan's server lives in this region and protects an EC2 machine in the fleet's.
RECOVERY_REGION = "us-west-2"
#: StartRecovery answers are held this long (real seconds) while the worker is killed.
HELD_SECONDS = 10


def server(number: int, hostname: str, launch_seconds: float) -> dict[str, Any]:
    return {"id": f"s-e2k{number:014d}", "hostname": hostname, "launch_seconds": launch_seconds}


# The lost worker's first wave runs 30 real seconds: longer than a held StartRecovery answer, so
# that the killed worker's held retry is answered ConflictException (the servers are busy in the
# job). The crash plan's first wave needs no length: the clock stands still around the kill.
FLEET = [
    server(1, "crash-db", 100),
    server(2, "crash-app", 20),
    server(11, "lost-db", 300),
    server(12, "lost-app", 20),
    {
        **server(21, "homebound", 20),
        "region": RECOVERY_REGION,
        "origin": {"region": REGION},
        "reverse_sync_seconds": 100,
    },
]
IDS = {entry["hostname"]: entry["id"] for entry in FLEET}


def two_waves(name: str, description: str, db: str, app: str) -> dict[str, Any]:
    return {
        "plan": name,
        "description": description,
        "waves": [
            {"name": "db", "servers": {"ids": [IDS[db]]}, "poll_interval": 1, "timeout": 1800},
            {"name": "app", "servers": {"ids": [IDS[app]]}, "poll_interval": 1, "depends_on": ["db"]},
        ],
    }


PLANS = {
    CRASH: two_waves(
        CRASH, "A long first wave, to kill the triggerer while it waits", "crash-db", "crash-app"
    ),
    LOST_WORKER: two_waves(
        LOST_WORKER, "A wave whose worker is killed while it starts the DRS job", "lost-db", "lost-app"
    ),
    LOST_FAILBACK: {
        "plan": LOST_FAILBACK,
        "description": "A failback whose worker is killed while it reverses the replication",
        "region": RECOVERY_REGION,
        "waves": [{"name": "app", "servers": {"ids": [IDS["homebound"]]}, "poll_interval": 1}],
    },
}
SCENARIO = Scenario("process_kills", plans=PLANS, fleet=FLEET, speed=SPEED, kills_processes=True, lane="b")


def dag_id(plan: str) -> str:
    return f"drs_plan_{plan}"


def set_faults(airflow: Deployment, **faults: Any) -> None:
    airflow.simulator.control("faults", faults)


def start_recovery_calls(airflow: Deployment, plan: str) -> list[dict[str, Any]]:
    return [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if _tags(call).get("airflow:dag_id") == dag_id(plan)
    ]


def _tags(call: dict[str, Any]) -> dict[str, str]:
    request = call.get("request")
    return (request.get("tags") or {}) if isinstance(request, dict) else {}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_run_survives_a_killed_triggerer_without_a_second_job(
    airflow: Deployment, e2e_figures: list[str]
) -> None:
    rest = airflow.rest
    dag = dag_id(CRASH)
    crash_db_job: list[str] = []

    def waiting_in_triggerer() -> bool:
        """The db wave's sensor is deferred and the triggerer has polled its job."""
        if rest.task_states(dag, run_id).get("db.wait_for_recovery") != "deferred":
            return False
        jobs = [
            job for job in started_jobs(airflow.simulator.calls("StartRecovery"), dag) if job.wave == "db"
        ]
        polled = [
            call
            for call in airflow.simulator.calls("DescribeJobs")
            if jobs and jobs[0].job_id in (call.get("job_ids") or [])
        ]
        if polled:
            crash_db_job[:] = [jobs[0].job_id]
        return bool(polled)

    # The simulator's clock stands still until a new triggerer runs: the db job cannot end before
    # the kill, however slowly a loaded machine gets the wave into the triggerer.
    airflow.simulator.control("clock", {"speed": 0})
    try:
        run_id = rest.trigger(dag, {})
        wait_until("the db wave to wait in the triggerer", waiting_in_triggerer, timeout=240, interval=0.5)
        drs = drs_client(airflow.simulator.url)
        (job_at_kill,) = drs.describe_jobs(filters={"jobIDs": crash_db_job})["items"]
        killed_at = time.time()
        airflow.stack.restart("triggerer")
        restarted_in = time.time() - killed_at
    finally:
        airflow.simulator.control("clock", {"speed": SPEED})
    state = rest.wait_for_run(dag, run_id, timeout=RUN_TIMEOUT)
    states = rest.task_states(dag, run_id)

    assert state == "success", states
    assert set(states.values()) == {"success"}, states
    # The job was still running when the triggerer died ...
    assert job_at_kill["status"] != "COMPLETED", job_at_kill
    started = [call for call in start_recovery_calls(airflow, CRASH) if succeeded(call)]
    assert sorted(call["request"]["tags"]["drs:wave"] for call in started) == ["app", "db"]
    (job_now,) = drs.describe_jobs(filters={"jobIDs": crash_db_job})["items"]
    assert job_now["status"] == "COMPLETED", job_now
    # ... and a new triggerer polled it after the kill until it saw it end (the wave succeeded).
    after_kill = [
        call
        for call in airflow.simulator.calls("DescribeJobs")
        if call["time"] > killed_at and crash_db_job[0] in (call.get("job_ids") or [])
    ]
    assert after_kill
    e2e_figures.append(
        f"[{airflow.backend}] {CRASH}: triggerer killed while the db job was {job_at_kill['status']}; "
        f"back in {restarted_in:.1f}s, then the run ended"
    )


def test_a_worker_killed_while_starting_a_job_is_retried_and_adopts_the_job(
    airflow: Deployment, e2e_figures: list[str]
) -> None:
    if airflow.backend != "postgres-celery":
        pytest.skip("only the postgres-celery set-up has a Celery worker to kill")
    rest = airflow.rest
    dag = dag_id(LOST_WORKER)
    # The first StartRecovery creates the job but its answer is dropped; botocore's retry of the
    # call is then held HELD_SECONDS at DRS: the task is running and its job exists.
    set_faults(
        airflow,
        latency_seconds=HELD_SECONDS,
        latency_operations=["StartRecovery"],
        drop_response_count=1,
        drop_response_operations=["StartRecovery"],
    )
    run_id = rest.trigger(dag, {})

    def job_created_answer_lost() -> dict[str, Any] | None:
        for call in airflow.simulator.calls("StartRecovery"):
            if call.get("dropped") and _tags(call).get("airflow:run_id") == run_id and call.get("job_ids"):
                return call
        return None

    dropped = wait_until("StartRecovery to create the db job", job_created_answer_lost, timeout=120)
    assert rest.task_states(dag, run_id)["db.start_recovery"] == "running"
    killed_at = time.time()
    airflow.stack.restart("celery-worker")  # SIGKILL the worker and its task processes, start anew
    set_faults(airflow)

    state = rest.wait_for_run(dag, run_id, timeout=RUN_TIMEOUT)
    tries = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in rest.task_instances(dag, run_id)}

    assert state == "success", tries
    assert tries["db.start_recovery"] == ("success", 2), tries  # retried by Airflow, not cleared by hand
    assert {state for state, _ in tries.values()} == {"success"}, tries
    pages = airflow.drs().get_paginator("describe_jobs").paginate()
    run_jobs = [
        job for page in pages for job in page["items"] if job.get("tags", {}).get("airflow:run_id") == run_id
    ]
    assert Counter(job["tags"]["drs:wave"] for job in run_jobs) == {"db": 1, "app": 1}
    (db_job,) = [job for job in run_jobs if job["tags"]["drs:wave"] == "db"]
    assert db_job["jobID"] == dropped["job_ids"][0]
    assert rest.xcom(dag, run_id, "db.start_recovery") == [db_job["jobID"]]
    later = [
        call
        for call in start_recovery_calls(airflow, LOST_WORKER)
        if _tags(call).get("airflow:run_id") == run_id
        and _tags(call).get("drs:wave") == "db"
        and call["time"] > dropped["time"]
    ]
    # The killed worker's held call met the job it had created; try 2 started nothing at all.
    assert [call.get("error") for call in later] in ([], ["ConflictException"]), later
    retried = next(ti for ti in rest.task_instances(dag, run_id) if ti["task_id"] == "db.start_recovery")
    created = dropped["time"] + dropped["duration"]  # the call was logged when it arrived
    since_kill = _epoch(retried["start_date"]) - killed_at
    e2e_figures.append(
        f"[{airflow.backend}] {LOST_WORKER}: worker killed {killed_at - created:.1f}s after the job "
        f"was created; try 2 of db.start_recovery started {since_kill:.1f}s after the kill"
    )


def test_a_worker_killed_mid_failback_reverses_and_launches_each_server_once(
    airflow: Deployment, e2e_figures: list[str]
) -> None:
    if airflow.backend != "postgres-celery":
        pytest.skip("only the postgres-celery set-up has a Celery worker to kill")
    rest, dag, server_id = airflow.rest, dag_id(LOST_FAILBACK), IDS["homebound"]
    recovery = rest.trigger(dag, {"mode": "recovery", "confirm": LOST_FAILBACK})
    assert rest.wait_for_run(dag, recovery, timeout=RUN_TIMEOUT) == "success"
    recovery_side = drs_client(airflow.simulator.url, RECOVERY_REGION)
    [instance] = recovery_side.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"]
    # The first ReverseReplication takes effect but its answer is dropped; botocore's retry of it is
    # held HELD_SECONDS at DRS: the task is running and the FAILBACK server exists.
    set_faults(
        airflow,
        latency_seconds=HELD_SECONDS,
        latency_operations=["ReverseReplication"],
        drop_response_count=1,
        drop_response_operations=["ReverseReplication"],
    )
    run_id = rest.trigger(dag, {"mode": "failback", "confirm": LOST_FAILBACK})

    def reversed_answer_lost() -> dict[str, Any] | None:
        for call in airflow.simulator.calls("ReverseReplication"):
            if (
                call.get("dropped")
                and call["request"].get("recoveryInstanceID") == instance["recoveryInstanceID"]
            ):
                return call
        return None

    dropped = wait_until("ReverseReplication to reverse the server", reversed_answer_lost, timeout=120)
    assert rest.task_states(dag, run_id)["app.start_recovery"] == "running"
    killed_at = time.time()
    airflow.stack.restart("celery-worker")
    set_faults(airflow)

    state = rest.wait_for_run(dag, run_id, timeout=RUN_TIMEOUT)
    tries = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in rest.task_instances(dag, run_id)}

    assert state == "success", tries
    assert tries["app.start_recovery"][1] >= 2, tries  # retried by Airflow after the kill
    home = drs_client(airflow.simulator.url, REGION)
    failback_servers = [
        item
        for item in home.describe_source_servers(filters={})["items"]
        if item.get("replicationDirection") == "FAILBACK"
        and item["sourceProperties"]["identificationHints"].get("awsInstanceID") == instance["ec2InstanceID"]
    ]
    assert len(failback_servers) == 1  # reversed once
    reversals_after_kill = [
        call
        for call in airflow.simulator.calls("ReverseReplication")
        if call["request"].get("recoveryInstanceID") == instance["recoveryInstanceID"]
        and call["time"] > killed_at
    ]
    assert reversals_after_kill == []  # the retry found the FAILBACK server; it asked for no reversal
    launches = [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if call.get("region") == REGION
        and _tags(call).get("airflow:run_id") == run_id
        and not call.get("error")
    ]
    assert [s["sourceServerID"] for c in launches for s in c["request"]["sourceServers"]] == [
        failback_servers[0]["sourceServerID"]
    ]  # launched home once
    retried = next(ti for ti in rest.task_instances(dag, run_id) if ti["task_id"] == "app.start_recovery")
    e2e_figures.append(
        f"[{airflow.backend}] {LOST_FAILBACK}: worker killed {killed_at - dropped['time']:.1f}s after the "
        f"reversal took effect; try {retried['try_number']} of app.start_recovery started "
        f"{_epoch(retried['start_date']) - killed_at:.1f}s after the kill"
    )
