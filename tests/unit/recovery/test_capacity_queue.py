"""Which published capacity waits a new launch must not overtake (``recovery/capacity_queue.py``)."""

from __future__ import annotations

import json

import pytest

from drs_provider.recovery.capacity_queue import (
    STALE_SECONDS,
    Entry,
    encode,
    launches_ahead,
    published_entries,
    queue_variable,
    section_of,
)

pytestmark = pytest.mark.unit

NOW = 1_000_000.0


def ahead(
    entries: list[Entry], *, recovery: bool = False, priority: int = 0, published_at: float = NOW
) -> int:
    published = encode(tuple(entries), published_at, triggerer="t1")
    return launches_ahead(published, recovery=recovery, priority=priority, now=NOW)


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
    for text in (
        None,
        "",
        "not json",
        "[]",
        '{"updated": 999999, "waits": [{"recovery": true, "priority": 0}]}',  # no triggerer's section
        '{"triggerers": {"t1": {"updated": "soon", "waits": []}}}',
        '{"triggerers": {"t1": {"updated": 999999, "waits": [{}]}}}',
        '{"triggerers": []}',
    ):
        assert launches_ahead(text, recovery=False, priority=0, now=NOW) == 0


def test_each_account_and_region_has_its_own_queue() -> None:
    assert queue_variable("aws_dr", "us-west-2") == "drs_capacity_queue.aws_dr.us-west-2"
    assert queue_variable(None, None) == "drs_capacity_queue.default.default"


def test_every_triggerers_section_counts_for_a_new_launch() -> None:
    one = encode((Entry(True, 0),), NOW, triggerer="t1")
    both = encode((Entry(False, 5), Entry(False, -3)), NOW, triggerer="t2", previous=one)

    assert launches_ahead(both, recovery=False, priority=0, now=NOW) == 2  # the recovery and the 5
    assert sorted(json.loads(both)["triggerers"]) == ["t1", "t2"]


def test_a_triggerer_rewrites_only_its_own_section_and_leaves_it_out_when_empty() -> None:
    first = encode((Entry(True, 0), Entry(False, 0)), NOW, triggerer="t1")
    other = encode((Entry(False, 1, since=7.0),), NOW, triggerer="t2", previous=first)

    again = encode((Entry(False, 0),), NOW + 1, triggerer="t1", previous=other)
    assert section_of(again, "t1", NOW + 1) == [Entry(False, 0)]
    assert section_of(again, "t2", NOW + 1) == [Entry(False, 1, since=7.0)]

    emptied = encode((), NOW + 2, triggerer="t1", previous=again)
    assert section_of(emptied, "t1", NOW + 2) is None
    assert published_entries(emptied, NOW + 2) == [Entry(False, 1, since=7.0)]


def test_a_triggerer_sees_the_others_but_not_itself_and_a_stale_section_goes_at_the_next_write() -> None:
    gone = encode((Entry(True, 0),), NOW - STALE_SECONDS - 1, triggerer="dead")
    live = encode((Entry(False, 0, until=NOW + 5, jobs=2, servers=4),), NOW, triggerer="t2", previous=gone)
    mine = encode((Entry(False, 3),), NOW, triggerer="t1", previous=live)

    assert published_entries(mine, NOW, excluding="t1") == [Entry(False, 0, until=NOW + 5, jobs=2, servers=4)]
    assert sorted(json.loads(mine)["triggerers"]) == ["t1", "t2"]  # the dead one's section dropped


def test_a_task_listed_by_two_triggerers_counts_once_as_the_freshest_section_has_it() -> None:
    # a triggerer died with two waits; one has moved to a live triggerer, which let it go since
    dead = encode(
        (Entry(True, 0, owner="d/r/t/"), Entry(False, 0, owner="d/r/u/")), NOW - 30, triggerer="dead"
    )
    live = encode((Entry(True, 0, until=NOW + 50, owner="d/r/t/"),), NOW, triggerer="live", previous=dead)

    assert published_entries(live, NOW) == [
        Entry(True, 0, until=NOW + 50, owner="d/r/t/"),
        Entry(False, 0, owner="d/r/u/"),
    ]
    assert launches_ahead(live, recovery=True, priority=0, now=NOW) == 1  # not twice
    # a triggerer holding the other wait itself counts only what it does not hold
    assert published_entries(live, NOW, excluding="here", owned={"d/r/u/"}) == [
        Entry(True, 0, until=NOW + 50, owner="d/r/t/")
    ]
