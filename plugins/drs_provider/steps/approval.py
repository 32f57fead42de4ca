"""``approval``: a person approves (or rejects) before the run goes on; no answer in time = rejected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drs_provider.constants import APPROVAL_MODES
from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, Object, Text
from drs_provider.steps.common import seconds, step_keys
from drs_provider.steps.registry import StepKind

if TYPE_CHECKING:
    from drs_provider.steps.registry import Place

TIMEOUT_RANGE = (10, 7 * 86400)  # seconds: from a quick drill gate to a week


@dataclass(frozen=True, kw_only=True)
class ApprovalStep(Step):
    """A person approves (or rejects) before the run goes on; no answer in time = rejected."""

    kind: ClassVar[str] = "approval"
    message: str
    #: seconds to wait for an answer
    timeout: int = 3600
    #: the run modes that stop here (not failback, unless the plan says so); in other modes the
    #: step passes at once
    modes: tuple[str, ...] = APPROVAL_MODES

    def _fields(self) -> dict[str, object]:
        return {"message": self.message, "timeout": self.timeout}

    @classmethod
    def from_fields(cls, fields: dict[str, Any], *, phase: str, wave: str) -> Self:
        if "message" not in fields:
            fields["message"] = (
                f"Approve wave {wave}?" if phase == "pre" else f"Wave {wave} recovered: go on?"
            )
        return cls(**fields)


RULE = Object(
    title="approval step",
    description="A person approves before the run goes on; a rejection or no answer in time fails the wave.",
    where="in an approval step",
    keys=step_keys(
        Key(
            "message",
            Text(description="What the approver is asked (default: approve wave <wave>?).", min_length=1),
        ),
        Key("timeout", seconds("Seconds to wait for an answer (default 3600).", TIMEOUT_RANGE)),
        default_modes=APPROVAL_MODES,
    ),
)


def describe(step: ApprovalStep) -> str:
    return f"asks {step.message!r}, {step.timeout} s to answer"


def arguments(step: ApprovalStep, place: Place) -> dict[str, Any]:
    # Asked once: a retry would ask the person again behind their back.
    return {
        "message": step.message,
        "timeout": step.timeout,
        "retries": 0,
        **place.event_callbacks("approval_requested", "notifiers"),
        **place.common(step),
    }


KIND = StepKind(
    model=ApprovalStep,
    rule=RULE,
    describe=describe,
    operator="drs_provider.operators.runbook:DrsWaveApprovalOperator",
    arguments=arguments,
    reported_from=(
        "airflow.providers.standard.operators.hitl:ApprovalOperator",
        "airflow.providers.standard.operators.hitl:HITLOperator",
    ),
)
