"""``cleanup`` of a failback run: what it terminates, and where.

* A rehearsed failback (``failback_drill``) is a drill: under the plan's ``cleanup`` policy and
  ``keep_instances``, it terminates the drill instances its jobs launched, in each region a wave
  went home to (found through the run's job tags there, each checked to be a drill, as a drill's).
* A real failback terminates only when the plan says ``failback_cleanup: terminate``, and only
  once every wave succeeded: the recovery-region instances the run brought home, after stopping
  the replication of their FAILBACK source servers (which copy from those instances).
* A real failback that did not succeed (a wave failed, timed out, or was marked failed while it
  waited) first stops what it started on premises: StopFailback for each on-premises server whose
  failback launch one of the run's jobs started and that has not completed, so the machine at
  home is not left half-launched and its Failback Client can connect again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import KEEP_INSTANCES_PARAM
from drs_provider.plans.model import CLEANUP_NEVER, CLEANUP_ON_SUCCESS, FAILBACK_CLEANUP_TERMINATE
from drs_provider.recovery.cleanup import CleanupPlan

#: Failback states of a recovery instance with no failback launch under way.
SETTLED_FAILBACK_STATES = frozenset({"FAILBACK_COMPLETED", "FAILBACK_NOT_STARTED"})

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
    """Each account and region's hook and what the cleanup terminates there: a rehearsal's drills
    where its waves went home, a real failback's recovery instances where its waves recovered."""
    waves = [wave for wave in run.waves.values() if wave.run and wave.failback]
    if run.failback_drill:
        homes = [hook.at(*home) for home in sorted({(w.aws_conn_id, w.home_region) for w in waves}, key=str)]
        return [(home, home.run_cleanup_plan(tags, since=since)[1]) for home in homes]
    copies: dict[tuple[str | None, str | None], list[str]] = {}
    instances: dict[tuple[str | None, str | None], list[str]] = {}
    for wave in waves:
        for server in wave.failback.values():
            if server.origin.is_aws:
                copies.setdefault((wave.aws_conn_id, wave.home_region), []).append(server.ec2_instance_id)
            instances.setdefault((wave.aws_conn_id, wave.region), []).append(server.recovery_instance_id)
    for home, ec2_instance_ids in copies.items():
        _stop_failback_replication(hook.at(*home), ec2_instance_ids, log)
    return [(hook.at(*place), CleanupPlan(tuple(ids))) for place, ids in instances.items()]


def stop_unfinished_failbacks(
    hook: DrsHook, run: ResolvedRun, tags: Mapping[str, str], since: datetime | None, log: Any
) -> list[str]:
    """StopFailback for each on-premises server of ``run`` whose failback launch a job of the run
    (its ``tags``) started and that is neither completed nor stopped; the instances stopped."""
    places: dict[tuple[str | None, str | None], list[str]] = {}
    for wave in run.waves.values():
        if wave.run:
            for server in wave.failback.values():
                if not server.origin.is_aws:
                    places.setdefault((wave.aws_conn_id, wave.region), []).append(server.recovery_instance_id)
    stopped: list[str] = []
    for place, instance_ids in places.items():
        recovery = hook.at(*place)
        started = {
            str(server.get("recoveryInstanceID"))
            for job in recovery.find_jobs_by_tags(tags, since=since)
            for server in job.get("participatingServers") or ()
        }
        states = recovery.failback_states([i for i in instance_ids if i in started])
        for instance_id, state in states.items():
            if state not in SETTLED_FAILBACK_STATES:
                recovery.stop_failback(instance_id)
                log.warning("stopped the unfinished failback of %s (it was %s)", instance_id, state)
                stopped.append(instance_id)
    return stopped


def _stop_failback_replication(home: DrsHook, ec2_instance_ids: list[str], log: Any) -> None:
    """Stop the FAILBACK source servers copying from the instances about to go (DRS's order)."""
    for instance_id, server in home.find_failback_servers(ec2_instance_ids).items():
        state = (server.get("dataReplicationInfo") or {}).get("dataReplicationState")
        if state != "STOPPED":
            home.stop_replication(str(server["sourceServerID"]))
            log.info(
                "stopped replication of FAILBACK source server %s (from %s)",
                server["sourceServerID"],
                instance_id,
            )
