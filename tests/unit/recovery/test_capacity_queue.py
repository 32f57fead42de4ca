"""Which published capacity waits a new launch must not overtake (``recovery/capacity_queue.py``)."""

from __future__ import annotations

import pytest

from drs_provider.recovery.capacity_queue import STALE_SECONDS, Entry, encode, launches_ahead, queue_variable

pytestmark = pytest.mark.unit

NOW = 1_000_000.0


def ahead(
    entries: list[Entry], *, recovery: bool = False, priority: int = 0, published_at: float = NOW
) -> int:
    return launches_ahead(encode(tuple(entries), published_at), recovery=recovery, priority=priority, now=NOW)


def test_a_drill_goes_behind_every_recovery_and_every_drill_of_its_priority_or_higher() -> None:
    waits = [Entry(True, -5), Entry(False, 0), Entry(False, 3), Entry(False, -1)]

    assert ahead(waits) == 3  # the recovery, the drill of equal priority and the higher one
    assert ahead(waits, priority=5) == 1  # only the recovery
    assert ahead(waits, recovery=True) == 0  # a recovery goes before every drill
    assert ahead(waits, recovery=True, priority=-5) == 1  # ... and behind an equal recovery


def test_a_reservation_counts_until_it_ends() -> None:
    reserved = [Entry(False, 0, until=NOW + 10), Entry(False, 0, until=NOW - 1)]

    assert ahead(reserved) == 1


def test_a_stale_or_unreadable_publication_counts_as_an_empty_queue() -> None:
    assert ahead([Entry(True, 0)], published_at=NOW - STALE_SECONDS - 1) == 0
    assert ahead([Entry(True, 0)], published_at=NOW - STALE_SECONDS + 1) == 1
    for text in (None, "", "not json", "[]", '{"updated": "soon", "waits": []}', '{"waits": [{}]}'):
        assert launches_ahead(text, recovery=False, priority=0, now=NOW) == 0


def test_each_account_and_region_has_its_own_queue() -> None:
    assert queue_variable("aws_dr", "us-west-2") == "drs_capacity_queue.aws_dr.us-west-2"
    assert queue_variable(None, None) == "drs_capacity_queue.default.default"
