"""Failback as DRS shows it: a recovered server's origin, its FAILBACK server, its copy's progress."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from drs_provider.recovery.failback import (
    Origin,
    failback_server_for,
    origin_of,
    recovery_instance_readiness,
    source_server_readiness,
    sync_progress,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("zone", "region"),
    [("us-east-1a", "us-east-1"), ("eu-central-2b", "eu-central-2"), ("us-east-1-bos-1a", "us-east-1")],
)
def test_an_ec2_origin_is_in_the_region_of_its_availability_zone(zone: str, region: str) -> None:
    instance = {"recoveryInstanceID": "i-1", "originEnvironment": "AWS", "originAvailabilityZone": zone}
    assert origin_of(instance) == Origin("AWS", region)
    assert origin_of(instance).is_aws


def test_an_on_premises_origin_has_no_region() -> None:
    origin = origin_of({"originEnvironment": "ON_PREMISES"})
    assert (origin, origin.is_aws) == (Origin("ON_PREMISES", None), False)


@pytest.mark.parametrize(
    ("instance", "says"),
    [
        ({"recoveryInstanceID": "i-9"}, "recovery instance i-9: DRS gives no origin environment (None)"),
        (
            {"recoveryInstanceID": "i-9", "originEnvironment": "AWS", "originAvailabilityZone": "nowhere"},
            "recovery instance i-9: an EC2 origin, but its originAvailabilityZone 'nowhere' names no region",
        ),
    ],
)
def test_an_origin_drs_does_not_give_is_an_error_naming_the_instance(instance: dict, says: str) -> None:
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(").replace(")", r"\)") + "$"):
        origin_of(instance)


def server(server_id: str, instance: str, *, direction: str = "FAILBACK", state: str = "CONTINUOUS") -> dict:
    return {
        "sourceServerID": server_id,
        "replicationDirection": direction,
        "sourceProperties": {"identificationHints": {"awsInstanceID": instance}},
        "dataReplicationInfo": {"dataReplicationState": state},
    }


def test_the_failback_server_of_an_instance_is_the_live_failback_one_naming_it() -> None:
    servers = [
        server("s-failover", "i-1", direction="FAILOVER"),
        server("s-gone", "i-1", state="DISCONNECTED"),
        server("s-other", "i-2"),
        server("s-home", "i-1"),
    ]
    assert failback_server_for("i-1", servers) == servers[3]
    assert failback_server_for("i-3", servers) is None


def test_two_live_failback_servers_for_one_instance_are_a_persons_call() -> None:
    with pytest.raises(ValueError, match="EC2 instance i-1 has several FAILBACK source servers: s-a, s-b"):
        failback_server_for("i-1", [server("s-b", "i-1"), server("s-a", "i-1")])


def test_a_copy_under_way_says_how_far_it_got() -> None:
    info: dict[str, Any] = {
        "dataReplicationState": "INITIAL_SYNC",
        "lagDuration": "PT3M5S",
        "etaDateTime": "2026-12-06T10:00:00+00:00",
        "replicatedDisks": [
            {"totalStorageBytes": 8 * 2**30, "replicatedStorageBytes": 2 * 2**30},
            {"totalStorageBytes": 2 * 2**30, "replicatedStorageBytes": 2 * 2**30},
        ],
    }
    progress = sync_progress({"sourceServerID": "s-1", "dataReplicationInfo": info})

    assert (progress.synced, progress.stuck, progress.lag_seconds) == (False, False, 185.0)
    assert progress.eta == datetime(2026, 12, 6, 10, tzinfo=UTC)
    assert progress.describe() == (
        "s-1: INITIAL_SYNC, 40% of 10.0 GiB copied, lag 3m05s, ETA 2026-12-06 10:00:00 UTC"
    )


def test_a_stalled_copy_is_stuck_and_says_its_error() -> None:
    info = {"dataReplicationState": "STALLED", "dataReplicationError": {"error": "AGENT_NOT_SEEN"}}
    progress = sync_progress({"sourceServerID": "s-1", "dataReplicationInfo": info})

    assert (progress.synced, progress.stuck) == (False, True)
    assert progress.describe() == "s-1: STALLED, error AGENT_NOT_SEEN"
    assert sync_progress({"sourceServerID": "s-2"}).state == "UNKNOWN"


def copying(state: str, share: float = 0.25, **extra: Any) -> dict[str, Any]:
    total = 4 * 2**30
    disk = {"totalStorageBytes": total, "replicatedStorageBytes": int(total * share)}
    return {"dataReplicationState": state, "replicatedDisks": [disk], **extra}


@pytest.mark.parametrize(
    ("state", "ready", "lost", "trouble"),
    [
        ("CONTINUOUS", True, None, None),
        ("INITIAL_SYNC", False, None, None),
        ("STALLED", False, None, "replication STALLED (UNSTABLE_NETWORK): the copy is not going on"),
        ("PAUSED", False, None, "replication PAUSED (UNSTABLE_NETWORK): the copy is not going on"),
        ("DISCONNECTED", False, "disconnected from DRS: its replication does not resume by itself", None),
    ],
)
def test_a_failback_server_is_ready_once_continuous_and_lost_once_disconnected(
    state: str, ready: bool, lost: str | None, trouble: str | None
) -> None:
    error = {"dataReplicationError": {"error": "UNSTABLE_NETWORK"}} if trouble else {}
    readiness = source_server_readiness(
        {"sourceServerID": "s-1", "dataReplicationInfo": copying(state, **error)}
    )

    assert (readiness.server_id, readiness.state, readiness.ready) == ("s-1", state, ready)
    assert (readiness.lost, readiness.trouble, readiness.copied_percent) == (lost, trouble, 25.0)
    assert readiness.description.startswith(f"s-1: {state}, 25% of 4.0 GiB copied")


@pytest.mark.parametrize(
    ("failback_state", "replication", "ready", "lost", "trouble"),
    [
        ("FAILBACK_READY_FOR_LAUNCH", "CONTINUOUS", True, None, None),
        ("FAILBACK_COMPLETED", "DISCONNECTED", True, None, None),  # home already: nothing to wait for
        ("FAILBACK_NOT_STARTED", "NOT_STARTED", False, None, None),
        ("FAILBACK_IN_PROGRESS", "INITIAL_SYNC", False, None, None),
        (
            "FAILBACK_ERROR",
            "CONTINUOUS",
            False,
            None,
            "FAILBACK_ERROR: reconnecting the Failback Client retries it",
        ),
        (
            "FAILBACK_IN_PROGRESS",
            "DISCONNECTED",
            False,
            "disconnected from DRS: no Failback Client can reach it",
            None,
        ),
    ],
)
def test_an_on_premises_instance_is_ready_for_launch_once_its_client_connected(
    failback_state: str, replication: str, ready: bool, lost: str | None, trouble: str | None
) -> None:
    item = {
        "recoveryInstanceID": "i-1",
        "failback": {"state": failback_state},
        "dataReplicationInfo": copying(replication),
    }

    readiness = recovery_instance_readiness(item)

    assert (readiness.server_id, readiness.state, readiness.ready) == ("i-1", failback_state, ready)
    assert (readiness.lost, readiness.trouble) == (lost, trouble)
    assert (
        readiness.description == f"i-1: {failback_state} (replication {replication}, 25% of 4.0 GiB copied)"
    )
    assert recovery_instance_readiness({"recoveryInstanceID": "i-2"}).description == (
        "i-2: UNKNOWN (replication UNKNOWN)"
    )


def test_a_copy_without_disk_sizes_has_no_share() -> None:
    progress = sync_progress({"dataReplicationInfo": {"dataReplicationState": "INITIATING"}}, server_id="i-9")

    assert (progress.server_id, progress.copied_percent, progress.details()) == ("i-9", None, "INITIATING")


def test_a_copy_not_ready_in_time_is_a_verdict_that_names_the_servers_and_crosses_processes() -> None:
    from drs_provider.exceptions import DrsFailbackWaitError
    from drs_provider.factory.retries import VERDICTS

    waiting = "s-1 (db-1), FAILBACK source server s-9: STALLED, lag 3m05s"
    error = pickle.loads(pickle.dumps(DrsFailbackWaitError("db.start_recovery", 3600, waiting)))

    assert str(error) == (
        f"db.start_recovery: not ready to fail back after 3600 s (failback_sync_timeout): {waiting}"
    )
    # a retry would wait the whole timeout again for the same copy
    assert DrsFailbackWaitError in VERDICTS
