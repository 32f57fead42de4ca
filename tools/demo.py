"""``make demo``: a drill of the example plan on a real Airflow, against the local DRS simulator.

It starts the DRS simulator (the sample fleet, ten times real speed) and a throwaway Airflow
(SQLite, LocalExecutor: api-server, scheduler, dag-processor and triggerer as separate
processes) in a temporary directory, triggers the plan's DAG as a drill through the REST API,
shows each wave's progress, and ends with a report of every wave and server. Every process it
started is stopped on the way out, also on Ctrl-C. Exit status: 0 when the drill succeeded,
1 when it failed or Airflow did not start, 130 when interrupted.

``make demo-ui`` (``--keep-up``) leaves everything running after the drill and prints the UI
address and login, and the addresses of the drill's Recovery page and the Recovery plans page,
until Ctrl-C.

Progress comes from the same places a person would look: task states from the REST API, the
job IDs that each wave's ``start_recovery`` returned (its XCom), and those jobs' per-server
launch status from DRS (the simulator) through boto3. What is shown, and how, lives in
:mod:`tools.demo_view`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from drs_provider.constants import REPORT_TASK_ID, SERVERS_XCOM_KEY
from drs_provider.recovery.outcome import judge_jobs
from drs_provider.recovery.selection import source_server_hostname
from tools.demo_view import (
    DrillResult,
    ProgressView,
    WaveProgress,
    failure_reason,
    format_report,
    format_seconds,
    start_task,
    wait_task,
    wave_progress,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from types import FrameType

    from drs_provider.plans import Plan
    from tools.airflow_stack import AirflowStack, SimulatorProcess
    from tools.rest_client import RestClient

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLANS_DIR = REPO_ROOT / "dags" / "recovery_plans"
DEFAULT_FLEET = REPO_ROOT / "plugins" / "drs_provider" / "simulator" / "sample_fleet.yaml"
DEFAULT_PLAN = "shop"

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


# -- talking to the stack and the simulator ----------------------------------------------------


class DrillWatcher:
    """Polls one run: REST task states, each wave's job IDs (XCom) and the jobs in DRS."""

    def __init__(
        self,
        stack: AirflowStack,
        drs: Any,
        dag_id: str,
        run_id: str,
        waves: Sequence[str],
        steps: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
    ) -> None:
        self.steps = dict(steps or {})
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
        return wave_progress(self.waves, self.task_instances, self.jobs_by_wave, self.steps)

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
        """Per wave, the servers as ``wait_for_recovery`` judged them (XCom ``servers``), else from DRS."""
        from tools.rest_client import RestApiError

        states = {ti["task_id"]: ti["state"] for ti in self.task_instances}
        results: dict[str, list[dict[str, Any]]] = {}
        for wave in self.waves:
            if states.get(wait_task(wave)) in ("success", "failed"):
                with contextlib.suppress(RestApiError):
                    judged = self.stack.rest.xcom(
                        self.dag_id, self.run_id, wait_task(wave), key=SERVERS_XCOM_KEY
                    )
                    if judged:
                        results[wave] = list(judged)
                        continue
            # Not judged (yet): judge what DRS says about the wave's jobs the same way.
            results[wave] = self._servers_from_drs(self.jobs_by_wave.get(wave, []))
        return results

    def _servers_from_drs(self, jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        servers = [server for job in jobs for server in job.get("participatingServers", [])]
        if not servers:
            return []
        ids = [server["sourceServerID"] for server in servers]
        described = self.drs.describe_source_servers(filters={"sourceServerIDs": ids})["items"]
        instance_ids = [
            server["recoveryInstanceID"] for server in servers if server.get("recoveryInstanceID")
        ]
        ec2_ids = {}
        if instance_ids:
            instances = self.drs.describe_recovery_instances(filters={"recoveryInstanceIDs": instance_ids})
            ec2_ids = {item["recoveryInstanceID"]: item.get("ec2InstanceID") for item in instances["items"]}
        log_items = {}
        for job in jobs:
            pages = self.drs.get_paginator("describe_job_log_items").paginate(jobID=job["jobID"])
            log_items[job["jobID"]] = [item for page in pages for item in page["items"]]
        outcome = judge_jobs(
            jobs,
            hostnames={item["sourceServerID"]: source_server_hostname(item) for item in described},
            ec2_instance_ids=ec2_ids,
            log_items=log_items,
        )
        return outcome.results


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

    plan = demo_plan(plans_dir, name)
    return plan.dag_id, [wave.name for wave in topological_waves(plan)]


def plan_step_tasks(plans_dir: Path, name: str) -> dict[str, tuple[list[str], list[str]]]:
    """Per wave, the task IDs of its steps before and after its recovery."""
    plan = demo_plan(plans_dir, name)
    return {
        wave.name: (
            [f"{wave.name}.{step.name}" for step in wave.pre],
            [f"{wave.name}.{step.name}" for step in wave.post],
        )
        for wave in plan.waves
    }


def demo_plan(plans_dir: Path, name: str) -> Plan:
    """The valid plan called ``name``; exits naming the plans there are otherwise."""
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
    return plan


def unpause_plans(rest: RestClient, plans_dir: Path, timeout: float = 60.0) -> list[str]:
    """Unpause the DAG of every valid plan in ``plans_dir``; return their DAG ids.

    Airflow creates DAGs paused (``dags_are_paused_at_creation``): a plan with a ``schedule``
    would otherwise never run its drills, and the Recovery plans page would say so."""
    from drs_provider.plans.loader import load_plans

    dag_ids = [plan.dag_id for plan in load_plans(plans_dir).plans]
    for dag_id in dag_ids:
        rest.wait_for_dag(dag_id, timeout=timeout)
        rest.unpause(dag_id)
    return dag_ids


def _wait_for_ctrl_c(
    stack: AirflowStack, simulator: SimulatorProcess, dag_id: str, run_id: str | None
) -> None:
    from drs_provider.ui.addresses import plans_tab_path, run_tab_path

    user, password = stack.login
    _say("")
    _say(f"Airflow UI and REST API: {stack.ui_url}   login: {user} / {password}")
    if run_id is not None:
        _say(f"Recovery page:           {stack.api_url}{run_tab_path(dag_id, run_id)}")
    _say(f"Recovery plans:          {stack.api_url}{plans_tab_path()}")
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
    from tools.local_aws import MotoProcess
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
        _say(f"Starting the DRS simulator ({args.fleet.name}, speed {args.speed:g}) and moto ...")
        with (
            SimulatorProcess(args.fleet, speed=args.speed, log_path=workdir / "simulator.log") as simulator,
            MotoProcess(log_path=workdir / "moto.log") as moto,
        ):
            _say(f"  simulator ready at {simulator.url}; moto (SSM, Lambda, SNS, S3) at {moto.url}")
            _say("Starting Airflow: db migrate, api-server, scheduler, dag-processor, triggerer ...")
            config = StackConfig(
                home=workdir / "airflow",
                plans_dir=args.plans_dir,
                simulator_url=simulator.url,
                moto_url=moto.url,
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
                run_id = None
                try:
                    result = _drill(args, stack, simulator, dag_id, waves, startup_seconds, demo_started)
                except (TimeoutError, RestApiError) as error:
                    _say(f"\nThe drill did not finish: {error}")
                else:
                    succeeded = result.succeeded
                    run_id = str(result.run["dag_run_id"])
                    _say("")
                    _say(format_report(result))
                if not succeeded:
                    keep_files = True
                    _say(f"\nProcess logs: {stack.logs_dir}; task logs: {stack.home / 'logs'}")
                if args.keep_up:
                    # After the drill, not before: a scheduled plan's first run comes at once when
                    # its last slot is recent, and would compete with the drill for its servers.
                    unpaused = unpause_plans(stack.rest, args.plans_dir)
                    _say(f"Unpaused every plan's DAG ({', '.join(unpaused)}): scheduled drills run.")
                    _wait_for_ctrl_c(stack, simulator, dag_id, run_id)
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
    watcher = DrillWatcher(stack, drs, dag_id, run_id, waves, plan_step_tasks(args.plans_dir, args.plan))
    view = ProgressView(sys.stdout, interactive=sys.stdout.isatty())

    def on_poll(run: dict[str, Any]) -> None:
        view.show(dag_id, run, watcher.poll(), time.monotonic() - triggered)

    state = stack.rest.wait_for_run(dag_id, run_id, timeout=args.timeout, on_poll=on_poll)
    run = stack.rest.dag_run(dag_id, run_id)
    progress = watcher.poll()
    failed_tasks = sorted(ti["task_id"] for ti in watcher.task_instances if ti["state"] == "failed")
    reasons = watcher.failure_reasons(failed_tasks)
    _say(f"Run {run_id} finished: {state}")
    from tools.rest_client import RestApiError

    report = None
    with contextlib.suppress(RestApiError):
        report = stack.rest.xcom(dag_id, run_id, REPORT_TASK_ID)
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
        report=report if isinstance(report, dict) else None,
    )


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
    # A second Ctrl-C must not cut short the clean-up that the first one starts.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return run_demo(args)
    except KeyboardInterrupt:
        _say("\nInterrupted: every process the demo started has been stopped.")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
