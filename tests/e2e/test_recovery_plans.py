"""Recovery plans on a real Airflow, driven only through the REST API v2 (issue 5).

One stack per set-up (``backend``: sqlite + LocalExecutor, PostgreSQL + Celery) runs four plans,
written with their fleet into a temporary directory here; the DRS simulator runs as its own
process. What happened on the DRS side is read from the simulator's call log.

1. parallel branches: waves start only after their upstream waves' jobs were seen COMPLETED,
   and independent waves overlap;
2. a server that fails to launch fails its wave, stops the waves downstream of it (they never
   call StartRecovery) and leaves the independent branch alone;
3. a recovery without ``confirm`` fails in preflight, before any StartRecovery;
4. a triggerer killed (SIGKILL) while a wave waits: the run completes without a second job.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pytest
from tools.airflow_stack import AirflowStack, SimulatorProcess
from tools.processes import wait_until
from tools.wave_timing import (
    Handoff,
    WaveJob,
    format_handoffs,
    measure,
    median_handoff,
    started_jobs,
    succeeded,
)

from tests.e2e.conftest import owner_failed
from tests.e2e.deployments import Deployment, stack_config, write_fleet, write_plans

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

#: Simulated seconds per real second: a 100 s launch takes 10 s.
SPEED = 10.0
#: Seconds between DescribeJobs polls of every wave (the plan's ``poll_interval``).
POLL_INTERVAL = 1
RUN_TIMEOUT = 420.0


def server(number: int, hostname: str, launch_seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"s-e2e{number:014d}",
        "hostname": hostname,
        "tags": {"Suite": "e2e", "Host": hostname},
        "launch_seconds": launch_seconds,
        **extra,
    }


# Launch times are chosen so that the order shows in the call log without depending on speed:
# `files` runs far longer than `db`, so the two independent waves overlap by a wide margin.
FLEET_SERVERS = [
    server(1, "par-db", 100),
    server(2, "par-files", 250),
    server(3, "par-app", 40),
    server(4, "par-web", 20),
    server(11, "fail-db", 30, fail_launch="Disk /dev/xvdb could not be attached"),
    server(12, "fail-app", 20),
    server(13, "fail-web", 20),
    server(14, "fail-reports", 60),
    server(21, "guard-db", 20),
    server(31, "crash-db", 300),
    server(32, "crash-app", 20),
]
SERVER_IDS = {entry["hostname"]: entry["id"] for entry in FLEET_SERVERS}


def wave(name: str, hostname: str, depends_on: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "servers": {"tags": {"Host": hostname}}
        if hostname.startswith("par")
        else {"ids": [SERVER_IDS[hostname]]},
        "poll_interval": POLL_INTERVAL,
        "timeout": 1800,
    }
    if depends_on is not None:
        spec["depends_on"] = depends_on
    return spec


PLANS: dict[str, dict[str, Any]] = {
    "e2e_parallel": {
        "plan": "e2e_parallel",
        "description": "Two independent branches joining in one wave",
        "waves": [
            wave("db", "par-db", []),
            wave("files", "par-files", []),
            wave("app", "par-app", ["db"]),
            wave("web", "par-web", ["app", "files"]),
        ],
    },
    "e2e_failure": {
        "plan": "e2e_failure",
        "description": "A required server that cannot launch, and an independent branch",
        "waves": [
            wave("db", "fail-db", []),
            wave("app", "fail-app", ["db"]),
            wave("web", "fail-web", ["app"]),
            wave("reports", "fail-reports", []),
        ],
    },
    "e2e_guarded": {
        "plan": "e2e_guarded",
        "description": "A recovery needs confirm=e2e_guarded",
        "waves": [wave("db", "guard-db", [])],
    },
    "e2e_crash": {
        "plan": "e2e_crash",
        "description": "A long first wave, long enough to kill the triggerer while it waits",
        "waves": [wave("db", "crash-db", []), wave("app", "crash-app", ["db"])],
    },
}


def dag_id(plan: str) -> str:
    return f"drs_plan_{plan}"


def dependencies(plan: str) -> dict[str, list[str]]:
    return {spec["name"]: list(spec.get("depends_on") or []) for spec in PLANS[plan]["waves"]}


@pytest.fixture(scope="module")
def deployment(
    backend: str, tmp_path_factory: pytest.TempPathFactory, e2e_figures: list[str]
) -> Iterator[Deployment]:
    """The simulator and one Airflow stack of ``backend`` with every plan of this module loaded."""
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp(f"e2e-{backend}")
    plans_dir = write_plans(workdir / "plans", PLANS)
    fleet = write_fleet(workdir / "fleet.yaml", FLEET_SERVERS)
    with SimulatorProcess(fleet, speed=SPEED, log_path=workdir / "simulator.log") as simulator:
        config = stack_config(
            workdir,
            backend,
            plans_dir=plans_dir,
            simulator_url=simulator.url,
            expected_dag_ids=[dag_id(name) for name in PLANS],
        )
        with AirflowStack(config) as stack:
            e2e_figures.append(f"[{backend}] stack ready in {time.monotonic() - started:.1f}s")
            yield Deployment(backend, stack, simulator)
    e2e_figures.append(
        f"[{backend}] module wall time incl. start and stop: {time.monotonic() - started:.1f}s"
    )


@pytest.fixture
def airflow(deployment: Deployment, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The shared deployment; when the test fails, the tails of every process log are printed."""
    yield deployment
    if owner_failed(request):
        deployment.print_logs()


# -- helpers -------------------------------------------------------------------------------------


def run_plan(
    airflow: Deployment, plan: str, conf: dict[str, Any] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """Trigger ``plan`` through the REST API and wait for the run to finish.

    :return: the run id, its final state and ``{task_id: state}``.
    """
    rest = airflow.rest
    rest.wait_for_dag(dag_id(plan))
    run_id = rest.trigger(dag_id(plan), conf or {})
    state = rest.wait_for_run(dag_id(plan), run_id, timeout=RUN_TIMEOUT)
    return run_id, state, rest.task_states(dag_id(plan), run_id)


def start_recovery_calls(calls: list[dict[str, Any]], plan: str) -> list[dict[str, Any]]:
    """StartRecovery calls tagged with ``plan``'s DAG, or naming any of its servers."""
    servers = {SERVER_IDS[hostname] for hostname in hostnames(plan)}
    found = []
    for call in calls:
        if call.get("operation") != "StartRecovery":
            continue
        request = call.get("request") if isinstance(call.get("request"), dict) else {}
        tagged = (request.get("tags") or {}).get("airflow:dag_id") == dag_id(plan)
        named = {entry.get("sourceServerID") for entry in request.get("sourceServers") or []}
        if tagged or named & servers:
            found.append(call)
    return found


def hostnames(plan: str) -> set[str]:
    found = set()
    for spec in PLANS[plan]["waves"]:
        selector = spec["servers"]
        if "tags" in selector:
            found.add(selector["tags"]["Host"])
        for server_id in selector.get("ids", []):
            found.update(host for host, sid in SERVER_IDS.items() if sid == server_id)
    return found


def jobs_by_wave(jobs: list[WaveJob]) -> dict[str, list[WaveJob]]:
    grouped: dict[str, list[WaveJob]] = defaultdict(list)
    for job in jobs:
        grouped[job.wave].append(job)
    return dict(grouped)


def report_handoffs(
    airflow: Deployment, plan: str, jobs: list[WaveJob], edges: list[Handoff], figures: list[str]
) -> None:
    from_end, from_seen = median_handoff(edges)
    figures.append(
        f"[{airflow.backend}] {plan}: wave hand-off (poll_interval={POLL_INTERVAL}s), "
        f"median {from_end:.1f}s from job end, {from_seen:.1f}s from the DescribeJobs that saw COMPLETED"
        if from_end is not None and from_seen is not None
        else f"[{airflow.backend}] {plan}: no hand-off measured"
    )
    figures.extend(f"    {line}" for line in format_handoffs(edges).splitlines())
    until_poll = [job.until_first_poll for job in jobs if job.until_first_poll is not None]
    if until_poll:
        figures.append(
            f"    StartRecovery -> the wave sensor's first DescribeJobs: median "
            f"{statistics.median(until_poll):.1f}s over {len(until_poll)} waves"
        )
    print(format_handoffs(edges))


# -- the scenarios ---------------------------------------------------------------------------------


def test_parallel_branches_respect_dependencies_and_overlap(
    airflow: Deployment, e2e_figures: list[str], e2e_handoffs: list[tuple[str, float, float | None]]
) -> None:
    plan = "e2e_parallel"
    run_id, state, states = run_plan(airflow, plan)

    assert state == "success", states
    assert set(states.values()) == {"success"}, states
    calls = airflow.simulator.calls()
    jobs, edges = measure(airflow.simulator.url, calls, dependencies(plan), speed=SPEED, dag_id=dag_id(plan))
    by_wave = jobs_by_wave([job for job in jobs if job.run_id == run_id])
    assert {wave: len(wave_jobs) for wave, wave_jobs in by_wave.items()} == {
        "db": 1,
        "files": 1,
        "app": 1,
        "web": 1,
    }
    assert all(call["request"]["isDrill"] is True for call in start_recovery_calls(calls, plan))
    for wave_name, upstreams in dependencies(plan).items():
        (job,) = by_wave[wave_name]
        for upstream in upstreams:
            (upstream_job,) = by_wave[upstream]
            assert upstream_job.ended is not None and upstream_job.seen_completed is not None
            # Started only once a DescribeJobs answer had said the upstream job was COMPLETED.
            assert job.started >= upstream_job.seen_completed, (wave_name, upstream, job, upstream_job)
            assert job.started >= upstream_job.ended, (wave_name, upstream, job, upstream_job)
    (db,) = by_wave["db"]
    (files,) = by_wave["files"]
    assert db.ended is not None and files.ended is not None
    # Independent waves ran at the same time: each started before the other ended.
    assert db.started < files.ended and files.started < db.ended, (db, files)
    assert sorted((edge.upstream, edge.downstream) for edge in edges) == [("db", "app"), ("files", "web")]
    report_handoffs(airflow, plan, jobs, edges, e2e_figures)
    e2e_handoffs.extend((airflow.backend, edge.from_job_end, edge.from_seen_completed) for edge in edges)


def test_failed_launch_stops_downstream_waves_only(airflow: Deployment) -> None:
    plan = "e2e_failure"
    _run_id, state, states = run_plan(airflow, plan)

    assert state == "failed", states
    assert states["preflight"] == "success", states
    assert states["db.start_recovery"] == "success", states
    assert states["db.wait_for_recovery"] == "failed", states
    for task in (
        "app.start_recovery",
        "app.wait_for_recovery",
        "web.start_recovery",
        "web.wait_for_recovery",
    ):
        assert states[task] == "upstream_failed", states
    assert states["reports.start_recovery"] == "success", states
    assert states["reports.wait_for_recovery"] == "success", states
    started_waves = sorted(
        call["request"]["tags"]["drs:wave"]
        for call in start_recovery_calls(airflow.simulator.calls(), plan)
        if succeeded(call)
    )
    assert started_waves == ["db", "reports"]


def test_recovery_without_confirm_fails_in_preflight_before_any_launch(airflow: Deployment) -> None:
    plan = "e2e_guarded"
    _run_id, state, states = run_plan(airflow, plan, {"mode": "recovery"})

    assert state == "failed", states
    assert states["preflight"] == "failed", states
    assert states["db.start_recovery"] == "upstream_failed", states
    assert start_recovery_calls(airflow.simulator.calls(), plan) == []


def test_run_survives_a_killed_triggerer_without_a_second_job(
    airflow: Deployment, e2e_figures: list[str]
) -> None:
    plan = "e2e_crash"
    rest = airflow.rest
    dag = dag_id(plan)
    rest.wait_for_dag(dag)
    run_id = rest.trigger(dag, {})
    crash_db_job: list[str] = []

    def waiting_in_triggerer() -> bool:
        """The db wave's sensor is deferred and the triggerer has polled its job."""
        if rest.task_states(dag, run_id).get("db.wait_for_recovery") != "deferred":
            return False
        jobs = [job for job in measure_jobs(airflow, plan) if job.wave == "db"]
        polled = [
            call
            for call in airflow.simulator.calls("DescribeJobs")
            if jobs and jobs[0].job_id in (call.get("job_ids") or [])
        ]
        if polled:
            crash_db_job[:] = [jobs[0].job_id]
        return bool(polled)

    wait_for(waiting_in_triggerer, "the db wave to wait in the triggerer", timeout=240)
    killed_at = time.time()
    airflow.stack.restart("triggerer")
    state = rest.wait_for_run(dag, run_id, timeout=RUN_TIMEOUT)
    states = rest.task_states(dag, run_id)

    assert state == "success", states
    assert set(states.values()) == {"success"}, states
    calls = airflow.simulator.calls()
    started = [call for call in start_recovery_calls(calls, plan) if succeeded(call)]
    assert sorted(call["request"]["tags"]["drs:wave"] for call in started) == ["app", "db"]
    jobs, _ = measure(airflow.simulator.url, calls, dependencies(plan), speed=SPEED, dag_id=dag)
    (db_job,) = [job for job in jobs if job.wave == "db"]
    assert db_job.job_id == crash_db_job[0]
    assert db_job.ended is not None and db_job.seen_completed is not None
    # The job was still running when the triggerer died, and a new triggerer saw it finish.
    assert db_job.ended > killed_at, (db_job, killed_at)
    assert db_job.seen_completed > killed_at
    after_kill = [
        call for call in calls if call.get("operation") == "DescribeJobs" and call["time"] > killed_at
    ]
    assert any(db_job.job_id in (call.get("job_ids") or []) for call in after_kill)
    e2e_figures.append(
        f"[{airflow.backend}] {plan}: triggerer killed at +{killed_at - db_job.started:.1f}s of the db job; "
        f"its end was seen {db_job.seen_completed - db_job.ended:.1f}s after it ended"
    )


def measure_jobs(airflow: Deployment, plan: str) -> list[WaveJob]:
    return started_jobs(airflow.simulator.calls("StartRecovery"), dag_id(plan))


def wait_for(condition: Any, description: str, timeout: float) -> None:
    wait_until(description, condition, timeout=timeout, interval=0.5)
