"""On-premises failback through real boto3 clients: the Failback Client control call,
StartFailbackLaunch and its job, StopFailback, and the errors of each."""

from __future__ import annotations

import pytest

from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    FLEET,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
    logged,
    recover,
    recovery_instance,
)
from integration.helpers import raw_call

pytestmark = pytest.mark.integration


@pytest.fixture
def east(drs_simulator, make_drs):
    drs_simulator.reset(fleet=FLEET, speed=0)
    return make_drs(region=ORIGIN_REGION)


@pytest.fixture
def instance_id(drs_simulator, east):
    """A live recovery instance of the on-premises server."""
    return recover(east, drs_simulator, ON_PREMISES_SERVER)["recoveryInstanceID"]


def failback_state(east, instance_id):
    return recovery_instance(east, instance_id)["failback"]["state"]


def test_a_connected_failback_client_makes_the_instance_ready(drs_simulator, east, instance_id):
    before = recovery_instance(east, instance_id)
    assert before["failback"]["state"] == "FAILBACK_NOT_STARTED"
    assert "failbackClientID" not in before["failback"]
    answer = drs_simulator.connect_failback_client(instance_id)
    assert answer["region"] == ORIGIN_REGION
    assert answer["recoveryInstanceID"] == instance_id
    after = recovery_instance(east, instance_id)
    assert after["failback"]["state"] == "FAILBACK_READY_FOR_LAUNCH"
    assert after["failback"]["failbackClientID"]
    assert "failbackClientLastSeenByServiceDateTime" in after["failback"]
    assert after["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"


def test_failback_launch_runs_a_job_and_completes_the_failback(drs_simulator, east, instance_id):
    drs_simulator.connect_failback_client(instance_id)
    job = east.start_failback_launch(recoveryInstanceIDs=[instance_id], tags={"run": "failback-1"})["job"]
    assert job["type"] == "LAUNCH"
    assert job["initiatedBy"] == "FAILBACK"
    assert job["tags"] == {"run": "failback-1"}
    assert job["participatingServers"] == [
        {"sourceServerID": ON_PREMISES_SERVER, "recoveryInstanceID": instance_id, "launchStatus": "PENDING"}
    ]
    in_progress = recovery_instance(east, instance_id)["failback"]
    assert in_progress["state"] == "FAILBACK_IN_PROGRESS"
    assert in_progress["failbackJobID"] == job["jobID"]
    assert "failbackInitiationTime" in in_progress
    with pytest.raises(east.exceptions.ConflictException):  # its server is busy in the job
        east.start_recovery(sourceServers=[{"sourceServerID": ON_PREMISES_SERVER}])

    drs_simulator.advance(LAUNCH_SECONDS + 10)
    (done,) = east.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert done["status"] == "COMPLETED"
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    assert failback_state(east, instance_id) == "FAILBACK_COMPLETED"
    events = [item["event"] for item in east.describe_job_log_items(jobID=job["jobID"])["items"]]
    assert events == ["JOB_START", "CONVERSION_START", "CONVERSION_END", "LAUNCH_START", "JOB_END"]


def test_stop_failback_returns_the_instance_to_not_started(drs_simulator, east, instance_id):
    drs_simulator.connect_failback_client(instance_id)
    assert east.stop_failback(recoveryInstanceID=instance_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    stopped = recovery_instance(east, instance_id)["failback"]
    assert stopped["state"] == "FAILBACK_NOT_STARTED"
    assert "failbackClientID" not in stopped
    with pytest.raises(east.exceptions.ConflictException):  # the client has to connect again
        east.start_failback_launch(recoveryInstanceIDs=[instance_id])


def test_stop_failback_during_the_launch_fails_that_server(drs_simulator, east, instance_id):
    drs_simulator.connect_failback_client(instance_id)
    job = east.start_failback_launch(recoveryInstanceIDs=[instance_id])["job"]
    drs_simulator.advance(10)
    east.stop_failback(recoveryInstanceID=instance_id)
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    (done,) = east.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    assert failback_state(east, instance_id) == "FAILBACK_NOT_STARTED"
    (failed,) = logged(east, job["jobID"], "LAUNCH_FAILED")
    assert "StopFailback" in failed["eventData"]["rawError"]


def test_failback_launch_needs_a_connected_client(east, instance_id):
    with pytest.raises(east.exceptions.ConflictException) as caught:
        east.start_failback_launch(recoveryInstanceIDs=[instance_id])
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert response["resourceId"] == instance_id
    assert response["resourceType"] == "RECOVERY_INSTANCE"
    assert "FAILBACK_NOT_STARTED" in response["Error"]["Message"]
    assert east.describe_jobs()["items"][-1]["initiatedBy"] == "START_RECOVERY"  # no failback job made


def test_failback_launch_of_an_unknown_instance_is_a_validation_error(east, instance_id):
    with pytest.raises(east.exceptions.ValidationException) as caught:
        east.start_failback_launch(recoveryInstanceIDs=[instance_id, "i-0123456789abcdef0"])
    assert caught.value.response["fieldList"] == [
        {"name": "recoveryInstanceIDs[1]", "message": caught.value.response["fieldList"][0]["message"]}
    ]
    assert "i-0123456789abcdef0" in caught.value.response["fieldList"][0]["message"]


def test_failback_calls_for_on_premises_refuse_ec2_origins(drs_simulator, make_drs):
    drs_simulator.reset(fleet=FLEET, speed=0)
    west = make_drs(region=RECOVERY_REGION)
    ec2_instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    with pytest.raises(west.exceptions.ValidationException):
        west.start_failback_launch(recoveryInstanceIDs=[ec2_instance])
    with pytest.raises(west.exceptions.ValidationException):
        west.stop_failback(recoveryInstanceID=ec2_instance)
    body = {"recoveryInstanceID": ec2_instance}
    status, _, body = raw_call(drs_simulator.url, "POST", "/_simulator/failback-client", body, auth=False)
    assert status == 400
    assert "ReverseReplication" in body["error"]


def test_reverse_replication_refuses_an_on_premises_origin(east, instance_id):
    with pytest.raises(east.exceptions.ValidationException) as caught:
        east.reverse_replication(recoveryInstanceID=instance_id)
    assert "Failback Client" in caught.value.response["Error"]["Message"]


def test_the_failback_client_control_call_refuses_what_it_cannot_do(drs_simulator, east, instance_id):
    def connect(body):
        return raw_call(drs_simulator.url, "POST", "/_simulator/failback-client", body, auth=False)

    assert connect({"recoveryInstanceID": "i-0123456789abcdef0"})[0] == 404
    assert connect({})[0] == 400
    assert connect({"recoveryInstanceID": instance_id, "extra": 1})[0] == 400
    drs_simulator.connect_failback_client(instance_id)
    east.start_failback_launch(recoveryInstanceIDs=[instance_id])
    status, _, body = connect({"recoveryInstanceID": instance_id})  # its failback is under way
    assert status == 409
    assert "FAILBACK_IN_PROGRESS" in body["error"]


def test_unknown_instances_are_not_found(east):
    unknown = "i-0123456789abcdef0"
    for call in (
        east.reverse_replication,
        east.stop_failback,
        east.disconnect_recovery_instance,
        east.delete_recovery_instance,
    ):
        with pytest.raises(east.exceptions.ResourceNotFoundException) as caught:
            call(recoveryInstanceID=unknown)
        assert caught.value.response["resourceId"] == unknown
        assert caught.value.response["resourceType"] == "RECOVERY_INSTANCE"
    for call in (east.start_replication, east.stop_replication, east.disconnect_source_server):
        with pytest.raises(east.exceptions.ResourceNotFoundException):
            call(sourceServerID="s-0123456789abcdef0")


def test_reverse_replication_refuses_an_instance_being_terminated(drs_simulator, make_drs):
    drs_simulator.reset(fleet=FLEET, speed=0)
    west = make_drs(region=RECOVERY_REGION)
    instance = recover(west, drs_simulator, EC2_SERVER)["recoveryInstanceID"]
    west.terminate_recovery_instances(recoveryInstanceIDs=[instance])
    drs_simulator.advance(5)  # SHUTTING-DOWN
    with pytest.raises(west.exceptions.ConflictException) as caught:
        west.reverse_replication(recoveryInstanceID=instance)
    assert "SHUTTING-DOWN" in caught.value.response["Error"]["Message"]
