"""The plan model: plain typed objects, no Airflow and no boto3 (DESIGN.md contract 1).

A :class:`Plan` is only ever built by the loader after validation, so its fields hold
checked values and ``depends_on`` is already resolved (omitted = the wave listed before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from drs_provider.constants import (
    MODES,
    PREFLIGHT_TASK_ID,
    START_RECOVERY_TASK,
    WAIT_FOR_RECOVERY_TASK,
    dag_id_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

PLAN_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,50}$"
WAVE_NAME_PATTERN = PLAN_NAME_PATTERN
#: Names a wave cannot have: each wave becomes a task group beside these tasks of the DAG
#: (DESIGN.md contract 2), and a group may not share a task's ID.
RESERVED_WAVE_NAMES = frozenset({PREFLIGHT_TASK_ID})
STEP_NAME_PATTERN = PLAN_NAME_PATTERN
#: Names a step cannot have: its task shares the wave's group with these tasks.
RESERVED_STEP_NAMES = frozenset({START_RECOVERY_TASK, WAIT_FOR_RECOVERY_TASK})
#: Where a step runs: before the wave's StartRecovery, or after every required server LAUNCHED.
PHASES = ("pre", "post")


@dataclass(frozen=True)
class ServerSelector:
    """Servers by ID and/or by tags; tags match servers carrying ALL of them."""

    ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:  # tags are a read-only mapping, which is not hashable itself
        return hash((self.ids, frozenset(self.tags.items())))

    @property
    def is_empty(self) -> bool:
        return not self.ids and not self.tags

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as passed to operators and shown in docs."""
        return {"ids": list(self.ids), "tags": dict(self.tags)}


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Step:
    """One runbook step of a wave (DESIGN.md contract 1). Each kind is a subclass.

    ``name`` is already resolved (default ``<phase>_<n>_<kind>``); an ``optional`` step's
    failure is logged and reported, and the wave goes on.
    """

    #: the step kind as written in the plan (``approval``, ``ssm_command``, ...)
    kind: ClassVar[str]
    name: str
    optional: bool = False

    def to_dict(self) -> dict[str, object]:
        """The step in plan-file form (``{kind: {...}}``, name always explicit)."""
        body: dict[str, object] = {"name": self.name}
        if self.optional:
            body["optional"] = True
        body.update(self._fields())
        return {self.kind: body}

    def _fields(self) -> dict[str, object]:
        return {}


@dataclass(frozen=True, kw_only=True)
class ApprovalStep(Step):
    """A person approves (or rejects) before the run goes on; no answer in time = rejected."""

    kind: ClassVar[str] = "approval"
    message: str
    #: seconds to wait for an answer
    timeout: int = 3600
    #: the run modes that stop here; in other modes the step passes at once
    modes: tuple[str, ...] = MODES

    def _fields(self) -> dict[str, object]:
        return {"message": self.message, "timeout": self.timeout, "modes": list(self.modes)}


@dataclass(frozen=True, kw_only=True)
class SsmCommandStep(Step):
    """An SSM Run Command document on EC2 instances (default in ``post``: the wave's recovered ones)."""

    kind: ClassVar[str] = "ssm_command"
    document: str
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_mapping, hash=False)
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


@dataclass(frozen=True, kw_only=True)
class SsmAutomationStep(Step):
    """An SSM Automation runbook, waited for until its execution ends."""

    kind: ClassVar[str] = "ssm_automation"
    document: str
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=_empty_mapping, hash=False)
    timeout: int = 3600

    def _fields(self) -> dict[str, object]:
        data: dict[str, object] = {"document": self.document, "timeout": self.timeout}
        if self.parameters:
            data["parameters"] = {key: list(values) for key, values in self.parameters.items()}
        return data


@dataclass(frozen=True, kw_only=True)
class LambdaStep(Step):
    """A Lambda function invoked with the run's event; a function error fails the step."""

    kind: ClassVar[str] = "lambda"
    #: function name or ARN
    function: str
    #: the event's ``input``
    payload: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)

    def _fields(self) -> dict[str, object]:
        data: dict[str, object] = {"function": self.function}
        if self.payload:
            data["payload"] = dict(self.payload)
        return data


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step):
    """Wait ``seconds``, counted from when the step starts."""

    kind: ClassVar[str] = "wait"
    seconds: int

    def _fields(self) -> dict[str, object]:
        return {"seconds": self.seconds}


#: Every step kind, by the key that names it in a plan file.
STEP_KINDS: dict[str, type[Step]] = {
    kind.kind: kind for kind in (ApprovalStep, SsmCommandStep, SsmAutomationStep, LambdaStep, WaitStep)
}


@dataclass(frozen=True)
class Wave:
    """One wave: servers recovered together, after every wave in ``depends_on``."""

    name: str
    servers: ServerSelector
    depends_on: tuple[str, ...]
    optional_servers: ServerSelector | None = None
    poll_interval: int | None = None
    timeout: int | None = None
    #: steps before the wave's StartRecovery, in order
    pre: tuple[Step, ...] = ()
    #: steps after every required server LAUNCHED, in order
    post: tuple[Step, ...] = ()

    @property
    def steps(self) -> tuple[tuple[str, Step], ...]:
        """Every step with its phase, in the order they run."""
        return tuple(("pre", step) for step in self.pre) + tuple(("post", step) for step in self.post)


#: ``cleanup`` policies: when a drill terminates the recovery instances it launched.
CLEANUP_NEVER = "never"
CLEANUP_ON_SUCCESS = "on_success"
CLEANUP_ALWAYS = "always"
CLEANUP_POLICIES = (CLEANUP_NEVER, CLEANUP_ON_SUCCESS, CLEANUP_ALWAYS)
#: Run events a plan can send to SNS, in the order a run meets them (DESIGN.md contract 1).
NOTIFY_EVENTS = ("started", "approval_requested", "wave_failed", "rto_missed", "succeeded", "failed")


@dataclass(frozen=True)
class Notify:
    """Where a plan's run events go, and which events."""

    sns_topic_arn: str
    events: tuple[str, ...] = NOTIFY_EVENTS


@dataclass(frozen=True)
class Plan:
    """A validated recovery plan, loaded from ``source`` (the YAML file's path)."""

    name: str
    waves: tuple[Wave, ...]
    source: str
    description: str | None = None
    owner: str | None = None
    aws_conn_id: str | None = None
    region: str | None = None
    schedule: str | None = None
    max_servers_per_job: int | None = None
    #: seconds: each run's report says whether the run met it
    rto_target: int | None = None
    #: drills only: when the run terminates the recovery instances it launched
    cleanup: str = CLEANUP_NEVER
    notify: Notify | None = None
    #: where each run's report is stored as JSON (``s3://bucket/prefix/``)
    report_s3_uri: str | None = None

    @property
    def dag_id(self) -> str:
        return dag_id_of(self.name)

    def wave(self, name: str) -> Wave:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(name)

    def to_dict(self) -> dict[str, object]:
        """The plan in plan-file form (``depends_on`` always explicit); loads back to an equal plan."""
        data: dict[str, object] = {"plan": self.name}
        for key in (
            "description",
            "owner",
            "aws_conn_id",
            "region",
            "schedule",
            "max_servers_per_job",
            "rto_target",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.cleanup != CLEANUP_NEVER:
            data["cleanup"] = self.cleanup
        if self.notify is not None:
            data["notify"] = {"sns_topic_arn": self.notify.sns_topic_arn, "events": list(self.notify.events)}
        if self.report_s3_uri is not None:
            data["report"] = {"s3_uri": self.report_s3_uri}
        data["waves"] = [_wave_to_dict(wave) for wave in self.waves]
        return data


def _selector_to_dict(selector: ServerSelector) -> dict[str, object]:
    data: dict[str, object] = {}
    if selector.ids:
        data["ids"] = list(selector.ids)
    if selector.tags:
        data["tags"] = dict(selector.tags)
    return data


def _wave_to_dict(wave: Wave) -> dict[str, object]:
    data: dict[str, object] = {"name": wave.name, "servers": _selector_to_dict(wave.servers)}
    if wave.optional_servers is not None:
        data["optional_servers"] = _selector_to_dict(wave.optional_servers)
    data["depends_on"] = list(wave.depends_on)
    if wave.poll_interval is not None:
        data["poll_interval"] = wave.poll_interval
    if wave.timeout is not None:
        data["timeout"] = wave.timeout
    for phase in PHASES:
        steps = getattr(wave, phase)
        if steps:
            data[phase] = [step.to_dict() for step in steps]
    return data
