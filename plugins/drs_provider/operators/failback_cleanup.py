"""``cleanup`` of a failback run: what it terminates, and where.

* A rehearsed failback (``failback_drill``) is a drill: under the plan's ``cleanup`` policy and
  ``keep_instances``, it terminates the drill instances its jobs launched, in each region a wave
  went home to (found through the run's job tags there, each checked to be a drill, as a drill's).
* A real failback terminates only when the plan says ``failback_cleanup: terminate``, and only
  once every wave succeeded: the recovery-region instances the run brought home, after stopping
  the replication of their FAILBACK source servers (which copy from those instances).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import KEEP_INSTANCES_PARAM
from drs_provider.plans.model import CLEANUP_NEVER, CLEANUP_ON_SUCCESS, FAILBACK_CLEANUP_TERMINATE
from drs_provider.recovery.cleanup import CleanupPlan

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.run import ResolvedRun


def skip_reason(
    run: ResolvedRun, params: Mapping[str, Any], policy: str, unfinished: Callable[[], list[str]]
) -> str | None:
    """Why a failback run's cleanup does nothing (None: it cleans up).

    :param unfinished: the run's wave tasks that did not succeed (asked only when it matters).
    """
    if run.failback_drill:
        if policy == CLEANUP_NEVER:
            return "cleanup: never: the rehearsal's drill instances stay"
        if params.get(KEEP_INSTANCES_PARAM) is True:
            return "the run asked to keep its instances (keep_instances)"
        if policy == CLEANUP_ON_SUCCESS and (left := unfinished()):
            return f"cleanup: on_success, and not every wave succeeded ({', '.join(left[:5])} ...)"
        return None
    if run.failback_cleanup != FAILBACK_CLEANUP_TERMINATE:
        return "failback_cleanup: keep: the recovery-region instances stay"
    if left := unfinished():
        return (
            "failback_cleanup: terminate, but not every wave came home "
            f"({', '.join(left[:5])} ...): the recovery-region instances stay"
        )
    return None


def cleanups(
    hook: DrsHook, run: ResolvedRun, tags: Mapping[str, str], since: datetime | None, log: Any
) -> list[tuple[DrsHook, CleanupPlan]]:
    """Each region's hook and what the cleanup terminates there."""
    home_regions = sorted({wave.home_region for wave in run.waves.values() if wave.run and wave.home_region})
    if run.failback_drill:
        plans = []
        for region in home_regions:
            regional = hook if region == hook.conn_region_name else hook.in_region(region)
            plans.append((regional, regional.run_cleanup_plan(tags, since=since)[1]))
        return plans
    servers = [server for wave in run.waves.values() if wave.run for server in wave.failback.values()]
    _stop_failback_replication(
        hook, [server.ec2_instance_id for server in servers if server.origin.is_aws], home_regions, log
    )
    return [(hook, CleanupPlan(tuple(server.recovery_instance_id for server in servers)))]


def _stop_failback_replication(
    hook: DrsHook, ec2_instance_ids: list[str], regions: list[str], log: Any
) -> None:
    """Stop the FAILBACK source servers copying from the instances about to go (DRS's order)."""
    if not ec2_instance_ids:
        return
    for region in regions:
        regional = hook if region == hook.conn_region_name else hook.in_region(region)
        for instance_id, server in regional.find_failback_servers(ec2_instance_ids).items():
            state = (server.get("dataReplicationInfo") or {}).get("dataReplicationState")
            if state != "STOPPED":
                regional.stop_replication(str(server["sourceServerID"]))
                log.info(
                    "stopped replication of FAILBACK source server %s (from %s)",
                    server["sourceServerID"],
                    instance_id,
                )
