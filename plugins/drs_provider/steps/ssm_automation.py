"""``ssm_automation``: an SSM Automation runbook, waited for until its execution ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, Object
from drs_provider.steps.common import (
    SSM_DOCUMENT,
    SSM_PARAMETERS,
    empty_mapping,
    frozen_parameters,
    seconds,
    step_keys,
)
from drs_provider.steps.registry import AwsCall, SsmDocument, StepKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.steps.registry import Place

TIMEOUT_RANGE = (60, 172800)


@dataclass(frozen=True, kw_only=True)
class SsmAutomationStep(Step):
    """An SSM Automation runbook, waited for until its execution ends."""

    kind: ClassVar[str] = "ssm_automation"
    document: str
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=empty_mapping, hash=False)
    timeout: int = 3600

    def _fields(self) -> dict[str, object]:
        data: dict[str, object] = {"document": self.document, "timeout": self.timeout}
        if self.parameters:
            data["parameters"] = {key: list(values) for key, values in self.parameters.items()}
        return data

    @classmethod
    def from_fields(cls, fields: dict[str, Any], *, phase: str, wave: str) -> Self:
        if "parameters" in fields:
            fields["parameters"] = frozen_parameters(fields["parameters"])
        return cls(**fields)


RULE = Object(
    title="ssm_automation step",
    description="An SSM Automation runbook; the step waits for its execution and fails unless it succeeds.",
    where="in an ssm_automation step",
    keys=step_keys(
        Key("document", SSM_DOCUMENT, required=True),
        Key("parameters", SSM_PARAMETERS),
        Key("timeout", seconds("Seconds the execution may take (default 3600).", TIMEOUT_RANGE)),
    ),
)


def describe(step: SsmAutomationStep) -> str:
    return f"runbook {step.document}"


def arguments(step: SsmAutomationStep, place: Place) -> dict[str, Any]:
    # Started once: a second execution would repeat its side effects.
    return {
        "document_name": step.document,
        "parameters": step.parameters,
        "timeout": step.timeout,
        "retries": 0,
        **place.common(step),
        **place.aws,
    }


KIND = StepKind(
    model=SsmAutomationStep,
    rule=RULE,
    describe=describe,
    operator="drs_provider.operators.runbook:DrsWaveSsmAutomationOperator",
    arguments=arguments,
    reported_from=("drs_provider.operators.ssm:SsmStartAutomationOperator",),
    needs=(SsmDocument("document", "Automation"),),
    # GetAutomationExecution: the wait (waiters/ssm.json) and the reason of a failed execution.
    calls=(AwsCall("ssm", "StartAutomationExecution"), AwsCall("ssm", "GetAutomationExecution")),
)
