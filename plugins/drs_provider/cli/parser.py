"""The ``drs-plan`` command line: its commands and their options."""

from __future__ import annotations

import argparse

from drs_provider.cli.plan_files import DEFAULT_PLANS_DIR, PLANS_DIR_ENV
from drs_provider.iam.actions import MODES as IAM_MODES


def build_parser() -> argparse.ArgumentParser:
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
            "TerminateRecoveryInstances, a failback's ReverseReplication, StartFailbackLaunch, "
            "StopFailback and cleanup, Service Quotas, and what each plan uses: its notify topic, "
            "its report objects in S3, the SSM documents and Lambda functions of its steps. Without "
            "--mode: what a plan DAG run needs, drill, recovery and failback. Exit status 1 when a "
            "plan file has problems."
        ),
    )
    iam_policy.add_argument(
        "--mode",
        choices=IAM_MODES,
        default=None,
        help="drill: a drill run; recovery: a recovery run (never terminates); failback: a failback "
        "run, rehearsed or not (in the recovery region and the origin region); readiness: what the "
        "drs_readiness DAG and drs-plan ready call (default: drill, recovery and failback)",
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

    export_native = commands.add_parser(
        "export-native",
        help="make DRS native recovery plans mirror a plan (--dry-run: show them)",
        description=(
            "Mirror a plan into DRS's native recovery plans, one set per connection and region its "
            "waves name: waves in dependency order become SERVER steps (required servers CRITICAL, "
            "optional ones OPTIONAL), its wait steps WAIT steps, split into parts <plan>-1, <plan>-2, "
            "... where the 20-step or 100-server limits require. The servers are resolved in DRS "
            "(DescribeSourceServers); it prints each native plan's name, tags, description and steps, "
            "then makes the native plans tagged drs:plan=<plan> in each region exactly these: it "
            "creates what is missing, changes what differs (steps from the first that differs) and "
            "deletes parts no longer needed. Exit status 1 if a region could not be brought in line."
        ),
    )
    export_native.add_argument(
        "plan", metavar="PLAN", help="a plan file, or the name of a plan in the plans directory"
    )
    export_native.add_argument(
        "--plans-dir",
        default=None,
        help=f"where to look up a plan by name (default: ${PLANS_DIR_ENV} or {DEFAULT_PLANS_DIR})",
    )
    export_native.add_argument(
        "--dry-run", action="store_true", help="print the native plans and change nothing in DRS"
    )
    export_native.add_argument(
        "--json",
        action="store_true",
        help="print the native plans as JSON (the API's fields) instead of text",
    )
    return parser
