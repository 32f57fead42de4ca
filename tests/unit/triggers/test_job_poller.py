"""The shared DescribeJobs poll loop, through real aiobotocore clients against the DRS simulator.

Every scenario runs the real triggers in one event loop, as a triggerer does, and counts what
reached DRS in the simulator's call log (never how long anything took).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.exceptions import DrsJobNotFoundError
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.throttling import THROTTLE_MAX_ATTEMPTS
from drs_provider.sensors.drs import DrsJobSensor
from drs_provider.triggers import job_poller
from drs_provider.triggers.drs import NOT_FOUND_ANSWERS, DrsJobCompleteTrigger
from tests.integration.provider.conftest import PORTAL_ALL, SHOP_ALL, make_context

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from drs_simulator.testing.plugin import DrsSimulatorHandle

#: No botocore retries: each failed tick is one failed request, so the counts are exact.
ONE_ATTEMPT = {"retries": {"total_max_attempts": 1}, "connect_timeout": 1, "read_timeout": 5}


def start_jobs(aws_conn: str, server_ids: list[str]) -> list[str]:
    """One job per server."""
    hook = DrsHook(aws_conn_id=aws_conn)
    return [hook.start_recovery_job([{"sourceServerID": s}], is_drill=True)["jobID"] for s in server_ids]


def trigger(job_ids: list[str], aws_conn: str, **kwargs: Any) -> DrsJobCompleteTrigger:
    return DrsJobCompleteTrigger(
        job_ids=job_ids, waiter_delay=kwargs.pop("waiter_delay", 1), aws_conn_id=aws_conn, **kwargs
    )


async def first_event(waiting: DrsJobCompleteTrigger) -> dict[str, Any]:
    async for event in waiting.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


async def until(condition: Callable[[], bool], description: str) -> None:
    """Wait (in the event loop) until ``condition`` holds; fail the test after a long while."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {description}")


def poller() -> job_poller.JobPoller:
    [only] = job_poller.active_pollers()
    return only


def ticks_seen() -> int:
    pollers = job_poller.active_pollers()
    tick = pollers[0].tick if pollers else None
    return tick.seq if tick is not None else 0


def last_asked() -> set[str]:
    pollers = job_poller.active_pollers()
    tick = pollers[0].tick if pollers else None
    return set(tick.asked) if tick is not None else set()


def asked(call: dict[str, Any]) -> list[str]:
    return list(call["request"]["filters"]["jobIDs"])


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())


@pytest.fixture
def paused(drs_simulator: DrsSimulatorHandle) -> DrsSimulatorHandle:
    """The simulator with its clock stopped: jobs stay unfinished until the test advances it."""
    drs_simulator.reset(speed=0)
    return drs_simulator


def test_twelve_waits_share_one_describe_jobs_per_tick(paused, aws_conn):
    job_ids = start_jobs(aws_conn, [*SHOP_ALL, *PORTAL_ALL])
    assert len(job_ids) == 12

    async def main() -> list[dict[str, Any]]:
        waits = [asyncio.create_task(first_event(trigger([job_id], aws_conn))) for job_id in job_ids]
        await until(lambda: ticks_seen() >= 3, "three shared ticks")
        ticks = poller().tick.seq  # type: ignore[union-attr]
        assert poller().requests == ticks
        await asyncio.to_thread(paused.advance, 3600)  # every job finishes
        return await asyncio.gather(*waits)

    events = run(main)

    assert [event["status"] for event in events] == ["success"] * 12
    assert [event["job_ids"] for event in events] == [[job_id] for job_id in job_ids]
    calls = paused.calls("DescribeJobs")
    # Each call asked about all twelve jobs: one request per tick, never one per wait.
    assert all(sorted(asked(call)) == sorted(job_ids) for call in calls)
    assert len(calls) < 2 * 12


def test_a_wait_leaving_mid_poll_is_dropped_from_the_next_tick(paused, aws_conn):
    leaving, staying = start_jobs(aws_conn, SHOP_ALL[:2])
    paused.set_faults(latency_seconds=0.3, latency_operations=["DescribeJobs"])

    async def main() -> dict[str, Any]:
        gone = asyncio.create_task(first_event(trigger([leaving], aws_conn)))
        kept = asyncio.create_task(first_event(trigger([staying], aws_conn)))
        await until(lambda: bool(job_poller.active_pollers()) and poller().requests >= 1, "a poll in flight")
        gone.cancel()  # while the first DescribeJobs is still unanswered
        with pytest.raises(asyncio.CancelledError):
            await gone
        first = poller().requests
        await until(lambda: poller().requests >= first + 2, "two more ticks")
        await asyncio.to_thread(paused.advance, 3600)
        event = await kept
        assert job_poller.active_pollers() == [], "the loop stops with its last wait"
        return event

    event = run(main)

    assert event["status"] == "success"
    calls = paused.calls("DescribeJobs")
    assert sorted(asked(calls[0])) == sorted([leaving, staying])
    assert all(asked(call) == [staying] for call in calls[1:])


def test_1001_job_ids_take_two_requests_per_tick(paused, aws_conn):
    [real] = start_jobs(aws_conn, SHOP_ALL[:1])
    unknown = [f"drsjob-{n:017d}" for n in range(1000)]

    async def main() -> list[dict[str, Any]]:
        many = asyncio.create_task(first_event(trigger(unknown, aws_conn)))
        one = asyncio.create_task(first_event(trigger([real], aws_conn)))
        missing = await many  # ends at the second tick: DRS knows none of them
        await until(lambda: ticks_seen() >= 3, "a third tick")
        await asyncio.to_thread(paused.advance, 3600)
        return [missing, await one]

    missing, done = run(main)

    assert missing["status"] == "not_found" and len(missing["missing_job_ids"]) == 1000
    assert done["status"] == "success"
    calls = paused.calls("DescribeJobs")
    # The first two ticks: 1001 IDs in two requests each; then only the wait still there.
    for tick in (calls[0:2], calls[2:4]):
        assert sorted(len(asked(call)) for call in tick) == [1, 1000]
        assert {id_ for call in tick for id_ in asked(call)} == {*unknown, real}
    assert all(asked(call) == [real] for call in calls[4:])


def test_a_tick_follows_every_next_token_of_a_short_page(paused, aws_conn):
    job_ids = start_jobs(aws_conn, SHOP_ALL[:3])
    paused.set_faults(page_size=1)  # DRS answers one job per page, whatever maxResults says

    async def main() -> list[dict[str, Any]]:
        waits = [asyncio.create_task(first_event(trigger([job_id], aws_conn))) for job_id in job_ids]
        await until(lambda: ticks_seen() >= 2, "two shared ticks")
        await asyncio.to_thread(paused.advance, 3600)
        return await asyncio.gather(*waits)

    events = run(main)

    assert [event["status"] for event in events] == ["success"] * 3  # nobody's job read as missing
    calls = paused.calls("DescribeJobs")
    assert len(calls) % 3 == 0, "three pages a tick"
    for tick in range(0, len(calls), 3):
        pages = calls[tick : tick + 3]
        assert all(sorted(asked(page)) == sorted(job_ids) for page in pages)
        assert "nextToken" not in pages[0]["request"]
        assert all(page["request"]["nextToken"] for page in pages[1:])


def test_throttling_is_ridden_out_once_for_every_wait(drs_simulator, aws_conn):
    job_ids = start_jobs(aws_conn, [*SHOP_ALL, *PORTAL_ALL])
    drs_simulator.set_faults(throttle_count=2, retry_after_seconds=0, throttle_operations=["DescribeJobs"])

    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(*(first_event(trigger([job_id], aws_conn)) for job_id in job_ids))

    events = run(main)

    assert {event["status"] for event in events} == {"success"}
    calls = drs_simulator.calls("DescribeJobs")
    # Two throttled answers in all, resent once each for all twelve waits (not twelve times).
    assert [call["status"] for call in calls[:3]] == [429, 429, 200]
    assert sum(call["status"] == 429 for call in calls) == 2
    assert all(len(asked(call)) == 12 for call in calls[:3])


def test_throttling_beyond_botocores_retries_waits_and_never_counts_as_failing(
    drs_simulator, aws_conn, caplog
):
    job_ids = start_jobs(aws_conn, SHOP_ALL[:3])
    # botocore resends a throttled call THROTTLE_MAX_ATTEMPTS times; five more refusals reach the loop.
    drs_simulator.set_faults(
        throttle_count=THROTTLE_MAX_ATTEMPTS + 5, retry_after_seconds=0, throttle_operations=["DescribeJobs"]
    )

    async def main() -> list[dict[str, Any]]:
        # An error budget far below a throttled tick: throttling must not spend it.
        waits = [first_event(trigger([job_id], aws_conn, error_timeout=0.001)) for job_id in job_ids]
        return await asyncio.gather(*waits)

    events = run(main)

    assert {event["status"] for event in events} == {"success"}
    statuses = [call["status"] for call in drs_simulator.calls("DescribeJobs")]
    # Each refusal was met once for the three waits together, not once per wait.
    assert statuses.count(429) == THROTTLE_MAX_ATTEMPTS + 5
    assert statuses[-1] == 200
    throttled_ticks = [r for r in caplog.records if "DescribeJobs throttled" in r.getMessage()]
    assert len(throttled_ticks) == 1, "the loop itself met one throttled tick"


def test_one_wait_timing_out_leaves_the_others_waiting(paused, aws_conn):
    short, long = start_jobs(aws_conn, SHOP_ALL[:2])

    async def main() -> list[dict[str, Any]]:
        brief = asyncio.create_task(first_event(trigger([short], aws_conn, waiter_max_attempts=1)))
        patient = asyncio.create_task(first_event(trigger([long], aws_conn)))
        timed_out = await brief
        await until(lambda: last_asked() == {long}, "a tick without the timed-out wait")
        await asyncio.to_thread(paused.advance, 3600)
        return [timed_out, await patient]

    timed_out, done = run(main)

    assert timed_out["status"] == "timeout" and timed_out["job_ids"] == [short]
    assert done["status"] == "success" and done["job_ids"] == [long]


def test_a_job_drs_does_not_know_ends_the_wait_at_the_second_answer(drs_simulator, aws_conn):
    [known] = start_jobs(aws_conn, SHOP_ALL[:1])
    missing = "drsjob-0000000000000000x"

    event = run(lambda: first_event(trigger([known, missing], aws_conn, waiter_max_attempts=1000)))

    assert event["status"] == "not_found"
    assert event["missing_job_ids"] == [missing]
    assert missing in event["message"] and known not in event["message"]
    assert len(drs_simulator.calls("DescribeJobs")) == NOT_FOUND_ANSWERS
    sensor = DrsJobSensor(task_id="w", job_ids=[known, missing])
    with pytest.raises(DrsJobNotFoundError, match=missing) as caught:
        sensor.execute_complete(make_context("w"), event)
    assert caught.value.job_ids == (missing,)


def test_a_job_drs_lists_late_is_waited_for_not_failed(paused, aws_conn):
    paused.set_faults(listing_lag_seconds=5)  # DescribeJobs leaves out jobs younger than 5 s
    [late] = start_jobs(aws_conn, SHOP_ALL[:1])

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        # Ticks 3 s apart: time enough to list the job before a second answer leaves it out.
        waiting = asyncio.create_task(
            first_event(trigger([late], aws_conn, waiter_delay=3, waiter_max_attempts=1000))
        )
        await until(lambda: ticks_seen() >= 1, "a tick without the job")
        first_answer = dict(poller().tick.jobs or {})  # type: ignore[union-attr]
        await asyncio.to_thread(paused.advance, 5)  # listed from now on, still running
        await until(lambda: ticks_seen() >= 2, "a tick that lists it")
        await asyncio.to_thread(paused.advance, 3600)
        return first_answer, await waiting

    first_answer, event = run(main)

    assert first_answer == {}, "the first answer left the job out"
    assert event["status"] == "success" and event["job_ids"] == [late]


def test_jobs_forgotten_by_drs_mid_wait_end_it_naming_them(paused, aws_conn):
    job_ids = start_jobs(aws_conn, SHOP_ALL[:2])

    async def main() -> dict[str, Any]:
        waiting = asyncio.create_task(first_event(trigger(job_ids, aws_conn, waiter_max_attempts=1000)))
        await until(lambda: ticks_seen() >= 2, "two ticks while the jobs run")
        await asyncio.to_thread(paused.reset)  # a restarted DRS endpoint: no jobs any more
        return await waiting

    event = run(main)

    assert event["status"] == "not_found"
    assert event["missing_job_ids"] == job_ids


def test_failed_polls_end_each_wait_by_its_own_error_timeout(paused, aws_conn):
    impatient, patient = start_jobs(aws_conn, SHOP_ALL[:2])

    async def main() -> list[dict[str, Any]]:
        quick = asyncio.create_task(
            first_event(trigger([impatient], aws_conn, error_timeout=1, botocore_config=ONE_ATTEMPT))
        )
        slow = asyncio.create_task(
            first_event(trigger([patient], aws_conn, error_timeout=300, botocore_config=ONE_ATTEMPT))
        )
        await until(lambda: ticks_seen() >= 1, "a first tick")
        await asyncio.to_thread(paused.set_faults, outage_seconds=600)
        gave_up = await quick
        assert not slow.done()
        failing = poller().tick
        assert failing is not None and failing.failing_since is not None
        await asyncio.to_thread(paused.end_outage)
        await asyncio.to_thread(paused.advance, 3600)
        return [gave_up, await slow]

    gave_up, done = run(main)

    assert gave_up["status"] == "error" and gave_up["job_ids"] == [impatient]
    assert "error_timeout 1 s" in gave_up["message"]
    assert "EndpointConnectionError" in gave_up["message"] or "connect" in gave_up["message"].lower()
    assert done["status"] == "success"
    assert paused.health()["outages"], "the outage really happened"


def test_waits_on_other_connections_poll_separately(paused, aws_conn, monkeypatch):
    first, second = start_jobs(aws_conn, SHOP_ALL[:2])
    monkeypatch.setenv("AIRFLOW_CONN_DRS_OTHER", os.environ["AIRFLOW_CONN_AWS_DEFAULT"])

    async def main() -> int:
        waits = [
            asyncio.create_task(first_event(trigger([first], aws_conn))),
            asyncio.create_task(first_event(trigger([second], "drs_other"))),
        ]
        await until(lambda: len(job_poller.active_pollers()) == 2, "two pollers")
        count = len(job_poller.active_pollers())
        await asyncio.to_thread(paused.advance, 3600)
        await asyncio.gather(*waits)
        return count

    assert run(main) == 2
    assert {tuple(asked(call)) for call in paused.calls("DescribeJobs")} == {(first,), (second,)}
