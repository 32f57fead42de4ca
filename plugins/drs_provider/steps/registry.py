"""The step kind registry: each kind of runbook step registered once, read by every layer.

A :class:`StepKind` holds everything that differs from one kind to another: its model class,
its rule (which the validator checks and the JSON Schema shows), the phrase ``drs-plan graph``
and the DAG's docs show, the operator the factory renders it as (and the arguments it gets),
the operators the run report knows it by, what preflight must find in AWS before it runs, and
what its task calls in AWS (the IAM policy ``drs-plan iam-policy`` prints).
The plan layer, the report and the factory look a kind up here; none of them names a kind.

This module imports nothing at run time, neither Airflow nor the plan layer, so that every
layer (``plans/`` included, which must stay free of Airflow) can read it. The operator is
therefore a dotted path, imported by the factory only when it renders a step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from drs_provider.plans.model import Step
    from drs_provider.plans.rule_kinds import Object

S = TypeVar("S", bound="Step")

#: A kind's name is the plan key and the tail of default step names (``post_12_<kind>``), which
#: must stay valid step names (at most 51 characters).
KIND_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,40}")


class Place(Protocol):
    """Where a step renders, as a kind's :attr:`StepKind.arguments` sees it (the factory's ``StepPlace``)."""

    @property
    def phase(self) -> str: ...

    @property
    def aws(self) -> Mapping[str, Any]:
        """The connection and region every AWS task of the plan takes."""

    def task_arguments(self, step: Step) -> dict[str, Any]:
        """What any operator in the wave takes: task ID, trigger rule, docs, failure callbacks."""

    def common(self, step: Step) -> dict[str, Any]:
        """:meth:`task_arguments` plus what the provider's wave step operators take (``WaveStepMixin``)."""

    def event_callbacks(self, event: str, hook: str) -> dict[str, Any]:
        """``{hook: [notifier]}`` sending the plan's ``event``, or ``{}`` when the plan does not want it."""


@dataclass(frozen=True)
class AwsCall:
    """An AWS API operation a step's task calls, for the IAM policy ``drs-plan iam-policy`` writes
    (:mod:`drs_provider.iam` turns each operation into the IAM actions it needs)."""

    #: the service, as botocore names it: ``ssm``, ``lambda``
    service: str
    #: the API operation, as botocore names it: ``SendCommand``, ``Invoke``
    operation: str
    #: the step key naming what the call acts on, so that the policy can grant it on that alone
    #: (:mod:`drs_provider.iam` knows which services' resources it can name)
    resource: str | None = None
    #: made only when the step gives this key
    when: str | None = None


@dataclass(frozen=True)
class LambdaFunction:
    """The step's ``key`` names a Lambda function that must exist (preflight: GetFunction)."""

    key: str

    @property
    def lookup(self) -> AwsCall:
        """What preflight and readiness call to find it."""
        return AwsCall("lambda", "GetFunction", resource=self.key)


@dataclass(frozen=True)
class SsmDocument:
    """The step's ``key`` names an SSM document of ``document_type`` (preflight: DescribeDocument)."""

    key: str
    document_type: str

    @property
    def lookup(self) -> AwsCall:
        """What preflight and readiness call to find it."""
        return AwsCall("ssm", "DescribeDocument")


#: What a step names in AWS beyond DRS, checked read-only by preflight before anything launches.
Resource = LambdaFunction | SsmDocument


@dataclass(frozen=True)
class StepKind(Generic[S]):
    """One kind of runbook step: everything about it, in the one place it is declared."""

    #: the model class; its ``kind`` is the key that names the step in a plan file
    model: type[S]
    #: the step's keys and their limits (it must take ``name``, ``optional`` and ``modes``, see
    #: ``step_keys``)
    rule: Object
    #: what the step does, in a phrase: ``AWS-RunShellScript on the recovered instances``
    describe: Callable[[S], str]
    #: ``module:Class`` of the operator the step renders as, imported only by the factory
    operator: str
    #: the operator's keyword arguments for a step at a place in the DAG
    arguments: Callable[[S, Place], dict[str, Any]]
    #: ``module:Class`` of other operators the run report takes for this kind (hand-written DAGs)
    reported_from: tuple[str, ...] = ()
    #: problems across keys that the rule cannot say, from the phase and the checked body
    checks: Callable[[str, Mapping[str, object]], Iterable[str]] | None = None
    #: what preflight must find in AWS
    needs: tuple[Resource, ...] = ()
    #: what the step's task calls in AWS when it runs (its IAM actions; preflight's look-ups come
    #: from :attr:`needs`)
    calls: tuple[AwsCall, ...] = ()

    @property
    def name(self) -> str:
        return self.model.kind

    @property
    def operator_names(self) -> tuple[str, ...]:
        """Class names of :attr:`operator` and :attr:`reported_from`, as Airflow records a task's operator."""
        return tuple(path.rpartition(":")[2] for path in (self.operator, *self.reported_from))


_KINDS: dict[str, StepKind[Any]] = {}
_BY_OPERATOR: dict[str, StepKind[Any]] = {}


def register(kind: StepKind[S]) -> StepKind[S]:
    """Add ``kind``; every layer sees it from now on. Refuses a name or an operator already taken.

    :raises ValueError: what is wrong with the kind
    """
    name = kind.name
    if not KIND_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"step kind {name!r}: a kind name is {KIND_NAME_PATTERN.pattern}")
    if name in _KINDS:
        raise ValueError(f"step kind {name!r} is already registered")
    missing = [key for key in ("name", "optional", "modes") if kind.rule.key(key) is None]
    if missing:
        raise ValueError(f"step kind {name!r}: its rule lacks {', '.join(missing)} (build it with step_keys)")
    for path in (kind.operator, *kind.reported_from):
        if ":" not in path:
            raise ValueError(f"step kind {name!r}: {path!r} is not a module:Class path")
    taken = {op: _BY_OPERATOR[op].name for op in kind.operator_names if op in _BY_OPERATOR}
    if taken:
        listed = ", ".join(f"{op} ({owner})" for op, owner in taken.items())
        raise ValueError(f"step kind {name!r}: operators already reported as another kind: {listed}")
    _KINDS[name] = kind
    _BY_OPERATOR.update(dict.fromkeys(kind.operator_names, kind))
    return kind


def unregister(name: str) -> None:
    """Remove the kind ``name`` (a test's toy kind, say); unknown names are ignored."""
    kind = _KINDS.pop(name, None)
    if kind is not None:
        for operator in kind.operator_names:
            _BY_OPERATOR.pop(operator, None)


def step_kinds() -> tuple[StepKind[Any], ...]:
    """Every registered kind, in the order registered (the order messages and the schema list them)."""
    return tuple(_KINDS.values())


def find_step_kind(name: str) -> StepKind[Any] | None:
    """The kind a plan names ``name``, if one is registered."""
    return _KINDS.get(name)


def kind_of(step: Step) -> StepKind[Any]:
    """The kind of a step of a loaded plan (always registered: the plan was validated against it)."""
    return _KINDS[step.kind]


def kind_of_operator(operator: str | None) -> StepKind[Any] | None:
    """The kind whose tasks run ``operator`` (a class name, as Airflow records it), if any."""
    return _BY_OPERATOR.get(operator) if operator else None
