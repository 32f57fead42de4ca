"""``ssm_command``: an SSM Run Command document on EC2 instances (in ``post``: the wave's recovered ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, ListOf, Object, Text
from drs_provider.steps.common import (
    SSM_DOCUMENT,
    SSM_PARAMETERS,
    empty_mapping,
    frozen_parameters,
    seconds,
    step_keys,
    texts,
)
from drs_provider.steps.registry import AwsCall, SsmDocument, StepKind

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from drs_provider.steps.registry import Place

TIMEOUT_RANGE = (30, 172800)  # SendCommand's TimeoutSeconds allows 30 s .. 48 h
EC2_INSTANCE_ID_PATTERN = r"^i-[0-9a-f]{8,17}$"


@dataclass(frozen=True, kw_only=True)
class SsmCommandStep(Step):
    """An SSM Run Command document on EC2 instances (default in ``post``: the wave's recovered ones)."""

    kind: ClassVar[str] = "ssm_command"
    document: str
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=empty_mapping, hash=False)
    instance_ids: tuple[str, ...] = ()
    #: SSM targets, as SendCommand takes them: ``{"Key": ..., "Values": [...]}``
    targets: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    timeout: int = 600
    comment: str | None = None

    def _fields(self) -> dict[str, object]:
        data: dict[str, object] = {"document": self.document, "timeout": self.timeout}
        if self.parameters:
            data["parameters"] = {key: list(values) for key, values in self.parameters.items()}
        if self.instance_ids:
            data["instance_ids"] = list(self.instance_ids)
        if self.targets:
            data["targets"] = [{"Key": t["Key"], "Values": list(t["Values"])} for t in self.targets]
        if self.comment is not None:
            data["comment"] = self.comment
        return data

    @classmethod
    def from_fields(cls, fields: dict[str, Any], *, phase: str, wave: str) -> Self:
        if "instance_ids" in fields:
            fields["instance_ids"] = texts(fields["instance_ids"])
        if "parameters" in fields:
            fields["parameters"] = frozen_parameters(fields["parameters"])
        if "targets" in fields:
            targets = fields["targets"] if isinstance(fields["targets"], tuple) else ()
            fields["targets"] = tuple(
                MappingProxyType({"Key": target["Key"], "Values": texts(target["Values"])})
                for target in targets
                if isinstance(target, dict)
            )
        return cls(**fields)


TARGET = Object(
    title="SSM target",
    description="Instances by tag or resource group, as SendCommand's Targets take them.",
    where="in an ssm_command target",
    shape_hint="a target is a mapping with 'Key' (e.g. tag:Role) and 'Values'",
    keys=(
        Key(
            "Key",
            Text(description="e.g. tag:Role or InstanceIds.", min_length=1, max_length=163),
            required=True,
        ),
        Key(
            "Values",
            ListOf(Text(description="One value.", min_length=1), min_items=1, max_items=50),
            required=True,
        ),
    ),
)
RULE = Object(
    title="ssm_command step",
    description=(
        "An SSM Run Command document. In post it runs on the wave's recovered EC2 instances unless "
        "it names instance_ids or targets; in pre it must name them."
    ),
    where="in an ssm_command step",
    keys=step_keys(
        Key("document", SSM_DOCUMENT, required=True),
        Key("parameters", SSM_PARAMETERS),
        Key(
            "instance_ids",
            ListOf(
                Text(
                    description="An EC2 instance ID.",
                    pattern=EC2_INSTANCE_ID_PATTERN,
                    hint="i- and 8 or 17 hex digits",
                ),
                min_items=1,
                description="EC2 instances to run on (instead of the wave's recovered instances).",
            ),
        ),
        Key(
            "targets",
            ListOf(
                TARGET,
                min_items=1,
                max_items=5,
                unique=False,
                noun="target",
                description="SSM targets (instead of the wave's recovered instances).",
            ),
        ),
        Key(
            "timeout", seconds("Seconds the command may take on each instance (default 600).", TIMEOUT_RANGE)
        ),
        Key("comment", Text(description="Shown with the command in SSM.", max_length=100)),
    ),
)


def checks(phase: str, body: Mapping[str, object]) -> Iterator[str]:
    """SSM takes instances or targets, not both; in ``pre`` nothing is recovered to default to."""
    targeted = [key for key in ("instance_ids", "targets") if key in body]
    if len(targeted) == 2:
        yield "give instance_ids or targets, not both (SSM takes one of them)"
    elif phase == "pre" and not targeted:
        yield (
            "an ssm_command in pre must name instance_ids or targets: "
            "the wave has no recovered instances before it launches"
        )


def describe(step: SsmCommandStep) -> str:
    if step.instance_ids:
        where = ", ".join(step.instance_ids)
    elif step.targets:
        where = "; ".join(f"{t['Key']}={','.join(t['Values'])}" for t in step.targets)
    else:
        where = "the recovered instances"
    return f"{step.document} on {where}"


def arguments(step: SsmCommandStep, place: Place) -> dict[str, Any]:
    # Sent once: a second command would repeat its side effects.
    return {
        "document": step.document,
        "parameters": step.parameters,
        "instance_ids": step.instance_ids,
        "targets": step.targets,
        "timeout": step.timeout,
        "comment": step.comment,
        "retries": 0,
        **place.common(step),
        **place.aws,
    }


KIND = StepKind(
    model=SsmCommandStep,
    rule=RULE,
    describe=describe,
    operator="drs_provider.operators.runbook:DrsWaveSsmCommandOperator",
    arguments=arguments,
    reported_from=(
        "airflow.providers.amazon.aws.operators.ssm:SsmRunCommandOperator",
        "airflow.providers.amazon.aws.sensors.ssm:SsmRunCommandCompletedSensor",
    ),
    checks=checks,
    needs=(SsmDocument("document", "Command"),),
    calls=(
        AwsCall("ssm", "SendCommand"),
        # botocore's command_executed waiter, and the output of each instance it failed on
        AwsCall("ssm", "GetCommandInvocation"),
        # with targets SSM picks the instances; the amazon provider's trigger lists them
        AwsCall("ssm", "ListCommandInvocations", when="targets"),
    ),
)
