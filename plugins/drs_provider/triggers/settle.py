"""Hold a trigger's event until the deferral that started it has settled in the scheduler.

Airflow 3.3 fails a deferred task with "state mismatch" when its trigger fires before the
scheduler has processed the exit of the worker that deferred it (apache/airflow#72716): the task
is already queued again when the worker's "deferred" exit arrives. A wait that ends at its first
check (an SSM command that had finished by then, as moto's always have) fires within a second of
the deferral, and on a busy scheduler that was too soon (seen in the suite: the exit processed
1.8 s after the deferral, the event 0.8 s after it). A trigger that may end that quickly awaits
:func:`settle` before it yields (:class:`SettledTrigger` does it for a trigger with one event);
a wait that lasts longer than the hold pays nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from airflow.triggers.base import TriggerEvent

#: Seconds from a trigger's start before its event may fire.
DEFERRAL_SETTLE_SECONDS = 5.0


async def settle(
    started: float,
    *,
    hold: float = DEFERRAL_SETTLE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Return ``hold`` seconds after ``started`` (a ``clock`` reading at the trigger's start), or at once."""
    remaining = started + hold - clock()
    if remaining > 0:
        await sleep(remaining)


class SettledTrigger:
    """A trigger whose one event (from :meth:`_outcome`) fires no sooner than :func:`settle` allows."""

    async def run(self) -> AsyncIterator[TriggerEvent]:
        started = time.monotonic()
        event = await self._outcome()
        await settle(started)
        yield event

    async def _outcome(self) -> TriggerEvent:
        """Wait as the trigger does; the event that ends the wait."""
        raise NotImplementedError
