"""Scale benchmark: N concurrent DRS waits in one real triggerer, at the provider's defaults.

One real Airflow stack (SQLite, LocalExecutor: ``tools.airflow_stack``) and the DRS simulator as
its own process. For each N (``--waits``, default 1,10,100,500), in turn:

1. *Load*: N DRS jobs that outlast the phase, each waited for by one :class:`DrsJobSensor` at
   its default poll, started in the triggerer (``start_from_trigger``) so that no worker has to
   defer them. The sensors sit in DAGs of at most :data:`WAITS_PER_DAG`, so one worker task
   (``start``, one StartRecovery per job) launches fifty jobs. The phase starts measuring once
   the simulator has seen every one of the N jobs polled.
2. *Window*: one run of a plan of independent pairs of waves (``a<i>`` then ``b<i>``, one server
   each, no ``poll_interval``: the plan DAGs' defaults) while the load waits. Measured over the
   window: DescribeJobs calls per second and those naming jobs (the sensors' polls), the
   gaps between successive polls of each load job (a loop that falls behind stretches them),
   the triggerer's CPU (its process tree, from ``psutil``) and peak RSS, the triggerer log's
   "async thread was blocked" warnings, and each pair's hand-off (``tools.wave_timing``).
3. The load runs are marked failed (their triggers are cancelled) before the next N.

It measures whatever the code does: the sensor's and trigger's defaults are not touched here.
Nothing is asserted; a table is printed. It holds the e2e lock (``/tmp/drs-e2e.lock``) while it
runs, so it never overlaps an end-to-end test::

    python -m tests.bench.scale [--waits 1,10,100,500] [--pairs 4] [--job-seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import math
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import yaml
from tools.airflow_stack import REPO_ROOT, AirflowStack, SimulatorProcess, StackConfig
from tools.processes import wait_until
from tools.wave_timing import Handoff, measure

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

E2E_LOCK = Path("/tmp/drs-e2e.lock")
WAITS_PER_DAG = 50
LOAD_JOB_SECONDS = 6 * 3600  # outlasts any phase
CHAIN_PLAN = "bench_pairs"
#: DRS quotas of the simulator and of preflight, above any load this benchmark makes.
JOB_QUOTA = 10_000
BLOCKED = re.compile(r"async thread was blocked for ([0-9.]+) seconds")

#: The load DAGs, read from the JSON file named by $DRS_BENCH_LOAD: {dag_id: [server IDs]}.
LOAD_DAG_FILE = '''\
"""Benchmark load: DAGs of DRS waits started in the triggerer (tests/bench/scale.py)."""

import json
import os

from airflow.sdk import DAG

from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.sensors.drs import DrsJobSensor

PULL = "{{{{ (ti.xcom_pull(task_ids='start', map_indexes=-1) or [])[{index}] }}}}"

with open(os.environ["DRS_BENCH_LOAD"]) as handle:
    LOAD = json.load(handle)

for dag_id, servers in LOAD.items():
    with DAG(dag_id, schedule=None, max_active_tasks=len(servers) + 1, tags=["drs-bench"]) as dag:
        start = DrsStartRecoveryOperator(
            task_id="start",
            source_server_ids=servers,
            max_servers_per_job=1,
            job_tags={"drs:wave": "load"},
        )
        for index in range(len(servers)):
            start >> DrsJobSensor(
                task_id=f"wait_{index}", job_ids=PULL.format(index=index), start_from_trigger=True
            )
    globals()[dag_id] = dag
'''


def server_id(number: int) -> str:
    return f"s-bench{number:012d}"


def load_dags(waits: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """``{N: {dag_id: [server IDs]}}``, every server used once across the phases."""
    phases: dict[int, dict[str, list[str]]] = {}
    next_server = 1
    for count in waits:
        dags: dict[str, list[str]] = {}
        for chunk in range(math.ceil(count / WAITS_PER_DAG)):
            size = min(WAITS_PER_DAG, count - chunk * WAITS_PER_DAG)
            dags[f"drs_bench_load_{count}_{chunk}"] = [server_id(next_server + i) for i in range(size)]
            next_server += size
        phases[count] = dags
    return phases


def pairs_plan(pairs: int) -> dict[str, Any]:
    waves: list[dict[str, Any]] = []
    for index in range(1, pairs + 1):
        # depends_on: [] starts at once (a wave without it follows the wave listed before it)
        waves.append(
            {"name": f"a{index}", "servers": {"ids": [server_id(900_000 + 2 * index)]}, "depends_on": []}
        )
        waves.append(
            {
                "name": f"b{index}",
                "servers": {"ids": [server_id(900_001 + 2 * index)]},
                "depends_on": [f"a{index}"],
            }
        )
    return {"plan": CHAIN_PLAN, "description": "Independent pairs of waves (benchmark)", "waves": waves}


def fleet(phases: dict[int, dict[str, list[str]]], pairs: int, job_seconds: float) -> dict[str, Any]:
    load = [server for dags in phases.values() for servers in dags.values() for server in servers]
    servers = [
        {"id": sid, "hostname": f"load-{n}", "launch_seconds": LOAD_JOB_SECONDS} for n, sid in enumerate(load)
    ]
    for index in range(1, pairs + 1):
        for offset in (0, 1):
            number = 900_000 + 2 * index + offset
            servers.append(
                {"id": server_id(number), "hostname": f"pair-{number}", "launch_seconds": job_seconds}
            )
    limit = JOB_QUOTA
    return {
        "account_id": "123456789012",
        "region": "us-east-1",
        "quotas": {"max_concurrent_jobs": limit, "max_servers_in_active_jobs": limit},
        "source_servers": servers,
    }


class TreeSampler:
    """CPU seconds and resident memory of a process and its descendants, sampled every second."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self._cpu: dict[int, tuple[float, float]] = {}  # pid -> (first, last) CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            processes = [self.root, *self.root.children(recursive=True)]
            rss = 0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    cpu = times.user + times.system
                    first = self._cpu.get(process.pid, (cpu, cpu))[0]
                    self._cpu[process.pid] = (first, cpu)
                    rss += process.memory_info().rss
            self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._sample()

    def __enter__(self) -> TreeSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def cpu_seconds(self) -> float:
        return sum(last - first for first, last in self._cpu.values())


@dataclass
class Phase:
    waits: int
    ramp_seconds: float = 0.0
    window_seconds: float = 0.0
    describe_per_second: float = 0.0
    polls_per_second: float = 0.0
    poll_gaps: list[float] = field(default_factory=list)
    cpu_percent: float = 0.0
    peak_rss_mb: float = 0.0
    blocked: list[float] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    run_state: str = ""


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def load_jobs(calls: Sequence[dict[str, Any]], dag_ids: set[str]) -> list[str]:
    return [
        job_id
        for call in calls
        if call.get("operation") == "StartRecovery"
        and ((call.get("request") or {}).get("tags") or {}).get("airflow:dag_id") in dag_ids
        for job_id in call.get("job_ids") or []
    ]


def polled_ids(call: dict[str, Any]) -> list[str]:
    """The job IDs a DescribeJobs call names in its filter (a sensor's poll); none for listings."""
    request = call.get("request")
    filters = request.get("filters") if isinstance(request, dict) else None
    return list((filters or {}).get("jobIDs") or []) if isinstance(filters, dict) else []


def poll_gaps(
    calls: Sequence[dict[str, Any]], job_ids: Sequence[str], start: float, end: float
) -> list[float]:
    """Seconds between successive polls of each job, within [start, end]."""
    times: dict[str, list[float]] = {job_id: [] for job_id in job_ids}
    for call in calls:
        if call.get("operation") != "DescribeJobs" or not start <= call["time"] <= end:
            continue
        for job_id in polled_ids(call):
            if job_id in times:
                times[job_id].append(float(call["time"]))
    return [b - a for polled in times.values() for a, b in itertools.pairwise(polled)]


def blocked_warnings(log_path: Path, offset: int) -> list[float]:
    with log_path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    return [float(match) for match in BLOCKED.findall(text)]


def run_phase(
    stack: AirflowStack, simulator: SimulatorProcess, waits: int, dags: dict[str, list[str]], pairs: int
) -> Phase:
    phase = Phase(waits)
    triggerer_log = stack.log_path("triggerer")
    log_offset = triggerer_log.stat().st_size
    started = time.time()
    runs = {dag_id: stack.rest.trigger(dag_id, {}) for dag_id in dags}

    def all_polled() -> bool:
        calls = simulator.calls()
        jobs = load_jobs(calls, set(dags))
        polled = {
            job for call in calls if call.get("operation") == "DescribeJobs" for job in polled_ids(call)
        }
        return len(jobs) == waits and polled.issuperset(jobs)

    wait_until(f"{waits} waits polled", all_polled, timeout=600, interval=3)
    window_start = time.time()
    phase.ramp_seconds = window_start - started
    triggerer = stack.processes["triggerer"].pid
    assert triggerer is not None
    dag_id = f"drs_plan_{CHAIN_PLAN}"
    with TreeSampler(triggerer) as sampler:
        run_id = stack.rest.trigger(dag_id, {})
        phase.run_state = stack.rest.wait_for_run(dag_id, run_id, timeout=900)
        if phase.run_state != "success":
            failed = [
                task for task, state in stack.rest.task_states(dag_id, run_id).items() if state == "failed"
            ]
            print(f"N={waits}: the {dag_id} run ended {phase.run_state}; failed tasks: {failed}", flush=True)
    window_end = time.time()
    phase.window_seconds = window_end - window_start
    phase.cpu_percent = 100 * sampler.cpu_seconds / phase.window_seconds
    phase.peak_rss_mb = sampler.peak_rss / 2**20
    phase.blocked = blocked_warnings(triggerer_log, log_offset)

    calls = simulator.calls()
    in_window = [
        c for c in calls if window_start <= c["time"] <= window_end and c.get("operation") == "DescribeJobs"
    ]
    phase.describe_per_second = len(in_window) / phase.window_seconds
    polls = [call for call in in_window if polled_ids(call)]
    phase.polls_per_second = len(polls) / phase.window_seconds
    phase.poll_gaps = poll_gaps(calls, load_jobs(calls, set(dags)), window_start, window_end)
    dependencies = {f"b{i}": [f"a{i}"] for i in range(1, pairs + 1)}
    _, edges = measure(simulator.url, calls, dependencies, speed=simulator.speed, dag_id=dag_id)
    phase.handoffs = [edge for edge in edges if edge.downstream_started >= window_start]

    for load_dag, load_run in runs.items():  # cancels their triggers
        stack.rest.request(
            "PATCH",
            f"/api/v2/dags/{load_dag}/dagRuns/{load_run}",
            json={"state": "failed"},
        )

    def stopped_waiting() -> bool:
        return all("deferred" not in stack.rest.task_states(d, r).values() for d, r in runs.items())

    wait_until("the load runs to stop waiting", stopped_waiting, timeout=120, interval=2)
    return phase


def summary(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f}/{percentile(values, 0.9):.1f}/{max(values):.1f}"


def table(phases: Sequence[Phase]) -> str:
    header = (
        f"{'waits':>5} {'ramp s':>6} {'window s':>8} {'Describe/s':>10} {'polls/s':>7} "
        f"{'poll gap s med/p90/max':>22} {'CPU %':>6} {'RSS MB':>7} {'blocked n/max s':>15} "
        f"{'hand-off from job end s med/p90/max (n)':>40} {'from seen COMPLETED med/p90/max':>32}"
    )
    lines = [header]
    for phase in phases:
        from_end = [edge.from_job_end for edge in phase.handoffs]
        from_seen = [e.from_seen_completed for e in phase.handoffs if e.from_seen_completed is not None]
        blocked = f"{len(phase.blocked)}/{max(phase.blocked):.2f}" if phase.blocked else "0/-"
        lines.append(
            f"{phase.waits:>5} {phase.ramp_seconds:>6.0f} {phase.window_seconds:>8.0f} "
            f"{phase.describe_per_second:>10.2f} {phase.polls_per_second:>7.2f} "
            f"{summary(phase.poll_gaps):>22} "
            f"{phase.cpu_percent:>6.1f} {phase.peak_rss_mb:>7.0f} {blocked:>15} "
            f"{summary(from_end) + f' ({len(from_end)})':>40} {summary(from_seen):>32}"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def e2e_lock() -> Iterator[None]:
    with E2E_LOCK.open("a") as handle:
        print(f"waiting for {E2E_LOCK} (no e2e test may run beside the benchmark)", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waits", default="1,10,100,500", help="comma-separated N (default 1,10,100,500)")
    parser.add_argument("--pairs", type=int, default=4, help="independent wave pairs in the measured plan")
    parser.add_argument("--job-seconds", type=float, default=10.0, help="launch time of each pair's jobs")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    waits = [int(item) for item in args.waits.split(",") if item.strip()]
    phases = load_dags(waits)

    workdir = Path(tempfile.mkdtemp(prefix="drs-bench-scale-"))
    plans = workdir / "plans"
    plans.mkdir()
    (plans / f"{CHAIN_PLAN}.yaml").write_text(yaml.safe_dump(pairs_plan(args.pairs)))
    dags_folder = workdir / "dags"
    dags_folder.mkdir()
    (dags_folder / "drs_recovery_plans.py").symlink_to(REPO_ROOT / "dags" / "drs_recovery_plans.py")
    (dags_folder / "drs_bench_load.py").write_text(LOAD_DAG_FILE)
    load_spec = workdir / "load.json"
    load_spec.write_text(
        json.dumps({dag: servers for dags in phases.values() for dag, servers in dags.items()})
    )
    fleet_file = workdir / "fleet.yaml"
    fleet_file.write_text(yaml.safe_dump(fleet(phases, args.pairs, args.job_seconds)))

    results: list[Phase] = []
    with e2e_lock(), SimulatorProcess(fleet_file, speed=1.0, log_path=workdir / "simulator.log") as simulator:
        config = StackConfig(
            home=workdir / "airflow",
            plans_dir=plans,
            simulator_url=simulator.url,
            dags_folder=dags_folder,
            extra_env={
                "DRS_BENCH_LOAD": str(load_spec),
                # preflight counts the load's active jobs against these quotas (default 20 and 500)
                "AIRFLOW__DRS__MAX_CONCURRENT_JOBS": str(JOB_QUOTA),
                "AIRFLOW__DRS__MAX_SERVERS_IN_ACTIVE_JOBS": str(JOB_QUOTA),
            },
            expected_dag_ids=[f"drs_plan_{CHAIN_PLAN}", *(dag for dags in phases.values() for dag in dags)],
        )
        with AirflowStack(config) as stack:
            print(f"stack up; work directory {workdir}", flush=True)
            for count in waits:
                phase = run_phase(stack, simulator, count, phases[count], args.pairs)
                results.append(phase)
                print(table([phase]).splitlines()[-1], flush=True)
    print()
    print("N concurrent waits in one triggerer (SQLite, LocalExecutor; sensor and trigger defaults)")
    print(table(results))
    print(
        "ramp: first load run triggered -> every load job polled; window: one run of the pairs plan.\n"
        "polls: DescribeJobs naming jobs; poll gap: between successive polls of one load job;\n"
        "CPU/RSS: the triggerer's process tree; blocked: 'async thread was blocked' warnings."
    )
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(phase.run_state == "success" for phase in results) else 1


if __name__ == "__main__":
    sys.exit(main())
