"""Failback faults through real boto3 clients: a reversed sync that stalls, an agent still
starting, a failed failback launch, and a region where DRS is not initialized."""

from __future__ import annotations

import pytest

from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    SYNC_SECONDS,
    logged,
    recover,
    recovery_instance,
    reverse,
    source_server,
)
from integration.helpers import raw_call

pytestmark = pytest.mark.integration


def replication_state(client, server_id):
    return source_server(client, server_id)["dataReplicationInfo"]["dataReplicationState"]


def test_a_stalled_reversed_sync_stays_stalled_and_resumes_where_it_stopped(drs_simulator, west, east):
    instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    failback = reverse(west, instance)
    drs_simulator.advance(SYNC_SECONDS / 2)
    drs_simulator.set_faults(stall_reverse_sync=[EC2_SERVER])
    info = source_server(east, failback)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "STALLED"
    assert info["dataReplicationError"]["error"] == "UNSTABLE_NETWORK"
    stalled_at = info["replicatedDisks"][0]["replicatedStorageBytes"]
    assert recovery_instance(west, instance)["dataReplicationInfo"]["dataReplicationState"] == "STALLED"

    drs_simulator.advance(SYNC_SECONDS * 3)  # long past when it would have finished
    info = source_server(east, failback)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "STALLED"
    assert info["replicatedDisks"][0]["replicatedStorageBytes"] == stalled_at

    drs_simulator.set_faults()  # the network is back: the copy goes on from where it stopped
    assert replication_state(east, failback) == "INITIAL_SYNC"
    drs_simulator.advance(SYNC_SECONDS / 2 - 1)
    assert replication_state(east, failback) == "INITIAL_SYNC"
    drs_simulator.advance(1)
    assert replication_state(east, failback) == "CONTINUOUS"


def test_a_stall_set_before_reversing_holds_the_new_failback_server(drs_simulator, west, east):
    instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    drs_simulator.set_faults(stall_reverse_sync=[EC2_SERVER])
    failback = reverse(west, instance)
    drs_simulator.advance(SYNC_SECONDS * 2)
    assert replication_state(east, failback) == "STALLED"
    assert recovery_instance(west, instance)["failback"]["state"] == "FAILBACK_IN_PROGRESS"


def test_reverse_replication_conflicts_for_the_first_calls_while_the_agent_starts(drs_simulator, west):
    instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    drs_simulator.set_faults(agent_starting_count=2)
    for _ in range(2):
        with pytest.raises(west.exceptions.ConflictException) as caught:
            west.reverse_replication(recoveryInstanceID=instance)
        assert caught.value.response["resourceId"] == instance
        assert "still starting" in caught.value.response["Error"]["Message"]
    assert west.reverse_replication(recoveryInstanceID=instance)["reversedDirectionSourceServerArn"]
    assert [c["error"] for c in drs_simulator.calls("ReverseReplication")] == [
        "ConflictException",
        "ConflictException",
        None,
    ]


def test_reverse_replication_conflicts_until_the_agent_has_started(drs_simulator, west):
    drs_simulator.set_faults(agent_starting_seconds=300)
    west.start_recovery(sourceServers=[{"sourceServerID": EC2_SERVER}])
    drs_simulator.advance(LAUNCH_SECONDS + 2)  # launched a moment ago
    (instance,) = west.describe_recovery_instances()["items"]
    with pytest.raises(west.exceptions.ConflictException):
        west.reverse_replication(recoveryInstanceID=instance["recoveryInstanceID"])
    drs_simulator.advance(300)
    assert west.reverse_replication(recoveryInstanceID=instance["recoveryInstanceID"])


def test_a_failed_failback_launch_ends_in_failback_error(drs_simulator, east):
    instance = recover(east, drs_simulator, ON_PREMISES_SERVER)["recoveryInstanceID"]
    drs_simulator.connect_failback_client(instance)
    drs_simulator.set_faults(fail_failback_servers={ON_PREMISES_SERVER: "Boot volume conversion failed"})
    job = east.start_failback_launch(recoveryInstanceIDs=[instance])["job"]
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    (done,) = east.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert done["status"] == "COMPLETED"
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    assert recovery_instance(east, instance)["failback"]["state"] == "FAILBACK_ERROR"
    (failed,) = logged(east, job["jobID"], "LAUNCH_FAILED")
    assert failed["eventData"]["rawError"] == "Boot volume conversion failed"
    # A Failback Client may connect again after an error, and the next launch succeeds.
    drs_simulator.set_faults()
    drs_simulator.connect_failback_client(instance)
    east.start_failback_launch(recoveryInstanceIDs=[instance])
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    assert recovery_instance(east, instance)["failback"]["state"] == "FAILBACK_COMPLETED"


def test_an_uninitialized_region_answers_every_call_and_refuses_failback_into_it(drs_simulator, west, east):
    instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    drs_simulator.set_faults(uninitialized_regions=[ORIGIN_REGION])
    with pytest.raises(east.exceptions.UninitializedAccountException) as caught:
        east.describe_source_servers()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(west.exceptions.UninitializedAccountException):
        west.reverse_replication(recoveryInstanceID=instance)
    assert west.describe_source_servers()["items"]  # the recovery region is initialized
    assert source_server(west, EC2_SERVER).get("reversedDirectionSourceServerArn") is None


@pytest.mark.parametrize(
    "body",
    [
        {"stall_reverse_sync": "s-0f000000000000e01"},
        {"agent_starting_count": -1},
        {"agent_starting_seconds": "soon"},
        {"fail_failback_servers": {"s-0f000000000000p01": ""}},
        {"uninitialized_regions": [1]},
    ],
)
def test_bad_failback_faults_are_refused(drs_simulator, body):
    status, _, answer = raw_call(drs_simulator.url, "POST", "/_simulator/faults", body, auth=False)
    assert status == 400
    assert next(iter(body)) in answer["error"]
