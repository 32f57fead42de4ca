"""Which plan files a ``drs-plan`` command reads: the paths given, else the plans directory; a plan
by file or by name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drs_provider.exceptions import PlanError
from drs_provider.plans import load_plan_file
from drs_provider.plans.loader import PLAN_FILE_SUFFIXES, collect_plans, display_name, plan_files

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.plans import Plan


PLANS_DIR_ENV = "DRS_PLANS_DIR"
DEFAULT_PLANS_DIR = "dags/recovery_plans"


def default_plans_dir() -> str:
    """``$DRS_PLANS_DIR``, else ``dags/recovery_plans`` (relative to the working directory)."""
    return os.environ.get(PLANS_DIR_ENV) or DEFAULT_PLANS_DIR


def plan_paths(paths: Sequence[str], err: TextIO) -> tuple[list[Path], int]:
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


def find_plan(plan_ref: str, plans_dir: str | None, err: TextIO) -> tuple[Plan, str] | None:
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


def plan_named(dag: str | None, plans_dir: str | None) -> Plan | None:
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
