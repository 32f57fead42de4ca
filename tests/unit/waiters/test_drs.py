"""The job_complete waiter, driven through a real botocore client with Stubber-checked responses.

The cases are built from the sensor's state constants, so the JSON and the Python cannot drift.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import WaiterError
from botocore.stub import Stubber

from drs_provider.hooks.drs import DrsHook
from drs_provider.recovery.outcome import (
    JOB_FAILURE_STATES,
    JOB_INTERMEDIATE_STATES,
    JOB_SUCCESS_STATES,
    LAUNCH_FAILURE_STATES,
    LAUNCH_INTERMEDIATE_STATES,
    LAUNCH_SUCCESS_STATES,
)

JOB = "drsjob-0a000000000000001"
REQUIRED = "s-0a000000000000001"
OPTIONAL = "s-0a000000000000007"


def response(job_status: str, statuses: dict[str, str]) -> dict:
    return {
        "items": [
            {
                "jobID": JOB,
                "status": job_status,
                "participatingServers": [
                    {"sourceServerID": server, "launchStatus": status} for server, status in statuses.items()
                ],
            }
        ]
    }


def outcome(job_status: str, statuses: dict[str, str], optional: list[str] | None = None) -> str:
    """Run one waiter attempt on this DescribeJobs answer: success, failure or retry."""
    client = boto3.client("drs", region_name="us-east-1")
    hook = DrsHook(aws_conn_id=None, region_name="us-east-1")
    parameters = {"optional_server_ids": json.dumps(optional or [])}
    waiter = hook.get_waiter("job_complete", parameters=parameters, client=client)
    with Stubber(client) as stubber:
        stubber.add_response("describe_jobs", response(job_status, statuses), {"filters": {"jobIDs": [JOB]}})
        try:
            waiter.wait(filters={"jobIDs": [JOB]}, WaiterConfig={"MaxAttempts": 1, "Delay": 0})
        except WaiterError as error:
            return "failure" if "terminal failure" in str(error) else "retry"
    return "success"


@pytest.mark.parametrize("job_status", JOB_SUCCESS_STATES)
@pytest.mark.parametrize("launch_status", LAUNCH_SUCCESS_STATES)
def test_completed_job_with_launched_servers_succeeds(job_status, launch_status):
    assert outcome(job_status, {REQUIRED: launch_status}) == "success"


@pytest.mark.parametrize("job_status", JOB_INTERMEDIATE_STATES)
@pytest.mark.parametrize("launch_status", LAUNCH_INTERMEDIATE_STATES + LAUNCH_SUCCESS_STATES)
def test_unfinished_job_keeps_waiting(job_status, launch_status):
    assert outcome(job_status, {REQUIRED: launch_status}) == "retry"


@pytest.mark.parametrize("job_status", JOB_INTERMEDIATE_STATES + JOB_SUCCESS_STATES)
@pytest.mark.parametrize("launch_status", LAUNCH_FAILURE_STATES)
def test_failed_required_server_fails_before_completion_counts(job_status, launch_status):
    assert outcome(job_status, {REQUIRED: launch_status}) == "failure"


@pytest.mark.parametrize("launch_status", LAUNCH_FAILURE_STATES)
def test_failed_optional_server_does_not_fail_the_wait(launch_status):
    statuses = {REQUIRED: LAUNCH_SUCCESS_STATES[0], OPTIONAL: launch_status}

    assert outcome(JOB_SUCCESS_STATES[0], statuses, optional=[OPTIONAL]) == "success"
    assert outcome(JOB_INTERMEDIATE_STATES[-1], statuses, optional=[OPTIONAL]) == "retry"
    assert outcome(JOB_SUCCESS_STATES[0], statuses) == "failure", "without the optional list it is required"


def test_constants_cover_the_service_model_enums():
    client = boto3.client("drs", region_name="us-east-1")
    shapes = client.meta.service_model
    job_enum = set(shapes.shape_for("JobStatus").enum)
    launch_enum = set(shapes.shape_for("LaunchStatus").enum)

    assert set(JOB_INTERMEDIATE_STATES) | set(JOB_SUCCESS_STATES) | set(JOB_FAILURE_STATES) == job_enum
    assert (
        set(LAUNCH_INTERMEDIATE_STATES) | set(LAUNCH_SUCCESS_STATES) | set(LAUNCH_FAILURE_STATES)
        == launch_enum
    )
