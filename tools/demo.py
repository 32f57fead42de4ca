"""``make demo``: a drill of the example plan on a real Airflow, against the local DRS simulator.

It starts the DRS simulator (the sample fleet, ten times real speed) and a throwaway Airflow
(SQLite, LocalExecutor: api-server, scheduler, dag-processor and triggerer as separate
processes, and a second API server for the tasks' execution API) in a temporary directory,
triggers the plan's DAG as a drill through the REST API, shows each wave's progress, and ends
with a report of every wave and server. Every process it started is stopped on the way out,
also on Ctrl-C. Exit status: 0 when the drill succeeded, 1 when it failed or Airflow did not
start, 130 when interrupted.

``make demo-ui`` (``--keep-up``) leaves everything running after the drill and prints the UI
address and login, and the addresses of the drill's Recovery page and the Recovery plans page,
until Ctrl-C.

Progress comes from the same places a person would look (:mod:`tools.demo_watcher`): task
states from the REST API, the job IDs that each wave's ``start_recovery`` returned (its XCom),
and those jobs' per-server launch status from DRS (the simulator) through boto3. What is shown,
and how, lives in :mod:`tools.demo_view` (progress) and :mod:`tools.demo_report` (the report).
``make demo-failback`` (:mod:`tools.demo_failback`) runs a recovery then a failback the same way
(:class:`DemoRuns`).
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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drs_provider.constants import REPORT_TASK_ID
from drs_simulator import SAMPLE_FLEET
from tools.demo_report import DrillResult, format_report, is_failback, run_label
from tools.demo_view import ProgressView, format_seconds
from tools.demo_watcher import DrillWatcher, drs_client

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import FrameType

    from drs_provider.plans import Plan
    from tools.airflow_stack import AirflowStack, SimulatorProcess
    from tools.rest_client import RestClient

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLANS_DIR = REPO_ROOT / "dags" / "recovery_plans"
DEFAULT_PLAN = "shop"

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class DemoRuns:
    """What a demo program runs: the plan's runs in order (each only after the one before it
    succeeded), and what it says about them."""

    #: each run's ``conf``
    confs: tuple[dict[str, Any], ...]
    #: how the first line names the runs, e.g. ``a drill``
    summary: str
    #: the last line when ``--keep-up`` is not given
    closing: str


def drill_runs(plan: str) -> DemoRuns:
    """``make demo``: one drill of the plan."""
    return DemoRuns(
        confs=({"mode": "drill"},),
        summary="a drill",
        closing="`make demo-ui` runs the same drill and keeps Airflow up to explore it in the UI.",
    )


# -- the program -------------------------------------------------------------------------------


def parser(
    prog: str = "python -m tools.demo",
    description: str = "Run a drill of a recovery plan on a real local Airflow against the DRS simulator.",
    *,
    plan: str = DEFAULT_PLAN,
    plans_dir: Path = DEFAULT_PLANS_DIR,
    fleet: Path = SAMPLE_FLEET,
) -> argparse.ArgumentParser:
    """The demo's options; another demo program passes its own plan, plans and fleet."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--plan", default=plan, help=f"the plan (default {plan})")
    parser.add_argument(
        "--plans-dir", type=Path, default=plans_dir, help=f"plan files (default {_shown(plans_dir)})"
    )
    parser.add_argument(
        "--fleet", type=Path, default=fleet, help=f"simulator fleet file (default {_shown(fleet)})"
    )
    parser.add_argument(
        "--speed", type=float, default=10.0, help="simulated seconds per real second (default 10)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for each run (default 600)"
    )
    parser.add_argument(
        "--keep-up",
        action="store_true",
        help="keep Airflow and the simulator running after the runs, until Ctrl-C",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="use this directory instead of a temporary one (kept afterwards)",
    )
    return parser


def _shown(path: Path) -> Path:
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


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


def plan_region(plans_dir: Path, name: str, fleet: Path) -> str:
    """The region the plan recovers in: its ``region``, else the fleet's (the connection's)."""
    from drs_simulator.fleet import load_fleet

    return demo_plan(plans_dir, name).region or load_fleet(fleet).region


def run_demo(args: argparse.Namespace, runs: DemoRuns) -> int:
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
        _say(f"Demo: {runs.summary} of plan '{args.plan}' ({', '.join(waves)}) on Airflow {airflow_version}")
        _say(f"Working directory: {workdir}")
        _say(f"Starting the DRS simulator ({args.fleet.name}, speed {args.speed:g}) and moto ...")
        with (
            SimulatorProcess(args.fleet, speed=args.speed, log_path=workdir / "simulator.log") as simulator,
            MotoProcess(log_path=workdir / "moto.log") as moto,
        ):
            _say(f"  simulator ready at {simulator.url}; moto (SSM, Lambda, SNS, S3) at {moto.url}")
            processes = "api-server, execution-api, scheduler, dag-processor, triggerer"
            _say(f"Starting Airflow: db migrate, {processes} ...")
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
                for conf in runs.confs:
                    label = run_label(conf).lower()
                    if run_id is not None:
                        _say("")
                    try:
                        result = _drill(
                            args, stack, simulator, dag_id, waves, conf, startup_seconds, demo_started
                        )
                    except (TimeoutError, RestApiError) as error:
                        _say(f"\nThe {label} did not finish: {error}")
                        succeeded = False
                        break
                    succeeded = result.succeeded
                    run_id = str(result.run["dag_run_id"])
                    _say("")
                    _say(format_report(result))
                    if not succeeded:
                        break
                if not succeeded:
                    keep_files = True
                    _say(f"\nProcess logs: {stack.logs_dir}; task logs: {stack.home / 'logs'}")
                if args.keep_up:
                    # After the runs, not before: a scheduled plan's first run comes at once when
                    # its last slot is recent, and would compete with the demo's runs for its servers.
                    unpaused = unpause_plans(stack.rest, args.plans_dir)
                    _say(f"Unpaused every plan's DAG ({', '.join(unpaused)}): scheduled drills run.")
                    _wait_for_ctrl_c(stack, simulator, dag_id, run_id)
                else:
                    _say("\n" + runs.closing)
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
    conf: Mapping[str, Any],
    startup_seconds: float,
    demo_started: float,
) -> DrillResult:
    """Trigger one run with ``conf``, show its progress until it ends, and collect its result."""
    from tools.rest_client import RestApiError

    drs = drs_client(simulator.url, plan_region(args.plans_dir, args.plan, args.fleet))
    run_id = stack.rest.trigger(dag_id, dict(conf))
    triggered = time.monotonic()
    _say(f"Triggered {dag_id} as a {run_label(conf).lower()} through the REST API: run {run_id}")
    _say("")
    steps = plan_step_tasks(args.plans_dir, args.plan)
    watcher = DrillWatcher(
        stack,
        drs,
        dag_id,
        run_id,
        waves,
        steps,
        client_in=partial(drs_client, simulator.url),
        failback=is_failback(conf),
    )
    view = ProgressView(sys.stdout, interactive=sys.stdout.isatty())

    def on_poll(run: dict[str, Any]) -> None:
        view.show(dag_id, run, watcher.poll(), time.monotonic() - triggered)

    state = stack.rest.wait_for_run(dag_id, run_id, timeout=args.timeout, on_poll=on_poll)
    run = stack.rest.dag_run(dag_id, run_id)
    progress = watcher.poll()
    failed_tasks = sorted(ti["task_id"] for ti in watcher.task_instances if ti["state"] == "failed")
    reasons = watcher.failure_reasons(failed_tasks)
    _say(f"Run {run_id} finished: {state}")
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


def main(
    argv: Sequence[str] | None = None,
    runs: Callable[[str], DemoRuns] = drill_runs,
    options: argparse.ArgumentParser | None = None,
) -> int:
    """Run a demo program: ``runs`` gives its runs of the plan named (a recovery confirms by name)."""
    args = (options or parser()).parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return run_demo(args, runs(args.plan))
    except KeyboardInterrupt:
        _say("\nInterrupted: every process the demo started has been stopped.")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
