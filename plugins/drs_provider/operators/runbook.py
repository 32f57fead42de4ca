"""The runbook steps of a plan wave: approvals, SSM, Lambda and waits around its recovery.

Each step kind is the ecosystem's operator (providers-standard's ``ApprovalOperator`` and
``WaitSensor``, the amazon provider's ``SsmRunCommandOperator`` and
``LambdaInvokeFunctionOperator``, and :class:`SsmStartAutomationOperator` for what the amazon
provider lacks), with :class:`~drs_provider.operators.wave_step.WaveStepMixin` adding what a step
of a wave needs (see :mod:`drs_provider.operators.wave_step`): the wave's first task decides
whether the wave runs, an optional step's failure lets the wave go on, the step knows the run's
mode and the wave's servers, and the plan's text is never a template.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.ssm import SsmRunCommandOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.sensors.time_delta import WaitSensor

from drs_provider.constants import APPROVAL_MODES, MODE_DRILL, dag_id_of
from drs_provider.exceptions import DrsPreemptedError, DrsStepError
from drs_provider.hooks.ssm import SsmRunbookHook
from drs_provider.operators.plan_run import resolved_run, wave_servers
from drs_provider.operators.ssm import SsmStartAutomationOperator
from drs_provider.operators.wave_step import WaveStepMixin, run_mode
from drs_provider.recovery.outcome import LAUNCH_SUCCESS_STATES
from drs_provider.triggers.plan_lease import PREEMPTED, DrsDrillApprovalTrigger
from drs_provider.triggers.ssm import SsmCommandOnInstancesTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

    from drs_provider.recovery.run import ResolvedRun

#: Seconds between status checks of an SSM command on its instances.
SSM_COMMAND_POLL_SECONDS = 5


class DrsWaveApprovalOperator(WaveStepMixin, ApprovalOperator):
    """
    A person approves before the run goes on (providers-standard's ``ApprovalOperator``).

    The task waits in ``awaiting_input`` without a worker slot; in a drill it waits in the
    triggerer instead (:class:`~drs_provider.triggers.plan_lease.DrsDrillApprovalTrigger`), so
    that a recovery preempting the drill closes the approval. "Reject", or no answer within
    ``timeout`` seconds, FAILS the task, so nothing after it in the wave and nothing downstream
    starts (plain ``ApprovalOperator`` would only skip its direct downstream, and a downstream
    wave's first task, with the ``none_failed`` rule, would then launch anyway). In a run whose
    mode is not in ``modes`` the step passes at once. Answer it in the UI or with
    ``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/-1/hitlDetails``.

    :param message: what the approver is asked.
    :param timeout: seconds to wait for an answer.
    :param modes: run modes that stop here (default drill and recovery).
    """

    other_mode_message = "not asked in a {mode} run (it stops {modes} runs)"

    def __init__(
        self, *, message: str, timeout: int = 3600, modes: Sequence[str] = APPROVAL_MODES, **kwargs: Any
    ) -> None:
        kwargs.setdefault("subject", message)
        super().__init__(
            response_timeout=timedelta(seconds=timeout), fail_on_reject=True, modes=modes, **kwargs
        )
        self.message = message

    def passes_at_once(self, context: Context, run: ResolvedRun | None) -> str | None:
        # Reached only in one of its modes, where it always asks: the question needs the run.
        self.body = self._body(context, run)
        return None

    def _body(self, context: Context, run: ResolvedRun | None) -> str:
        servers = wave_servers(context, self.wave_name, self.phase, run)
        mode = (run_mode(context, run) if run else "unknown mode").upper()
        when = "before it launches" if self.phase == "pre" else "after its servers launched"
        lines = [
            f"Plan **{self.plan_name}** ({dag_id_of(self.plan_name)}), run `{context['ti'].run_id}`: "
            f"a **{mode}**. Wave **{self.wave_name}** waits for your answer {when}.",
            "",
            f"{len(servers)} server(s): "
            + ", ".join(str(s["sourceServerID"]) for s in servers[:20])
            + (" ..." if len(servers) > 20 else ""),
            "",
            "**Approve** goes on. **Reject** (or no answer in time) fails this wave, and nothing "
            "downstream of it starts.",
        ]
        return "\n".join(lines)

    def execute_step(self, context: Context) -> Any:
        from airflow.sdk.exceptions import TaskAwaitingInput
        from airflow.sdk.timezone import utcnow

        try:
            return super().execute_step(context)  # asks (the HITL request and its notifiers)
        except TaskAwaitingInput:
            if self.run_mode != MODE_DRILL:
                raise
        timeout = utcnow() + self.response_timeout if self.response_timeout else None
        self.defer(
            trigger=DrsDrillApprovalTrigger(
                ti_id=context["ti"].id,
                options=self.options,
                defaults=self.defaults,
                params=self.serialized_params,
                multiple=self.multiple,
                timeout_datetime=timeout,
                plan_name=self.plan_name,
                run_id=context["ti"].run_id,
                reject_option=self.REJECT,
            ),
            method_name="execute_complete",
        )

    def process_trigger_event_error(self, event: dict[str, Any]) -> None:
        if event.get("error_type") == PREEMPTED:
            raise DrsPreemptedError(str(event["run_id"]), str(event["preempted_by"]))
        super().process_trigger_event_error(event)


class DrsWaveSsmCommandOperator(WaveStepMixin, SsmRunCommandOperator):
    """
    An SSM Run Command on the wave's recovered EC2 instances (or the named instances or targets).

    In ``post``, with neither ``instance_ids`` nor ``targets``, the command runs on the EC2
    instance of every server that LAUNCHED (``wait_for_recovery``'s XCom ``servers``). It waits in
    the triggerer. A command that does not succeed on an instance fails the step, naming every
    such instance with its status, exit code and the end of its output.

    Returns ``{"command_id", "instance_ids"}``.
    """

    aws_hook_class = SsmRunbookHook

    def __init__(
        self,
        *,
        document: str,
        parameters: Mapping[str, Sequence[str]] | None = None,
        instance_ids: Sequence[str] = (),
        targets: Sequence[Mapping[str, Any]] = (),
        timeout: int = 600,
        comment: str | None = None,
        **kwargs: Any,
    ) -> None:
        run_command_kwargs: dict[str, Any] = {"TimeoutSeconds": timeout}
        if parameters:
            run_command_kwargs["Parameters"] = {name: list(values) for name, values in parameters.items()}
        if targets:
            run_command_kwargs["Targets"] = [{"Key": t["Key"], "Values": list(t["Values"])} for t in targets]
        if comment:
            run_command_kwargs["Comment"] = comment
        super().__init__(
            document_name=document,
            run_command_kwargs=run_command_kwargs,
            deferrable=True,
            waiter_delay=SSM_COMMAND_POLL_SECONDS,
            # the command's own timeout, plus a margin for SSM to report it
            waiter_max_attempts=timeout // SSM_COMMAND_POLL_SECONDS + 12,
            **kwargs,
        )
        self.instance_ids = list(instance_ids)
        self.targets = [dict(target) for target in targets]

    def _instances(self, context: Context) -> list[str]:
        if self.instance_ids:
            return self.instance_ids
        servers = wave_servers(context, self.wave_name, self.phase, None)
        launched = [
            str(server["ec2InstanceID"])
            for server in servers
            if server.get("launchStatus") in LAUNCH_SUCCESS_STATES and server.get("ec2InstanceID")
        ]
        if not launched:
            raise DrsStepError(
                self.task_id,
                f"wave {self.wave_name!r} has no recovered EC2 instance to run {self.document_name} on",
            )
        return launched

    def execute_step(self, context: Context) -> Any:
        if self.targets:
            return super().execute_step(context)  # SSM resolves the targets; the amazon trigger lists them
        instances = self._instances(context)
        response = self.hook.conn.send_command(
            DocumentName=self.document_name, InstanceIds=instances, **self.run_command_kwargs
        )
        command_id = response["Command"]["CommandId"]
        self.log.info("SSM command %s (%s) sent to %s", command_id, self.document_name, ", ".join(instances))
        self.defer(
            trigger=SsmCommandOnInstancesTrigger(
                command_id=command_id,
                instance_ids=response["Command"].get("InstanceIds") or instances,
                waiter_delay=self.waiter_delay,
                waiter_max_attempts=self.waiter_max_attempts,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_complete",
        )
        return None  # not reached: defer() raises

    def execute_complete(  # type: ignore[override]  # returns the instances too, not only the command
        self, context: Context, event: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger: the command and its instances, or every instance it failed on."""
        event = event or {}
        command_id = str(event.get("command_id") or "")
        if self.targets:  # SSM chose the instances; the trigger names the one that failed
            instances = [str(event["instance_id"])] if event.get("instance_id") else []
        else:
            instances = self._instances(context)
        if event.get("status") == "success":
            self.log.info("SSM command %s succeeded on %s", command_id, ", ".join(instances) or "its targets")
            return {"command_id": command_id, "instance_ids": instances}
        try:
            failures = cast("SsmRunbookHook", self.hook).command_failures(command_id, instances)
        except Exception:  # the invocations cannot be read: say what the trigger said
            failures = []
        if not failures:
            raise DrsStepError(
                self.task_id, f"SSM command {command_id} did not succeed: {event.get('message')}"
            )
        listed = "; ".join(
            f"{f['instance_id']}: {f['status']} (exit code {f['exit_code']}): {f['output'] or 'no output'}"
            for f in failures
        )
        what = f"SSM command {command_id} ({self.document_name})"
        raise DrsStepError(self.task_id, f"{what} failed on {len(failures)} instance(s): {listed}")


class DrsWaveSsmAutomationOperator(WaveStepMixin, SsmStartAutomationOperator):
    """An SSM Automation runbook, waited for in the triggerer; fails unless the execution succeeded."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(deferrable=True, **kwargs)


class DrsWaveLambdaOperator(WaveStepMixin, LambdaInvokeFunctionOperator):
    """
    A Lambda function invoked with the run's event (the amazon provider's ``LambdaInvokeFunctionOperator``).

    The event: ``{"plan", "dag_id", "run_id", "mode", "wave", "step", "servers", "input"}``, where
    ``servers`` are the wave's per-server results so far and ``input`` is the step's ``payload``.
    A function error fails the step with the function's ``errorType`` and ``errorMessage``.
    Returns the function's response (parsed when it is JSON).

    :param function: function name or ARN.
    :param input_payload: the step's ``payload``.
    """

    def __init__(
        self, *, function: str, input_payload: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(function_name=function, invocation_type="RequestResponse", **kwargs)
        self.input_payload = dict(input_payload or {})

    def event(self, context: Context) -> dict[str, Any]:
        run = resolved_run(context, self.preflight_task_id)
        ti = context["ti"]
        return {
            "plan": self.plan_name,
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "mode": run_mode(context, run) if run else None,
            "wave": self.wave_name,
            "step": self.step_name,
            "servers": wave_servers(context, self.wave_name, self.phase, run),
            "input": self.input_payload,
        }

    def execute_step(self, context: Context) -> Any:
        self.payload = json.dumps(self.event(context))
        try:
            response = super().execute_step(context)
        except ValueError as error:  # the operator's way of saying the function failed
            raise DrsStepError(
                self.task_id, f"Lambda function {self.function_name} failed: {_function_error(error)}"
            ) from error
        try:
            return json.loads(response) if isinstance(response, str) else response
        except ValueError:
            return response


def _function_error(error: ValueError) -> str:
    """``errorType: errorMessage`` from the error payload the Lambda operator raised with."""
    details = error.args[1] if len(error.args) > 1 else None
    payload = details.get("Payload") if isinstance(details, dict) else None
    try:
        body = json.loads(payload) if isinstance(payload, str) else None
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("errorMessage") or body.get("errorType")):
        return f"{body.get('errorType') or 'Error'}: {body.get('errorMessage') or ''}".strip()
    return str(payload or error.args[0])


class DrsWaveWaitOperator(WaveStepMixin, WaitSensor):
    """Wait ``seconds`` from when the step starts, in the triggerer (providers-standard's ``WaitSensor``)."""

    def __init__(self, *, seconds: int, **kwargs: Any) -> None:
        super().__init__(time_to_wait=timedelta(seconds=seconds), deferrable=True, **kwargs)
        self.seconds = seconds

    def execute_complete(self, context: Context, event: Any = None) -> None:
        """The wait is over. (A triggerer ends the task itself; ``dag.test()`` resumes it here.)"""
        return None
