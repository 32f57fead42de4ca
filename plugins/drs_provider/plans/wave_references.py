"""Wave names and the references between waves: names unique, ``depends_on`` resolved, no cycles."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from drs_provider.plans.graph import dependency_cycles
from drs_provider.plans.yaml_source import format_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.plans.structure import Checker
    from drs_provider.plans.wave_entries import WaveEntry


def check_wave_names(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    first: dict[str, WaveEntry] = {}
    for wave in waves:
        if wave.name is None:
            continue
        if wave.name in first:
            where = format_path(first[wave.name].path)
            checker.report((*wave.path, "name"), f"wave name {wave.name!r} is already used by {where}")
        else:
            first[wave.name] = wave


def resolve_dependencies(checker: Checker, waves: Sequence[WaveEntry]) -> dict[int, tuple[int, ...]]:
    """Map each wave's index to the indexes of the waves it depends on (omitted = the one before)."""
    index_of: dict[str, int] = {}
    repeated: set[int] = set()
    for wave in waves:
        if wave.name is None:
            continue
        if wave.name in index_of:
            repeated.add(wave.index)
        else:
            index_of[wave.name] = wave.index
    # While a wave has no readable name a reference may mean it: its own problem is reported,
    # and references are checked once it is fixed, instead of burying it under echoes.
    every_wave_named = all(wave.name is not None for wave in waves)
    suggestions_left = _SUGGESTED_WAVES
    dependencies: dict[int, tuple[int, ...]] = {}
    for wave in waves:
        if "depends_on" not in wave.fields:
            dependencies[wave.index] = (wave.index - 1,) if wave.index > 0 else ()
            continue
        names = wave.fields["depends_on"]
        if not isinstance(names, tuple):
            continue
        upstream: list[int] = []
        for name in names:
            if not isinstance(name, str):
                continue
            path = (*wave.path, "depends_on")
            if name == wave.name:
                if wave.index not in repeated:  # a repeated name may mean the other wave
                    checker.report(path, f"wave {name!r} cannot depend on itself")
            elif name not in index_of:
                if every_wave_named:
                    checker.report(
                        path, _unknown_wave_message(name, list(index_of), suggest=suggestions_left > 0)
                    )
                    suggestions_left -= 1
            else:
                upstream.append(index_of[name])
        dependencies[wave.index] = tuple(upstream)
    return dependencies


#: Wave names listed in an "unknown wave" message before the rest is summed up.
_LISTED_WAVES = 10
#: Unknown wave references of a plan that get a "did you mean": each costs a fuzzy match
#: against every wave, which for a hostile plan of hundreds of waves adds up.
_SUGGESTED_WAVES = 5


def _unknown_wave_message(name: str, known: list[str], *, suggest: bool = True) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) if suggest else None
    if close:
        return f"unknown wave {name!r} (did you mean {close[0]!r}?)"
    listed = ", ".join(known[:_LISTED_WAVES]) if known else "none"
    if len(known) > _LISTED_WAVES:
        listed += f" and {len(known) - _LISTED_WAVES} more"
    return f"unknown wave {name!r} (waves in this plan: {listed})"


def check_cycles(
    checker: Checker, waves: Sequence[WaveEntry], dependencies: dict[int, tuple[int, ...]]
) -> None:
    names = {wave.index: wave.name or format_path(wave.path) for wave in waves}
    implicit = {wave.index for wave in waves if "depends_on" not in wave.fields and wave.index > 0}
    for cycle in dependency_cycles(dependencies, sorted(dependencies)):
        chain = " -> ".join(names[index] for index in (*cycle, cycle[0]))
        notes = [
            f"{names[index]!r} depends on {names[index - 1]!r} because it omits depends_on"
            for index in cycle
            if index in implicit
        ]
        message = f"dependency cycle: {chain}"
        if notes:
            message += f" ({'; '.join(notes)})"
        checker.report(("waves", cycle[0], "depends_on"), message)
