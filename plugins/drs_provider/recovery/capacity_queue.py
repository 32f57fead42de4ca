"""The capacity queue as a worker sees it: what the triggerer publishes of its waits.

Waves that DRS refused for the account's capacity wait in the triggerer
(:mod:`drs_provider.triggers.capacity`), in rank order. A wave that has not waited yet would
call StartRecovery as soon as DRS shows room, and so overtake the waits about to be let go, or
just let go (their tasks resume in a worker and launch a few seconds later). So the triggerer
publishes each account's queue in an Airflow Variable (``drs_capacity_queue.<connection>.<region>``):
every wait, and every share reserved for a wait let go until its job shows. A new launch first
counts the entries ranked ahead of it (:func:`launches_ahead`) and, with any, joins the queue
instead of calling DRS.

The triggerer writes the Variable when the queue changes and every :data:`REPUBLISH_SECONDS`
while it holds anything; a publication older than :data:`STALE_SECONDS` counts as empty (its
triggerer is gone: the triggers it ran rejoin the queue of another triggerer, which publishes
afresh). This module is the data and its rules, without Airflow
(:mod:`drs_provider.operators.capacity_queue` reads and writes the Variable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
    """A wait (``until`` None) or a reservation for a wait let go (ends at ``until``, epoch s)."""

    recovery: bool
    priority: int
    until: float | None = None


def encode(entries: tuple[Entry, ...], now: float) -> str:
    return json.dumps(
        {
            "updated": round(now, 3),
            "waits": [
                {"recovery": entry.recovery, "priority": entry.priority, "until": entry.until}
                for entry in entries
            ],
        }
    )


def launches_ahead(published: str | None, *, recovery: bool, priority: int, now: float) -> int:
    """How many published waits and live reservations rank at or ahead of a new launch (a new
    launch has waited least, so it goes behind its equals). Anything unreadable counts as none:
    DRS's own refusal still protects the account."""
    try:
        data: Any = json.loads(published) if published else {}
        if now - float(data["updated"]) > STALE_SECONDS:
            return 0
        mine = rank(recovery=recovery, priority=priority)
        return sum(
            1
            for wait in data["waits"]
            if rank(recovery=bool(wait["recovery"]), priority=int(wait["priority"])) <= mine
            and (wait.get("until") is None or float(wait["until"]) > now)
        )
    except (KeyError, TypeError, ValueError):
        return 0
