"""The plan model: plain typed objects, no Airflow and no boto3 (docs/reference/plan-format.md).

A :class:`Plan` is only ever built by the loader after validation, so its fields hold
checked values and ``depends_on`` is already resolved (omitted = the wave listed before).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drs_provider.constants import (
    PREFLIGHT_TASK_ID,
    RUN_MODES,
    START_RECOVERY_TASK,
    WAIT_FOR_RECOVERY_TASK,
    dag_id_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

PLAN_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,50}$"
WAVE_NAME_PATTERN = PLAN_NAME_PATTERN
#: Names a wave cannot have: each wave becomes a task group beside these tasks of the DAG
#: (docs/explanation/dag-and-waves.md), and a group may not share a task's ID.
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


@dataclass(frozen=True, kw_only=True)
class Step:
    """One runbook step of a wave (docs/how-to/approvals-and-checks.md). Each kind is a subclass,
    declared with everything else about the kind in :mod:`drs_provider.steps`.

    ``name`` is already resolved (default ``<phase>_<n>_<kind>``); an ``optional`` step's
    failure is logged and reported, and the wave goes on. In a run whose mode is not among
    ``modes`` the step passes at once; a kind with another default redeclares the field.
    """

    #: the step kind as written in the plan (``approval``, ``ssm_command``, ...)
    kind: ClassVar[str]
    name: str
    optional: bool = False
    #: the run modes the step runs in, in the order the plan lists them
    modes: tuple[str, ...] = RUN_MODES

    @classmethod
    def default_modes(cls) -> tuple[str, ...]:
        """The modes a step of this kind runs in when the plan does not say."""
        default = next(item.default for item in fields(cls) if item.name == "modes")
        assert default is not MISSING, f"{cls.__name__}.modes has a default"
        return default  # type: ignore[return-value]  # the field is typed tuple[str, ...]

    @property
    def has_default_modes(self) -> bool:
        """Whether the step runs in the modes its kind runs in by default (order aside)."""
        return set(self.modes) == set(self.default_modes())

    def to_dict(self) -> dict[str, object]:
        """The step in plan-file form (``{kind: {...}}``, name always explicit)."""
        body: dict[str, object] = {"name": self.name}
        if self.optional:
            body["optional"] = True
        if self.modes != self.default_modes():  # as listed: a reordered default loads back equal
            body["modes"] = list(self.modes)
        body.update(self._fields())
        return {self.kind: body}

    def _fields(self) -> dict[str, object]:
        return {}

    @classmethod
    def from_fields(cls, fields: dict[str, Any], *, phase: str, wave: str) -> Self:
        """The step from its checked keys (``name`` resolved, ``optional`` a bool).

        The checker returns lists as tuples and mappings as dicts; a kind whose model keeps
        something else (read-only mappings, defaults that depend on the wave) converts it here.
        """
        return cls(**fields)


#: ``launch_disposition`` values: the recovery instance's state once launched (DRS's LaunchDisposition).
LAUNCH_DISPOSITIONS = ("STOPPED", "STARTED")
#: ``right_sizing`` values (DRS's TargetInstanceTypeRightSizingMethod): NONE keeps the launch
#: template's instance type; BASIC and IN_AWS let DRS pick one, overwriting the template's.
RIGHT_SIZING_METHODS = ("NONE", "BASIC", "IN_AWS")
RIGHT_SIZING_OFF = "NONE"


@dataclass(frozen=True)
class LaunchSettings:
    """The DRS launch settings a plan relies on for a server; None: the plan does not say.

    Field order is the order plans, messages and diffs list them in. Where each lives in DRS (the
    launch configuration or the EC2 launch template) is :mod:`drs_provider.recovery.launch`'s
    business.
    """

    instance_type: str | None = None
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] | None = None
    private_ip: str | None = None
    copy_private_ip: bool | None = None
    copy_tags: bool | None = None
    launch_disposition: str | None = None
    right_sizing: str | None = None
    os_byol: bool | None = None

    def declared(self) -> dict[str, Any]:
        """The settings the plan gives, by name, in field order."""
        return {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if getattr(self, item.name) is not None
        }

    def overridden_by(self, other: LaunchSettings) -> LaunchSettings:
        """These settings with every setting ``other`` declares taking its place."""
        return replace(self, **other.declared())

    def to_dict(self) -> dict[str, object]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in self.declared().items()
        }


#: Every launch setting a plan may declare, in the order they are listed.
LAUNCH_SETTING_NAMES = tuple(item.name for item in fields(LaunchSettings))


@dataclass(frozen=True)
class Wave:
    """One wave: servers recovered together, after every wave in ``depends_on``."""

    name: str
    servers: ServerSelector
    depends_on: tuple[str, ...]
    optional_servers: ServerSelector | None = None
    poll_interval: int | None = None
    timeout: int | None = None
    #: the wave's own Airflow connection and DRS region (another account or region), else the plan's
    aws_conn_id: str | None = None
    region: str | None = None
    #: how many servers ``servers.tags`` must select (readiness reports any other count)
    expect_servers: int | None = None
    #: steps before the wave's StartRecovery, in order
    pre: tuple[Step, ...] = ()
    #: steps after every required server LAUNCHED, in order
    post: tuple[Step, ...] = ()
    #: launch settings of every server of the wave
    launch: LaunchSettings | None = None
    #: source server ID -> settings overriding ``launch`` for that server, setting by setting
    #: (left out of the hash: a read-only mapping is not hashable; equality still compares it)
    launch_per_server: Mapping[str, LaunchSettings] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    @property
    def steps(self) -> tuple[tuple[str, Step], ...]:
        """Every step with its phase, in the order they run."""
        return tuple(("pre", step) for step in self.pre) + tuple(("post", step) for step in self.post)

    @property
    def declares_launch(self) -> bool:
        return self.launch is not None or bool(self.launch_per_server)

    def launch_for(self, server_id: str) -> LaunchSettings | None:
        """The settings the plan gives one server of this wave (None: the plan says nothing)."""
        own = self.launch_per_server.get(server_id)
        if own is None:
            return self.launch
        return own if self.launch is None else self.launch.overridden_by(own)


#: ``cleanup`` policies: when a drill terminates the recovery instances it launched.
CLEANUP_NEVER = "never"
CLEANUP_ON_SUCCESS = "on_success"
CLEANUP_ALWAYS = "always"
CLEANUP_POLICIES = (CLEANUP_NEVER, CLEANUP_ON_SUCCESS, CLEANUP_ALWAYS)
#: A plan without ``cleanup``: a drill leaves nothing running, whether it succeeded or failed.
#: Drill instances cost money every hour they run and answer no question once the report holds
#: what the drill found; whoever wants to look at them asks, with ``cleanup: never``,
#: ``cleanup: on_success`` (a failed drill keeps its instances) or the run's ``keep_instances``.
CLEANUP_DEFAULT = CLEANUP_ALWAYS
#: ``failback_order`` values: the order a failback takes the plan's waves in.
FAILBACK_ORDER_PLAN = "plan"
FAILBACK_ORDER_REVERSE = "reverse"
FAILBACK_ORDERS = (FAILBACK_ORDER_PLAN, FAILBACK_ORDER_REVERSE)
#: wave by wave, as the plan lists and chains them (the order the workload was brought up in)
FAILBACK_ORDER_DEFAULT = FAILBACK_ORDER_PLAN
#: ``failback_cleanup`` values: what becomes of the recovery-region instances after a failback.
FAILBACK_CLEANUP_KEEP = "keep"
FAILBACK_CLEANUP_TERMINATE = "terminate"
FAILBACK_CLEANUP_POLICIES = (FAILBACK_CLEANUP_KEEP, FAILBACK_CLEANUP_TERMINATE)
#: they stay: terminating what served production is asked for, never assumed
FAILBACK_CLEANUP_DEFAULT = FAILBACK_CLEANUP_KEEP
#: seconds a failback wave waits for its servers' reversed replication to reach CONTINUOUS: a
#: day, since the first copy back moves every disk across regions
FAILBACK_SYNC_TIMEOUT_DEFAULT = 86400
#: Events a plan can send to SNS (docs/reference/notifications.md): a run's, in the order a run meets them,
#: then the one ``drs_readiness`` sends between runs.
NOTIFY_EVENTS = (
    "started",
    "approval_requested",
    "wave_failed",
    "rto_missed",
    "succeeded",
    "failed",
    "readiness_changed",
)


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
    #: among waves waiting for DRS capacity (recoveries first, then drills), higher goes first
    priority: int = 0
    #: labels a region failover (``drs_failover``) selects plans by
    #: (left out of the hash: a read-only mapping is not hashable; equality still compares it)
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: plans whose recovery must succeed before this one's starts, in a region failover
    after_plans: tuple[str, ...] = ()
    #: seconds: each run's report says whether the run met it
    rto_target: int | None = None
    #: seconds: the most replication lag and recovery snapshot age readiness accepts
    rpo_target: int | None = None
    #: seconds: readiness reports a plan whose servers were last launched in a drill longer ago
    drill_every: int | None = None
    #: drills only: when the run terminates the recovery instances it launched
    cleanup: str = CLEANUP_DEFAULT
    notify: Notify | None = None
    #: where each run's report is stored as JSON (``s3://bucket/prefix/``)
    report_s3_uri: str | None = None
    #: who may start a run that is not a drill: user names and ``role:<name>`` (None: anyone who
    #: may trigger the DAG)
    recovery_allowed: tuple[str, ...] | None = None
    #: failbacks only: the order the waves go home in
    failback_order: str = FAILBACK_ORDER_DEFAULT
    #: failbacks only: what becomes of the recovery-region instances once the failback succeeded
    failback_cleanup: str = FAILBACK_CLEANUP_DEFAULT
    #: failbacks only: seconds a wave waits for its reversed replication to reach CONTINUOUS
    failback_sync_timeout: int = FAILBACK_SYNC_TIMEOUT_DEFAULT
    #: drs_readiness keeps DRS native recovery plans mirroring this plan, so the DRS console can
    #: still launch its servers wave by wave when Airflow is down
    native_plan: bool = False

    @property
    def dag_id(self) -> str:
        return dag_id_of(self.name)

    @property
    def declares_launch(self) -> bool:
        """Whether any wave gives launch settings (readiness then reads them from DRS)."""
        return any(wave.declares_launch for wave in self.waves)

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
            "rpo_target",
            "drill_every",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.priority:
            data["priority"] = self.priority
        if self.tags:
            data["tags"] = dict(self.tags)
        if self.after_plans:
            data["after_plans"] = list(self.after_plans)
        if self.cleanup != CLEANUP_DEFAULT:
            data["cleanup"] = self.cleanup
        if self.notify is not None:
            data["notify"] = {"sns_topic_arn": self.notify.sns_topic_arn, "events": list(self.notify.events)}
        if self.report_s3_uri is not None:
            data["report"] = {"s3_uri": self.report_s3_uri}
        if self.recovery_allowed is not None:
            data["recovery_allowed"] = list(self.recovery_allowed)
        if self.failback_order != FAILBACK_ORDER_DEFAULT:
            data["failback_order"] = self.failback_order
        if self.failback_cleanup != FAILBACK_CLEANUP_DEFAULT:
            data["failback_cleanup"] = self.failback_cleanup
        if self.failback_sync_timeout != FAILBACK_SYNC_TIMEOUT_DEFAULT:
            data["failback_sync_timeout"] = self.failback_sync_timeout
        if self.native_plan:
            data["native_plan"] = True
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
    if wave.expect_servers is not None:
        data["expect_servers"] = wave.expect_servers
    if wave.aws_conn_id is not None:
        data["aws_conn_id"] = wave.aws_conn_id
    if wave.region is not None:
        data["region"] = wave.region
    if wave.launch is not None:
        data["launch"] = wave.launch.to_dict()
    if wave.launch_per_server:
        data["launch_per_server"] = {
            server: settings.to_dict() for server, settings in wave.launch_per_server.items()
        }
    for phase in PHASES:
        steps = getattr(wave, phase)
        if steps:
            data[phase] = [step.to_dict() for step in steps]
    return data
