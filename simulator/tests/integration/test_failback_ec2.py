"""Failback of EC2 origins across regions, through real boto3 clients: each region's own servers,
ReverseReplication and the FAILBACK server it makes, its sync in simulated time, the launch home
with StartRecovery, re-protection, and the clean-up calls."""

from __future__ import annotations

import pytest

from drs_simulator.fleet_servers import DEFAULT_REVERSE_SYNC_SECONDS
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    EC2_SERVER_DEFAULT_SYNC,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
    SYNC_SECONDS,
    recover,
    recovery_instance,
    server_id_of,
    source_server,
)

pytestmark = pytest.mark.integration


def reversed_server(drs_simulator, west, east, server_id=EC2_SERVER):
    """Recover ``server_id`` in the recovery region and reverse its replication:
    (its recovery instance, the FAILBACK server)."""
    instance = recover(west, drs_simulator, server_id)
    arn = west.reverse_replication(recoveryInstanceID=instance["recoveryInstanceID"])[
        "reversedDirectionSourceServerArn"
    ]
    return instance, source_server(east, server_id_of(arn))


def test_each_region_sees_the_servers_registered_there(drs_simulator, west, east):
    assert sorted(s["sourceServerID"] for s in west.describe_source_servers()["items"]) == [
        EC2_SERVER,
        EC2_SERVER_DEFAULT_SYNC,
    ]
    assert [s["sourceServerID"] for s in east.describe_source_servers()["items"]] == [ON_PREMISES_SERVER]
    west_server = source_server(west, EC2_SERVER)
    assert west_server["arn"] == f"arn:aws:drs:{RECOVERY_REGION}:123456789012:source-server/{EC2_SERVER}"
    with pytest.raises(east.exceptions.ResourceNotFoundException):
        east.start_recovery(sourceServers=[{"sourceServerID": EC2_SERVER}])
    logged = [(call["operation"], call["region"]) for call in drs_simulator.calls()]
    assert ("DescribeSourceServers", RECOVERY_REGION) in logged
    assert ("DescribeSourceServers", ORIGIN_REGION) in logged
    assert ("StartRecovery", ORIGIN_REGION) in logged


def test_an_ec2_origin_shows_on_the_server_and_its_recovery_instance(drs_simulator, west, east):
    server = source_server(west, EC2_SERVER)
    assert server["replicationDirection"] == "FAILOVER"
    assert server["sourceCloudProperties"] == {
        "originAccountID": "123456789012",
        "originRegion": ORIGIN_REGION,
        "originAvailabilityZone": f"{ORIGIN_REGION}a",
    }
    assert server["sourceProperties"]["identificationHints"]["awsInstanceID"].startswith("i-")
    instance = recover(west, drs_simulator, EC2_SERVER)
    assert instance["originEnvironment"] == "AWS"
    assert instance["originAvailabilityZone"] == f"{ORIGIN_REGION}a"
    assert instance["failback"]["state"] == "FAILBACK_NOT_STARTED"
    assert instance["dataReplicationInfo"]["dataReplicationState"] == "NOT_STARTED"
    assert "reversedDirectionSourceServerArn" not in instance

    on_premises = source_server(east, ON_PREMISES_SERVER)
    assert "sourceCloudProperties" not in on_premises
    assert "awsInstanceID" not in on_premises["sourceProperties"]["identificationHints"]
    assert recover(east, drs_simulator, ON_PREMISES_SERVER)["originEnvironment"] == "ON_PREMISES"


def test_reverse_replication_makes_a_failback_server_that_syncs_in_simulated_time(drs_simulator, west, east):
    instance, failback = reversed_server(drs_simulator, west, east)
    assert failback["replicationDirection"] == "FAILBACK"
    assert failback["arn"].startswith(f"arn:aws:drs:{ORIGIN_REGION}:123456789012:source-server/s-")
    assert failback["sourceProperties"]["identificationHints"]["awsInstanceID"] == instance["ec2InstanceID"]
    assert failback["sourceCloudProperties"]["originRegion"] == RECOVERY_REGION
    assert failback["reversedDirectionSourceServerArn"] == source_server(west, EC2_SERVER)["arn"]
    assert failback["tags"] == {"App": "orders"}
    assert failback["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    # The model has no reversedDirectionSourceServerArn on a recovery instance: the link is on the
    # source server it was launched from.
    assert source_server(west, EC2_SERVER)["reversedDirectionSourceServerArn"] == failback["arn"]
    instance_now = recovery_instance(west, instance["recoveryInstanceID"])
    assert instance_now["failback"]["state"] == "FAILBACK_IN_PROGRESS"

    drs_simulator.advance(SYNC_SECONDS / 2)
    halfway = source_server(east, failback["sourceServerID"])["dataReplicationInfo"]
    assert halfway["dataReplicationState"] == "INITIAL_SYNC"
    (disk,) = halfway["replicatedDisks"]
    assert 0 < disk["replicatedStorageBytes"] < disk["totalStorageBytes"]
    assert "etaDateTime" in halfway
    mirrored = recovery_instance(west, instance["recoveryInstanceID"])["dataReplicationInfo"]
    assert mirrored["dataReplicationState"] == "INITIAL_SYNC"

    drs_simulator.advance(SYNC_SECONDS / 2)
    done = source_server(east, failback["sourceServerID"])["dataReplicationInfo"]
    assert done["dataReplicationState"] == "CONTINUOUS"
    (disk,) = done["replicatedDisks"]
    assert disk["replicatedStorageBytes"] == disk["totalStorageBytes"]
    assert recovery_instance(west, instance["recoveryInstanceID"])["failback"]["state"] == (
        "FAILBACK_READY_FOR_LAUNCH"
    )


def test_a_repeated_reverse_replication_answers_the_same_server(drs_simulator, west, east):
    instance, failback = reversed_server(drs_simulator, west, east)
    again = west.reverse_replication(recoveryInstanceID=instance["recoveryInstanceID"])
    assert again["reversedDirectionSourceServerArn"] == failback["arn"]
    servers = east.describe_source_servers()["items"]
    failback_ids = [s["sourceServerID"] for s in servers if s["replicationDirection"] == "FAILBACK"]
    assert failback_ids == [failback["sourceServerID"]]


def test_reversed_sync_takes_the_default_time_when_the_fleet_gives_none(drs_simulator, west, east):
    _, failback = reversed_server(drs_simulator, west, east, EC2_SERVER_DEFAULT_SYNC)
    drs_simulator.advance(DEFAULT_REVERSE_SYNC_SECONDS - 1)
    assert source_server(east, failback["sourceServerID"])["dataReplicationInfo"]["dataReplicationState"] != (
        "CONTINUOUS"
    )
    drs_simulator.advance(1)
    assert source_server(east, failback["sourceServerID"])["dataReplicationInfo"]["dataReplicationState"] == (
        "CONTINUOUS"
    )


def test_launching_the_failback_server_before_it_synced_fails_the_launch(drs_simulator, west, east):
    _, failback = reversed_server(drs_simulator, west, east)
    job = east.start_recovery(sourceServers=[{"sourceServerID": failback["sourceServerID"]}])["job"]
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    (result,) = east.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert result["participatingServers"][0]["launchStatus"] == "FAILED"


def test_failback_launches_home_and_re_protects_the_original_server(drs_simulator, west, east):
    _, failback = reversed_server(drs_simulator, west, east)
    drs_simulator.advance(SYNC_SECONDS)
    with pytest.raises(west.exceptions.ResourceNotFoundException):
        west.start_recovery(sourceServers=[{"sourceServerID": failback["sourceServerID"]}])
    home = recover(east, drs_simulator, failback["sourceServerID"])
    assert home["originEnvironment"] == "AWS"
    assert home["originAvailabilityZone"] == f"{RECOVERY_REGION}a"
    assert source_server(east, failback["sourceServerID"])["lastLaunchResult"] == "SUCCEEDED"

    original_arn = east.reverse_replication(recoveryInstanceID=home["recoveryInstanceID"])[
        "reversedDirectionSourceServerArn"
    ]
    original = source_server(west, EC2_SERVER)
    assert original_arn == original["arn"]
    assert original["dataReplicationInfo"]["dataReplicationState"] == "STALLED"
    assert original["sourceProperties"]["identificationHints"]["awsInstanceID"] == home["ec2InstanceID"]
    assert original["reversedDirectionSourceServerArn"] == failback["arn"]
    drs_simulator.advance(SYNC_SECONDS / 2)
    assert source_server(west, EC2_SERVER)["dataReplicationInfo"]["dataReplicationState"] == "RESCAN"
    drs_simulator.advance(SYNC_SECONDS / 2)
    assert source_server(west, EC2_SERVER)["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    # The original server can be recovered again: the next disaster finds it protected.
    assert recover(west, drs_simulator, EC2_SERVER)["sourceServerID"] == EC2_SERVER


def test_clean_up_after_failback_stops_disconnects_and_deletes(drs_simulator, west, east):
    instance, failback = reversed_server(drs_simulator, west, east)
    drs_simulator.advance(SYNC_SECONDS)
    failback_id = failback["sourceServerID"]
    home = recover(east, drs_simulator, failback_id)

    stopped = east.stop_replication(sourceServerID=failback_id)["sourceServer"]
    assert stopped["dataReplicationInfo"]["dataReplicationState"] == "STOPPED"
    with pytest.raises(east.exceptions.ConflictException):
        east.stop_replication(sourceServerID=failback_id)
    restarted = east.start_replication(sourceServerID=failback_id)["sourceServer"]
    assert restarted["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    drs_simulator.advance(SYNC_SECONDS)
    assert source_server(east, failback_id)["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    east.stop_replication(sourceServerID=failback_id)

    west.terminate_recovery_instances(recoveryInstanceIDs=[instance["recoveryInstanceID"]])
    drs_simulator.advance(60)
    assert west.describe_recovery_instances()["items"] == []

    with pytest.raises(east.exceptions.ConflictException) as caught:
        east.disconnect_source_server(sourceServerID=failback_id)  # it still has a recovery instance
    assert caught.value.response["resourceId"] == failback_id
    with pytest.raises(east.exceptions.ConflictException):
        east.delete_recovery_instance(recoveryInstanceID=home["recoveryInstanceID"])  # still connected
    east.disconnect_recovery_instance(recoveryInstanceID=home["recoveryInstanceID"])
    disconnected = recovery_instance(east, home["recoveryInstanceID"])["dataReplicationInfo"]
    assert disconnected["dataReplicationState"] == "DISCONNECTED"
    east.delete_recovery_instance(recoveryInstanceID=home["recoveryInstanceID"])
    assert east.describe_recovery_instances(filters={"sourceServerIDs": [failback_id]})["items"] == []

    with pytest.raises(east.exceptions.ConflictException):
        east.delete_source_server(sourceServerID=failback_id)  # not disconnected yet
    gone = east.disconnect_source_server(sourceServerID=failback_id)
    info = gone["dataReplicationInfo"]
    assert info["dataReplicationState"] == "DISCONNECTED"
    assert info["replicatedDisks"][0]["totalStorageBytes"] == 0
    assert "lagDuration" not in info
    response = east.delete_source_server(sourceServerID=failback_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert east.describe_source_servers(filters={"sourceServerIDs": [failback_id]})["items"] == []
    with pytest.raises(east.exceptions.ResourceNotFoundException):
        east.delete_source_server(sourceServerID=failback_id)
    # The connection answered 204 without a body: the next call on it still parses.
    assert [s["sourceServerID"] for s in east.describe_source_servers()["items"]] == [ON_PREMISES_SERVER]
