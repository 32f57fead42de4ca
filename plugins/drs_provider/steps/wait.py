"""``wait``: wait a number of seconds, counted from when the step starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, Object
from drs_provider.steps.common import seconds, step_keys
from drs_provider.steps.registry import StepKind

if TYPE_CHECKING:
    from drs_provider.steps.registry import Place

WAIT_RANGE = (1, 86400)  # seconds


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step):
    """Wait ``seconds``, counted from when the step starts."""

    kind: ClassVar[str] = "wait"
    seconds: int

    def _fields(self) -> dict[str, object]:
        return {"seconds": self.seconds}


RULE = Object(
    title="wait step",
    description="Wait, counted from when the step starts: 'wait: 120' or 'wait: {seconds: 120, name: x}'.",
    where="in a wait step",
    shorthand="seconds",
    keys=step_keys(Key("seconds", seconds("Seconds to wait.", WAIT_RANGE), required=True)),
)


def describe(step: WaitStep) -> str:
    return f"{step.seconds} s"


def arguments(step: WaitStep, place: Place) -> dict[str, Any]:
    # The DAG's retries apply: a wait that starts over repeats nothing.
    return {"seconds": step.seconds, **place.common(step)}


KIND = StepKind(
    model=WaitStep,
    rule=RULE,
    describe=describe,
    operator="drs_provider.operators.runbook:DrsWaveWaitOperator",
    arguments=arguments,
    reported_from=(
        "airflow.providers.standard.sensors.time_delta:TimeDeltaSensor",
        "airflow.providers.standard.sensors.time_delta:TimeDeltaSensorAsync",
        "airflow.providers.standard.sensors.time_delta:WaitSensor",
    ),
)
