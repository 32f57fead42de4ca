"""Jobs in simulated time: statuses, the job log, recovery instances, source server results."""

from __future__ import annotations

import re

import pytest

from drs_simulator.models import RECOVERABLE_STATES, UNRECOVERABLE_STATES

pytestmark = pytest.mark.integration

WEB_1 = "s-0a000000000000005"  # launch_seconds 30
APP_1 = "s-0a000000000000003"  # launch_seconds 60
STALLED = "s-0c000000000000001"
BROKEN = "s-0c000000000000003"  # fail_launch with a rawError

SUCCESS_EVENTS = [
    "JOB_START",
    "SNAPSHOT_START",
    "SNAPSHOT_END",
    "CONVERSION_START",
    "CONVERSION_END",
    "LAUNCH_START",
    "JOB_END",
]


def job_of(drs, job_id):
    (job,) = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
    return job


def statuses(job):
    return {s["sourceServerID"]: s["launchStatus"] for s in job["participatingServers"]}


def events(drs, job_id):
    return [item["event"] for item in drs.describe_job_log_items(jobID=job_id)["items"]]


def server(drs, server_id):
    (item,) = drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"]
    return item


def test_job_goes_pending_started_completed_step_by_step(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}], isDrill=True)["job"]
    assert re.fullmatch(r"drsjob-[0-9a-zA-Z]{17}", job["jobID"])
    assert job["status"] == "PENDING"
    assert job["type"] == "LAUNCH" and job["initiatedBy"] == "START_DRILL"
    assert statuses(job) == {WEB_1: "PENDING"}
    assert server(drs, WEB_1)["lastLaunchResult"] == "PENDING"
    assert events(drs, job["jobID"]) == []

    drs_simulator.advance(2)
    now = job_of(drs, job["jobID"])
    assert now["status"] == "STARTED"
    assert statuses(now) == {WEB_1: "IN_PROGRESS"}
    assert events(drs, job["jobID"]) == ["JOB_START", "SNAPSHOT_START"]

    drs_simulator.advance(25)  # 2 + 0.7 * 30 = 23: conversion done, launch started
    assert events(drs, job["jobID"]) == SUCCESS_EVENTS[:-1]
    assert drs.describe_recovery_instances()["items"] == []

    drs_simulator.advance(5)  # 2 + 30 = 32: launched; JOB_END one second later
    now = job_of(drs, job["jobID"])
    assert now["status"] == "STARTED"
    assert statuses(now) == {WEB_1: "LAUNCHED"}

    drs_simulator.advance(1)
    done = job_of(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert "endDateTime" in done
    assert events(drs, job["jobID"]) == SUCCESS_EVENTS


def test_launched_server_gets_a_recovery_instance_and_succeeded_result(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}], isDrill=True, tags={"plan": "shop"})[
        "job"
    ]
    drs_simulator.advance(100)
    done = job_of(drs, job["jobID"])
    (part,) = done["participatingServers"]
    instance_id = part["recoveryInstanceID"]
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance_id)
    (instance,) = drs.describe_recovery_instances(filters={"sourceServerIDs": [WEB_1]})["items"]
    assert instance["recoveryInstanceID"] == instance_id
    assert instance["ec2InstanceID"] == instance_id
    assert instance["ec2InstanceState"] == "RUNNING"
    assert instance["isDrill"] is True
    assert instance["jobID"] == job["jobID"]
    assert instance["sourceServerID"] == WEB_1
    assert instance["tags"] == {"plan": "shop"}
    source = server(drs, WEB_1)
    assert source["lastLaunchResult"] == "SUCCEEDED"
    assert source["recoveryInstanceId"] == instance_id
    assert source["lifeCycle"]["lastLaunch"]["initiated"]["jobID"] == job["jobID"]
    assert source["lifeCycle"]["lastLaunch"]["initiated"]["type"] == "DRILL"
    assert source["lifeCycle"]["lastLaunch"]["status"] == "LAUNCHED"
    # the LAUNCH_START event names the instance that then exists
    launch = [
        i for i in drs.describe_job_log_items(jobID=job["jobID"])["items"] if i["event"] == "LAUNCH_START"
    ]
    assert launch[0]["eventData"]["targetInstanceID"] == instance_id


def test_relaunch_replaces_the_previous_recovery_instance(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    first = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])["job"]
    assert first["initiatedBy"] == "START_RECOVERY"
    drs_simulator.advance(100)
    second = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}], isDrill=True)["job"]
    drs_simulator.advance(100)
    (instance,) = drs.describe_recovery_instances()["items"]
    assert instance["jobID"] == second["jobID"]
    assert server(drs, WEB_1)["recoveryInstanceId"] == instance["recoveryInstanceID"]


def test_failed_launch_logs_launch_failed_with_raw_error(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": BROKEN}, {"sourceServerID": WEB_1}])["job"]
    drs_simulator.advance(200)
    done = job_of(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert statuses(done) == {BROKEN: "FAILED", WEB_1: "LAUNCHED"}
    items = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    failed = [i for i in items if i["event"] == "LAUNCH_FAILED"]
    assert len(failed) == 1
    assert failed[0]["eventData"]["sourceServerID"] == BROKEN
    assert "InsufficientInstanceCapacity" in failed[0]["eventData"]["rawError"]
    # per server, DRS's order; LAUNCH_FAILED where a successful launch has no event
    broken = [i["event"] for i in items if i.get("eventData", {}).get("sourceServerID") == BROKEN]
    assert broken == [
        "SNAPSHOT_START",
        "SNAPSHOT_END",
        "CONVERSION_START",
        "CONVERSION_END",
        "LAUNCH_START",
        "LAUNCH_FAILED",
    ]
    assert next(i["event"] for i in items) == "JOB_START" and [i["event"] for i in items][-1] == "JOB_END"
    assert server(drs, BROKEN)["lastLaunchResult"] == "FAILED"
    assert "recoveryInstanceId" not in server(drs, BROKEN)
    times = [i["logDateTime"] for i in items]
    assert times == sorted(times)


@pytest.mark.parametrize("state", sorted(UNRECOVERABLE_STATES))
def test_unrecoverable_replication_state_is_accepted_and_fails(drs_simulator, drs, sample_fleet_dict, state):
    fleet = sample_fleet_dict
    fleet["source_servers"][0]["replication_state"] = state
    server_id = fleet["source_servers"][0]["id"]
    drs_simulator.reset(fleet=fleet, speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server_id}])["job"]
    assert statuses(job) == {server_id: "PENDING"}
    drs_simulator.advance(10)
    done = job_of(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert statuses(done) == {server_id: "FAILED"}
    items = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    assert [i["event"] for i in items] == ["JOB_START", "LAUNCH_FAILED", "JOB_END"]
    assert state in items[1]["eventData"]["rawError"]
    assert server(drs, server_id)["dataReplicationInfo"]["dataReplicationState"] == state
    assert server(drs, server_id)["lastLaunchResult"] == "FAILED"


@pytest.mark.parametrize(
    "state", sorted(RECOVERABLE_STATES & {"CONTINUOUS", "BACKLOG", "CREATING_SNAPSHOT", "RESCAN"})
)
def test_recoverable_replication_states_launch(drs_simulator, drs, sample_fleet_dict, state):
    fleet = sample_fleet_dict
    fleet["source_servers"][0]["replication_state"] = state
    server_id = fleet["source_servers"][0]["id"]
    drs_simulator.reset(fleet=fleet, speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server_id}])["job"]
    drs_simulator.advance(200)
    assert statuses(job_of(drs, job["jobID"])) == {server_id: "LAUNCHED"}


def test_sample_fleet_stalled_server_fails_with_reason(drs):
    from integration.helpers import wait_job

    job = drs.start_recovery(sourceServers=[{"sourceServerID": STALLED}], isDrill=True)["job"]
    done = wait_job(drs, job["jobID"])
    assert statuses(done) == {STALLED: "FAILED"}
    (failed,) = [
        i for i in drs.describe_job_log_items(jobID=job["jobID"])["items"] if i["event"] == "LAUNCH_FAILED"
    ]
    assert "STALLED" in failed["eventData"]["rawError"]


def test_speed_makes_jobs_finish_in_real_time(drs_simulator, drs):
    from integration.helpers import wait_job

    drs_simulator.reset(speed=1000)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": APP_1}, {"sourceServerID": WEB_1}])["job"]
    done = wait_job(drs, job["jobID"], timeout=5)
    assert statuses(done) == {APP_1: "LAUNCHED", WEB_1: "LAUNCHED"}


def test_terminate_recovery_instances_runs_a_terminate_job(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}, {"sourceServerID": APP_1}], isDrill=True)
    drs_simulator.advance(100)
    instances = drs.describe_recovery_instances()["items"]
    assert len(instances) == 2
    web = next(i for i in instances if i["sourceServerID"] == WEB_1)
    job = drs.terminate_recovery_instances(recoveryInstanceIDs=[web["recoveryInstanceID"]])["job"]
    assert job["type"] == "TERMINATE"
    assert job["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    assert job["participatingServers"][0]["recoveryInstanceID"] == web["recoveryInstanceID"]
    drs_simulator.advance(3)
    (shutting,) = drs.describe_recovery_instances(
        filters={"recoveryInstanceIDs": [web["recoveryInstanceID"]]}
    )["items"]
    assert shutting["ec2InstanceState"] == "SHUTTING-DOWN"
    # a server whose instance is being terminated is busy
    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])
    drs_simulator.advance(60)
    done = job_of(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert statuses(done) == {WEB_1: "TERMINATED"}
    assert events(drs, job["jobID"]) == ["JOB_START", "CLEANUP_START", "CLEANUP_END", "JOB_END"]
    left = drs.describe_recovery_instances()["items"]
    assert [i["sourceServerID"] for i in left] == [APP_1]
    assert "recoveryInstanceId" not in server(drs, WEB_1)


def test_terminate_unknown_instance_is_not_found(drs):
    with pytest.raises(drs.exceptions.ResourceNotFoundException) as caught:
        drs.terminate_recovery_instances(recoveryInstanceIDs=["i-0123456789abcdef0"])
    assert caught.value.response["resourceId"] == "i-0123456789abcdef0"


def test_recovery_snapshot_choice_and_in_progress_snapshot(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    snapshots = drs.describe_recovery_snapshots(sourceServerID=WEB_1, order="DESC")["items"]
    complete = [s for s in snapshots if "timestamp" in s]
    assert len(complete) >= 3
    chosen = complete[-1]["snapshotID"]  # the oldest one
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1, "recoverySnapshotID": chosen}])["job"]
    other = drs.start_recovery(sourceServers=[{"sourceServerID": APP_1}])["job"]
    drs_simulator.advance(3)
    assert events(drs, job["jobID"]) == ["JOB_START", "USING_PREVIOUS_SNAPSHOT"]
    # APP_1's on-demand snapshot is being taken: it has no timestamp yet
    newest = drs.describe_recovery_snapshots(sourceServerID=APP_1, order="DESC", maxResults=1)["items"][0]
    assert "timestamp" not in newest
    drs_simulator.advance(100)
    newest = drs.describe_recovery_snapshots(sourceServerID=APP_1, order="DESC", maxResults=1)["items"][0]
    assert "timestamp" in newest
    (instance,) = drs.describe_recovery_instances(filters={"sourceServerIDs": [WEB_1]})["items"]
    assert instance["pointInTimeSnapshotDateTime"] == complete[-1]["timestamp"]
    assert statuses(job_of(drs, other["jobID"])) == {APP_1: "LAUNCHED"}


def test_unknown_recovery_snapshot_fails_the_server(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": WEB_1, "recoverySnapshotID": "pit-00000000000000000"}]
    )["job"]
    drs_simulator.advance(10)
    items = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    assert [i["event"] for i in items] == [
        "JOB_START",
        "USING_PREVIOUS_SNAPSHOT_FAILED",
        "LAUNCH_FAILED",
        "JOB_END",
    ]
    assert "pit-00000000000000000" in items[2]["eventData"]["rawError"]


def test_periodic_snapshots_appear_over_simulated_time(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    before = drs.describe_recovery_snapshots(sourceServerID=WEB_1)["items"]
    drs_simulator.advance(600 * 3)
    after = drs.describe_recovery_snapshots(sourceServerID=WEB_1)["items"]
    assert len(after) == len(before) + 3
    assert [s["expectedTimestamp"] for s in after] == sorted(s["expectedTimestamp"] for s in after)
    assert drs.describe_recovery_snapshots(sourceServerID=STALLED)["items"] == []
