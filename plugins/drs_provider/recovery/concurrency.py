"""Which waves of a plan can be active together, for the quota checks: a plan's waves form a
dependency graph, and two waves overlap unless one is an ancestor of the other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def peak_concurrent(weights: Mapping[str, int], ancestors: Mapping[str, set[str]]) -> int:
    """
    The largest total weight of waves that can be active together.

    Two waves can overlap unless one is an ancestor of the other, so this is the heaviest
    set of pairwise unrelated waves (a maximum-weight antichain). Plans are small; a
    branch-and-bound search is exact and fast for them. Beyond 40 waves it returns the sum
    of all weights, a safe upper bound.
    """
    names = sorted(weights, key=lambda name: -weights[name])
    if len(names) > 40:
        return sum(weights.values())
    related = {
        name: {other for other in names if other in ancestors[name] or name in ancestors[other]}
        for name in names
    }
    remaining = [sum(weights[name] for name in names[index:]) for index in range(len(names) + 1)]
    best = 0

    def search(index: int, blocked: frozenset[str], total: int) -> None:
        nonlocal best
        best = max(best, total)
        if index == len(names) or total + remaining[index] <= best:
            return
        name = names[index]
        if name not in blocked:
            search(index + 1, blocked | related[name], total + weights[name])
        search(index + 1, blocked, total)

    search(0, frozenset(), 0)
    return best


def wave_ancestors(waves: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    parents = {wave["name"]: set(wave.get("depends_on") or ()) for wave in waves}
    found: dict[str, set[str]] = {}

    def visit(name: str) -> set[str]:
        if name not in found:
            found[name] = set()  # cycles are rejected by the plan loader; this only guards recursion
            result: set[str] = set()
            for parent in parents.get(name, ()):
                result |= {parent} | visit(parent)
            found[name] = result
        return found[name]

    for name in parents:
        visit(name)
    return found
