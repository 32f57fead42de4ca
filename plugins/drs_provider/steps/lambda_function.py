"""``lambda``: a Lambda function invoked with the run's event; a function error fails the step."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Json, Key, Object, Text
from drs_provider.steps.common import empty_mapping, step_keys
from drs_provider.steps.registry import AwsCall, LambdaFunction, StepKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.steps.registry import Place

# A Lambda function name, partial ARN or ARN, with an optional version or alias (Invoke's FunctionName).
FUNCTION_PATTERN = (
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9\-_\.]+)(:(\$LATEST|[a-zA-Z0-9\-_]+))?$"
)


@dataclass(frozen=True, kw_only=True)
class LambdaStep(Step):
    """A Lambda function invoked with the run's event; a function error fails the step."""

    kind: ClassVar[str] = "lambda"
    #: function name or ARN
    function: str
    #: the event's ``input``
    payload: Mapping[str, Any] = field(default_factory=empty_mapping, hash=False)

    def _fields(self) -> dict[str, object]:
        data: dict[str, object] = {"function": self.function}
        if self.payload:
            data["payload"] = dict(self.payload)
        return data

    @classmethod
    def from_fields(cls, fields: dict[str, Any], *, phase: str, wave: str) -> Self:
        if "payload" in fields:
            payload = fields["payload"]
            fields["payload"] = MappingProxyType(dict(payload) if isinstance(payload, dict) else {})
        return cls(**fields)


RULE = Object(
    title="lambda step",
    description=(
        "A Lambda function invoked with the run's event (plan, dag_id, run_id, mode, wave, step, "
        "servers, input); a function error fails the step."
    ),
    where="in a lambda step",
    keys=step_keys(
        Key(
            "function",
            Text(
                description="Function name or ARN (optionally :version or :alias).",
                pattern=FUNCTION_PATTERN,
                hint="a Lambda function name or ARN",
                max_length=170,
            ),
            required=True,
        ),
        Key("payload", Json(description="Passed to the function as the event's 'input'.")),
    ),
)


def describe(step: LambdaStep) -> str:
    return f"calls {step.function}"


def arguments(step: LambdaStep, place: Place) -> dict[str, Any]:
    # Invoked once: a second call would repeat its side effects.
    return {
        "function": step.function,
        "input_payload": step.payload,
        "retries": 0,
        **place.common(step),
        **place.aws,
    }


KIND = StepKind(
    model=LambdaStep,
    rule=RULE,
    describe=describe,
    operator="drs_provider.operators.runbook:DrsWaveLambdaOperator",
    arguments=arguments,
    reported_from=("airflow.providers.amazon.aws.operators.lambda_function:LambdaInvokeFunctionOperator",),
    needs=(LambdaFunction("function"),),
    calls=(AwsCall("lambda", "Invoke", resource="function"),),
)
