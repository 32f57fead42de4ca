"""Hostile plan files and a lost Celery worker, on real Airflow processes (issue 8).

One stack per set-up (``backend``). Its plans folder holds the repository's example plans, the
thirty hostile files of ``tests/fixtures/hostile_plans.py`` (a valid 10,000-wave chain, alias
bombs, symbolic link loops, a FIFO, a file claiming another plan's name, ...) and two plans of
this module. Everything is read through the REST API v2 and the simulator's call log.

1. Every valid plan's DAG is loaded and live, ``drs_recovery_plans.py`` has no import error,
   and the import error of ``drs_recovery_plan_errors.py`` names every hostile file with its
   problem.
2. A file claiming a valid plan's name takes nothing over: neither file becomes a DAG.
3. A verdict is not retried: a recovery without ``confirm`` fails in ``preflight``, first try.
4. postgres-celery only: the Celery worker is SIGKILLed while a wave's ``start_recovery`` waits
   on DRS after its job was created, and started again. The scheduler fails the lost task after
   the heartbeat timeout, the retry adopts the job, and the run succeeds on its own with
   exactly one job per wave.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import pytest
import requests
from tools.airflow_stack import REPO_ROOT, AirflowStack, SimulatorProcess
from tools.processes import wait_until
from tools.rest_client import RestApiError

from tests.e2e.conftest import owner_failed
from tests.e2e.deployments import Deployment, stack_config, write_fleet, write_plans
from tests.fixtures.hostile_plans import CONTESTED_PLAN, HOSTILE_FILES, write_hostile_plans

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tools.rest_client import RestClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 300.0
EXAMPLE_DAG_IDS = {f"drs_plan_{path.stem}" for path in (REPO_ROOT / "dags" / "recovery_plans").glob("*.y*ml")}
LOST_WORKER = "e2e_lost_worker"
GUARDED = "e2e_guarded"
#: StartRecovery answers are held this long (real seconds) while the worker is killed.
HELD_SECONDS = 10


def server(number: int, hostname: str, launch_seconds: float) -> dict[str, Any]:
    return {"id": f"s-e2h{number:014d}", "hostname": hostname, "launch_seconds": launch_seconds}


# The db job runs 30 real seconds, longer than a held StartRecovery answer: the held retry of
# the killed worker's call is answered ConflictException (the servers are busy in the job).
FLEET_SERVERS = [server(1, "lost-db", 300), server(2, "lost-app", 20), server(3, "guarded-db", 20)]

PLANS: dict[str, dict[str, Any]] = {
    LOST_WORKER: {
        "plan": LOST_WORKER,
        "description": "A wave whose worker is killed while it starts the DRS job",
        "waves": [
            {"name": "db", "servers": {"ids": [FLEET_SERVERS[0]["id"]]}, "poll_interval": 1},
            {"name": "app", "servers": {"ids": [FLEET_SERVERS[1]["id"]]}, "poll_interval": 1},
        ],
    },
    GUARDED: {
        "plan": GUARDED,
        "description": "A recovery needs confirm=e2e_guarded",
        "waves": [{"name": "db", "servers": {"ids": [FLEET_SERVERS[2]["id"]]}, "poll_interval": 1}],
    },
}


@dataclass
class HostileDeployment(Deployment):
    hostile: dict[str, str]

    def set_faults(self, **faults: Any) -> None:
        response = requests.post(f"{self.simulator.url}/_simulator/faults", json=faults, timeout=10)
        response.raise_for_status()

    def jobs(self) -> list[dict[str, Any]]:
        """Every job DRS holds, as DescribeJobs returns it."""
        pages = self.drs().get_paginator("describe_jobs").paginate()
        return [job for page in pages for job in page["items"]]


@pytest.fixture(scope="module")
def deployment(
    backend: str, tmp_path_factory: pytest.TempPathFactory, e2e_figures: list[str]
) -> Iterator[HostileDeployment]:
    """The simulator and one Airflow stack of ``backend``, the hostile files among its plans."""
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp(f"e2e-hostile-{backend}")
    plans_dir = workdir / "recovery_plans"
    hostile = write_hostile_plans(plans_dir)
    for example in (REPO_ROOT / "dags" / "recovery_plans").glob("*.y*ml"):
        shutil.copy(example, plans_dir / example.name)
    write_plans(plans_dir, PLANS)
    fleet = write_fleet(workdir / "fleet.yaml", FLEET_SERVERS)
    with SimulatorProcess(fleet, speed=SPEED, log_path=workdir / "simulator.log") as simulator:
        config = stack_config(
            workdir,
            backend,
            plans_dir=plans_dir,
            simulator_url=simulator.url,
            expected_dag_ids=[*sorted(EXAMPLE_DAG_IDS), *(f"drs_plan_{name}" for name in PLANS)],
        )
        with AirflowStack(config) as stack:
            e2e_figures.append(f"[{backend}] hostile plans stack ready in {time.monotonic() - started:.1f}s")
            yield HostileDeployment(backend, stack, simulator, hostile)
    e2e_figures.append(
        f"[{backend}] hostile plans module wall time incl. start and stop: {time.monotonic() - started:.1f}s"
    )


@pytest.fixture
def airflow(deployment: HostileDeployment, request: pytest.FixtureRequest) -> Iterator[HostileDeployment]:
    """The shared deployment; when the test fails, the tails of every process log are printed."""
    yield deployment
    if owner_failed(request):
        deployment.print_logs()


def plan_errors(rest: RestClient) -> str:
    """The import error of drs_recovery_plan_errors.py, once the dag-processor has recorded it."""

    def recorded() -> str | None:
        for error in rest.import_errors():
            if error["filename"].endswith("drs_recovery_plan_errors.py"):
                return str(error["stack_trace"])
        return None

    return wait_until("the plan errors to be recorded", recorded, timeout=120)


# -- the scenarios ---------------------------------------------------------------------------------


def test_hostile_files_hide_no_plan_and_each_is_named(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    text = plan_errors(rest)

    dags = {dag["dag_id"]: dag for dag in rest.dags()}
    live = {dag_id for dag_id, dag in dags.items() if not dag["is_stale"] and not dag["has_import_errors"]}
    assert EXAMPLE_DAG_IDS | {f"drs_plan_{name}" for name in PLANS} <= live, dags
    # drs_recovery_plans.py itself never fails: that would hide every plan
    assert [PurePath(error["filename"]).name for error in rest.import_errors()] == [
        "drs_recovery_plan_errors.py"
    ]
    lines = text.splitlines()
    unnamed = {
        name: fragment
        for name, fragment in airflow.hostile.items()
        if not any(f"recovery_plans/{name}: " in line and fragment in line for line in lines)
    }
    assert unnamed == {}, text[-3000:]
    assert len(HOSTILE_FILES) == 30


def test_a_file_claiming_a_valid_plans_name_takes_nothing_over(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    text = plan_errors(rest)

    with pytest.raises(RestApiError) as missing:
        rest.dag(f"drs_plan_{CONTESTED_PLAN}")
    assert missing.value.status == 404
    for file, other in (
        (f"{CONTESTED_PLAN}.yaml", "aaa_hijack.yaml"),
        ("aaa_hijack.yaml", f"{CONTESTED_PLAN}.yaml"),
    ):
        assert (
            f"recovery_plans/{file}: plan: plan name '{CONTESTED_PLAN}' is also claimed by "
            f"recovery_plans/{other}: no DAG drs_plan_{CONTESTED_PLAN} is built until only one file claims it"
        ) in text


def test_a_verdict_is_not_retried(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    dag_id = f"drs_plan_{GUARDED}"
    rest.wait_for_dag(dag_id)
    run_id = rest.trigger(dag_id, {"mode": "recovery"})

    assert rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT) == "failed"
    tries = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in rest.task_instances(dag_id, run_id)}
    assert tries["preflight"] == ("failed", 1), tries
    assert [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if _tags(call).get("airflow:dag_id") == dag_id
    ] == []


def test_a_worker_killed_while_starting_a_job_is_retried_and_adopts_the_job(
    airflow: HostileDeployment, e2e_figures: list[str]
) -> None:
    if airflow.backend != "postgres-celery":
        pytest.skip("only the postgres-celery set-up has a Celery worker to kill")
    rest = airflow.rest
    dag_id = f"drs_plan_{LOST_WORKER}"
    rest.wait_for_dag(dag_id)
    # The first StartRecovery creates the job but its answer is dropped; botocore's retry of the
    # call is then held HELD_SECONDS at DRS: the task is running and its job exists.
    airflow.set_faults(
        latency_seconds=HELD_SECONDS,
        latency_operations=["StartRecovery"],
        drop_response_count=1,
        drop_response_operations=["StartRecovery"],
    )
    run_id = rest.trigger(dag_id, {})

    def job_created_answer_lost() -> dict[str, Any] | None:
        for call in airflow.simulator.calls("StartRecovery"):
            if call.get("dropped") and _tags(call).get("airflow:run_id") == run_id and call.get("job_ids"):
                return call
        return None

    dropped = wait_until("StartRecovery to create the db job", job_created_answer_lost, timeout=120)
    assert rest.task_states(dag_id, run_id)["db.start_recovery"] == "running"
    killed_at = time.time()
    airflow.stack.restart("celery-worker")  # SIGKILL the worker and its task processes, start anew
    airflow.set_faults()

    state = rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    tries = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in rest.task_instances(dag_id, run_id)}

    assert state == "success", tries
    assert tries["db.start_recovery"] == ("success", 2), tries  # retried by Airflow, not cleared by hand
    assert {state for state, _ in tries.values()} == {"success"}, tries
    run_jobs = [job for job in airflow.jobs() if job.get("tags", {}).get("airflow:run_id") == run_id]
    assert Counter(job["tags"]["drs:wave"] for job in run_jobs) == {"db": 1, "app": 1}
    (db_job,) = [job for job in run_jobs if job["tags"]["drs:wave"] == "db"]
    assert db_job["jobID"] == dropped["job_ids"][0]
    assert rest.xcom(dag_id, run_id, "db.start_recovery") == [db_job["jobID"]]
    later = [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if _tags(call).get("airflow:run_id") == run_id
        and _tags(call).get("drs:wave") == "db"
        and call["time"] > dropped["time"]
    ]
    # The killed worker's held call met the job it had created; try 2 started nothing at all.
    assert [call.get("error") for call in later] in ([], ["ConflictException"]), later
    retried = next(ti for ti in rest.task_instances(dag_id, run_id) if ti["task_id"] == "db.start_recovery")
    created = dropped["time"] + dropped["duration"]  # the call was logged when it arrived
    since_kill = _epoch(retried["start_date"]) - killed_at
    e2e_figures.append(
        f"[{airflow.backend}] {LOST_WORKER}: worker killed {killed_at - created:.1f}s after the job "
        f"was created; try 2 of db.start_recovery started {since_kill:.1f}s after the kill"
    )


def _tags(call: dict[str, Any]) -> dict[str, str]:
    request = call.get("request")
    return (request.get("tags") or {}) if isinstance(request, dict) else {}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
