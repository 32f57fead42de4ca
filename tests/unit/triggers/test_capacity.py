"""Who may launch when DRS capacity frees up: recoveries first, then priority, then the longest wait."""

from __future__ import annotations

import pytest

from drs_provider.triggers.capacity import Need, Usage, admit

pytestmark = pytest.mark.unit


def need(
    *, recovery: bool = False, priority: int = 0, since: float = 0.0, jobs: int = 1, servers: int = 1
) -> Need:
    return Need(jobs=jobs, servers=servers, recovery=recovery, priority=priority, waiting_since=since)


def usage(jobs: int, servers: int = 0, max_jobs: int = 3, max_servers: int = 100) -> Usage:
    return Usage(jobs=jobs, servers=servers, max_jobs=max_jobs, max_servers=max_servers)


def admitted(queue: dict[int, Need], now: Usage, reserved: list[Need] | None = None) -> set[int]:
    return {key for key in queue if admit(key, queue, reserved or [], now)}


def test_a_recovery_goes_before_drills_that_waited_longer() -> None:
    queue = {1: need(since=1), 2: need(since=2), 3: need(recovery=True, since=9)}

    assert admitted(queue, usage(jobs=2)) == {3}
    assert admitted(queue, usage(jobs=1)) == {3, 1}


def test_among_equals_higher_priority_then_the_longest_wait_goes_first() -> None:
    queue = {1: need(since=1), 2: need(priority=5, since=3), 3: need(priority=5, since=2)}

    assert admitted(queue, usage(jobs=2)) == {3}
    assert admitted(queue, usage(jobs=1)) == {3, 2}


def test_a_wait_that_does_not_fit_holds_back_everyone_behind_it() -> None:
    queue = {1: need(recovery=True, jobs=2, servers=40), 2: need(servers=1)}

    assert admitted(queue, usage(jobs=2)) == set()  # one job free: the recovery needs two
    assert admitted(queue, usage(jobs=0, servers=70), reserved=[need()]) == set()  # 40 servers do not fit
    assert admitted(queue, usage(jobs=1, servers=10)) == {1}


def test_a_wait_let_go_keeps_its_share_until_its_job_shows() -> None:
    queue = {1: need(since=1)}

    assert admitted(queue, usage(jobs=2)) == {1}
    assert admitted(queue, usage(jobs=2), reserved=[need(recovery=True)]) == set()


def test_with_nothing_active_the_head_of_the_queue_goes_even_over_a_narrowed_limit() -> None:
    """A limit learned from a refusal may be too low; with nothing active DRS judges alone."""
    queue = {1: need(jobs=2, servers=8), 2: need(since=5)}

    assert admitted(queue, usage(jobs=0, servers=0, max_jobs=1, max_servers=4)) == {1}
