"""``automation_execution_complete``: every AutomationExecutionStatus of the SSM model is judged."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import WaiterError
from botocore.stub import Stubber

from drs_provider.hooks.ssm import AUTOMATION_FAILURE_STATES, AUTOMATION_SUCCESS_STATES, SsmRunbookHook

EXECUTION = "0123abcd-0123-0123-0123-0123456789ab"


def outcome(status: str) -> str:
    client = boto3.client("ssm", region_name="us-east-1")
    waiter = SsmRunbookHook(aws_conn_id=None, region_name="us-east-1").get_waiter(
        "automation_execution_complete", client=client
    )
    answer = {
        "AutomationExecution": {"AutomationExecutionId": EXECUTION, "AutomationExecutionStatus": status}
    }
    with Stubber(client) as stubber:
        stubber.add_response("get_automation_execution", answer, {"AutomationExecutionId": EXECUTION})
        try:
            waiter.wait(AutomationExecutionId=EXECUTION, WaiterConfig={"MaxAttempts": 1, "Delay": 0})
        except WaiterError as error:
            return "failure" if "terminal failure" in str(error) else "retry"
    return "success"


@pytest.mark.parametrize("status", AUTOMATION_SUCCESS_STATES)
def test_success_states_end_the_wait(status: str) -> None:
    assert outcome(status) == "success"


@pytest.mark.parametrize("status", AUTOMATION_FAILURE_STATES)
def test_failure_states_fail_at_once(status: str) -> None:
    assert outcome(status) == "failure"


def test_every_status_of_the_model_is_either_final_or_waited_on() -> None:
    model = boto3.client("ssm", region_name="us-east-1").meta.service_model
    statuses = set(model.shape_for("AutomationExecutionStatus").enum)
    final = set(AUTOMATION_SUCCESS_STATES) | set(AUTOMATION_FAILURE_STATES)

    assert final <= statuses
    for status in statuses - final:
        assert outcome(status) == "retry", status


def test_botocore_waiters_still_reach_the_hook() -> None:
    """The custom waiter file adds to botocore's SSM waiters; command_executed still works."""
    client = boto3.client("ssm", region_name="us-east-1")
    assert SsmRunbookHook(aws_conn_id=None, region_name="us-east-1").get_waiter(
        "command_executed", client=client
    )
