"""The capacity queue as a worker sees it: what the triggerers publish of their waits.

Waves that DRS refused for the account's capacity wait in a triggerer
(:mod:`drs_provider.triggers.capacity`), in rank order. A wave that has not waited yet would
call StartRecovery as soon as DRS shows room, and so overtake the waits about to be let go, or
just let go (their tasks resume in a worker and launch a few seconds later). So each triggerer
publishes the account's queue in an Airflow Variable (``drs_capacity_queue.<connection>.<region>``):
every wait, and every share reserved for a wait let go until its job shows, in a section of its
own (``{"triggerers": {"<host>:<pid>": {"updated": ..., "waits": [...]}}}``). A new launch first
counts the entries ranked ahead of it in every section (:func:`launches_ahead`) and, with any,
joins the queue instead of calling DRS; each triggerer reads the other sections at every poll, so
that its waits keep their turn behind another triggerer's (:func:`published_entries`).

A triggerer rewrites its section when its queue changes, every :data:`REPUBLISH_SECONDS` while it
holds anything, and at once when it finds its section missing (two triggerers writing at the same
moment can each drop the other's). A section older than :data:`STALE_SECONDS` counts as empty
and is dropped at the next write (its triggerer is gone: the triggers it ran rejoin the queue of
another triggerer, which publishes afresh; a task listed twice meanwhile counts once). This
module is the data and its rules, without Airflow (:mod:`drs_provider.operators.capacity_queue`
reads and writes the Variable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection

#: The Airflow Variable holding an account's published capacity queue.
QUEUE_VARIABLE_PREFIX = "drs_capacity_queue."
#: Seconds between publications of an unchanged, non-empty queue.
REPUBLISH_SECONDS = 20.0
#: Seconds after which a publication no longer counts.
STALE_SECONDS = 60.0


def rank(*, recovery: bool, priority: int) -> tuple[int, int]:
    """A launch's place among the capacity waits, before the time it waited: recoveries first,
    then higher priority."""
    return (0 if recovery else 1, -priority)


def queue_variable(aws_conn_id: str | None, region_name: str | None) -> str:
    """The Variable of an account and region, as a launch's connection and region name it."""
    return f"{QUEUE_VARIABLE_PREFIX}{aws_conn_id or 'default'}.{region_name or 'default'}"


@dataclass(frozen=True)
class Entry:
    """A wait (``until`` None) or a reservation for a wait let go (ends at ``until``, epoch s):
    what it needs (``jobs``, and ``servers`` in them), since when it waited (epoch s), which
    orders equals of different triggerers, and whose it is."""

    recovery: bool
    priority: int
    until: float | None = None
    jobs: int = 1
    servers: int = 1
    since: float = 0.0
    #: the waiting task (``dag_id/run_id/task_id/map_index``), one entry wherever it is listed
    owner: str = ""

    @property
    def rank(self) -> tuple[int, int]:
        return rank(recovery=self.recovery, priority=self.priority)

    @property
    def turn(self) -> tuple[int, int, float]:
        """Its place among the waits: its rank, then the one that waited longest."""
        return (*self.rank, self.since)

    def to_json(self) -> dict[str, Any]:
        return {
            "recovery": self.recovery,
            "priority": self.priority,
            "until": self.until,
            "jobs": self.jobs,
            "servers": self.servers,
            "since": self.since,
            "owner": self.owner,
        }

    @classmethod
    def from_json(cls, data: Any) -> Entry:
        until = data.get("until")
        return cls(
            recovery=bool(data["recovery"]),
            priority=int(data["priority"]),
            until=None if until is None else float(until),
            jobs=int(data.get("jobs", 1)),
            servers=int(data.get("servers", 1)),
            since=float(data.get("since", 0.0)),
            owner=str(data.get("owner", "")),
        )


@dataclass(frozen=True)
class Section:
    """One triggerer's part of a publication: when it wrote it (epoch s) and its entries."""

    updated: float
    entries: tuple[Entry, ...]

    def to_json(self) -> dict[str, Any]:
        return {"updated": round(self.updated, 3), "waits": [entry.to_json() for entry in self.entries]}


def _sections(published: str | None, now: float) -> dict[str, Section]:
    """Every triggerer's fresh section of a publication; anything unreadable counts as none."""
    try:
        data: Any = json.loads(published) if published else {}
        sections = data.get("triggerers") if isinstance(data, dict) else None
    except ValueError:
        return {}
    fresh: dict[str, Section] = {}
    for name, section in (sections if isinstance(sections, dict) else {}).items():
        try:
            updated = float(section["updated"])
            if now - updated <= STALE_SECONDS:
                fresh[str(name)] = Section(updated, tuple(Entry.from_json(wait) for wait in section["waits"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return fresh


def encode(entries: tuple[Entry, ...], now: float, *, triggerer: str, previous: str | None = None) -> str:
    """The Variable's text once ``triggerer`` published ``entries`` over ``previous``: its own
    section replaced (left out when empty), the other triggerers' kept while they are fresh."""
    sections = {name: section for name, section in _sections(previous, now).items() if name != triggerer}
    if entries:
        sections[triggerer] = Section(now, entries)
    return json.dumps({"triggerers": {name: section.to_json() for name, section in sections.items()}})


def section_of(published: str | None, triggerer: str, now: float) -> list[Entry] | None:
    """``triggerer``'s own fresh entries in a publication (None when it has no section)."""
    section = _sections(published, now).get(triggerer)
    return None if section is None else list(section.entries)


def published_entries(
    published: str | None, now: float, *, excluding: str | None = None, owned: Collection[str] = ()
) -> list[Entry]:
    """Every published wait and live reservation, but those of the triggerer ``excluding`` and
    those of the tasks in ``owned`` (the caller holds them itself). A task listed by several
    triggerers (its trigger moved from one that died) counts once, as the freshest section has it."""
    entries: list[Entry] = []
    seen = set(owned)
    for name, section in sorted(_sections(published, now).items(), key=lambda item: -item[1].updated):
        if name == excluding:
            continue
        for entry in section.entries:
            if entry.owner and entry.owner in seen:
                continue
            seen.add(entry.owner)
            if entry.until is None or entry.until > now:
                entries.append(entry)
    return entries


def launches_ahead(published: str | None, *, recovery: bool, priority: int, now: float) -> int:
    """How many published waits and live reservations rank at or ahead of a new launch (a new
    launch has waited least, so it goes behind its equals). Anything unreadable counts as none:
    DRS's own refusal still protects the account."""
    mine = rank(recovery=recovery, priority=priority)
    return sum(1 for entry in published_entries(published, now) if entry.rank <= mine)
