"""Plan step -> Airflow task, for every kind registered in :mod:`drs_provider.steps`.

Each kind declares its operator (a dotted path, so the plan layer stays free of Airflow) and its
arguments; here the operator is imported and built, at the place :class:`StepPlace` describes.
:func:`drs_provider.factory.render.render_plan` wires every task in one pass. A new kind needs
nothing here.

Retries: a step re-run is not always harmless. A second SSM command, Automation run or Lambda
call repeats its side effects, and an approval must not be asked twice behind a person's back,
so those kinds set ``retries=0`` in their arguments; a ``wait`` keeps the DAG's (it starts over).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.factory.lifecycle import event_callbacks
from drs_provider.steps.registry import kind_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import BaseOperator

    from drs_provider.notifications.sns import PlanEvents
    from drs_provider.plans.model import Plan, Step, Wave


@dataclass(frozen=True)
class StepPlace:
    """Where a step renders: its plan and wave, its phase, and the connection every AWS task uses.

    It is the :class:`~drs_provider.steps.registry.Place` a kind's arguments are made for.
    """

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

    def task_arguments(self, step: Step) -> dict[str, Any]:
        """What any operator in the wave takes: its task ID, trigger rule, docs and callbacks."""
        return {
            "task_id": step.name,
            "trigger_rule": "none_failed" if self.first_in_wave else "all_success",
            "doc_md": f"{self.phase} step `{step.name}` ({step.kind}) of wave `{self.wave.name}`"
            + (" (optional: a failure is reported and the wave goes on)" if step.optional else ""),
            **self.callbacks,
        }

    def common(self, step: Step) -> dict[str, Any]:
        """The arguments every step operator of this provider takes (``WaveStepMixin``)."""
        return {
            "plan_name": self.plan.name,
            "wave_name": self.wave.name,
            "step_name": step.name,
            "phase": self.phase,
            "optional": step.optional,
            "modes": step.modes,
            "first_in_wave": self.first_in_wave,
            **self.task_arguments(step),
        }

    def event_callbacks(self, event: str, hook: str) -> dict[str, Any]:
        """``{hook: [notifier]}`` sending the plan's ``event``, or ``{}`` when the plan does not want it."""
        return event_callbacks(self.events, event, hook)


@functools.cache
def operator_class(path: str) -> type[BaseOperator]:
    """The operator class a kind names as ``module:Class``, imported once.

    :raises TypeError: when the class templates a field. A step's arguments are plan text, which
        is data (``PlanTextMixin``): a kind of your own must not reopen what the built-in ones close.
    """
    module, _, name = path.partition(":")
    found: type[BaseOperator] = getattr(importlib.import_module(module), name)
    if found.template_fields:
        raise TypeError(
            f"step operator {path} templates {', '.join(found.template_fields)}: plan text is never "
            "a template; put drs_provider.operators.plan_task.PlanTextMixin before its operator class"
        )
    return found


def render_step(step: Step, place: StepPlace) -> BaseOperator:
    """The task of ``step``, created in the current DAG and task group."""
    kind = kind_of(step)
    return operator_class(kind.operator)(**kind.arguments(step, place))
