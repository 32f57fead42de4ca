"""Failover benchmark: ``drs_failover`` of many plans, and wave hand-offs quiet and under that load.

One real Airflow stack of the production set-up (PostgreSQL, CeleryExecutor: the end-to-end
harness's ``postgres-celery``) with two scenarios, each on its own DRS simulator process:

* ``--plans`` plans (default 40) of two waves of three servers (``first``, then ``second``), all
  tagged ``bench: failover``, at the plans' defaults (no tuning key), on a simulator whose account
  allows ``--quota`` concurrent jobs (default 20, DRS's own default). Every job takes
  ``--job-seconds`` (simulated; ``--speed`` simulated seconds per real second).
* a 4-wave diamond plan (``a`` -> ``b``, ``c`` -> ``d``, one server each) on a simulator of its
  own, so its waves never wait for the failover's DRS capacity: what it measures is Airflow's
  hand-off under the failover's load, not a queue for the quota.

In turn: the diamond is drilled ``--quiet-runs`` times alone (quiet hand-off); then
``drs_failover`` is triggered with ``{"tags": {"bench": "failover"}}`` and, once its plans' runs
are going, the diamond is drilled once more (hand-off under load). Printed:

* trigger to the last first-wave launch, against the lower bound the quota allows: with Q jobs
  at once, each lasting D, the first waves of N plans cannot all have started before
  ``(ceil(N / Q) - 1) * D``; the ratio of the two (target <= 1.2), and the same with the
  measured trigger-to-first-launch time added to the bound;
* the first waves' launches in rounds of the quota, each with when its jobs ended (when the
  next round's capacity freed): how far each round trails the capacity it waited for;
* the most jobs active at once (never above the quota), the launches DRS refused for capacity;
* the diamond's hand-off medians (from a wave's job end to the next wave's StartRecovery);
* the seconds each wave's two DRS tasks held a worker slot (their durations in Airflow);
* before the failover, quiet: a recovery's trigger to its first launch while a drill of its plan
  waits on an approval (a recovery must launch within 60 s).

Nothing is asserted but that every run succeeds. It holds the e2e lock so that it never overlaps
an end-to-end test::

    python -m tests.bench.failover [--plans 40] [--quota 20] [--job-seconds 600] [--speed 10]
        [--worker-slots 4]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.airflow_stack import AirflowStack
from tools.processes import wait_until
from tools.wave_timing import (
    HANDOFF_STAGES,
    RUN_TAG,
    Handoff,
    call_tags,
    handoff_stages,
    handoffs,
    measure,
    median_stages,
    most_jobs_active_at_once,
    simulated_to_wall,
    succeeded,
)

from tests.bench.scale import e2e_lock
from tests.e2e.conftest import POSTGRES_URL, REDIS_URL
from tests.e2e.harness import Deployment, Scenario, SharedStack, shared_stack_config

if TYPE_CHECKING:
    from collections.abc import Sequence

TAGS = {"bench": "failover"}
DIAMOND = "bench_diamond"
DIAMOND_WAVES = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
#: A plan whose drill waits on an approval when a recovery of it comes (its first launch within 60 s).
PREEMPT = "bench_preempt"
RUN_TIMEOUT = 1800.0


def plan_name(number: int) -> str:
    return f"bench_fo_{number:02d}"


def server_id(group: int, number: int) -> str:
    return f"s-b{group:02d}{number:014d}"


def failover_scenario(plans: int, quota: int, job_seconds: float, speed: float) -> Scenario:
    documents: dict[str, dict[str, Any]] = {}
    fleet: list[dict[str, Any]] = []
    for n in range(plans):
        ids = [server_id(1, n * 6 + i) for i in range(6)]
        fleet += [
            {"id": i, "hostname": f"fo-{n}-{k}", "launch_seconds": job_seconds} for k, i in enumerate(ids)
        ]
        documents[plan_name(n)] = {
            "plan": plan_name(n),
            "tags": TAGS,
            "waves": [
                {"name": "first", "servers": {"ids": ids[:3]}},
                {"name": "second", "depends_on": ["first"], "servers": {"ids": ids[3:]}},
            ],
        }
    return Scenario(
        "bench_failover",
        plans=documents,
        fleet=fleet,
        fleet_settings={"quotas": {"max_concurrent_jobs": quota}},
        speed=speed,
        extra_dag_ids=["drs_failover"],
    )


def diamond_scenario(job_seconds: float, speed: float) -> Scenario:
    waves = []
    fleet = []
    for n, (wave, upstream) in enumerate(DIAMOND_WAVES.items()):
        fleet.append({"id": server_id(2, n), "hostname": f"diamond-{wave}", "launch_seconds": job_seconds})
        spec: dict[str, Any] = {"name": wave, "servers": {"ids": [server_id(2, n)]}}
        if upstream:
            spec["depends_on"] = upstream
        waves.append(spec)
    fleet.append({"id": server_id(3, 0), "hostname": "preempt-app", "launch_seconds": job_seconds})
    preempt = {
        "plan": PREEMPT,
        "waves": [
            {
                "name": "app",
                "servers": {"ids": [server_id(3, 0)]},
                "pre": [{"approval": {"message": "Go on with the drill?", "modes": ["drill"]}}],
            }
        ],
    }
    plans = {DIAMOND: {"plan": DIAMOND, "waves": waves}, PREEMPT: preempt}
    return Scenario("bench_diamond", plans=plans, fleet=fleet, speed=speed)


def preemption(deployment: Deployment) -> float:
    """Seconds from a recovery's trigger to its first launch while a drill waits on an approval."""
    rest, dag_id = deployment.rest, f"drs_plan_{PREEMPT}"
    drill = rest.trigger(dag_id, {})
    wait_until(
        "the drill's approval to wait",
        lambda: rest.task_states(dag_id, drill).get("app.pre_1_approval") in ("deferred", "awaiting_input"),
        timeout=RUN_TIMEOUT,
    )
    triggered = time.time()
    recovery = recover(deployment, PREEMPT)
    rest.wait_for_run(dag_id, recovery, timeout=RUN_TIMEOUT)
    rest.wait_for_run(dag_id, drill, timeout=RUN_TIMEOUT)
    calls = deployment.simulator.calls("StartRecovery")
    launches = [call["time"] for call in calls if call_tags(call).get(RUN_TAG) == recovery]
    return min(launches) - triggered


def recover(deployment: Deployment, plan: str) -> str:
    return deployment.rest.trigger(f"drs_plan_{plan}", {"mode": "recovery", "confirm": plan})


def diamond_handoffs(deployment: Deployment, speed: float) -> dict[str | None, list[Handoff]]:
    """Each diamond run's hand-offs (job end to the next StartRecovery), from the whole call log."""
    jobs, _ = measure(
        deployment.simulator.url,
        deployment.simulator.calls(),
        DIAMOND_WAVES,
        speed=speed,
        dag_id=f"drs_plan_{DIAMOND}",
    )
    runs = {job.run_id for job in jobs}
    return {run: handoffs([job for job in jobs if job.run_id == run], DIAMOND_WAVES) for run in runs}


def stage_medians(
    deployment: Deployment, by_run: dict[str | None, list[Handoff]], runs: Sequence[str]
) -> str:
    """The median seconds of each hand-off stage over these runs' edges, as one line."""
    dag_id = f"drs_plan_{DIAMOND}"
    breakdowns = []
    for run in runs:
        instances = {str(ti["task_id"]): ti for ti in deployment.rest.task_instances(dag_id, run)}
        breakdowns += [handoff_stages(edge, instances) for edge in by_run.get(run, [])]
    medians = median_stages(breakdowns)
    return ", ".join(f"{stage} {medians[stage]:.2f}" for stage in HANDOFF_STAGES) if medians else "-"


def worker_seconds(deployment: Deployment, dag_id: str, run_id: str) -> dict[str, float]:
    """Seconds each wave's tasks held a worker slot: their durations as Airflow recorded them
    (a deferred task holds none while it waits)."""
    held: dict[str, float] = {}
    for ti in deployment.rest.task_instances(dag_id, run_id):
        wave, _, task = str(ti["task_id"]).partition(".")
        if task in ("start_recovery", "wait_for_recovery"):
            held[wave] = held.get(wave, 0.0) + float(ti.get("duration") or 0.0)
    return held


def rounds(
    launches: Sequence[float], job_ends: Sequence[float], quota: int
) -> list[tuple[int, float, float, float | None, float | None]]:
    """The first waves' launches in rounds of ``quota``: per round, its count, first and last launch,
    and when the jobs it launched ended first and last (the next round's capacity frees then)."""
    launches, job_ends = sorted(launches), sorted(job_ends)
    found = []
    for start in range(0, len(launches), quota):
        ends = job_ends[start : start + quota]
        found.append(
            (
                len(launches[start : start + quota]),
                launches[start],
                launches[min(start + quota, len(launches)) - 1],
                ends[0] if ends else None,
                ends[-1] if ends else None,
            )
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--quota", type=int, default=20, help="the account's concurrent DRS jobs")
    parser.add_argument("--job-seconds", type=float, default=600.0, help="simulated seconds of a job")
    parser.add_argument("--speed", type=float, default=10.0, help="simulated seconds per real second")
    parser.add_argument("--quiet-runs", type=int, default=2)
    parser.add_argument(
        "--worker-slots",
        type=int,
        default=4,
        help="the Celery worker's slots (worker_concurrency; Airflow's parallelism twice that)",
    )
    args = parser.parse_args(argv)
    failover = failover_scenario(args.plans, args.quota, args.job_seconds, args.speed)
    diamond = diamond_scenario(min(args.job_seconds, 100.0), args.speed)
    workdir = Path(tempfile.mkdtemp(prefix="drs-bench-failover-"))
    failed = 0
    try:
        with e2e_lock():
            config = shared_stack_config(
                workdir,
                "postgres-celery",
                [failover, diamond],
                postgres_url=POSTGRES_URL,
                redis_url=REDIS_URL,
            )
            config.worker_slots = args.worker_slots
            with AirflowStack(config) as stack, contextlib.ExitStack() as resources:
                shared = SharedStack("postgres-celery", stack)
                shared.deploy_all([failover, diamond], workdir / "scenarios", resources)
                fo, dm = shared.deployments[failover.name], shared.deployments[diamond.name]
                rest = stack.rest

                quiet_runs = []
                for _ in range(
                    args.quiet_runs
                ):  # drills: a second recovery would refuse the first's instances
                    run_id = rest.trigger(f"drs_plan_{DIAMOND}", {})
                    failed += (
                        rest.wait_for_run(f"drs_plan_{DIAMOND}", run_id, timeout=RUN_TIMEOUT) != "success"
                    )
                    quiet_runs.append(run_id)

                preempted_in = preemption(dm)
                for n in range(args.plans):  # as an operator does ahead of the day
                    rest.unpause(f"drs_plan_{plan_name(n)}")
                triggered = time.time()
                failover_run = rest.trigger("drs_failover", {"tags": TAGS, "confirm": "failover"})
                wait_until(
                    "the failover's plans to be launching",
                    lambda: (
                        sum(succeeded(c) for c in fo.simulator.calls("StartRecovery")) >= min(args.quota, 5)
                    ),
                    timeout=RUN_TIMEOUT,
                )
                loaded_run = rest.trigger(f"drs_plan_{DIAMOND}", {})
                failed += (
                    rest.wait_for_run(f"drs_plan_{DIAMOND}", loaded_run, timeout=RUN_TIMEOUT) != "success"
                )
                slots = worker_seconds(dm, f"drs_plan_{DIAMOND}", loaded_run)
                state = rest.wait_for_run("drs_failover", failover_run, timeout=RUN_TIMEOUT)
                failed += state != "success"

                by_run = diamond_handoffs(dm, args.speed)
                quiet = [edge.from_job_end for run in quiet_runs for edge in by_run.get(run, [])]
                loaded = [edge.from_job_end for edge in by_run.get(loaded_run, [])]
                launches = [c for c in fo.simulator.calls("StartRecovery") if succeeded(c)]
                first_wave = [c["time"] for c in launches if c["request"]["tags"].get("drs:wave") == "first"]
                refused = [c for c in fo.simulator.calls("StartRecovery") if c.get("status") == 402]
                jobs = fo.drs().describe_jobs(filters={})["items"]
                durations = [
                    (
                        datetime.fromisoformat(j["endDateTime"])
                        - datetime.fromisoformat(j["creationDateTime"])
                    ).total_seconds()
                    / args.speed
                    for j in jobs
                    if j.get("endDateTime") and j.get("type") == "LAUNCH"
                ]
                job_real = statistics.median(durations)
                first_launch = min(first_wave) - triggered
                last_first = max(first_wave) - triggered
                bound = (math.ceil(args.plans / args.quota) - 1) * job_real
                print()
                print(
                    f"Failover of {args.plans} plans (2 waves x 3 servers, plan defaults), quota "
                    f"{args.quota} jobs, PostgreSQL + CeleryExecutor "
                    f"({args.worker_slots} worker slots); failover run {state}"
                )
                print(f"  trigger -> first launch          {first_launch:7.1f} s")
                print(
                    f"  trigger -> last first-wave launch {last_first:6.1f} s ({len(first_wave)} first waves)"
                )
                print(f"  job duration (median, real)      {job_real:7.1f} s")
                print(f"  lower bound the quota allows     {bound:7.1f} s  ratio {last_first / bound:.2f}")
                print(
                    f"  ... plus the first launch's own  {bound + first_launch:7.1f} s  ratio "
                    f"{last_first / (bound + first_launch):.2f}"
                )
                log = fo.simulator.calls()
                ends = [
                    simulated_to_wall(log, datetime.fromisoformat(j["endDateTime"]).timestamp(), args.speed)
                    - triggered
                    for j in jobs
                    if j.get("endDateTime") and (j.get("tags") or {}).get("drs:wave") == "first"
                ]
                for number, (count, first, last, ended, ended_last) in enumerate(
                    rounds([t - triggered for t in first_wave], ends, args.quota), start=1
                ):
                    freed = f"; its jobs ended {ended:.1f}-{ended_last:.1f} s" if ended is not None else ""
                    print(f"  round {number}: {count} first waves launched {first:.1f}-{last:.1f} s{freed}")
                peak = most_jobs_active_at_once(jobs)
                print(f"  most jobs active at once         {peak:7d} (quota {args.quota})")
                print(f"  launches refused for capacity    {len(refused):7d}")
                print(f"Recovery preempting a drill on its approval: trigger -> launch {preempted_in:.1f} s")
                print(
                    f"Diamond hand-off (job end -> next StartRecovery), {len(DIAMOND_WAVES)} waves, defaults"
                )
                for label, edges, runs in (
                    ("quiet", quiet, quiet_runs),
                    ("under failover", loaded, [loaded_run]),
                ):
                    median = f"{statistics.median(edges):5.1f} s" if edges else "-"
                    print(
                        f"  {label:<15} median {median} over {len(edges)} edges: "
                        f"{[round(edge, 1) for edge in edges]}"
                    )
                    print(f"  {'':<15} stages (median s): {stage_medians(dm, by_run, runs)}")
                held = ", ".join(f"{wave} {seconds:.1f}" for wave, seconds in slots.items())
                print(f"  worker-seconds per wave under load (its two DRS tasks): {held}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
