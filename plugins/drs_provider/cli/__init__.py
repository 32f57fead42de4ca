"""``drs-plan``: lint recovery plans, show a plan's wave graph, print the plan JSON Schema, print
the IAM policy the plans need, terminate what a finished drill left running, say whether every
plan would recover now, make DRS's launch settings a plan's, and mirror a plan into DRS native
recovery plans.

``lint``, ``graph``, ``schema`` and ``iam-policy`` are plain argparse, the :mod:`drs_provider.plans`
package and :mod:`drs_provider.iam` only, so they run in a second, with no Airflow set up, in CI
or a pre-commit hook. ``cleanup``, ``ready``, ``apply-launch`` and ``export-native`` call AWS
through an Airflow AWS connection (from the environment, a secrets backend or the metadata
database, as Airflow finds it), so they import the provider's hooks only when they run.

The command line is :mod:`.parser`; the commands are :mod:`.plan_commands` (the plan files alone)
and :mod:`.aws_commands` (through AWS); which plan files a command reads is :mod:`.plan_files`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from drs_provider.cli.aws_commands import run_apply_launch, run_cleanup, run_export_native, run_ready
from drs_provider.cli.parser import build_parser
from drs_provider.cli.plan_commands import run_graph, run_iam_policy, run_lint
from drs_provider.plans.schema import schema_text

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``drs-plan`` with ``argv`` (default: the command line); return the exit status."""
    args = build_parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    if args.command == "lint":
        return run_lint(args.paths, out, err)
    if args.command == "graph":
        return run_graph(args.plan, args.plans_dir, args.format, out, err)
    if args.command == "iam-policy":
        return run_iam_policy(args.paths, args.mode, out, err)
    if args.command == "cleanup":
        return run_cleanup(args, out, err)
    if args.command == "ready":
        return run_ready(args.plans_dir, args.json, out, err)
    if args.command == "apply-launch":
        return run_apply_launch(args, out, err)
    if args.command == "export-native":
        return run_export_native(args, out, err)
    out.write(schema_text())
    return 0
