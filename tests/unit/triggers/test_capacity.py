"""Who may launch when DRS capacity frees up: recoveries first, then priority, then the longest wait."""

from __future__ import annotations

import pytest

from drs_provider.recovery.capacity_queue import Entry
from drs_provider.triggers.capacity import (
    RESERVATION_SECONDS,
    Account,
    DrsCapacityTrigger,
    Release,
    Usage,
    admit,
    owner_of,
)

pytestmark = pytest.mark.unit


def need(
    *, recovery: bool = False, priority: int = 0, since: float = 0.0, jobs: int = 1, servers: int = 1
) -> Entry:
    """A wait, as the trigger keeps and publishes it."""
    return Entry(recovery=recovery, priority=priority, jobs=jobs, servers=servers, since=since)


def usage(jobs: int, servers: int = 0, max_jobs: int = 3, max_servers: int = 100) -> Usage:
    return Usage(jobs=jobs, servers=servers, max_jobs=max_jobs, max_servers=max_servers)


def admitted(
    queue: dict[int, Entry],
    now: Usage,
    reserved: list[Entry] | None = None,
    others: list[Entry] | None = None,
) -> set[int]:
    return {key for key in queue if admit(key, queue, reserved or [], now, others or [])}


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


def test_a_reservation_ends_when_drs_lists_one_more_job_of_its_task() -> None:
    owner = owner_of(
        {
            "airflow:dag_id": "drs_plan_shop",
            "airflow:run_id": "manual__1",
            "airflow:task_id": "db.start_recovery",
        }
    )
    account = Account("here:1")
    account.jobs_by_owner[owner] = 1  # a job this task started before it had to wait
    account.released.append(Release(at=100.0, need=need(), owner=owner, jobs_seen=1))

    assert account.reserved(now=101.0) == [need()]
    account.jobs_by_owner[owner] = 2  # its launch after the wait shows up
    assert account.reserved(now=102.0) == []


def test_a_reservation_whose_task_never_launches_ends_after_a_while() -> None:
    account = Account("here:1")
    account.released.append(Release(at=100.0, need=need(), owner=("d", "r", "t", ""), jobs_seen=0))

    assert account.reserved(now=100.0 + RESERVATION_SECONDS - 1) == [need()]
    assert account.reserved(now=100.0 + RESERVATION_SECONDS) == []


def test_the_workers_see_every_wait_and_every_live_reservation() -> None:
    account = Account("here:1")
    account.queue[1] = need(priority=2)
    account.queue[2] = need(recovery=True, since=5)
    account.released.append(
        Release(at=100.0, need=need(), owner=("d", "r", "t", ""), jobs_seen=0, expires=9.5)
    )
    account.released.append(
        Release(at=10.0, need=need(), owner=("d", "r", "u", ""), jobs_seen=0, expires=1.0)
    )

    assert account.entries(now=101.0) == (  # the reservation from t=10 ended
        Entry(False, 0, until=9.5),
        Entry(False, 2),
        Entry(True, 0, since=5),
    )


def test_another_triggerers_recovery_goes_before_a_drill_waiting_here() -> None:
    queue = {1: need(since=1), 2: need(priority=9, since=2)}
    there = [Entry(recovery=True, priority=0, since=50)]  # waited least, but a recovery

    assert admitted(queue, usage(jobs=2), others=there) == set()  # one job free: the recovery's
    assert admitted(queue, usage(jobs=1), others=there) == {2}  # two free: it and the higher drill


def test_among_equals_of_two_triggerers_the_longest_wait_goes_first() -> None:
    queue = {1: need(since=20)}

    assert admitted(queue, usage(jobs=2), others=[Entry(False, 0, since=10)]) == set()
    assert admitted(queue, usage(jobs=2), others=[Entry(False, 0, since=30)]) == {1}


def test_another_triggerers_reservation_holds_its_share_and_its_wait_that_does_not_fit_holds_back() -> None:
    queue = {1: need(since=1)}
    held = Entry(True, 0, until=1e12, jobs=2, servers=6)

    assert admitted(queue, usage(jobs=0), others=[held]) == {1}  # 3 - 2 held: one job left
    assert admitted(queue, usage(jobs=1), others=[held]) == set()
    too_big = Entry(True, 0, jobs=3, servers=3)  # ahead, and it does not fit while one job runs
    assert admitted(queue, usage(jobs=1), others=[too_big]) == set()


def test_the_waits_ahead_count_both_triggerers_but_no_reservation() -> None:
    account = Account("here:1")
    account.queue[1] = need(since=1)
    account.queue[2] = need(since=9)
    account.others = (Entry(True, 0, since=20), Entry(False, 0, since=5), Entry(True, 0, until=1e12))

    assert account.waits_ahead_of(account.queue[2]) == 3  # the recovery there, the drills of t=1 and t=5
    assert account.waits_ahead_of(account.queue[1]) == 1  # the recovery only


def test_a_wait_is_published_with_its_task_and_the_account_knows_which_tasks_it_holds() -> None:
    tags = {
        "airflow:dag_id": "drs_plan_shop",
        "airflow:run_id": "manual__1",
        "airflow:task_id": "db.start_recovery",
    }
    trigger = DrsCapacityTrigger(
        jobs=1,
        servers=2,
        recovery=True,
        priority=0,
        waiting_since=5.0,
        max_jobs=3,
        max_servers=9,
        timeout=60,
        owner=tags,
    )
    account = Account("here:1")
    account.queue[1] = trigger.need
    account.released.append(Release(at=1.0, need=need(), owner=("d", "r", "t", ""), jobs_seen=0))

    assert trigger.need.owner == "drs_plan_shop/manual__1/db.start_recovery/"
    assert account.owners() == {
        "drs_plan_shop/manual__1/db.start_recovery/"
    }  # an ownerless share is nobody's


def test_each_event_loop_has_its_own_accounts_and_name_even_at_a_reused_address() -> None:
    """A triggerer runs one loop; tests run one after another, and CPython often puts a new loop
    where the last one was: its accounts (queue, shares, watcher) must not carry over."""
    import asyncio

    from drs_provider.triggers.capacity import account_of

    async def account() -> Account:
        return account_of({"aws_conn_id": "aws_default", "region_name": "us-east-1"})

    first, second = asyncio.run(account()), asyncio.run(account())

    assert first is not second
    assert first.name != second.name
