"""A plan mirrored into DRS's native recovery plans: the pure mapping, no Airflow and no AWS.

DRS's own recovery plans (CreateRecoveryPlan, CreateRecoveryPlanStep) run SERVER steps (1..100
servers, each CRITICAL or OPTIONAL) and WAIT steps (1..120 minutes) one after another, in one
account and region, at most 20 steps and 100 servers a plan, never a WAIT first. A plan becomes
one set of native plans per (connection, region) its waves name:

* waves in topological order, each a SERVER step (required servers CRITICAL, optional ones
  OPTIONAL), several when it has more than 100 servers;
* a wave's ``wait`` steps, before and after, WAIT steps (seconds rounded up to minutes, 1..120);
* too many steps or servers for one plan: parts ``<plan>-1``, ``<plan>-2``, ... run one after
  another, each starting with a SERVER step, so a WAIT is never first; a WAIT before the first
  SERVER step is dropped;
* the description lists what the native plan cannot express (approvals, SSM, Lambda, cleanup,
  parallel waves, order across regions) and what the mapping changed.

Tag selectors are resolved against DRS at run time, so the caller passes each wave's resolved
servers (:class:`WaveServers`). :func:`kept_steps` is the step diff against what DRS holds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from drs_provider.constants import (
    MAX_SERVERS_PER_RECOVERY_PLAN,
    MAX_SERVERS_PER_RECOVERY_PLAN_STEP,
    MAX_STEPS_PER_RECOVERY_PLAN,
    MODE_DRILL,
    MODE_RECOVERY,
    RECOVERY_PLAN_DESCRIPTION_LENGTH,
    RECOVERY_PLAN_WAIT_MINUTES,
    TAG_NATIVE_PART,
    TAG_NATIVE_PLAN,
)
from drs_provider.plans.graph import topological_waves
from drs_provider.plans.model import CLEANUP_NEVER
from drs_provider.steps.wait import WaitStep

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from drs_provider.plans.model import Plan, Step, Wave

CRITICAL = "CRITICAL"
OPTIONAL = "OPTIONAL"
SERVER_STEP = "SERVER"
WAIT_STEP = "WAIT"
#: How the description names the step kinds a native plan cannot run.
_UNEXPRESSED_KINDS = {
    "approval": "approvals",
    "ssm_command": "SSM commands",
    "ssm_automation": "SSM automations",
    "lambda": "Lambda steps",
}
#: The run modes a native plan has (its executions are DRILL or RECOVERY).
_NATIVE_MODES = (MODE_DRILL, MODE_RECOVERY)


@dataclass(frozen=True)
class WaveServers:
    """One wave's servers as resolved in DRS: source server ID -> ARN, in launch order."""

    required: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    optional: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)


@dataclass(frozen=True)
class Target:
    """Where a native plan lives: the wave's connection and region, else the plan's (None: default)."""

    aws_conn_id: str | None
    region: str | None

    def __str__(self) -> str:
        return f"{self.aws_conn_id or 'aws_default'}, {self.region or 'the connection region'}"


@dataclass(frozen=True)
class NativeServer:
    server_id: str
    server_arn: str
    impact_level: str  # CRITICAL | OPTIONAL


@dataclass(frozen=True)
class NativeStep:
    """A SERVER step (``servers``) or a WAIT step (``wait_minutes``), from ``wave``."""

    name: str
    wave: str
    servers: tuple[NativeServer, ...] = ()
    wait_minutes: int | None = None

    @property
    def kind(self) -> str:
        return WAIT_STEP if self.wait_minutes is not None else SERVER_STEP

    def configuration(self) -> dict[str, object]:
        """CreateRecoveryPlanStep's ``configuration`` (a union: exactly one member)."""
        if self.wait_minutes is not None:
            return {"waitStepConfiguration": {"waitDurationMinutes": self.wait_minutes}}
        servers = [
            {"serverArn": server.server_arn, "impactLevel": server.impact_level} for server in self.servers
        ]
        return {"serverStepConfiguration": {"servers": servers}}


@dataclass(frozen=True)
class NativePlan:
    """One native recovery plan to create: CreateRecoveryPlan's fields and its steps in order."""

    name: str
    target: Target
    description: str
    tags: tuple[tuple[str, str], ...]
    steps: tuple[NativeStep, ...]
    #: what the description says the native plan cannot express or the mapping changed
    limitations: tuple[str, ...]

    @property
    def server_count(self) -> int:
        return sum(len(step.servers) for step in self.steps)

    def step_requests(self) -> list[dict[str, object]]:
        """CreateRecoveryPlanStep's fields for each step (``stepOrder`` from 1)."""
        return [
            {"stepName": step.name, "stepOrder": order, "configuration": step.configuration()}
            for order, step in enumerate(self.steps, start=1)
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: where, CreateRecoveryPlan's fields and the steps' requests."""
        return {
            "aws_conn_id": self.target.aws_conn_id,
            "region": self.target.region,
            "name": self.name,
            "description": self.description,
            "tags": dict(self.tags),
            "limitations": list(self.limitations),
            "steps": self.step_requests(),
        }


def wait_minutes(seconds: int) -> tuple[int, bool]:
    """A wait in whole minutes as a WAIT step takes them (rounded up, 1..120); and whether capped."""
    low, high = RECOVERY_PLAN_WAIT_MINUTES
    minutes = max(low, math.ceil(seconds / 60))
    return min(minutes, high), minutes > high


def native_plans(
    plan: Plan, servers: Mapping[str, WaveServers], targets: Mapping[str, Target] | None = None
) -> list[NativePlan]:
    """The native recovery plans mirroring ``plan``: per target in the order its first wave comes,
    then part by part.

    :param servers: wave name -> its resolved servers (a wave left out has none)
    :param targets: wave name -> where its servers are, defaults resolved (a wave of region None
        and one naming the connection's region are one target); default :func:`target_of`
    """
    ordered = topological_waves(plan)
    where = {wave.name: (targets or {}).get(wave.name) or target_of(plan, wave) for wave in ordered}
    groups: dict[Target, list[Wave]] = {}
    for wave in ordered:
        groups.setdefault(where[wave.name], []).append(wave)
    result: list[NativePlan] = []
    for target, waves in groups.items():
        notes = [*_step_limitations(plan, waves), *_order_limitations(target, waves, ordered, where)]
        steps = _steps(waves, servers, notes)
        units = _units(steps, notes)
        parts = _pack(units)
        if not parts[0]:
            continue  # no servers here: a plan without a SERVER step cannot run (DRS calls it INVALID)
        for number, part in enumerate(parts, start=1):
            result.append(_native_plan(plan, target, part, number, len(parts), notes))
    return result


def target_of(plan: Plan, wave: Wave) -> Target:
    """Where a wave's servers are: its own connection and region, else the plan's."""
    return Target(wave.aws_conn_id or plan.aws_conn_id, wave.region or plan.region)


def _step_limitations(plan: Plan, waves: Sequence[Wave]) -> list[str]:
    """What the native plan of ``waves`` does not run: their steps other than waits (those of a
    drill or recovery: native plans do not fail back), and the plan's drill cleanup."""
    notes: list[str] = []
    by_kind: dict[str, list[str]] = {}
    for wave in waves:
        for _phase, step in wave.steps:
            if step.kind != WaitStep.kind and set(step.modes) & set(_NATIVE_MODES):
                by_kind.setdefault(step.kind, []).append(f"{wave.name}.{step.name}")
    for kind, names in by_kind.items():
        notes.append(f"{_UNEXPRESSED_KINDS.get(kind, f'{kind} steps')} ({', '.join(names)})")
    if plan.cleanup != CLEANUP_NEVER:
        notes.append(f"drill cleanup (cleanup: {plan.cleanup}; terminate drill instances yourself)")
    return notes


def _order_limitations(
    target: Target, waves: Sequence[Wave], ordered: Sequence[Wave], where: Mapping[str, Target]
) -> list[str]:
    """Dependencies the steps' sequence does not keep as they are: waves that may run in parallel
    (here one after another), and waves that wait for a wave of another target."""
    notes: list[str] = []
    # A wave that does not depend (even indirectly) on the wave before it could run beside it.
    upstream: dict[str, set[str]] = {}
    for wave in ordered:
        upstream[wave.name] = set(wave.depends_on).union(*(upstream[name] for name in wave.depends_on))
    parallel = [
        f"{before.name} and {after.name}"
        for before, after in itertools.pairwise(waves)
        if before.name not in upstream[after.name]
    ]
    if parallel:
        notes.append(f"parallel waves, run one after another here ({'; '.join(parallel)})")
    elsewhere = [
        f"{wave.name} after {name}" for wave in waves for name in wave.depends_on if where[name] != target
    ]
    if elsewhere:
        notes.append(f"order across accounts or regions ({', '.join(elsewhere)})")
    return notes


def _steps(waves: Sequence[Wave], servers: Mapping[str, WaveServers], notes: list[str]) -> list[NativeStep]:
    """Every wave's WAIT and SERVER steps in order; a server already in an earlier wave is left out
    of later ones (a native plan holds a server once)."""
    steps: list[NativeStep] = []
    seen: set[str] = set()
    for wave in waves:
        resolved = servers.get(wave.name, WaveServers())
        picked = [NativeServer(server_id, arn, CRITICAL) for server_id, arn in resolved.required.items()] + [
            NativeServer(server_id, arn, OPTIONAL)
            for server_id, arn in resolved.optional.items()
            if server_id not in resolved.required
        ]
        repeated = [server.server_id for server in picked if server.server_id in seen]
        if repeated:
            notes.append(f"wave {wave.name} leaves out servers of earlier waves ({', '.join(repeated)})")
        picked = [server for server in picked if server.server_id not in seen]
        seen.update(server.server_id for server in picked)
        steps.extend(_waits(wave, wave.pre, notes))
        chunks = [
            tuple(picked[index : index + MAX_SERVERS_PER_RECOVERY_PLAN_STEP])
            for index in range(0, len(picked), MAX_SERVERS_PER_RECOVERY_PLAN_STEP)
        ]
        if not chunks:
            notes.append(f"wave {wave.name} has no servers: no SERVER step")
        for number, chunk in enumerate(chunks, start=1):
            name = wave.name if len(chunks) == 1 else f"{wave.name}-{number}"
            steps.append(NativeStep(name=name, wave=wave.name, servers=chunk))
        steps.extend(_waits(wave, wave.post, notes))
    return steps


def _waits(wave: Wave, phase: Iterable[Step], notes: list[str]) -> list[NativeStep]:
    steps = []
    for step in phase:
        if not isinstance(step, WaitStep):
            continue
        where = f"{wave.name}.{step.name}"
        if not set(step.modes) & set(_NATIVE_MODES):
            continue  # a failback-only wait: native plans do not fail back
        if not set(_NATIVE_MODES) <= set(step.modes):
            notes.append(
                f"wait {where} runs in {', '.join(step.modes)} only; here in drills and recoveries alike"
            )
        minutes, capped = wait_minutes(step.seconds)
        if capped:
            notes.append(f"wait {where} of {step.seconds} s shortened to {minutes} min")
        steps.append(NativeStep(name=f"{wave.name}-{step.name}", wave=wave.name, wait_minutes=minutes))
    return steps


def _units(steps: Sequence[NativeStep], notes: list[str]) -> list[list[NativeStep]]:
    """The steps cut before each SERVER step: a part is whole units, so it starts with servers.

    WAIT steps before the first SERVER step are dropped (a plan cannot start with a WAIT); a unit
    longer than a plan may be keeps only the WAIT steps that fit.
    """
    units: list[list[NativeStep]] = []
    for step in steps:
        if step.kind == SERVER_STEP:
            units.append([step])
        elif not units:
            notes.append(f"wait {step.name} dropped: a native plan cannot start with a WAIT step")
        elif len(units[-1]) >= MAX_STEPS_PER_RECOVERY_PLAN:
            notes.append(f"wait {step.name} dropped: more WAIT steps in a row than a native plan holds")
        else:
            units[-1].append(step)
    return units


def _pack(units: Sequence[Sequence[NativeStep]]) -> list[list[NativeStep]]:
    """Whole units into parts, in order, each within the step and server limits."""
    parts: list[list[NativeStep]] = [[]]
    for unit in units:
        servers = sum(len(step.servers) for step in unit)
        part = parts[-1]
        used = sum(len(step.servers) for step in part)
        if part and (
            len(part) + len(unit) > MAX_STEPS_PER_RECOVERY_PLAN
            or used + servers > MAX_SERVERS_PER_RECOVERY_PLAN
        ):
            parts.append([])
        parts[-1].extend(unit)
    return parts


def _native_plan(
    plan: Plan, target: Target, steps: Sequence[NativeStep], number: int, count: int, notes: Sequence[str]
) -> NativePlan:
    name = plan.name if count == 1 else f"{plan.name}-{number}"
    header = f"Mirror of drs-plan {plan.name}"
    if count > 1:
        header += f", part {number} of {count}"
        if number < count:
            header += f" (then run {plan.name}-{number + 1})"
    header += "."
    limitations = tuple(dict.fromkeys(notes))
    text = header + (" Not as in the plan: " + "; ".join(limitations) + "." if limitations else "")
    if len(text) > RECOVERY_PLAN_DESCRIPTION_LENGTH:
        text = text[: RECOVERY_PLAN_DESCRIPTION_LENGTH - 1] + "…"
    tags = ((TAG_NATIVE_PLAN, plan.name), (TAG_NATIVE_PART, f"{number}/{count}"))
    return NativePlan(name, target, text, tags, tuple(steps), limitations)


def _normal_configuration(configuration: Mapping[str, object]) -> object:
    """A step's configuration as compared: DRS may leave out ``impactLevel`` (CRITICAL by default)."""
    server = configuration.get("serverStepConfiguration")
    if not isinstance(server, dict):
        return dict(configuration)
    servers = [{"impactLevel": CRITICAL, **entry} for entry in server.get("servers") or []]
    return {"serverStepConfiguration": {"servers": servers}}


def kept_steps(current: Sequence[Mapping[str, object]], wanted: NativePlan) -> int:
    """How many of a native plan's ``current`` steps (ListRecoveryPlanSteps items, in order) stay:
    the longest run from the first that ``wanted`` has as they are.

    Keeping a prefix, deleting the rest from the last step back and appending the new steps one
    by one passes through plans that DRS accepts at every call: each is a prefix of a valid plan
    (never a WAIT first, no server twice, within the limits).
    """
    kept = 0
    for step, native in zip(current, wanted.steps, strict=False):
        configuration = step.get("configuration")
        if step.get("stepName") != native.name or not isinstance(configuration, dict):
            break
        if _normal_configuration(configuration) != _normal_configuration(native.configuration()):
            break
        kept += 1
    return kept
