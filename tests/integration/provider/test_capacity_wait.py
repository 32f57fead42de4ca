"""A launch over the account's DRS capacity waits in the triggerer, then launches: against the simulator.

The simulator refuses a job over its quotas exactly as DRS does (HTTP 402
ServiceQuotaExceededException with the quota's code).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from drs_provider.exceptions import DrsCapacityError, DrsQuotaError
from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.triggers.capacity import DrsCapacityTrigger, account_of
from tests.integration.provider.conftest import SHOP_APP, SHOP_DB, make_context

pytestmark = pytest.mark.integration


def operator(task_id: str, servers: list[str], **kwargs: Any) -> DrsStartRecoveryOperator:
    return DrsStartRecoveryOperator(
        task_id=task_id, source_server_ids=servers, waiter_delay=1, waiter_max_attempts=120, **kwargs
    )


def launched_servers(drs_simulator: Any) -> list[str]:
    jobs = drs_simulator.client().describe_jobs(filters={})["items"]
    return sorted(server["sourceServerID"] for job in jobs for server in job["participatingServers"])


def test_without_waiting_a_refusal_for_capacity_fails_naming_the_numbers(
    drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(speed=0)  # jobs stay active
    drs_simulator.set_quotas(max_concurrent_jobs=1)
    operator("db", SHOP_DB, aws_conn_id=aws_conn).execute(make_context("db"))

    with pytest.raises(DrsCapacityError) as caught:
        operator("app", SHOP_APP, aws_conn_id=aws_conn).execute(make_context("app"))

    assert (caught.value.quota_code, caught.value.active_jobs, caught.value.active_servers) == (
        "max-concurrent-jobs",
        1,
        2,
    )


def deferred_behind_db(
    drs_simulator: Any, aws_conn: str, **kwargs: Any
) -> tuple[DrsStartRecoveryOperator, dict[str, Any], pytest.ExceptionInfo[TaskDeferred]]:
    """The app wave, refused while the db wave's job holds the account's only job, deferred to
    the capacity trigger: its operator, context and deferral."""
    drs_simulator.reset(speed=0)  # jobs stay active
    drs_simulator.set_quotas(max_concurrent_jobs=1)
    operator("db", SHOP_DB, aws_conn_id=aws_conn).execute(make_context("db"))
    waiting = operator("app", SHOP_APP, aws_conn_id=aws_conn, wait_for_capacity=True, **kwargs)
    context = make_context("app")
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute(context)
    return waiting, context, deferred


def test_a_launch_over_capacity_waits_for_a_job_to_end_then_launches_once(
    drs_simulator: Any, aws_conn: str
) -> None:
    waiting, context, deferred = deferred_behind_db(drs_simulator, aws_conn, priority=3)

    trigger = deferred.value.trigger
    assert isinstance(trigger, DrsCapacityTrigger)
    assert (deferred.value.method_name, trigger.max_jobs, trigger.need.jobs, trigger.need.servers) == (
        "execute_after_capacity",
        1,  # learned from the refusal: one job active was one too many
        1,
        2,
    )
    assert (trigger.need.recovery, trigger.need.priority) == (False, 3)
    assert context["ti"].xcom["capacity_wait"] == (
        "waiting for DRS capacity: 1 of 1 jobs active, 2 of 500 servers in active jobs; "
        "1 job(s) for 2 server(s) still to launch"
    )
    assert launched_servers(drs_simulator) == sorted(SHOP_DB)

    async def wait_out() -> dict[str, Any]:
        run = trigger.run()
        first = asyncio.ensure_future(run.__anext__())
        account = account_of(trigger.hook_parameters)
        while account.polled_at == float("-inf"):  # the wait has looked at DRS once: still full
            await asyncio.sleep(0.05)
        assert not first.done() and account.active == (1, 2)
        await asyncio.to_thread(drs_simulator.advance, 3600)  # the db job ends
        event = await asyncio.wait_for(first, timeout=60)
        return dict(event.payload)

    event = asyncio.run(wait_out())

    assert event["status"] == "capacity"
    job_ids = waiting.execute_after_capacity(context, event, **deferred.value.kwargs)
    assert len(job_ids) == 1
    assert launched_servers(drs_simulator) == sorted(SHOP_DB + SHOP_APP)  # each server exactly once


def test_once_the_last_wait_has_launched_its_account_publishes_an_empty_queue(
    drs_simulator: Any, aws_conn: str
) -> None:
    waiting, context, deferred = deferred_behind_db(drs_simulator, aws_conn)
    trigger = deferred.value.trigger
    assert isinstance(trigger, DrsCapacityTrigger)

    async def let_go_then_launch() -> tuple[Any, ...]:
        account = account_of(trigger.hook_parameters)
        await asyncio.to_thread(drs_simulator.advance, 3600)  # the db job ends
        event = await asyncio.wait_for(trigger.run().__anext__(), timeout=60)
        held = account.published  # the share kept for the wait let go, until its job shows
        await asyncio.to_thread(
            waiting.execute_after_capacity, context, dict(event.payload), **deferred.value.kwargs
        )
        async with asyncio.timeout(30):  # no wait is left to publish: the account's watcher does
            while account.published:
                await asyncio.sleep(0.1)
        return held

    held = asyncio.run(let_go_then_launch())

    assert [(entry.recovery, entry.priority, entry.until is not None) for entry in held] == [(False, 0, True)]
    assert len(drs_simulator.calls("StartRecovery")) == 3  # db, app refused, app once let go


def test_a_capacity_wait_that_times_out_fails_as_a_verdict(drs_simulator: Any, aws_conn: str) -> None:
    waiting = operator("app", SHOP_APP, aws_conn_id=aws_conn, wait_for_capacity=True)

    with pytest.raises(DrsQuotaError, match="app: no DRS capacity after 5 s"):
        waiting.execute_after_capacity(
            make_context("app"), {"status": "timeout", "message": "no DRS capacity after 5 s: 1 of 1 jobs"}
        )
    assert drs_simulator.calls("StartRecovery") == []


def test_a_launch_behind_the_queue_defers_before_looking_up_snapshots(
    drs_simulator: Any, drs_hook: Any
) -> None:
    from drs_provider.operators.recovery_arguments import RecoveryArguments
    from drs_provider.operators.recovery_jobs import JobStarter, WaitForCapacity

    args = RecoveryArguments(
        source_server_ids=SHOP_DB + SHOP_APP,
        tags={},
        optional_source_server_ids=[],
        optional_tags={},
        is_drill=True,
        point_in_time=datetime.now(UTC),
        max_servers_per_job=3,
        job_tags={},
    )
    starter = JobStarter(drs_hook, "app", logging.getLogger(__name__), waits_ahead=lambda: 2)
    identity = {"airflow:task_id": "app"}

    with pytest.raises(WaitForCapacity) as waiting:
        starter.start_jobs(None, SHOP_DB + SHOP_APP, identity, {}, True, 3, args)

    assert (waiting.value.jobs, waiting.value.servers, waiting.value.ahead) == (2, 4, 2)
    # it asked DRS only whether it had launched already: no snapshot lookup, no launch
    assert {call["operation"] for call in drs_simulator.calls()} == {"DescribeJobs"}
