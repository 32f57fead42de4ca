"""Which servers the waves select: no server in two places, no two tag selectors picking the same
servers, and ``expect_servers`` only where tags select the servers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drs_provider.plans.structure import INVALID, Checker
from drs_provider.plans.yaml_source import format_path

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.plans.wave_entries import WaveEntry
    from drs_provider.plans.yaml_source import FieldPath


def check_servers_once(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    first: dict[str, tuple[FieldPath, WaveEntry]] = {}
    for wave in waves:
        for selector_key in ("servers", "optional_servers"):
            selector = wave.fields.get(selector_key)
            ids = selector.get("ids") if isinstance(selector, dict) else None
            if not isinstance(ids, tuple):
                continue
            for position, server in enumerate(ids):
                if not isinstance(server, str):
                    continue
                path: FieldPath = (*wave.path, selector_key, "ids", position)
                if server not in first:
                    first[server] = (path, wave)
                    continue
                earlier_path, earlier_wave = first[server]
                if earlier_wave is wave:
                    message = (
                        f"server {server} is already at {format_path(earlier_path)}; "
                        "a server is either required or optional"
                    )
                else:
                    owner = repr(earlier_wave.name) if earlier_wave.name else format_path(earlier_wave.path)
                    message = (
                        f"server {server} is already in wave {owner} ({format_path(earlier_path)}); "
                        "a server can be recovered by one wave only"
                    )
                checker.report(path, message)


@dataclass(frozen=True)
class _TagSelector:
    path: FieldPath
    wave: WaveEntry
    tags: Mapping[str, str]
    items: frozenset[tuple[str, str]]


def check_tag_overlaps(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    """Two tag selectors where one's tags include all of the other's pick the same servers.

    Tags are matched when a run starts, but this much is certain from the file alone: every
    server the narrower selector picks, the broader one picks too. Each selector is reported
    once, against the first earlier selector it overlaps.

    Comparing every pair would grow with the square of the selectors. Instead each selector is
    anchored at its rarest tag in the plan: a selector can only include another if it holds the
    other's anchor, and can only be included in selectors holding its own anchor, so only those
    few are compared.
    """
    selectors = [
        _TagSelector((*wave.path, key, "tags"), wave, tags, frozenset(tags.items()))
        for wave in waves
        for key in ("servers", "optional_servers")
        if isinstance(selector := wave.fields.get(key), dict)
        and isinstance(tags := selector.get("tags"), dict)
        and tags
    ]
    frequency = Counter(item for selector in selectors for item in selector.items)
    anchors = [min(selector.items, key=lambda item: (frequency[item], item)) for selector in selectors]
    holding: dict[tuple[str, str], list[int]] = defaultdict(list)  # earlier selectors with a tag
    anchored: dict[tuple[str, str], list[int]] = defaultdict(list)  # earlier selectors anchored there
    for index, selector in enumerate(selectors):
        candidates = set(holding[anchors[index]])
        for item in selector.items:
            candidates.update(anchored[item])
        for other in sorted(candidates):
            if _reported_overlap(checker, selector, selectors[other]):
                break
        for item in selector.items:
            holding[item].append(index)
        anchored[anchors[index]].append(index)


def _reported_overlap(checker: Checker, selector: _TagSelector, other: _TagSelector) -> bool:
    """Report ``selector`` if its tags include all of ``other``'s or the reverse; say whether."""
    if other.items <= selector.items:
        relation = "every server these tags select is also selected by"
    elif selector.items <= other.items:
        relation = "these tags also select every server selected by"
    else:
        return False
    if other.wave is selector.wave:
        why = "in this wave; a server is either required or optional"
    else:
        owner = repr(other.wave.name) if other.wave.name else format_path(other.wave.path)
        why = f"in wave {owner}; a server can be recovered by one wave only"
    shown = ", ".join(f"{key}={value}" for key, value in other.tags.items())
    checker.report(selector.path, f"{relation} {format_path(other.path)} ({shown}) {why}")
    return True


def check_expected_servers(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    """``expect_servers`` counts what ``servers.tags`` select, so a wave using it needs those tags."""
    for wave in waves:
        servers = wave.fields.get("servers")
        if "expect_servers" not in wave.fields or not isinstance(servers, dict):
            continue
        tags, ids = servers.get("tags"), servers.get("ids")
        # Only a selector that is valid by its IDs alone: any other has its own problem to fix first.
        if tags is INVALID or tags or not isinstance(ids, tuple) or not ids:
            continue
        owner = repr(wave.name) if wave.name else format_path(wave.path)
        checker.report(
            (*wave.path, "expect_servers"),
            f"expect_servers counts the servers that servers.tags select, and wave {owner} has no "
            "tags under servers: add tags or remove expect_servers",
        )
