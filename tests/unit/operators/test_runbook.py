"""Runbook step operators where moto cannot go: failed commands, function errors, failed Automation.

moto's SSM answers every command with Success, its Lambda without Docker answers every call with
the event, and it has no Automation at all; so these failure paths run against botocore's
Stubber, which rejects any response that breaks the service model.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from drs_provider.exceptions import DrsPreflightError, DrsStepError
from drs_provider.operators.runbook import (
    DrsWaveApprovalOperator,
    DrsWaveLambdaOperator,
    DrsWaveSsmCommandOperator,
    DrsWaveWaitOperator,
)
from drs_provider.operators.ssm import SsmStartAutomationOperator

DB = "s-0a000000000000001"
REPLICA = "s-0a000000000000007"
I_DB = "i-0a1b2c3d4e5f60718"
I_REPLICA = "i-0f1e2d3c4b5a69788"
EXECUTION = "0123abcd-0123-4123-8123-0123456789ab"


class TaskInstanceStandIn:
    """The XComs of one run: preflight's resolved run, the wave's servers, and what the task pushes."""

    def __init__(self, mode: str = "drill", wave_runs: bool = True, preflight: bool = True) -> None:
        self.dag_id, self.run_id, self.task_id = "drs_plan_shop", "manual__2026-12-01", "database.step"
        self.pushed: dict[str, Any] = {}
        self._xcoms: dict[tuple[str, str], Any] = {
            ("database.wait_for_recovery", "servers"): [
                {"sourceServerID": DB, "ec2InstanceID": I_DB, "launchStatus": "LAUNCHED"},
                {"sourceServerID": REPLICA, "ec2InstanceID": I_REPLICA, "launchStatus": "LAUNCHED"},
            ]
        }
        if preflight:
            self._xcoms[("preflight", "return_value")] = {
                "plan": "shop",
                "mode": mode,
                "waves": {
                    "database": {
                        "run": wave_runs,
                        "source_server_ids": [DB],
                        "optional_source_server_ids": [REPLICA],
                    }
                },
            }

    def xcom_pull(self, task_ids: str, key: str = "return_value", map_indexes: int | None = None) -> Any:
        return self._xcoms.get((task_ids, key))

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context(**kwargs: Any) -> dict[str, Any]:
    ti = TaskInstanceStandIn(**kwargs)
    return {"ti": ti, "task_instance": ti}


def step_args(**extra: Any) -> dict[str, Any]:
    return {
        "task_id": "post_2_lambda",
        "plan_name": "shop",
        "wave_name": "database",
        "step_name": "post_2_lambda",
        "phase": "post",
        "aws_conn_id": None,
        "region_name": "us-east-1",
        **extra,
    }


def no_aws(arguments: dict[str, Any]) -> dict[str, Any]:
    """Step arguments for an operator that talks to no AWS service."""
    return {key: value for key, value in arguments.items() if key not in ("aws_conn_id", "region_name")}


def lambda_error_answer() -> dict[str, Any]:
    body = json.dumps({"errorType": "DnsError", "errorMessage": "zone shop.internal is locked"}).encode()
    return {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }


def test_a_function_error_fails_the_step_with_its_type_and_message() -> None:
    operator = DrsWaveLambdaOperator(function="dr-switch-dns", **step_args())
    with Stubber(operator.hook.conn) as stubber:
        stubber.add_response(
            "invoke",
            lambda_error_answer(),
            {"FunctionName": "dr-switch-dns", "InvocationType": "RequestResponse", "Payload": ANY},
        )
        with pytest.raises(DrsStepError) as caught:
            operator.execute(context())

    assert caught.value.step == "post_2_lambda"
    assert "Lambda function dr-switch-dns failed: DnsError: zone shop.internal is locked" in str(caught.value)


def test_an_optional_step_that_fails_is_kept_and_the_task_succeeds() -> None:
    operator = DrsWaveLambdaOperator(function="dr-switch-dns", optional=True, **step_args())
    run = context()
    with Stubber(operator.hook.conn) as stubber:
        stubber.add_response("invoke", lambda_error_answer(), None)
        assert operator.execute(run) is None

    outcome = run["ti"].pushed["step_outcome"]
    assert outcome["state"] == "failed" and outcome["optional"] is True
    assert "DnsError: zone shop.internal is locked" in outcome["message"]


def test_the_lambda_event_carries_the_run_and_the_wave_servers() -> None:
    operator = DrsWaveLambdaOperator(function="dr-switch-dns", input_payload={"record": "db"}, **step_args())

    event = operator.event(context(mode="recovery"))

    assert event == {
        "plan": "shop",
        "dag_id": "drs_plan_shop",
        "run_id": "manual__2026-12-01",
        "mode": "recovery",
        "wave": "database",
        "step": "post_2_lambda",
        "servers": TaskInstanceStandIn()._xcoms[("database.wait_for_recovery", "servers")],
        "input": {"record": "db"},
    }


def invocation(
    instance_id: str, status: str, code: int, stderr: str = "", stdout: str = ""
) -> dict[str, Any]:
    return {
        "CommandId": "c0ffee00-0000-0000-0000-000000000001",
        "InstanceId": instance_id,
        "Status": status,
        "ResponseCode": code,
        "StandardErrorContent": stderr,
        "StandardOutputContent": stdout,
    }


def test_a_failed_command_names_every_instance_it_failed_on_with_its_output() -> None:
    operator = DrsWaveSsmCommandOperator(
        document="AWS-RunShellScript", **step_args(task_id="post_1_ssm_command")
    )
    command = "c0ffee00-0000-0000-0000-000000000001"
    with Stubber(operator.hook.conn) as stubber:
        stubber.add_response(
            "get_command_invocation",
            invocation(I_DB, "Success", 0),
            {"CommandId": command, "InstanceId": I_DB},
        )
        stubber.add_response(
            "get_command_invocation",
            invocation(I_REPLICA, "Failed", 2, stderr="pg_isready: localhost:5432 - no response"),
            {"CommandId": command, "InstanceId": I_REPLICA},
        )
        with pytest.raises(DrsStepError) as caught:
            operator.execute_complete(
                context(), {"status": "failed", "command_id": command, "instance_id": I_REPLICA}
            )

    message = str(caught.value)
    assert (
        f"failed on 1 instance(s): {I_REPLICA}: Failed (exit code 2): "
        "pg_isready: localhost:5432 - no response" in message
    )
    assert I_DB not in message


def test_a_post_command_without_recovered_instances_fails_clearly() -> None:
    operator = DrsWaveSsmCommandOperator(
        document="AWS-RunShellScript", **step_args(task_id="post_1_ssm_command")
    )
    run = context()
    run["ti"]._xcoms[("database.wait_for_recovery", "servers")] = [
        {"sourceServerID": REPLICA, "ec2InstanceID": None, "launchStatus": "FAILED"}
    ]

    with pytest.raises(
        DrsStepError, match="wave 'database' has no recovered EC2 instance to run AWS-RunShellScript on"
    ):
        operator.execute(run)


def test_a_failed_automation_names_its_status_message_and_failed_step() -> None:
    operator = SsmStartAutomationOperator(
        task_id="database.post_3_ssm_automation",
        document_name="Shop-Failover",
        aws_conn_id=None,
        region_name="us-east-1",
    )
    execution = {
        "AutomationExecution": {
            "AutomationExecutionId": EXECUTION,
            "AutomationExecutionStatus": "Failed",
            "FailureMessage": "Step fails when it is Executing.",
            "StepExecutions": [
                {"StepName": "stop_app", "StepStatus": "Success"},
                {
                    "StepName": "promote_replica",
                    "StepStatus": "Failed",
                    "FailureMessage": "replica lag 412 s",
                },
            ],
        }
    }
    with Stubber(operator.hook.conn) as stubber:
        stubber.add_response("get_automation_execution", execution, {"AutomationExecutionId": EXECUTION})
        with pytest.raises(DrsStepError) as caught:
            operator.execute_complete(
                {}, {"status": "failed", "execution_id": EXECUTION, "message": "terminal failure"}
            )  # type: ignore[arg-type]

    assert str(caught.value) == (
        f"database.post_3_ssm_automation: SSM Automation Shop-Failover execution {EXECUTION} "
        "did not succeed: Failed; Step fails when it is Executing.; "
        "step promote_replica: Failed replica lag 412 s"
    )


def approval(modes: tuple[str, ...]) -> DrsWaveApprovalOperator:
    return DrsWaveApprovalOperator(
        message="Fail the database over?",
        modes=modes,
        **no_aws(step_args(task_id="pre_1_approval", phase="pre")),
    )


def test_an_approval_outside_its_modes_passes_at_once_and_says_why() -> None:
    run = context(mode="drill")

    assert approval(("recovery",)).execute(run) is None

    assert run["ti"].pushed["step_outcome"] == {
        "state": "passed",
        "message": "not asked in a drill run (it stops recovery runs)",
    }


def test_an_approval_in_its_mode_tells_the_approver_what_waits() -> None:
    operator = approval(("recovery",))
    run = context(mode="recovery")

    assert operator.passes_at_once(run, _resolved(run)) is None  # type: ignore[arg-type]

    assert "a **RECOVERY**" in operator.body and "Wave **database**" in operator.body
    assert f"2 server(s): {DB}, {REPLICA}" in operator.body
    assert "Reject** (or no answer in time) fails this wave" in operator.body


def _resolved(run: dict[str, Any]) -> Any:
    from drs_provider.operators.plan_run import resolved_run

    return resolved_run(run)  # type: ignore[arg-type]


def test_the_first_task_of_a_wave_left_out_of_the_run_skips_the_wave() -> None:
    operator = DrsWaveWaitOperator(
        seconds=5, first_in_wave=True, **no_aws(step_args(task_id="pre_1_wait", phase="pre"))
    )

    with pytest.raises(AirflowSkipException, match="wave 'database' is not among this run's waves"):
        operator.execute(context(wave_runs=False))
    with pytest.raises(DrsPreflightError, match="no result from task 'preflight'"):
        operator.execute(context(preflight=False))


def test_an_optional_step_never_swallows_a_skip() -> None:
    operator = DrsWaveWaitOperator(
        seconds=5, first_in_wave=True, optional=True, **no_aws(step_args(task_id="pre_1_wait"))
    )

    with pytest.raises(AirflowSkipException):
        operator.execute(context(wave_runs=False))


def in_run(mode: str) -> dict[str, Any]:
    """A run of ``mode``, as preflight resolved it and as its ``mode`` parameter says."""
    run = context(mode=mode)
    run["params"] = {"mode": mode}
    return run


def test_a_step_in_a_run_outside_its_modes_succeeds_without_doing_its_work() -> None:
    operator = DrsWaveLambdaOperator(function="dr-switch-dns", modes=("failback",), **step_args())
    run = in_run("drill")

    with Stubber(operator.hook.conn):  # nothing queued: an Invoke would fail the test
        assert operator.execute(run) is None

    assert run["ti"].pushed["step_outcome"] == {
        "state": "passed",
        "message": "not run in a drill run (it runs in failback runs only)",
    }


def test_a_step_runs_in_a_failback_run_when_its_modes_name_failback() -> None:
    operator = DrsWaveLambdaOperator(function="dr-switch-dns", modes=("failback",), **step_args())
    run = in_run("failback")

    with Stubber(operator.hook.conn) as stubber:
        stubber.add_response("invoke", lambda_error_answer(), None)
        with pytest.raises(DrsStepError, match="DnsError"):  # it called the function
            operator.execute(run)

    assert "step_outcome" not in run["ti"].pushed
    assert operator.event(run)["mode"] == "failback"


def test_the_first_step_of_a_wave_outside_its_modes_passes_and_never_skips_the_wave() -> None:
    operator = DrsWaveWaitOperator(
        seconds=5,
        first_in_wave=True,
        modes=("drill",),
        **no_aws(step_args(task_id="pre_1_wait", phase="pre")),
    )
    run = in_run("recovery")

    assert operator.execute(run) is None  # no AirflowSkipException, no deferral to wait

    assert (
        run["ti"].pushed["step_outcome"]["message"]
        == "not run in a recovery run (it runs in drill runs only)"
    )


def test_every_step_runs_in_every_mode_and_an_approval_in_drill_and_recovery_by_default() -> None:
    wait = DrsWaveWaitOperator(seconds=5, **no_aws(step_args(task_id="post_4_wait")))
    run = in_run("failback")

    assert (wait.modes, approval_with_default_modes().modes) == (
        ("drill", "recovery", "failback"),
        ("drill", "recovery"),
    )
    assert approval_with_default_modes().execute(run) is None
    assert run["ti"].pushed["step_outcome"]["message"] == (
        "not asked in a failback run (it stops drill, recovery runs)"
    )


def approval_with_default_modes() -> DrsWaveApprovalOperator:
    return DrsWaveApprovalOperator(
        message="Fail the database over?", **no_aws(step_args(task_id="pre_1_approval", phase="pre"))
    )
