"""A trigger's event waits until its deferral has had time to settle in the scheduler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent

from drs_provider.triggers import settle as settle_module
from drs_provider.triggers.settle import DEFERRAL_SETTLE_SECONDS, SettledTrigger, settle

pytestmark = pytest.mark.unit


def slept_for(started: float, now: float) -> list[float]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    asyncio.run(settle(started, clock=lambda: now, sleep=sleep))
    return slept


def test_an_event_ready_at_once_waits_out_the_rest_of_the_hold() -> None:
    assert slept_for(started=100.0, now=100.8) == [pytest.approx(DEFERRAL_SETTLE_SECONDS - 0.8)]


def test_an_event_after_the_hold_fires_at_once() -> None:
    assert slept_for(started=100.0, now=100.0 + DEFERRAL_SETTLE_SECONDS) == []
    assert slept_for(started=100.0, now=400.0) == []


def test_the_hold_outlasts_the_slowest_deferral_seen_to_settle() -> None:
    # the suite saw a scheduler process a deferring worker's exit 1.8 s after the deferral
    assert DEFERRAL_SETTLE_SECONDS >= 2 * 1.8


class Quick(SettledTrigger):
    """A wait that is over at its first look."""

    def __init__(self, steps: list[str]) -> None:
        self.steps = steps

    async def _outcome(self) -> TriggerEvent:
        self.steps.append("outcome")
        return TriggerEvent({"status": "success"})


def test_a_settled_triggers_one_event_comes_after_the_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[str] = []

    async def held(started: float, **_: Any) -> None:
        steps.append("settle")

    monkeypatch.setattr(settle_module, "settle", held)

    async def events() -> list[Any]:
        return [event async for event in Quick(steps).run()]

    [event] = asyncio.run(events())
    assert event.payload == {"status": "success"}
    assert steps == ["outcome", "settle"]
