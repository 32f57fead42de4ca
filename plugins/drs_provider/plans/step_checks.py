"""A wave's runbook steps: default names, names unique in the wave, each kind's own checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.plans.model import PHASES
from drs_provider.plans.yaml_source import format_path
from drs_provider.steps.registry import find_step_kind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.plans.structure import Checker
    from drs_provider.plans.wave_entries import WaveEntry
    from drs_provider.plans.yaml_source import FieldPath


def default_step_name(phase: str, number: int, kind: str) -> str:
    """``post_1_ssm_command``: a step's name when the plan gives none (n counts from 1 per phase)."""
    return f"{phase}_{number}_{kind}"


def _step_entries(wave: WaveEntry) -> list[tuple[FieldPath, str, str, Mapping[str, object]]]:
    """``(path, phase, resolved name, checked body)`` of every readable step of a wave."""
    entries: list[tuple[FieldPath, str, str, Mapping[str, object]]] = []
    for phase in PHASES:
        steps = wave.fields.get(phase)
        if not isinstance(steps, tuple):
            continue
        for index, step in enumerate(steps):
            if not isinstance(step, tuple):
                continue
            kind, body = step
            if not isinstance(body, dict):
                continue
            name = body.get("name")
            resolved = name if isinstance(name, str) else default_step_name(phase, index + 1, str(kind))
            entries.append(((*wave.path, phase, index, str(kind)), phase, resolved, body))
    return entries


def check_steps(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    """Step names are unique in their wave (pre and post share the wave's task group), and each
    step passes its kind's own checks across keys (an SSM command knows where it runs)."""
    for wave in waves:
        first: dict[str, FieldPath] = {}
        for path, phase, name, body in _step_entries(wave):
            if name in first:
                given = "name" in body
                where = (*path, "name") if given else path
                what = f"step name {name!r}" if given else f"the default name {name!r} of this step"
                checker.report(where, f"{what} is already used by {format_path(first[name])} in this wave")
            else:
                first[name] = path
            kind = find_step_kind(str(path[-1]))
            if kind is not None and kind.checks is not None:
                for problem in kind.checks(phase, body):
                    checker.report(path, problem)
