"""``wait_for_recovery`` of a failback run, once the wave's launches home are judged.

What a failback wave's results say, per plan server: its origin and the instance it came home to
(:func:`home_results`). For an EC2 origin, re-protection (:func:`reprotect`): ReverseReplication on
the instance launched at home, so that the plan's source server in the recovery region replicates
again, now from it; once only: a server already replicating from its new instance is left alone,
so a retried task calls nothing twice. An on-premises launch that failed is stopped
(:func:`stop_failed_failbacks`), so that its Failback Client can connect again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.recovery.failback import AWS_ORIGIN, FAILBACK_DIRECTION, ON_PREMISES_ORIGIN

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.run import ResolvedWave

#: Replication states of a source server that no longer protects anything.
NOT_REPLICATING = frozenset({"STOPPED", "DISCONNECTED"})


def home_results(
    results: Sequence[Mapping[str, Any]], failback_of: Mapping[str, str], wave: ResolvedWave
) -> list[dict[str, Any]]:
    """The wave's per-server results named by the plan's servers, with where each came home.

    A launch in an EC2 origin region ran on the FAILBACK source server (``failback_of`` maps it to
    the plan's server): its entry keeps that server as ``failbackSourceServerID``.
    """
    named = []
    for result in results:
        launched_id = str(result.get("sourceServerID"))
        server_id = failback_of.get(launched_id, launched_id)
        server = wave.failback.get(server_id)
        entry = dict(result, sourceServerID=server_id)
        if launched_id != server_id:
            entry["failbackSourceServerID"] = launched_id
        entry["hostname"] = entry.get("hostname") or wave.hostnames.get(server_id)
        if server is not None:
            entry["originEnvironment"] = server.origin.environment
            entry["originRegion"] = server.origin.region
            entry["failedBackFrom"] = server.recovery_instance_id
        named.append(entry)
    return named


def reprotect(home: DrsHook, recovery: DrsHook, results: Sequence[Mapping[str, Any]], log: Any) -> list[str]:
    """Re-protect each launched EC2-origin server of ``results`` not re-protected yet; their IDs.

    Raises :class:`~drs_provider.exceptions.DrsAgentStartingError` while a new instance's agent
    is still starting (the caller waits and calls again; what is done stays done).
    """
    launched = [
        result
        for result in results
        if result.get("originEnvironment") == AWS_ORIGIN and result.get("launchStatus") == "LAUNCHED"
    ]
    if not launched:
        return []
    protected = _protected_instances(recovery, [str(result["sourceServerID"]) for result in launched])
    done = []
    for result in launched:
        server_id, instance_id = str(result["sourceServerID"]), str(result.get("recoveryInstanceID"))
        if protected.get(server_id) != result.get("ec2InstanceID"):
            home.reverse_replication(instance_id)
            log.info("re-protected %s: it replicates again, from instance %s", server_id, instance_id)
        done.append(server_id)
    return done


def stop_failed_failbacks(recovery: DrsHook, results: Sequence[Mapping[str, Any]], log: Any) -> list[str]:
    """StopFailback for each on-premises server whose failback launch failed (its instance goes back
    to FAILBACK_NOT_STARTED, ready for the client to connect again); the instances stopped."""
    stopped = []
    for result in results:
        if result.get("originEnvironment") == ON_PREMISES_ORIGIN and result.get("rawError") is not None:
            instance_id = str(result.get("failedBackFrom"))
            recovery.stop_failback(instance_id)
            log.warning(
                "stopped the failback of %s (recovery instance %s)", result["sourceServerID"], instance_id
            )
            stopped.append(instance_id)
    return stopped


def _protected_instances(recovery: DrsHook, server_ids: list[str]) -> dict[str, str]:
    """Source server ID -> the EC2 instance it replicates from, for those replicating."""
    return {
        server["sourceServerID"]: hints["awsInstanceID"]
        for server in recovery.describe_source_servers(server_ids)
        if server.get("replicationDirection") != FAILBACK_DIRECTION
        and (server.get("dataReplicationInfo") or {}).get("dataReplicationState") not in NOT_REPLICATING
        and (hints := (server.get("sourceProperties") or {}).get("identificationHints") or {}).get(
            "awsInstanceID"
        )
    }
