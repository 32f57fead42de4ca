"""A plan's servers as DRS resolves them now, for its native recovery plans: the one place both
``drs-plan export-native`` and the ``drs_readiness`` task ``native_plans`` turn each wave's
selectors (IDs and tags) into source server IDs and ARNs, wave by wave, through the wave's
connection and region.

The mapping itself (:func:`~drs_provider.recovery.native_plan.native_plans`) stays pure; this
module is where it meets DRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.exceptions import DrsProviderError, DrsServerSelectionError
from drs_provider.hooks.drs import DrsHook
from drs_provider.recovery.native_plan import Target, WaveServers, target_of

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan

#: What resolving a wave may meet: DRS's answers, the connection, a selector matching nothing.
RESOLVE_ERRORS = (ClientError, BotoCoreError, DrsProviderError, OSError)


@dataclass(frozen=True)
class WaveFailure:
    """A wave whose servers could not be resolved: where, which wave, why."""

    target: Target
    wave: str
    cause: str

    def __str__(self) -> str:
        return f"wave {self.wave}: servers cannot be resolved: {self.cause}"


@dataclass
class ResolvedPlan:
    """Each wave's servers and target, a hook per target the waves name, and what went wrong."""

    #: wave name -> its resolved servers (a wave that failed is left out)
    servers: dict[str, WaveServers] = field(default_factory=dict)
    #: wave name -> where its native plan lives, the connection and region filled in
    targets: dict[str, Target] = field(default_factory=dict)
    #: one hook per target, in the order the waves first name them
    hooks: dict[Target, DrsHook] = field(default_factory=dict)
    #: waves that could not be resolved; their target must not be brought in line this time
    failures: list[WaveFailure] = field(default_factory=list)
    #: optional servers left out (a selector matching nothing), as a run leaves them out
    notes: list[str] = field(default_factory=list)

    @property
    def failed_targets(self) -> set[Target]:
        return {failure.target for failure in self.failures}


def resolve_plan_servers(plan: Plan, default_conn_id: str = "aws_default") -> ResolvedPlan:
    """Resolve every wave of ``plan`` in DRS, through the wave's connection and region.

    A wave that fails is recorded and the others still resolve, so one unreachable account or
    region leaves the plan's other targets usable. A wave of no region and one naming the
    connection's region share one target (and one hook).
    """
    resolved = ResolvedPlan()
    for wave in plan.waves:
        declared = target_of(plan, wave)
        conn_id = declared.aws_conn_id or default_conn_id
        hook = DrsHook(aws_conn_id=conn_id, region_name=declared.region)
        target = Target(conn_id, declared.region)
        try:
            target = Target(conn_id, declared.region or hook.conn_region_name)
            hook = resolved.hooks.setdefault(target, hook)
            resolved.targets[wave.name] = target
            required = hook.resolve_source_servers(wave.servers.ids, wave.servers.tags)
            optional: list[dict] = []
            if wave.optional_servers is not None:
                try:
                    optional = hook.resolve_source_servers(
                        wave.optional_servers.ids, wave.optional_servers.tags
                    )
                except DrsServerSelectionError as error:  # optional servers may be missing, as in a run
                    resolved.notes.append(f"wave {wave.name}: optional servers left out: {error}")
        except RESOLVE_ERRORS as error:
            resolved.hooks.setdefault(target, hook)
            resolved.targets[wave.name] = target
            resolved.failures.append(WaveFailure(target, wave.name, str(error)))
            continue
        resolved.servers[wave.name] = WaveServers(
            required={server["sourceServerID"]: server["arn"] for server in required},
            optional={server["sourceServerID"]: server["arn"] for server in optional},
        )
    return resolved
