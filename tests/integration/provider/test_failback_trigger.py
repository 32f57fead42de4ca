"""DrsFailbackReadyTrigger against the simulator (two regions, the real aiobotocore client): a
reversed copy that syncs, one that stalls until the deadline, an on-premises instance whose
Failback Client connects, and servers DRS no longer knows."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.hooks.drs import DrsHook
from drs_provider.triggers.failback import DrsFailbackReadyTrigger
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    FLEET,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
    SYNC_SECONDS,
    server_id_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.integration

#: Real seconds between polls: the simulator answers at once.
POLL = 0.1


def recovered(hook: DrsHook, simulator: Any, server_id: str) -> dict[str, Any]:
    """Recover ``server_id`` for real (not a drill) and return its recovery instance."""
    hook.start_recovery_job([{"sourceServerID": server_id}], is_drill=False)
    simulator.advance(LAUNCH_SECONDS + 10)
    (instance,) = hook.recovery_instances_of([server_id])
    return instance


@pytest.fixture
def reversed_server(drs_simulator: Any, aws_conn: str) -> str:
    """The failback fleet at speed 0, ``EC2_SERVER`` recovered in the recovery region and reversed:
    the ID of its FAILBACK source server in the origin region, at the start of its copy."""
    drs_simulator.reset(fleet=FLEET, speed=0)
    west = DrsHook(aws_conn_id=aws_conn, region_name=RECOVERY_REGION)
    instance = recovered(west, drs_simulator, EC2_SERVER)
    return server_id_of(west.reverse_replication(instance["recoveryInstanceID"]))


def trigger(aws_conn: str, region: str, **kwargs: Any) -> DrsFailbackReadyTrigger:
    return DrsFailbackReadyTrigger(
        aws_conn_id=aws_conn, region_name=region, poll_interval=POLL, **{"timeout": 60, **kwargs}
    )


def polls_about(simulator: Any, operation: str, key: str, ids: list[str]) -> int:
    return sum(
        1
        for call in simulator.calls(operation)
        if set(call["request"].get("filters", {}).get(key, [])) & set(ids)
    )


async def first_event_after(
    waiting: DrsFailbackReadyTrigger, polled: Callable[[], bool], then: Callable[[], Any]
) -> dict[str, Any]:
    """Run ``waiting`` until ``polled()`` says it has looked at DRS, check it still waits, run
    ``then`` (in a thread: it calls the simulator), and return the trigger's first event."""
    run = waiting.run()
    first = asyncio.ensure_future(run.__anext__())
    try:
        async with asyncio.timeout(30):
            while not await asyncio.to_thread(polled):
                await asyncio.sleep(0.05)
        assert not first.done(), first.result().payload
        await asyncio.to_thread(then)
        event = await asyncio.wait_for(first, timeout=30)
    finally:
        first.cancel()
        await run.aclose()
    return dict(event.payload)


def first_event(waiting: DrsFailbackReadyTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in waiting.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(run())


def test_a_reversed_copy_that_syncs_is_ready(drs_simulator: Any, aws_conn: str, reversed_server: str) -> None:
    waiting = trigger(aws_conn, ORIGIN_REGION, source_server_ids=[reversed_server])

    def polled() -> bool:
        return polls_about(drs_simulator, "DescribeSourceServers", "sourceServerIDs", [reversed_server]) > 0

    event = asyncio.run(first_event_after(waiting, polled, lambda: drs_simulator.advance(SYNC_SECONDS + 60)))

    assert event["status"] == "ready", event
    assert event["servers"] == [reversed_server]
    assert event["states"] == {reversed_server: "CONTINUOUS"}
    assert event["region_name"] == ORIGIN_REGION


def test_a_stalled_copy_waits_until_the_deadline_and_the_timeout_names_it(
    drs_simulator: Any, aws_conn: str, reversed_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    east = DrsHook(aws_conn_id=aws_conn, region_name=ORIGIN_REGION)
    drs_simulator.advance(SYNC_SECONDS / 2)
    drs_simulator.set_faults(stall_reverse_sync=[EC2_SERVER])
    assert east.failback_readiness([reversed_server])[reversed_server].state == "STALLED"  # held from now
    drs_simulator.advance(SYNC_SECONDS * 3)  # long past when it would have synced

    event = first_event(trigger(aws_conn, ORIGIN_REGION, source_server_ids=[reversed_server], timeout=1))

    assert event["status"] == "timeout", event
    description = event["waiting"][reversed_server]
    assert re.fullmatch(
        rf"{reversed_server}: STALLED, 50% of [\d.]+ GiB copied, lag \w+, error UNSTABLE_NETWORK", description
    ), description
    assert event["message"] == f"failback servers not ready after 1.0s: {description}"
    # It was polled more than once: a STALLED copy does not end the wait; the log says why.
    assert polls_about(drs_simulator, "DescribeSourceServers", "sourceServerIDs", [reversed_server]) > 1
    logged = capsys.readouterr().out.splitlines()  # the trigger's log (Airflow's, on stdout)
    assert any(
        "warning" in line and reversed_server in line and "still waiting: replication STALLED" in line
        for line in logged
    ), logged


def test_an_on_premises_instance_is_ready_once_its_failback_client_connects(
    drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    east = DrsHook(aws_conn_id=aws_conn, region_name=ORIGIN_REGION)
    instance_id = recovered(east, drs_simulator, ON_PREMISES_SERVER)["recoveryInstanceID"]
    waiting = trigger(aws_conn, ORIGIN_REGION, recovery_instance_ids=[instance_id])

    def polled() -> bool:
        return (
            polls_about(drs_simulator, "DescribeRecoveryInstances", "recoveryInstanceIDs", [instance_id]) > 0
        )

    event = asyncio.run(
        first_event_after(waiting, polled, lambda: drs_simulator.connect_failback_client(instance_id))
    )

    assert event["status"] == "ready", event
    assert event["states"] == {instance_id: "FAILBACK_READY_FOR_LAUNCH"}
    assert east.failback_readiness(recovery_instance_ids=[instance_id])[instance_id].ready


def test_a_source_server_drs_does_not_know_fails_the_wait_naming_it(
    drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    unknown = "s-0f00000000000dead"

    event = first_event(trigger(aws_conn, ORIGIN_REGION, source_server_ids=[unknown]))

    assert event["status"] == "failed", event
    assert list(event["failed"]) == [unknown]
    assert unknown in event["message"] and "DRS does not know it" in event["message"]
    # Asked twice before giving up: DRS may list a server just created a moment late.
    assert polls_about(drs_simulator, "DescribeSourceServers", "sourceServerIDs", [unknown]) == 2


def test_a_disconnected_failback_server_fails_the_wait(
    drs_simulator: Any, aws_conn: str, reversed_server: str
) -> None:
    DrsHook(aws_conn_id=aws_conn, region_name=ORIGIN_REGION).conn.disconnect_source_server(
        sourceServerID=reversed_server
    )

    event = first_event(trigger(aws_conn, ORIGIN_REGION, source_server_ids=[reversed_server]))

    assert event["status"] == "failed", event
    assert "disconnected from DRS" in event["failed"][reversed_server]


def test_polls_failing_for_error_timeout_end_the_wait_naming_the_servers(
    drs_simulator: Any, aws_conn: str, reversed_server: str
) -> None:
    drs_simulator.set_faults(latency_seconds=3, latency_operations=["DescribeSourceServers"])
    waiting = trigger(
        aws_conn,
        ORIGIN_REGION,
        source_server_ids=[reversed_server],
        error_timeout=1,
        botocore_config={"read_timeout": 0.5, "retries": {"total_max_attempts": 1}},
    )

    event = first_event(waiting)

    assert event["status"] == "error", event
    assert reversed_server in event["message"]
    assert "Read timeout" in event["message"] and "error_timeout 1 s" in event["message"]
