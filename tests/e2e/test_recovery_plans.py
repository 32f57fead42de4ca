"""Recovery plans on a real Airflow, driven only through the REST API v2 (issue 5).

Three plans on the shared stack of each set-up (``backend``: sqlite + LocalExecutor, PostgreSQL
+ Celery), triggered together when the module starts; the module's DRS simulator runs as its own
process. What happened on the DRS side is read from the simulator's call log.

1. parallel branches: waves start only after their upstream waves' jobs were seen COMPLETED,
   and independent waves overlap;
2. a server that fails to launch fails its wave, stops the waves downstream of it (they never
   call StartRecovery) and leaves the independent branch alone;
3. a recovery without ``confirm`` fails in preflight, before any StartRecovery.

A triggerer killed while a wave waits is in ``test_process_kills.py``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from tools.wave_timing import Handoff, WaveJob, format_handoffs, measure, median_handoff, succeeded

from tests.e2e.harness import Deployment, Scenario

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


# Launch times are chosen so that the order shows in the call log without depending on load:
# `db` runs 30 s and `files` 40 s at SPEED, so the independent waves overlap even when a loaded
# Celery worker starts one of them many seconds after the other (seen: 13.6 s).
FLEET_SERVERS = [
    server(1, "par-db", 300),
    server(2, "par-files", 400),
    server(3, "par-app", 20),
    server(4, "par-web", 20),
    server(11, "fail-db", 30, fail_launch="Disk /dev/xvdb could not be attached"),
    server(12, "fail-app", 20),
    server(13, "fail-web", 20),
    server(14, "fail-reports", 60),
    server(21, "guard-db", 20),
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
}
#: What each plan's run is triggered with when the module starts.
RUN_CONF: dict[str, dict[str, Any]] = {
    "e2e_parallel": {},
    "e2e_failure": {},
    "e2e_guarded": {"mode": "recovery"},
}


@dataclass
class PlansDeployment(Deployment):
    #: plan -> run id, triggered when the module starts
    runs: dict[str, str] = field(default_factory=dict)


def dag_id(plan: str) -> str:
    return f"drs_plan_{plan}"


def dependencies(plan: str) -> dict[str, list[str]]:
    return {spec["name"]: list(spec.get("depends_on") or []) for spec in PLANS[plan]["waves"]}


def start_runs(deployment: PlansDeployment) -> None:
    """Every plan's run, triggered at once (not awaited)."""
    deployment.runs.update(
        {plan: deployment.rest.trigger(dag_id(plan), conf) for plan, conf in RUN_CONF.items()}
    )


SCENARIO = Scenario(
    "recovery_plans",
    plans=PLANS,
    fleet=FLEET_SERVERS,
    speed=SPEED,
    deployment_class=PlansDeployment,
    start=start_runs,
)


# -- helpers -------------------------------------------------------------------------------------


def finish(airflow: PlansDeployment, plan: str) -> tuple[str, str, dict[str, Any]]:
    """Wait for the module's run of ``plan`` to finish.

    :return: the run id, its final state and ``{task_id: state}``.
    """
    rest, run_id = airflow.rest, airflow.runs[plan]
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
    airflow: PlansDeployment, plan: str, jobs: list[WaveJob], edges: list[Handoff], figures: list[str]
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
    airflow: PlansDeployment, e2e_figures: list[str], e2e_handoffs: list[tuple[str, float, float | None]]
) -> None:
    plan = "e2e_parallel"
    run_id, state, states = finish(airflow, plan)

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
    # One hand-off per dependent wave, from the upstream that ended last. Which of `app` and `files`
    # that is depends on how fast the machine hands `db` over to `app`, so it is read, not assumed
    # (a loaded 2-core machine took over 30 s for that hand-off; the times are only reported).
    (app,) = by_wave["app"]
    assert app.ended is not None
    last_before_web = "files" if files.ended >= app.ended else "app"
    assert sorted((edge.upstream, edge.downstream) for edge in edges) == sorted(
        [("db", "app"), (last_before_web, "web")]
    )
    report_handoffs(airflow, plan, jobs, edges, e2e_figures)
    e2e_handoffs.extend((airflow.backend, edge.from_job_end, edge.from_seen_completed) for edge in edges)


def test_failed_launch_stops_downstream_waves_only(airflow: PlansDeployment) -> None:
    plan = "e2e_failure"
    _run_id, state, states = finish(airflow, plan)

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


def test_recovery_without_confirm_fails_in_preflight_before_any_launch(airflow: PlansDeployment) -> None:
    plan = "e2e_guarded"
    _run_id, state, states = finish(airflow, plan)

    assert state == "failed", states
    assert states["preflight"] == "failed", states
    assert states["db.start_recovery"] == "upstream_failed", states
    assert start_recovery_calls(airflow.simulator.calls(), plan) == []
