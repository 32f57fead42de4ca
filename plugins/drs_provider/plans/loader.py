"""Load plan files: one file strictly, or a whole directory where a broken file hides nothing.

Messages name each file relative to the plans directory's parent
(``recovery_plans/shop.yaml``), the way a person finds it in the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.plans.validation import validate_document
from drs_provider.plans.yaml_source import parse_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from drs_provider.plans.model import Plan

PLAN_FILE_SUFFIXES = (".yaml", ".yml")

# Plan files are small; a huge file is a mistake (a log or a dump saved by accident).
MAX_PLAN_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class PlanSet:
    """Every plan of a directory: the valid ones, and the issues of the rest by file."""

    #: valid plans, sorted by name
    plans: tuple[Plan, ...] = ()
    #: absolute file path -> that file's issues (a file appears only if it has issues)
    errors: Mapping[str, tuple[PlanIssue, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def issues(self) -> tuple[PlanIssue, ...]:
        """Every issue of every file, in file order."""
        return tuple(issue for path in sorted(self.errors) for issue in self.errors[path])

    def plan(self, name: str) -> Plan:
        """The valid plan called ``name``; ``KeyError`` if there is none."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise KeyError(name)


def display_name(path: str | Path, display_root: str | Path | None) -> str:
    """``path`` relative to ``display_root`` when it lies below it, else ``path`` as given."""
    if display_root is None:
        return str(path)
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(display_root)).as_posix()
    except ValueError:
        return str(path)


def load_plan_file(path: str | Path, *, display_root: str | Path | None = None) -> Plan:
    """Load and validate one plan file.

    :param path: the YAML file
    :param display_root: messages name the file relative to this directory; default: the
        path as given
    :raises PlanError: with every issue in the file, each naming the file and a field path
    """
    file = display_name(path, display_root)
    text = _read(path, file)
    return validate_document(parse_yaml(text), file=file, source=os.path.abspath(path))


def _read(path: str | Path, file: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PLAN_FILE_BYTES + 1)
    except OSError as error:
        raise PlanError([PlanIssue(file, "", f"cannot read the file: {error.strerror or error}")]) from error
    if len(data) > MAX_PLAN_FILE_BYTES:
        raise PlanError([PlanIssue(file, "", f"the file is larger than {MAX_PLAN_FILE_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError(
            [PlanIssue(file, "", f"the file is not UTF-8 text (byte {error.start}): save it as UTF-8")]
        ) from error


def plan_files(directory: str | Path) -> list[Path]:
    """The plan files directly in ``directory`` (``*.yaml``, ``*.yml``), sorted by name.

    Hidden files are skipped: editors keep their swap and lock files there.
    """
    return sorted(
        (
            entry
            for entry in Path(directory).iterdir()
            if entry.suffix in PLAN_FILE_SUFFIXES and not entry.name.startswith(".") and entry.is_file()
        ),
        key=lambda entry: entry.name,
    )


def load_plans(directory: str | Path, *, display_root: str | Path | None = None) -> PlanSet:
    """Load every plan file in ``directory``; never raises for bad plan files.

    Valid plans come back in :attr:`PlanSet.plans`; each broken file's issues in
    :attr:`PlanSet.errors`. Plan names must be unique: of two files with one name, the later
    file (by name) gets the error. A missing directory is reported under its own path.

    :param display_root: messages name files relative to this directory; default: the
        directory's parent, so files read ``recovery_plans/shop.yaml``
    """
    root = display_root if display_root is not None else Path(os.path.abspath(directory)).parent
    try:
        files = plan_files(directory)
    except OSError as error:
        issue = PlanIssue(str(directory), "", f"cannot read the plans directory: {error.strerror or error}")
        return PlanSet((), MappingProxyType({os.path.abspath(directory): (issue,)}))
    return collect_plans(files, display_root=root)


def collect_plans(files: Iterable[str | Path], *, display_root: str | Path | None = None) -> PlanSet:
    """Load ``files`` (in the order given) as one set: each file alone, then unique plan names."""
    loaded: list[tuple[str, str, Plan]] = []
    errors: dict[str, tuple[PlanIssue, ...]] = {}
    for path in files:
        absolute = os.path.abspath(path)
        try:
            plan = load_plan_file(path, display_root=display_root)
        except PlanError as error:
            errors[absolute] = error.issues
        else:
            loaded.append((absolute, display_name(path, display_root), plan))
    plans = _unique_names(loaded, errors)
    return PlanSet(tuple(sorted(plans, key=lambda plan: plan.name)), MappingProxyType(errors))


def _unique_names(
    loaded: Sequence[tuple[str, str, Plan]], errors: dict[str, tuple[PlanIssue, ...]]
) -> list[Plan]:
    first_file: dict[str, str] = {}
    plans = []
    for absolute, file, plan in loaded:
        if plan.name in first_file:
            message = f"plan name {plan.name!r} is already used by {first_file[plan.name]}"
            errors[absolute] = (PlanIssue(file, "plan", message),)
        else:
            first_file[plan.name] = file
            plans.append(plan)
    return plans
