"""Operator for SSM Automation, which the amazon provider does not have (it has Run Command only)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from drs_provider.exceptions import DrsStepError
from drs_provider.hooks.ssm import SsmRunbookHook
from drs_provider.triggers.ssm import SsmAutomationCompleteTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context


class SsmStartAutomationOperator(AwsBaseOperator[SsmRunbookHook]):
    """
    Start an SSM Automation runbook and wait until its execution ends; fail unless it succeeded.

    Returns the ``AutomationExecutionId``. A failed execution raises :class:`DrsStepError` with
    the execution's status, failure message and failed steps.

    :param document_name: the Automation document (name or ARN). (templated)
    :param parameters: its parameters, each name mapping to a list of values. (templated)
    :param wait_for_completion: wait for the execution to end (default True).
    :param waiter_delay: seconds between GetAutomationExecution polls (default 15).
    :param timeout: seconds the execution may take (default 3600); sets ``waiter_max_attempts``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    """

    aws_hook_class = SsmRunbookHook
    template_fields: Sequence[str] = aws_template_fields("document_name", "parameters")
    template_fields_renderers = {"parameters": "json"}

    def __init__(
        self,
        *,
        document_name: str,
        parameters: Mapping[str, Sequence[str]] | None = None,
        wait_for_completion: bool = True,
        waiter_delay: int = 15,
        timeout: int = 3600,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.document_name = document_name
        self.parameters = parameters
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = max(1, math.ceil(timeout / max(waiter_delay, 1)))
        self.deferrable = deferrable

    def execute(self, context: Context) -> str:
        request: dict[str, Any] = {"DocumentName": self.document_name}
        if self.parameters:
            request["Parameters"] = {name: list(values) for name, values in dict(self.parameters).items()}
        execution_id: str = self.hook.conn.start_automation_execution(**request)["AutomationExecutionId"]
        self.log.info("Started SSM Automation %s: execution %s", self.document_name, execution_id)
        if self.deferrable:
            self.defer(
                trigger=SsmAutomationCompleteTrigger(
                    execution_id=execution_id,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=self.waiter_max_attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
            )
        if self.wait_for_completion:
            waiter = self.hook.get_waiter("automation_execution_complete")
            try:
                waiter.wait(
                    AutomationExecutionId=execution_id,
                    WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": self.waiter_max_attempts},
                )
            except Exception as error:
                raise self._failure(execution_id, error) from error
        return execution_id

    def _failure(self, execution_id: str, cause: object) -> DrsStepError:
        try:
            why = self.hook.automation_failure(execution_id)
        except Exception:  # the execution cannot be read: say what the wait said
            why = str(cause)
        return DrsStepError(
            self.task_id,
            f"SSM Automation {self.document_name} execution {execution_id} did not succeed: {why}",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Resume after the trigger: the execution id, or the reason it did not succeed."""
        event = event or {}
        execution_id = str(event.get("execution_id") or "")
        if event.get("status") != "success":
            raise self._failure(execution_id, event.get("message"))
        return execution_id
