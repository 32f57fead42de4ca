"""Plan step -> Airflow task: one renderer per step kind, looked up in :data:`STEP_RENDERERS`.

A new step kind is a model class in :mod:`drs_provider.plans.model`, a rule in
:mod:`drs_provider.plans.rules`, an operator in :mod:`drs_provider.operators.runbook` and one
entry here; :func:`drs_provider.factory.render.render_plan` wires every task in one pass.

Retries: a step re-run is not always harmless. A second SSM command, Automation run or Lambda
call repeats its side effects, and an approval must not be asked twice behind a person's back,
so those kinds never retry; a ``wait`` may (it starts over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.factory.lifecycle import event_callbacks
from drs_provider.steps.approval import ApprovalStep
from drs_provider.steps.lambda_function import LambdaStep
from drs_provider.steps.ssm_automation import SsmAutomationStep
from drs_provider.steps.ssm_command import SsmCommandStep
from drs_provider.steps.wait import WaitStep

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow.sdk import BaseOperator

    from drs_provider.notifications.sns import PlanEvents
    from drs_provider.plans.model import Plan, Step, Wave


@dataclass(frozen=True)
class StepPlace:
    """Where a step renders: its plan and wave, its phase, and the connection every AWS task uses."""

    plan: Plan
    wave: Wave
    phase: str
    aws: Mapping[str, Any]
    #: the wave's first task decides whether the wave runs at all
    first_in_wave: bool
    #: where the plan's events go, if anywhere
    events: PlanEvents | None = None
    #: the callbacks every task of the wave gets (``wave_failed``)
    callbacks: Mapping[str, Any] = field(default_factory=dict)

    def common(self, step: Step) -> dict[str, Any]:
        """The arguments every step operator takes."""
        return {
            "task_id": step.name,
            "plan_name": self.plan.name,
            "wave_name": self.wave.name,
            "step_name": step.name,
            "phase": self.phase,
            "optional": step.optional,
            "first_in_wave": self.first_in_wave,
            "trigger_rule": "none_failed" if self.first_in_wave else "all_success",
            "doc_md": f"{self.phase} step `{step.name}` ({step.kind}) of wave `{self.wave.name}`"
            + (" (optional: a failure is reported and the wave goes on)" if step.optional else ""),
            **self.callbacks,
        }


def _approval(step: Step, place: StepPlace) -> BaseOperator:
    from drs_provider.operators.runbook import DrsWaveApprovalOperator

    assert isinstance(step, ApprovalStep)
    notifiers = event_callbacks(place.events, "approval_requested", "notifiers")
    return DrsWaveApprovalOperator(
        message=step.message,
        timeout=step.timeout,
        modes=step.modes,
        retries=0,
        **notifiers,
        **place.common(step),
    )


def _ssm_command(step: Step, place: StepPlace) -> BaseOperator:
    from drs_provider.operators.runbook import DrsWaveSsmCommandOperator

    assert isinstance(step, SsmCommandStep)
    return DrsWaveSsmCommandOperator(
        document=step.document,
        parameters=step.parameters,
        instance_ids=step.instance_ids,
        targets=step.targets,
        timeout=step.timeout,
        comment=step.comment,
        retries=0,
        **place.common(step),
        **place.aws,
    )


def _ssm_automation(step: Step, place: StepPlace) -> BaseOperator:
    from drs_provider.operators.runbook import DrsWaveSsmAutomationOperator

    assert isinstance(step, SsmAutomationStep)
    return DrsWaveSsmAutomationOperator(
        document_name=step.document,
        parameters=step.parameters,
        timeout=step.timeout,
        retries=0,
        **place.common(step),
        **place.aws,
    )


def _lambda(step: Step, place: StepPlace) -> BaseOperator:
    from drs_provider.operators.runbook import DrsWaveLambdaOperator

    assert isinstance(step, LambdaStep)
    return DrsWaveLambdaOperator(
        function=step.function, input_payload=step.payload, retries=0, **place.common(step), **place.aws
    )


def _wait(step: Step, place: StepPlace) -> BaseOperator:
    from drs_provider.operators.runbook import DrsWaveWaitOperator

    assert isinstance(step, WaitStep)
    return DrsWaveWaitOperator(seconds=step.seconds, **place.common(step))


#: One renderer per step kind.
STEP_RENDERERS: dict[type[Step], Callable[[Step, StepPlace], BaseOperator]] = {
    ApprovalStep: _approval,
    SsmCommandStep: _ssm_command,
    SsmAutomationStep: _ssm_automation,
    LambdaStep: _lambda,
    WaitStep: _wait,
}


def render_step(step: Step, place: StepPlace) -> BaseOperator:
    """The task of ``step``, created in the current DAG and task group."""
    return STEP_RENDERERS[type(step)](step, place)
