"""DrsFailbackReadyTrigger without DRS: what it serialises, its deadline, and how it judges answers,
throttling and errors (a stand-in async client answers in turn)."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from drs_provider.triggers import failback
from drs_provider.triggers.failback import DrsFailbackReadyTrigger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.unit

SERVER = "s-0a000000000000001"
INSTANCE = "i-0a000000000000001"


def make_trigger(**overrides: Any) -> DrsFailbackReadyTrigger:
    kwargs: dict[str, Any] = {
        "source_server_ids": [SERVER],
        "recovery_instance_ids": [INSTANCE],
        "timeout": 7200,
        "deadline": 1_800_000_000.5,
        "poll_interval": 15,
        "error_timeout": 120,
        "aws_conn_id": "drs_conn",
        "region_name": "us-east-1",
        "verify": "/etc/ssl/ca.pem",
        "botocore_config": {"retries": {"mode": "standard"}, "read_timeout": 42},
    }
    return DrsFailbackReadyTrigger(**{**kwargs, **overrides})


def import_string(classpath: str) -> Any:
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_serialize_round_trip_keeps_every_argument() -> None:
    classpath, kwargs = make_trigger().serialize()

    rebuilt = import_string(classpath)(**json.loads(json.dumps(kwargs)))

    assert classpath == "drs_provider.triggers.failback.DrsFailbackReadyTrigger"
    assert rebuilt.serialize() == (classpath, kwargs)
    assert (kwargs["source_server_ids"], kwargs["recovery_instance_ids"]) == ([SERVER], [INSTANCE])
    assert (kwargs["timeout"], kwargs["deadline"], kwargs["poll_interval"]) == (7200, 1_800_000_000.5, 15)
    hook = rebuilt.hook()
    assert (hook.aws_conn_id, hook.region_name, hook.verify) == ("drs_conn", "us-east-1", "/etc/ssl/ca.pem")


def test_a_recreated_trigger_keeps_the_first_ones_deadline() -> None:
    before = time.time()
    first = DrsFailbackReadyTrigger(source_server_ids=[SERVER], timeout=600)
    assert before + 600 <= first.deadline <= time.time() + 600

    _, kwargs = first.serialize()
    time.sleep(0.01)  # a triggerer restart, later
    again = DrsFailbackReadyTrigger(**kwargs)

    assert again.deadline == first.deadline
    assert "region_name" not in kwargs and "verify" not in kwargs  # None is not serialised


def info(state: str, share: float = 0.5) -> dict[str, Any]:
    total = 10 * 2**30
    return {
        "dataReplicationState": state,
        "lagDuration": "PT3M5S",
        "replicatedDisks": [{"totalStorageBytes": total, "replicatedStorageBytes": int(total * share)}],
    }


def server(state: str, share: float = 0.5, server_id: str = SERVER) -> dict[str, Any]:
    return {"sourceServerID": server_id, "dataReplicationInfo": info(state, share)}


def instance(failback_state: str, instance_id: str = INSTANCE) -> dict[str, Any]:
    return {
        "recoveryInstanceID": instance_id,
        "failback": {"state": failback_state},
        "dataReplicationInfo": info("CONTINUOUS", 1.0),
    }


def throttled(retry_after: str) -> ClientError:
    response: Any = {
        "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPHeaders": {"retry-after": retry_after}},
    }
    return ClientError(response, "DescribeSourceServers")


def client_error(code: str) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": f"{code} happened"}}
    return ClientError(response, "DescribeSourceServers")


class Paginator:
    def __init__(self, client: FakeClient, operation: str) -> None:
        self.client, self.operation = client, operation

    async def paginate(self, filters: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        self.client.asked.append((self.operation, filters, time.monotonic()))
        answers = self.client.answers[self.operation]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]  # the last answer repeats
        if isinstance(answer, Exception):
            raise answer
        yield {"items": answer}


class FakeClient:
    """Answers each Describe operation from its list, in turn."""

    def __init__(self, **answers: list[Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any], float]] = []

    def get_paginator(self, operation: str) -> Paginator:
        return Paginator(self, operation)


def wait(trigger: DrsFailbackReadyTrigger, client: FakeClient) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        servers = [SERVER] if "describe_source_servers" in client.answers else []
        instances = [INSTANCE] if "describe_recovery_instances" in client.answers else []
        event = await trigger._wait(client, servers, instances)
        return dict(event.payload)

    return asyncio.run(run())


def quick(**overrides: Any) -> DrsFailbackReadyTrigger:
    return DrsFailbackReadyTrigger(**{"poll_interval": 0.01, "timeout": 5, "region_name": "r", **overrides})


def test_servers_of_both_kinds_are_ready_together() -> None:
    client = FakeClient(
        describe_source_servers=[[server("INITIAL_SYNC")], [server("CONTINUOUS", 1.0)]],
        describe_recovery_instances=[[instance("FAILBACK_COMPLETED")]],
    )

    event = wait(quick(), client)

    assert event == {
        "status": "ready",
        "servers": [SERVER, INSTANCE],
        "region_name": "r",
        "message": "2 failback server(s) ready to launch",
        "states": {SERVER: "CONTINUOUS", INSTANCE: "FAILBACK_COMPLETED"},
    }
    asked = [(operation, filters) for operation, filters, _ in client.asked]
    assert asked[:2] == [
        ("describe_source_servers", {"sourceServerIDs": [SERVER]}),
        ("describe_recovery_instances", {"recoveryInstanceIDs": [INSTANCE]}),
    ]


def test_the_timeout_names_each_server_not_ready_with_its_state_and_progress() -> None:
    client = FakeClient(
        describe_source_servers=[[server("STALLED", 0.4)]],
        describe_recovery_instances=[[instance("FAILBACK_ERROR")]],
    )

    event = wait(quick(timeout=0.05), client)

    assert event["status"] == "timeout"
    assert event["waiting"] == {
        SERVER: f"{SERVER}: STALLED, 40% of 10.0 GiB copied, lag 3m05s",
        INSTANCE: f"{INSTANCE}: FAILBACK_ERROR (replication CONTINUOUS, 100% of 10.0 GiB copied, lag 3m05s)",
    }
    assert event["message"] == (
        f"failback servers not ready after 0.1s: {SERVER}: STALLED, 40% of 10.0 GiB copied, lag 3m05s; "
        f"{INSTANCE}: FAILBACK_ERROR (replication CONTINUOUS, 100% of 10.0 GiB copied, lag 3m05s)"
    )
    assert len(client.asked) > 2  # neither a stalled copy nor a failback error ended the wait


def test_a_server_missing_from_two_answers_in_a_row_fails_the_wait() -> None:
    client = FakeClient(describe_source_servers=[[server("INITIAL_SYNC")], [], []])

    event = wait(quick(), client)

    assert event["status"] == "failed"
    assert list(event["failed"]) == [SERVER]
    assert len(client.asked) == 3


def test_throttling_waits_the_retry_after_and_never_counts_as_failing() -> None:
    client = FakeClient(
        describe_source_servers=[throttled("0.2"), throttled("0.2"), [server("CONTINUOUS", 1.0)]]
    )

    event = wait(quick(error_timeout=0), client)

    assert event["status"] == "ready"
    times = [at for _, _, at in client.asked]
    assert times[1] - times[0] >= 0.19 and times[2] - times[1] >= 0.19


def test_transient_errors_are_ridden_out_until_error_timeout() -> None:
    client = FakeClient(describe_source_servers=[client_error("InternalServerException")])

    event = wait(quick(error_timeout=0.05), client)

    assert event["status"] == "error"
    assert event["servers"] == [SERVER]
    assert "error_timeout 0.05 s" in event["message"] and "InternalServerException" in event["message"]
    assert len(client.asked) > 1


def test_a_transient_error_between_answers_does_not_end_the_wait() -> None:
    client = FakeClient(
        describe_source_servers=[
            [server("INITIAL_SYNC")],
            client_error("ServiceUnavailable"),
            [server("CONTINUOUS", 1.0)],
        ]
    )

    assert wait(quick(error_timeout=1), client)["status"] == "ready"


def test_an_error_no_poll_gets_past_ends_the_wait_at_once() -> None:
    client = FakeClient(describe_source_servers=[client_error("AccessDeniedException")])

    event = wait(quick(), client)

    assert event["status"] == "error"
    assert "AccessDeniedException" in event["message"]
    assert len(client.asked) == 1


def test_a_poll_that_hangs_past_the_deadline_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging(FakeClient):
        def get_paginator(self, operation: str) -> Any:
            class Forever:
                async def paginate(self, filters: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
                    await asyncio.sleep(3600)
                    yield {}

            return Forever()

    monkeypatch.setattr(failback, "POLL_GRACE_SECONDS", 0.05)

    event = wait(quick(timeout=0.05, error_timeout=3600), Hanging(describe_source_servers=[]))

    assert event["status"] == "timeout"
    assert event["waiting"] == {SERVER: f"{SERVER}: not listed by DRS"}


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({}, "no source servers or recovery instances to wait for"),
        ({"source_server_ids": "{not a list"}, "source_server_ids: cannot read"),
    ],
)
def test_nothing_or_garbage_to_wait_for_is_an_error_event(kwargs: dict[str, Any], says: str) -> None:
    async def run() -> dict[str, Any]:
        async for event in DrsFailbackReadyTrigger(**kwargs).run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(run())

    assert event["status"] == "error"
    assert says in event["message"]
