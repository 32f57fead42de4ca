"""``make demo``: a drill of the example plan on a real Airflow, against the local DRS simulator.

It starts the DRS simulator (the sample fleet, ten times real speed) and a throwaway Airflow
(SQLite, LocalExecutor: api-server, scheduler, dag-processor and triggerer as separate
processes) in a temporary directory, triggers the plan's DAG as a drill through the REST API,
shows each wave's progress, and ends with a report of every wave and server. Every process it
started is stopped on the way out, also on Ctrl-C. Exit status: 0 when the drill succeeded,
1 when it failed or Airflow did not start, 130 when interrupted.

``make demo-ui`` (``--keep-up``) leaves everything running after the drill and prints the UI
address and login, until Ctrl-C.

Progress comes from the same places a person would look: task states from the REST API, the
job IDs that each wave's ``start_recovery`` returned (its XCom), and those jobs' per-server
launch status from DRS (the simulator) through boto3.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tools.airflow_stack import AirflowStack, SimulatorProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLANS_DIR = REPO_ROOT / "dags" / "recovery_plans"
DEFAULT_FLEET = REPO_ROOT / "plugins" / "drs_provider" / "simulator" / "sample_fleet.yaml"
DEFAULT_PLAN = "shop"

#: Task instance states in which a task is on its way but not finished.
ACTIVE_TASK_STATES = frozenset(
    {"scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule", "restarting"}
)
#: States of a task that will not run because something upstream failed.
NOT_RUN_TASK_STATES = frozenset({"upstream_failed", "skipped", "removed"})
LAUNCHED = "LAUNCHED"
LAUNCH_FAILED_STATES = frozenset({"FAILED", "TERMINATED"})

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


# -- what the demo shows: plain data in, text out ---------------------------------------------


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time from the REST API (``...Z`` or ``+00:00``), or None."""
    if not value:
        return None
    return datetime.fromisoformat(value)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def format_clock(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S") if moment else "-"


def start_task(wave: str) -> str:
    return f"{wave}.start_recovery"


def wait_task(wave: str) -> str:
    return f"{wave}.wait_for_recovery"


PREFLIGHT_TASK = "preflight"


def preflight_state(state: str | None) -> str:
    """One word for the preflight task (it checks every server before any wave starts)."""
    if state == "success":
        return "passed"
    if state == "failed":
        return "failed"
    if state in ACTIVE_TASK_STATES:
        return "checking"
    return "waiting"


def wave_state(start_state: str | None, wait_state: str | None) -> str:
    """One word for where a wave is, from the states of its two tasks."""
    if wait_state == "success":
        return "recovered"
    if "failed" in (start_state, wait_state):
        return "failed"
    if start_state in NOT_RUN_TASK_STATES or wait_state in NOT_RUN_TASK_STATES:
        return "not run"
    if start_state == "success":
        return "recovering"
    if start_state in ACTIVE_TASK_STATES:
        return "starting"
    return "waiting"


@dataclass(frozen=True)
class ServerCounts:
    """Servers of a wave's DRS jobs by launch status."""

    launched: int = 0
    failed: int = 0
    total: int = 0

    def describe(self) -> str:
        if not self.total:
            return "-"
        text = f"{self.launched}/{self.total} launched"
        return f"{text}, {self.failed} failed" if self.failed else text


def server_counts(jobs: Iterable[Mapping[str, Any]]) -> ServerCounts:
    """Count the participating servers of DRS jobs (DescribeJobs items) by launch status."""
    statuses = [
        server.get("launchStatus", "PENDING")
        for job in jobs
        for server in job.get("participatingServers", [])
    ]
    return ServerCounts(
        launched=sum(status == LAUNCHED for status in statuses),
        failed=sum(status in LAUNCH_FAILED_STATES for status in statuses),
        total=len(statuses),
    )


@dataclass(frozen=True)
class WaveProgress:
    """Where one wave stands at one moment."""

    name: str
    state: str
    servers: ServerCounts
    started: datetime | None
    ended: datetime | None

    def elapsed(self, now: datetime) -> float | None:
        if self.started is None:
            return None
        return ((self.ended or now) - self.started).total_seconds()


def wave_progress(
    waves: Sequence[str],
    task_instances: Sequence[Mapping[str, Any]],
    jobs_by_wave: Mapping[str, Sequence[Mapping[str, Any]]],
) -> list[WaveProgress]:
    """Preflight, then each wave: progress from the run's task instances (REST shape) and DRS jobs."""
    by_task = {ti["task_id"]: ti for ti in task_instances}
    preflight = by_task.get(PREFLIGHT_TASK, {})
    preflight_word = preflight_state(preflight.get("state"))
    progress = [
        WaveProgress(
            name=PREFLIGHT_TASK,
            state=preflight_word,
            servers=ServerCounts(),
            started=parse_time(preflight.get("start_date")),
            ended=parse_time(preflight.get("end_date")) if preflight_word in ("passed", "failed") else None,
        )
    ]
    for wave in waves:
        start = by_task.get(start_task(wave), {})
        wait = by_task.get(wait_task(wave), {})
        state = wave_state(start.get("state"), wait.get("state"))
        end_dates = [parse_time(start.get("end_date")), parse_time(wait.get("end_date"))]
        finished = state in ("recovered", "failed")
        ended = max((moment for moment in end_dates if moment), default=None) if finished else None
        progress.append(
            WaveProgress(
                name=wave,
                state=state,
                servers=server_counts(jobs_by_wave.get(wave, ())),
                # Airflow stamps a start on tasks it marks upstream_failed; they never ran.
                started=parse_time(start.get("start_date")) if state != "not run" else None,
                ended=ended,
            )
        )
    return progress


def table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def format_progress(
    dag_id: str, run: Mapping[str, Any], progress: Sequence[WaveProgress], now: datetime
) -> list[str]:
    """The live view: a header line for the run, then one line per wave."""
    started = parse_time(run.get("start_date")) or parse_time(run.get("queued_at"))
    elapsed = (now - started).total_seconds() if started else None
    lines = [f"{dag_id}  {run['state']}  {format_seconds(elapsed)}  run {run['dag_run_id']}"]
    rows = [["step", "state", "servers", "elapsed"]]
    rows += [
        [wave.name, wave.state, wave.servers.describe(), format_seconds(wave.elapsed(now))]
        for wave in progress
    ]
    return lines + table(rows)


def progress_line(wave: WaveProgress, since_trigger: float) -> str:
    """One line for logs and pipes, printed when a wave changes."""
    return (
        f"[{format_seconds(since_trigger):>6}] {wave.name}: {wave.state}, servers {wave.servers.describe()}"
    )


@dataclass
class DrillResult:
    """Everything the final report needs, collected after the run finished."""

    plan: str
    dag_id: str
    run: dict[str, Any]
    waves: list[WaveProgress]
    #: wave -> per-server results (the ``wait_for_recovery`` XCom shape, see DrsJobSensor).
    servers: dict[str, list[dict[str, Any]]]
    failed_tasks: list[str] = field(default_factory=list)
    #: failed task -> the exception its log ends with (see :func:`failure_reason`).
    failure_reasons: dict[str, str] = field(default_factory=dict)
    startup_seconds: float | None = None
    total_seconds: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.run.get("state") == "success"


def failure_reason(log_content: Sequence[Any]) -> str | None:
    """The exception a task log ends with (REST API v2 structured log entries), else its last error."""
    entries = [entry for entry in log_content if isinstance(entry, dict)]
    for entry in reversed(entries):
        for detail in reversed(entry.get("error_detail") or []):
            return f"{detail.get('exc_type')}: {detail.get('exc_value')}"
    for entry in reversed(entries):
        if entry.get("level") == "error":
            return str(entry.get("event"))
    return None


def instance_text(recovery_instance_id: str | None, ec2_instance_id: str | None) -> str:
    """A recovery instance, with its EC2 instance only where DRS reports a different ID."""
    if not recovery_instance_id:
        return "-"
    if ec2_instance_id and ec2_instance_id != recovery_instance_id:
        return f"{recovery_instance_id} (EC2 {ec2_instance_id})"
    return recovery_instance_id


def format_report(result: DrillResult) -> str:
    verdict = "SUCCEEDED" if result.succeeded else "FAILED"
    run_start = parse_time(result.run.get("start_date"))
    run_end = parse_time(result.run.get("end_date"))
    run_seconds = (run_end - run_start).total_seconds() if run_start and run_end else None
    lines = [
        f"Drill of plan '{result.plan}' {verdict}  ({result.dag_id}, run {result.run['dag_run_id']})",
        "",
        "Steps (times UTC):",
    ]
    wave_rows = [["step", "state", "start", "end", "duration", "servers"]]
    for wave in result.waves:
        duration = (wave.ended - wave.started).total_seconds() if wave.started and wave.ended else None
        wave_rows.append(
            [
                wave.name,
                wave.state,
                format_clock(wave.started),
                format_clock(wave.ended),
                format_seconds(duration),
                wave.servers.describe(),
            ]
        )
    lines += table(wave_rows)
    server_rows = [["wave", "server", "source server", "recovery instance", "status"]]
    errors = []
    for wave in result.waves:
        for server in result.servers.get(wave.name, []):
            status = str(server.get("launchStatus") or "-")
            if server.get("optional"):
                status += " (optional)"
            server_rows.append(
                [
                    wave.name,
                    str(server.get("hostname") or "-"),
                    str(server["sourceServerID"]),
                    instance_text(server.get("recoveryInstanceID"), server.get("ec2InstanceID")),
                    status,
                ]
            )
            if server.get("rawError"):
                errors.append(f"  {server.get('hostname') or server['sourceServerID']}: {server['rawError']}")
    if len(server_rows) > 1:
        lines += ["", "Servers:", *table(server_rows)]
    if errors:
        lines += ["", "Launch errors:", *errors]
    if result.failed_tasks:
        lines += ["", "Failed tasks:"]
        for task_id in result.failed_tasks:
            reason = result.failure_reasons.get(task_id, "see its log")
            lines.append(f"  {task_id}: " + reason.replace("\n", "\n    "))
    timing = [f"drill {format_seconds(run_seconds)} (run start to end)"]
    if result.startup_seconds is not None:
        timing.append(f"Airflow and simulator start-up {format_seconds(result.startup_seconds)}")
    if result.total_seconds is not None:
        timing.append(f"demo total {format_seconds(result.total_seconds)}")
    lines += ["", "Time: " + "; ".join(timing)]
    return "\n".join(lines)


# -- the live view -----------------------------------------------------------------------------


class ProgressView:
    """Redraws the progress block in place on a terminal; prints changed waves otherwise."""

    def __init__(self, out: TextIO, *, interactive: bool, width: int | None = None) -> None:
        self.out = out
        self.interactive = interactive
        # Lines wider than the terminal would wrap and throw off the redraw.
        self.width = width or shutil.get_terminal_size().columns
        self._drawn_lines = 0
        self._last: dict[str, tuple[str, ServerCounts]] = {}

    def show(
        self, dag_id: str, run: Mapping[str, Any], progress: Sequence[WaveProgress], since: float
    ) -> None:
        now = datetime.now(UTC)
        if self.interactive:
            lines = [line[: self.width - 1] for line in format_progress(dag_id, run, progress, now)]
            if self._drawn_lines:
                # Cursor up over the previous block, then clear to the end of the screen.
                self.out.write(f"\x1b[{self._drawn_lines}F\x1b[J")
            self.out.write("\n".join(lines) + "\n")
            self._drawn_lines = len(lines)
        else:
            for wave in progress:
                key = (wave.state, wave.servers)
                if self._last.get(wave.name) != key:
                    self._last[wave.name] = key
                    self.out.write(progress_line(wave, since) + "\n")
        self.out.flush()


# -- talking to the stack and the simulator ----------------------------------------------------


class DrillWatcher:
    """Polls one run: REST task states, each wave's job IDs (XCom) and the jobs in DRS."""

    def __init__(self, stack: AirflowStack, drs: Any, dag_id: str, run_id: str, waves: Sequence[str]) -> None:
        self.stack = stack
        self.drs = drs
        self.dag_id = dag_id
        self.run_id = run_id
        self.waves = list(waves)
        self.job_ids: dict[str, list[str]] = {}
        self.task_instances: list[dict[str, Any]] = []
        self.jobs_by_wave: dict[str, list[dict[str, Any]]] = {}

    def poll(self) -> list[WaveProgress]:
        self.task_instances = self.stack.rest.task_instances(self.dag_id, self.run_id)
        states = {ti["task_id"]: ti["state"] for ti in self.task_instances}
        for wave in self.waves:
            if wave not in self.job_ids and states.get(start_task(wave)) == "success":
                value = self.stack.rest.xcom(self.dag_id, self.run_id, start_task(wave))
                self.job_ids[wave] = [str(job_id) for job_id in (value or [])]
        self.jobs_by_wave = self._describe_jobs()
        return wave_progress(self.waves, self.task_instances, self.jobs_by_wave)

    def _describe_jobs(self) -> dict[str, list[dict[str, Any]]]:
        wanted = [job_id for ids in self.job_ids.values() for job_id in ids]
        if not wanted:
            return {}
        jobs: dict[str, dict[str, Any]] = {}
        for page in self.drs.get_paginator("describe_jobs").paginate(filters={"jobIDs": wanted}):
            jobs.update((job["jobID"], job) for job in page["items"])
        return {
            wave: [jobs[job_id] for job_id in ids if job_id in jobs] for wave, ids in self.job_ids.items()
        }

    def failure_reasons(self, task_ids: Iterable[str]) -> dict[str, str]:
        """Why each failed task failed, from its log through the REST API."""
        from tools.rest_client import RestApiError

        tries = {ti["task_id"]: ti["try_number"] for ti in self.task_instances}
        reasons = {}
        for task_id in task_ids:
            path = (
                f"/api/v2/dags/{quote(self.dag_id, safe='')}/dagRuns/{quote(self.run_id, safe='')}"
                f"/taskInstances/{quote(task_id, safe='')}/logs/{tries[task_id]}"
            )
            with contextlib.suppress(RestApiError):
                reason = failure_reason(self.stack.rest.request("GET", path).get("content", []))
                if reason:
                    reasons[task_id] = reason
        return reasons

    def server_results(self) -> dict[str, list[dict[str, Any]]]:
        """Per wave, the servers as ``wait_for_recovery`` reported them, else as DRS shows them."""
        from tools.rest_client import RestApiError

        states = {ti["task_id"]: ti["state"] for ti in self.task_instances}
        results: dict[str, list[dict[str, Any]]] = {}
        for wave in self.waves:
            if states.get(wait_task(wave)) == "success":
                with contextlib.suppress(RestApiError):
                    results[wave] = list(
                        self.stack.rest.xcom(self.dag_id, self.run_id, wait_task(wave)) or []
                    )
                    continue
            # A failed wave returns nothing: show what DRS says about its servers.
            results[wave] = self._servers_from_drs(self.jobs_by_wave.get(wave, []))
        return results

    def _servers_from_drs(self, jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        servers = [
            {**server, "jobID": job["jobID"]}
            for job in jobs
            for server in job.get("participatingServers", [])
        ]
        if not servers:
            return []
        ids = [server["sourceServerID"] for server in servers]
        described = self.drs.describe_source_servers(filters={"sourceServerIDs": ids})["items"]
        hostnames = {item["sourceServerID"]: source_hostname(item) for item in described}
        instance_ids = [
            server["recoveryInstanceID"] for server in servers if server.get("recoveryInstanceID")
        ]
        ec2_ids = {}
        if instance_ids:
            instances = self.drs.describe_recovery_instances(filters={"recoveryInstanceIDs": instance_ids})
            ec2_ids = {item["recoveryInstanceID"]: item.get("ec2InstanceID") for item in instances["items"]}
        raw_errors: dict[str, str] = {}
        for job in jobs:
            pages = self.drs.get_paginator("describe_job_log_items").paginate(jobID=job["jobID"])
            raw_errors.update(launch_errors(item for page in pages for item in page["items"]))
        return [
            {
                "sourceServerID": server["sourceServerID"],
                "hostname": hostnames.get(server["sourceServerID"]),
                "recoveryInstanceID": server.get("recoveryInstanceID"),
                "ec2InstanceID": ec2_ids.get(server.get("recoveryInstanceID", "")),
                "launchStatus": server.get("launchStatus"),
                "jobID": server["jobID"],
                "rawError": raw_errors.get(server["sourceServerID"]),
            }
            for server in servers
        ]


def launch_errors(log_items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Per source server, the ``rawError`` of its failed launch (DescribeJobLogItems items)."""
    errors: dict[str, str] = {}
    for item in log_items:
        data = item.get("eventData", {})
        if item.get("event") == "LAUNCH_FAILED" and data.get("sourceServerID") and data.get("rawError"):
            errors[data["sourceServerID"]] = data["rawError"]
    return errors


def source_hostname(source_server: Mapping[str, Any]) -> str | None:
    """The hostname DRS recorded for a source server (a DescribeSourceServers item)."""
    hints = source_server.get("sourceProperties", {}).get("identificationHints", {})
    hostname: str | None = hints.get("hostname")
    return hostname


def drs_client(endpoint_url: str, region: str) -> Any:
    """A plain boto3 DRS client for the simulator (any key pair is accepted there)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="demo", aws_secret_access_key="demo", region_name=region
    )
    return session.client("drs", endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 3}))


# -- the program -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="Run a drill of a recovery plan on a real local Airflow against the DRS simulator.",
    )
    parser.add_argument("--plan", default=DEFAULT_PLAN, help=f"plan to drill (default {DEFAULT_PLAN})")
    parser.add_argument(
        "--plans-dir", type=Path, default=DEFAULT_PLANS_DIR, help="plan files (default dags/recovery_plans)"
    )
    parser.add_argument(
        "--fleet", type=Path, default=DEFAULT_FLEET, help="simulator fleet file (default: the sample fleet)"
    )
    parser.add_argument(
        "--speed", type=float, default=10.0, help="simulated seconds per real second (default 10)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the drill (default 600)"
    )
    parser.add_argument(
        "--keep-up",
        action="store_true",
        help="keep Airflow and the simulator running after the drill, until Ctrl-C",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="use this directory instead of a temporary one (kept afterwards)",
    )
    return parser


def _say(message: str) -> None:
    print(message, flush=True)


def plan_waves(plans_dir: Path, name: str) -> tuple[str, list[str]]:
    """The plan's DAG id and its waves in dependency order."""
    from drs_provider.plans.graph import topological_waves
    from drs_provider.plans.loader import load_plans

    plans = load_plans(plans_dir)
    try:
        plan = plans.plan(name)
    except KeyError:
        known = ", ".join(plan.name for plan in plans.plans) or "none"
        issues = "".join(f"\n  {issue}" for issue in plans.issues)
        raise SystemExit(
            f"demo: no valid plan '{name}' in {plans_dir} (valid plans: {known}){issues}"
        ) from None
    return plan.dag_id, [wave.name for wave in topological_waves(plan)]


def _wait_for_ctrl_c(stack: AirflowStack, simulator: SimulatorProcess) -> None:
    user, password = stack.login
    _say("")
    _say(f"Airflow UI and REST API: {stack.ui_url}   login: {user} / {password}")
    _say(f"DRS simulator:           {simulator.url}   (GET {simulator.url}/_simulator/calls lists DRS calls)")
    _say(f"Airflow CLI against it:  source {stack.home / 'stack.env'}")
    _say("Everything stays up until you press Ctrl-C.")
    forever = threading.Event()
    with contextlib.suppress(KeyboardInterrupt):
        while not forever.wait(3600):
            pass
    _say("")


def run_demo(args: argparse.Namespace) -> int:
    from tools.airflow_stack import AirflowStack, SimulatorProcess, StackConfig
    from tools.rest_client import RestApiError

    demo_started = time.monotonic()
    dag_id, waves = plan_waves(args.plans_dir, args.plan)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="drs-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keep_files = args.workdir is not None
    try:
        airflow_version = importlib.metadata.version("apache-airflow")
        _say(f"Demo: a drill of plan '{args.plan}' ({', '.join(waves)}) on Airflow {airflow_version}")
        _say(f"Working directory: {workdir}")
        _say(f"Starting the DRS simulator ({args.fleet.name}, speed {args.speed:g}) ...")
        with SimulatorProcess(args.fleet, speed=args.speed, log_path=workdir / "simulator.log") as simulator:
            _say(f"  simulator ready at {simulator.url}")
            _say("Starting Airflow: db migrate, api-server, scheduler, dag-processor, triggerer ...")
            config = StackConfig(
                home=workdir / "airflow",
                plans_dir=args.plans_dir,
                simulator_url=simulator.url,
                backend="sqlite",
                expected_dag_ids=(dag_id,),
            )
            try:
                stack = AirflowStack(config).start()
            except (RuntimeError, TimeoutError) as error:
                keep_files = True
                _say(f"Airflow did not start: {error}")
                return EXIT_FAILED
            with stack:
                startup_seconds = time.monotonic() - demo_started
                _say(f"  Airflow ready at {stack.api_url} after {format_seconds(startup_seconds)}")
                succeeded = False
                try:
                    result = _drill(args, stack, simulator, dag_id, waves, startup_seconds, demo_started)
                except (TimeoutError, RestApiError) as error:
                    _say(f"\nThe drill did not finish: {error}")
                else:
                    succeeded = result.succeeded
                    _say("")
                    _say(format_report(result))
                if not succeeded:
                    keep_files = True
                    _say(f"\nProcess logs: {stack.logs_dir}; task logs: {stack.home / 'logs'}")
                if args.keep_up:
                    _wait_for_ctrl_c(stack, simulator)
                else:
                    _say("\n`make demo-ui` runs the same drill and keeps Airflow up to explore it in the UI.")
                stopping = time.monotonic()
                _say("Stopping Airflow and the simulator ...")
            _say(f"  stopped after {format_seconds(time.monotonic() - stopping)}")
            return EXIT_SUCCESS if succeeded else EXIT_FAILED
    finally:
        if keep_files:
            _say(f"Files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _drill(
    args: argparse.Namespace,
    stack: AirflowStack,
    simulator: SimulatorProcess,
    dag_id: str,
    waves: Sequence[str],
    startup_seconds: float,
    demo_started: float,
) -> DrillResult:
    from drs_provider.simulator.fleet import load_fleet

    drs = drs_client(simulator.url, load_fleet(args.fleet).region)
    run_id = stack.rest.trigger(dag_id, {"mode": "drill"})
    triggered = time.monotonic()
    _say(f"Triggered {dag_id} as a drill through the REST API: run {run_id}")
    _say("")
    watcher = DrillWatcher(stack, drs, dag_id, run_id, waves)
    view = ProgressView(sys.stdout, interactive=sys.stdout.isatty())

    def on_poll(run: dict[str, Any]) -> None:
        view.show(dag_id, run, watcher.poll(), time.monotonic() - triggered)

    state = stack.rest.wait_for_run(dag_id, run_id, timeout=args.timeout, on_poll=on_poll)
    run = stack.rest.dag_run(dag_id, run_id)
    progress = watcher.poll()
    failed_tasks = sorted(ti["task_id"] for ti in watcher.task_instances if ti["state"] == "failed")
    reasons = watcher.failure_reasons(failed_tasks)
    _say(f"Run {run_id} finished: {state}")
    return DrillResult(
        plan=args.plan,
        dag_id=dag_id,
        run=run,
        waves=progress,
        servers=watcher.server_results(),
        failed_tasks=failed_tasks,
        failure_reasons=reasons,
        startup_seconds=startup_seconds,
        total_seconds=time.monotonic() - demo_started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run_demo(args)
    except KeyboardInterrupt:
        _say("\nInterrupted: every process the demo started has been stopped.")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
