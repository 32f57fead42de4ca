"""``drs-plan lint``, ``graph`` and ``iam-policy``: the plan files alone, no Airflow and no AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drs_provider.cli.plan_files import find_plan, plan_paths
from drs_provider.constants import RUN_MODES
from drs_provider.iam import iam_policy
from drs_provider.plans import render_graph
from drs_provider.plans.graph import render_mermaid
from drs_provider.plans.loader import collect_plans

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.plans import Plan


def run_lint(paths: Sequence[str], out: TextIO, err: TextIO) -> int:
    unique, unreadable = plan_paths(paths, err)
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


def run_iam_policy(paths: Sequence[str], mode: str | None, out: TextIO, err: TextIO) -> int:
    """Print the IAM policy of the plans ``paths`` name; refuse (1) while any plan file has problems,
    as a policy for some of the plans would be too narrow for all of them."""
    files, unreadable = plan_paths(paths, err)
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


def run_graph(plan_ref: str, plans_dir: str | None, output_format: str, out: TextIO, err: TextIO) -> int:
    found = find_plan(plan_ref, plans_dir, err)
    if found is None:
        return 1
    plan, file = found
    print(_render(plan, file, output_format), file=out)
    return 0
