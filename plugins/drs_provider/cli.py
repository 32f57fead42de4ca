"""``drs-plan``: lint recovery plans, show a plan's wave graph, print the plan JSON Schema, print
the IAM policy the plans need, terminate what a finished drill left running, say whether every
plan would recover now, and make DRS's launch settings a plan's.

``lint``, ``graph``, ``schema`` and ``iam-policy`` are plain argparse, the :mod:`drs_provider.plans`
package and :mod:`drs_provider.iam` only, so they run in a second, with no Airflow set up, in CI
or a pre-commit hook. ``cleanup``,
``ready`` and ``apply-launch`` call AWS through an Airflow AWS connection (from the environment, a
secrets backend or the metadata database, as Airflow finds it), so they import the provider's
hooks only when they run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drs_provider.constants import dag_id_of
from drs_provider.exceptions import PlanError
from drs_provider.iam import MODES as IAM_MODES
from drs_provider.iam import RUN_MODES, iam_policy
from drs_provider.plans import load_plan_file, render_graph
from drs_provider.plans.graph import render_mermaid
from drs_provider.plans.loader import PLAN_FILE_SUFFIXES, collect_plans, display_name, plan_files
from drs_provider.plans.schema import schema_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.plans import Plan

PLANS_DIR_ENV = "DRS_PLANS_DIR"
DEFAULT_PLANS_DIR = "dags/recovery_plans"


def default_plans_dir() -> str:
    """``$DRS_PLANS_DIR``, else ``dags/recovery_plans`` (relative to the working directory)."""
    return os.environ.get(PLANS_DIR_ENV) or DEFAULT_PLANS_DIR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drs-plan",
        description="Check and inspect AWS DRS recovery plans (YAML files).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = commands.add_parser(
        "lint",
        help="check plan files and report every problem",
        description=(
            "Check plan files (or every *.yaml/*.yml in directories) and print every problem to "
            "stderr as 'file: field: message'. Exit status 1 if anything is wrong, else 0."
        ),
    )
    lint.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"plan files or directories (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )

    graph = commands.add_parser(
        "graph",
        help="show a plan's waves in dependency order",
        description="Show which waves run in parallel and what each wave waits for.",
    )
    graph.add_argument(
        "plan", metavar="PLAN", help="a plan file, or the name of a plan in the plans directory"
    )
    graph.add_argument(
        "--format",
        choices=("text", "mermaid"),
        default="text",
        help="text (default): steps of parallel waves; mermaid: a flowchart for Markdown",
    )
    graph.add_argument(
        "--plans-dir",
        default=None,
        help=f"where to look up a plan by name (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )

    commands.add_parser(
        "schema",
        help="print the plan file JSON Schema",
        description="Print the JSON Schema (draft 2020-12) of plan files, for editors and CI.",
    )

    iam_policy = commands.add_parser(
        "iam-policy",
        help="print the least-privilege IAM policy the plans need",
        description=(
            "Print, as JSON, the IAM policy that lets the plans do what they do and no more: DRS "
            "reads and StartRecovery (with the actions DRS checks when it launches), a drill's "
            "TerminateRecoveryInstances, Service Quotas, and what each plan uses: its notify topic, "
            "its report objects in S3, the SSM documents and Lambda functions of its steps. Without "
            "--mode: what a plan DAG run needs, drill and recovery. (There is no failback mode: the "
            "provider does not fail back yet.) Exit status 1 when a plan file has problems."
        ),
    )
    iam_policy.add_argument(
        "--mode",
        choices=IAM_MODES,
        default=None,
        help="drill: a drill run; recovery: a recovery run (never terminates); readiness: what the "
        "drs_readiness DAG and drs-plan ready call (default: drill and recovery)",
    )
    iam_policy.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"plan files or directories (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )

    cleanup = commands.add_parser(
        "cleanup",
        help="terminate the drill instances one finished run launched",
        description=(
            "Terminate exactly the recovery instances that one finished drill run launched: its DRS "
            "jobs are found by their airflow:dag_id and airflow:run_id tags, and an instance is "
            "terminated only when DRS says it is a drill instance launched by one of them. A "
            "recovery run, or a run still launching, is refused. Prints what it terminated and what "
            "it left alone; exit status 1 if it refused or could not terminate everything."
        ),
    )
    cleanup.add_argument("--run", required=True, metavar="RUN_ID", help="the DAG run's id")
    cleanup.add_argument(
        "--dag",
        metavar="DAG_OR_PLAN",
        help="the plan DAG's id (drs_plan_<plan>) or the plan's name; needed when runs of several "
        "DAGs have this id. A plan found in the plans directory also gives the connection and region",
    )
    cleanup.add_argument(
        "--aws-conn-id",
        default=None,
        help="the Airflow AWS connection (default: the plan's aws_conn_id, else aws_default)",
    )
    cleanup.add_argument(
        "--region", default=None, help="the DRS region (default: the plan's region, else the connection's)"
    )
    cleanup.add_argument(
        "--plans-dir",
        default=None,
        help=f"where to look up the plan (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )
    cleanup.add_argument(
        "--dry-run", action="store_true", help="print what would be terminated and terminate nothing"
    )
    cleanup.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds to wait for the TERMINATE jobs (default 1800)",
    )
    cleanup.add_argument(
        "--poll-interval",
        type=float,
        default=5.0,
        help="seconds between DescribeJobs calls while waiting (default 5)",
    )
    ready = commands.add_parser(
        "ready",
        help="say whether every plan would recover right now",
        description=(
            "Check every plan of the plans directory as the drs_readiness DAG does, launching and "
            "changing nothing: servers, tags, replication and lag, snapshots, live recovered "
            "instances, quotas, step targets, overdue drills, launch settings. Prints each plan's "
            "status and findings; exit status 1 when any plan is not ready."
        ),
    )
    ready.add_argument(
        "--plans-dir",
        default=None,
        help=f"the plans to check (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )
    ready.add_argument("--json", action="store_true", help="print the readiness JSON instead of text")

    apply_launch = commands.add_parser(
        "apply-launch",
        help="make DRS's launch settings a plan's",
        description=(
            "Print, server by server, each launch setting DRS holds otherwise than the plan's "
            "'launch' (setting: DRS's value -> the plan's), then make DRS match: the launch "
            "configuration (UpdateLaunchConfiguration) and a new default version of the EC2 launch "
            "template. Uses the plan's aws_conn_id (else aws_default) and region. Exit status 0 when "
            "done or nothing differs, 1 when a server could not be brought in line."
        ),
    )
    apply_launch.add_argument(
        "plan", metavar="PLAN", help="a plan file, or the name of a plan in the plans directory"
    )
    apply_launch.add_argument(
        "--plans-dir",
        default=None,
        help=f"where to look up a plan by name (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )
    apply_launch.add_argument(
        "--dry-run", action="store_true", help="print the differences and change nothing"
    )
    return parser


def _plan_paths(paths: Sequence[str], err: TextIO) -> tuple[list[Path], int]:
    """The plan files ``paths`` name (files, and every plan file of directories; default the plans
    directory), each once; and how many of ``paths`` gave none (said on ``err``)."""
    files: list[Path] = []
    unreadable = 0
    for given in paths or [default_plans_dir()]:
        path = Path(given)
        if path.is_dir():
            try:
                found = plan_files(path)
            except OSError as error:
                print(f"{given}: cannot read the directory: {error.strerror or error}", file=err)
                unreadable += 1
                continue
            if not found:
                print(f"{given}: no plan files (*.yaml, *.yml) here", file=err)
                unreadable += 1
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            print(f"{given}: no such file or directory", file=err)
            unreadable += 1
    # A file named twice (itself and through its directory) is read once.
    return list({os.path.abspath(file): file for file in files}.values()), unreadable


def _lint(paths: Sequence[str], out: TextIO, err: TextIO) -> int:
    unique, unreadable = _plan_paths(paths, err)
    plan_set = collect_plans(unique, display_root=Path.cwd())
    for issue in plan_set.issues:
        print(issue, file=err)
    problems = len(plan_set.issues)
    broken = len(plan_set.errors)
    checked = f"{len(unique)} plan file{'s' if len(unique) != 1 else ''}"
    if problems:
        print(f"{problems} problem{'s' if problems != 1 else ''} in {broken} of {checked}", file=err)
    elif unique:
        print(f"{checked} OK: {', '.join(plan.name for plan in plan_set.plans)}", file=out)
    return 1 if problems or unreadable else 0


def _iam_policy(paths: Sequence[str], mode: str | None, out: TextIO, err: TextIO) -> int:
    """Print the IAM policy of the plans ``paths`` name; refuse (1) while any plan file has problems,
    as a policy for some of the plans would be too narrow for all of them."""
    files, unreadable = _plan_paths(paths, err)
    plan_set = collect_plans(files, display_root=Path.cwd())
    for issue in plan_set.issues:
        print(issue, file=err)
    if unreadable or plan_set.issues or not plan_set.plans:
        print("no IAM policy printed: fix the plan files first", file=err)
        return 1
    policy = iam_policy(plan_set.plans, [mode] if mode else RUN_MODES)
    out.write(json.dumps(policy, indent=2) + "\n")
    return 0


def _render(plan: Plan, file: str, output_format: str) -> str:
    return render_mermaid(plan) if output_format == "mermaid" else render_graph(plan, file=file)


def _find_plan(plan_ref: str, plans_dir: str | None, err: TextIO) -> tuple[Plan, str] | None:
    """The plan ``plan_ref`` names (a file, or a plan name in the plans directory) and its file as
    shown; None after saying why there is none."""
    path = Path(plan_ref)
    if path.is_file() or path.suffix in PLAN_FILE_SUFFIXES:
        try:
            return load_plan_file(path), plan_ref
        except PlanError as error:
            print(f"{plan_ref} has problems; fix them first:", file=err)
            print(error, file=err)
            return None
    directory = Path(plans_dir or default_plans_dir())
    if not directory.is_dir():
        print(f"{directory}: no such plans directory (set --plans-dir or ${PLANS_DIR_ENV})", file=err)
        return None
    try:
        plan_set = collect_plans(plan_files(directory), display_root=Path.cwd())
    except OSError as error:
        print(f"{directory}: cannot read the plans directory: {error.strerror or error}", file=err)
        return None
    for plan in plan_set.plans:
        if plan.name == plan_ref:
            return plan, display_name(plan.source, Path.cwd())
    for file, issues in plan_set.errors.items():
        if plan_set.claims.get(file) == plan_ref:
            print(f"plan {plan_ref!r} has problems; fix them first:", file=err)
            for issue in issues:
                print(issue, file=err)
            return None
    known = ", ".join(plan.name for plan in plan_set.plans) or "none"
    print(f"no plan named {plan_ref!r} in {directory} (valid plans there: {known})", file=err)
    return None


def _graph(plan_ref: str, plans_dir: str | None, output_format: str, out: TextIO, err: TextIO) -> int:
    found = _find_plan(plan_ref, plans_dir, err)
    if found is None:
        return 1
    plan, file = found
    print(_render(plan, file, output_format), file=out)
    return 0


def _plan_named(dag: str | None, plans_dir: str | None) -> Plan | None:
    """The plan ``dag`` names (a plan name or its DAG id), if the plans directory holds it valid."""
    if dag is None:
        return None
    directory = Path(plans_dir or default_plans_dir())
    if not directory.is_dir():
        return None
    try:
        plan_set = collect_plans(plan_files(directory), display_root=Path.cwd())
    except OSError:
        return None
    return next((plan for plan in plan_set.plans if dag in (plan.name, plan.dag_id)), None)


def _cleanup(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from drs_provider.constants import TAG_DAG_ID
    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.cleanup import refusal
    from drs_provider.recovery.job_tags import run_tags, tag_value

    plan = _plan_named(args.dag, args.plans_dir)
    conn_id = args.aws_conn_id or (plan.aws_conn_id if plan else None) or "aws_default"
    region = args.region or (plan.region if plan else None)
    hook = DrsHook(aws_conn_id=conn_id, region_name=region)
    # Which DAG's run: every DAG whose run has this id, narrowed to the one --dag names.
    runs_of = sorted(
        {
            str((job.get("tags") or {}).get(TAG_DAG_ID))
            for job in hook.find_jobs_by_tags(run_tags(None, args.run))
        }
    )
    if plan is not None:
        named = {tag_value(plan.dag_id)}
    elif args.dag is not None:
        named = {tag_value(args.dag), tag_value(dag_id_of(args.dag))}
    else:
        named = set(runs_of)
    candidates = [dag for dag in runs_of if dag in named]
    if len(candidates) > 1:
        print(
            f"run {args.run}: runs of {len(candidates)} DAGs have this id ({', '.join(candidates)}); "
            "name one with --dag",
            file=err,
        )
        return 1
    dag_id = candidates[0] if candidates else (plan.dag_id if plan else args.dag)
    what = f"run {args.run}" + (f" of {dag_id}" if dag_id else "")
    jobs, cleanup_plan = hook.run_cleanup_plan(run_tags(dag_id, args.run)) if candidates else ([], None)
    why = refusal(jobs)
    if why or cleanup_plan is None:
        print(f"{what}: refused: {why}", file=err)
        return 1
    print(f"{what}: {len(jobs)} DRS job(s) in {hook.conn_region_name}", file=out)
    for instance, reason in cleanup_plan.left_alone.items():
        print(f"left alone {instance}: {reason}", file=out)
    if not cleanup_plan.to_terminate:
        print("nothing to terminate: this drill left no recovery instance running", file=out)
        return 0
    if args.dry_run:
        print(
            f"would terminate {len(cleanup_plan.to_terminate)}: {', '.join(cleanup_plan.to_terminate)}",
            file=out,
        )
        return 0
    entry = hook.carry_out_cleanup(cleanup_plan, timeout=args.timeout, waiter_delay=args.poll_interval)
    jobs_text = f" (TERMINATE job(s) {', '.join(entry['jobs'])})"
    if entry["terminated"]:
        print(f"terminated {len(entry['terminated'])}: {', '.join(entry['terminated'])}{jobs_text}", file=out)
    if entry.get("terminating"):
        print(
            f"still terminating after {args.timeout:.0f} s: {', '.join(entry['terminating'])}{jobs_text}",
            file=err,
        )
    if entry["failed"]:
        print(
            f"could not terminate {len(entry['failed'])}: {', '.join(entry['failed'])}{jobs_text}", file=err
        )
    return 0 if entry["state"] == "success" else 1


def _ready(plans_dir: str | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    from drs_provider.operators.readiness import check_plans

    directory = plans_dir or default_plans_dir()
    if not Path(directory).is_dir():
        err.write(f"{directory}: not a directory of plan files\n")
        return 2
    loaded = collect_plans(plan_files(directory), display_root=directory)
    for issue in loaded.issues:
        err.write(f"not checked: {issue}\n")
    with contextlib.redirect_stdout(err):  # Airflow's hooks log to stdout; stdout is the answer
        result = check_plans(loaded.plans)
    if as_json:
        out.write(json.dumps(result, indent=2) + "\n")
    else:
        for name, entry in sorted(result["plans"].items()):
            out.write(f"{name}: {entry['status'].replace('_', ' ')}\n")
            for finding in entry["findings"]:
                where = " ".join(
                    f"{label} {finding[label]}" for label in ("wave", "server") if finding.get(label)
                )
                out.write(f"  {finding['severity']} {finding['code']}{f' ({where})' if where else ''}: ")
                out.write(f"{finding['message']}\n")
        for account in result["coverage"]:
            for server in account["uncovered"]:
                out.write(
                    f"coverage: {server['name']} replicates in {account['aws_conn_id']}, "
                    f"{account['region']} but no plan recovers it\n"
                )
    statuses = [entry["status"] for entry in result["plans"].values()]
    return 1 if "not_ready" in statuses or loaded.issues else 0


def _apply_launch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    found = _find_plan(args.plan, args.plans_dir, err)
    if found is None:
        return 1
    plan = found[0]
    if not plan.declares_launch:
        print(f"plan {plan.name} gives no launch settings: nothing to apply", file=out)
        return 0
    with contextlib.redirect_stdout(err):  # Airflow's hooks log to stdout; stdout is the answer
        return _apply_plan_launch(plan, dry_run=args.dry_run, out=out, err=err)


def _apply_plan_launch(plan: Plan, *, dry_run: bool, out: TextIO, err: TextIO) -> int:
    """Print each server's differences from the plan's launch settings, then (unless ``dry_run``)
    make DRS match, server by server; 1 when a server could not be brought in line."""
    from botocore.exceptions import BotoCoreError, ClientError

    from drs_provider.exceptions import DrsProviderError
    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.launch import differences, needs_template, planned_launch
    from drs_provider.recovery.selection import source_server_hostname

    failures = (ClientError, BotoCoreError, DrsProviderError, OSError)
    conn_id = plan.aws_conn_id or "aws_default"
    hook = DrsHook(aws_conn_id=conn_id, region_name=plan.region)
    try:
        where = f"{conn_id}, {plan.region or hook.conn_region_name}"
        servers = {server["sourceServerID"]: server for server in hook.describe_source_servers()}
        planned = planned_launch(plan, servers)
        states = hook.read_launch_states(
            list(planned.servers), templates=any(needs_template(s) for _, s in planned.servers.values())
        )
    except failures as error:
        print(f"plan {plan.name}: launch settings cannot be read: {error}", file=err)
        return 1

    def name(server_id: str) -> str:
        hostname = source_server_hostname(servers.get(server_id) or {})
        return f"{server_id} ({hostname})" if hostname else server_id

    failed = [f"{server_id}: DRS in {where} has no such source server" for server_id in planned.unknown]
    changing = []
    print(f"plan {plan.name} ({where}): launch settings of {len(planned.servers)} server(s)", file=out)
    for server_id, (wave, settings) in planned.servers.items():
        state = states.get(server_id)
        if state is None:
            failed.append(f"{server_id}: DRS has no launch configuration of it")
            continue
        changes = [str(change) for change in differences(settings, state)]
        if needs_template(settings) and state.template is None:
            missing = state.template_id or "none named"
            changes.insert(
                0, f"launch template: missing ({missing}) -> a new one, by UpdateLaunchConfiguration"
            )
        print(
            f"{name(server_id)}, wave {wave}: {'as the plan says' if not changes else ''}".rstrip(), file=out
        )
        for change in changes:
            print(f"  {change}", file=out)
        if changes:
            changing.append(server_id)
    for server_id in planned.unselected:
        print(f"{name(server_id)}: not selected by its wave's tags, left alone", file=out)
    if dry_run or not changing:
        verdict = (
            "dry run: nothing changed" if dry_run else "nothing to change: DRS holds the plan's settings"
        )
        print(f"{verdict} ({len(changing)} server(s) differ)", file=out)
    else:
        applied = 0
        for server_id in changing:
            wave, settings = planned.servers[server_id]
            try:
                done = hook.apply_launch_settings(server_id, settings, states[server_id])
            except failures as error:
                failed.append(f"{server_id}: {error}")
                continue
            applied += 1
            print(f"{name(server_id)}: {'; '.join(done)}", file=out)
        print(f"applied: {applied} of {len(changing)} server(s) now hold the plan's settings", file=out)
    for failure in failed:
        print(f"failed: {failure}", file=err)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``drs-plan`` with ``argv`` (default: the command line); return the exit status."""
    args = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    if args.command == "lint":
        return _lint(args.paths, out, err)
    if args.command == "graph":
        return _graph(args.plan, args.plans_dir, args.format, out, err)
    if args.command == "iam-policy":
        return _iam_policy(args.paths, args.mode, out, err)
    if args.command == "cleanup":
        return _cleanup(args, out, err)
    if args.command == "ready":
        return _ready(args.plans_dir, args.json, out, err)
    if args.command == "apply-launch":
        return _apply_launch(args, out, err)
    out.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
