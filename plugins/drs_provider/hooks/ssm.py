"""SSM for runbook steps: the amazon provider's SsmHook, plus a waiter for Automation executions.

botocore ships one SSM waiter (``command_executed``); the amazon provider adds none for
Automation. ``waiters/ssm.json`` here holds ``automation_execution_complete``; every other
waiter name still reaches botocore's own.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.ssm import SsmHook

from drs_provider.hooks.lean_clients import LeanClientsMixin

#: ``AutomationExecutionStatus`` values, as the acceptors of ``automation_execution_complete`` judge them.
AUTOMATION_SUCCESS_STATES: tuple[str, ...] = ("Success", "CompletedWithSuccess")
AUTOMATION_FAILURE_STATES: tuple[str, ...] = (
    "Failed",
    "TimedOut",
    "Cancelled",
    "Rejected",
    "CompletedWithFailure",
    "ChangeCalendarOverrideRejected",
    "Exited",
)
#: Longest command output quoted in an error message.
OUTPUT_EXCERPT_CHARS = 800


def excerpt(text: str | None, limit: int = OUTPUT_EXCERPT_CHARS) -> str:
    """The end of ``text`` (where errors are), at most ``limit`` characters."""
    text = (text or "").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


class SsmRunbookHook(LeanClientsMixin, SsmHook):
    """The amazon provider's :class:`SsmHook` with this package's waiters (see the module docstring)."""

    @cached_property
    def waiter_path(self) -> Path:  # type: ignore[override]
        return Path(__file__).resolve().parents[1] / "waiters" / "ssm.json"

    def automation_failure(self, execution_id: str) -> str:
        """Why an Automation execution did not succeed: its status, message and failed steps."""
        execution = self.conn.get_automation_execution(AutomationExecutionId=execution_id)[
            "AutomationExecution"
        ]
        parts = [f"{execution.get('AutomationExecutionStatus', 'unknown status')}"]
        if execution.get("FailureMessage"):
            parts.append(str(execution["FailureMessage"]))
        for step in execution.get("StepExecutions") or ():
            if step.get("StepStatus") not in (None, "Success", "Pending", "InProgress", "Skipped"):
                reason = step.get("FailureMessage") or ""
                parts.append(f"step {step.get('StepName')}: {step.get('StepStatus')} {reason}".strip())
        return "; ".join(parts)

    def command_failures(self, command_id: str, instance_ids: list[str]) -> list[dict[str, Any]]:
        """Every instance on which a command did not succeed, with its status, exit code and output."""
        failures = []
        for instance_id in instance_ids:
            invocation = self.get_command_invocation(command_id, instance_id)
            if invocation.get("Status") == "Success":
                continue
            failures.append(
                {
                    "instance_id": instance_id,
                    "status": invocation.get("Status") or "unknown",
                    "exit_code": invocation.get("ResponseCode"),
                    "output": excerpt(invocation.get("StandardErrorContent"))
                    or excerpt(invocation.get("StandardOutputContent")),
                }
            )
        return failures
