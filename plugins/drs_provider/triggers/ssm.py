"""Triggers for runbook steps on SSM: a Run Command on known instances, an Automation execution."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.exceptions import WaiterMaxAttemptsError, WaiterTerminalFailure
from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from airflow.providers.amazon.aws.utils.waiter_with_logging import async_wait
from airflow.triggers.base import TriggerEvent

from drs_provider.hooks.ssm import SsmRunbookHook
from drs_provider.triggers.settle import SettledTrigger

if TYPE_CHECKING:
    from collections.abc import Sequence


class SsmCommandOnInstancesTrigger(SettledTrigger, AwsBaseWaiterTrigger):
    """
    Wait until an SSM command has finished on every given instance (``command_executed`` waiter).

    The amazon provider's ``SsmRunCommandTrigger`` first lists the command's invocations; right
    after SendCommand that list can still be empty, and the trigger would then report success
    without having waited. When the instances are known (SendCommand returns them for
    ``InstanceIds``), this trigger waits on each of them instead.

    The event: ``{"status": "success" | "failed" | "error", "command_id", "instance_id", "message"}``.

    :param command_id: the SSM command.
    :param instance_ids: the instances it runs on.
    """

    aws_hook_class = SsmRunbookHook

    def __init__(
        self,
        *,
        command_id: str,
        instance_ids: Sequence[str],
        waiter_delay: int = 5,
        waiter_max_attempts: int = 120,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__(
            serialized_fields={"command_id": command_id, "instance_ids": list(instance_ids)},
            waiter_name="command_executed",
            waiter_args={"CommandId": command_id},
            failure_message="SSM command failed",
            status_message="SSM command status",
            status_queries=["Status"],
            return_key="command_id",
            return_value=command_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )
        self.command_id = command_id
        self.instance_ids = list(instance_ids)

    def _event(self, status: str, message: str, instance_id: str | None = None) -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "command_id": self.command_id, "instance_id": instance_id, "message": message}
        )

    async def _outcome(self) -> TriggerEvent:
        hook = self.hook()
        async with await hook.get_async_conn() as client:
            waiter = hook.get_waiter(self.waiter_name, deferrable=True, client=client)
            for instance_id in self.instance_ids:
                try:
                    await async_wait(
                        waiter,
                        self.waiter_delay,
                        self.attempts,
                        {**self.waiter_args, "InstanceId": instance_id},
                        self.failure_message,
                        self.status_message,
                        self.status_queries,
                    )
                except WaiterTerminalFailure as error:
                    return self._event("failed", str(error), instance_id)
                except WaiterMaxAttemptsError:
                    waited = self.waiter_delay * self.attempts
                    return self._event("error", f"not finished after {waited} s", instance_id)
                except Exception as error:  # any other AWS error ends the wait with its message
                    return self._event("error", str(error), instance_id)
        return self._event("success", f"finished on {len(self.instance_ids)} instance(s)")


class SsmAutomationCompleteTrigger(SettledTrigger, AwsBaseWaiterTrigger):
    """
    Wait until an SSM Automation execution ends (``automation_execution_complete`` in ``waiters/ssm.json``).

    The event: ``{"status": "success" | "failed" | "error", "execution_id", "message"}``.

    :param execution_id: the ``AutomationExecutionId``.
    """

    aws_hook_class = SsmRunbookHook

    def __init__(
        self,
        *,
        execution_id: str,
        waiter_delay: int = 15,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__(
            serialized_fields={"execution_id": execution_id},
            waiter_name="automation_execution_complete",
            waiter_args={"AutomationExecutionId": execution_id},
            failure_message="SSM Automation execution failed",
            status_message="SSM Automation status",
            status_queries=["AutomationExecution.AutomationExecutionStatus"],
            return_key="execution_id",
            return_value=execution_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )
        self.execution_id = execution_id

    def _event(self, status: str, message: str) -> TriggerEvent:
        event: dict[str, Any] = {"status": status, "execution_id": self.execution_id, "message": message}
        return TriggerEvent(event)

    async def _outcome(self) -> TriggerEvent:
        hook = self.hook()
        async with await hook.get_async_conn() as client:
            waiter = hook.get_waiter(self.waiter_name, deferrable=True, client=client)
            try:
                await async_wait(
                    waiter,
                    self.waiter_delay,
                    self.attempts,
                    self.waiter_args,
                    self.failure_message,
                    self.status_message,
                    self.status_queries,
                )
            except WaiterTerminalFailure as error:
                return self._event("failed", str(error))
            except WaiterMaxAttemptsError:
                return self._event("error", f"not finished after {self.waiter_delay * self.attempts} s")
            except Exception as error:  # any other AWS error ends the wait with its message
                return self._event("error", str(error))
        return self._event("success", "the execution succeeded")
