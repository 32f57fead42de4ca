"""Servers that were really recovered: the guard that keeps a launch from replacing production.

DRS keeps one recovery instance per source server, and every new launch, drill or recovery,
replaces it. After a real recovery that instance (``isDrill`` false) is production. So before a
launch, each server's live recovery instance is looked up:

- a drill never launches over a live recovery instance that is not a drill;
- a recovery does so only when its run says ``relaunch_recovered: true``.

Instances this run launched itself are not in the way (a retried launch adopts its own job).
The rule lives here, Airflow-free, so preflight, each wave's launch and readiness share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_provider.constants import MODE_DRILL, MODE_RECOVERY, RELAUNCH_RECOVERED_PARAM, TAG_DAG_ID, TAG_RUN_ID

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from drs_provider.hooks.drs import DrsHook

#: EC2 states of an instance that is gone or going: nothing left to replace.
GONE_EC2_STATES = frozenset({"SHUTTING-DOWN", "TERMINATED", "NOT_FOUND"})


@dataclass(frozen=True)
class RecoveredServer:
    """A source server with a live recovery instance that is not a drill."""

    source_server_id: str
    recovery_instance_id: str
    ec2_state: str
    job_id: str | None = None
    dag_id: str | None = None
    run_id: str | None = None

    @property
    def launched_by(self) -> str:
        """The run (or job) that launched the instance, as a person reads it."""
        if self.run_id:
            return f"run {self.run_id} of {self.dag_id} (DRS job {self.job_id})"
        if self.job_id:
            return f"DRS job {self.job_id}, not started by a plan run"
        return "a launch DRS no longer lists"

    def describe(self) -> str:
        return (
            f"live recovery instance {self.recovery_instance_id} ({self.ec2_state}, not a drill) "
            f"launched by {self.launched_by}"
        )


def refusal(mode: str, relaunch: bool) -> str | None:
    """Why a run of ``mode`` may not launch over a recovered server; None when it may."""
    if mode == MODE_RECOVERY:
        if relaunch:
            return None
        return (
            "a new launch would replace it; trigger the recovery with "
            f"{RELAUNCH_RECOVERED_PARAM}: true to launch over it on purpose"
        )
    why = "a drill launch would replace it, and a drill never launches over a recovered server"
    if mode == MODE_DRILL and relaunch:
        why += f" ({RELAUNCH_RECOVERED_PARAM} applies to recoveries only)"
    return why


def recovered_servers(
    hook: DrsHook, server_ids: Iterable[str], *, own_run: Mapping[str, str] | None = None
) -> dict[str, RecoveredServer]:
    """Each of ``server_ids`` whose live recovery instance is not a drill, by server ID.

    Two read-only calls at most: DescribeRecoveryInstances filtered by the servers, then
    DescribeJobs for the jobs that launched the instances found (their tags name the run).
    Instances launched by ``own_run`` (its ``airflow:dag_id`` and ``airflow:run_id`` tags)
    are left out.
    """
    live = live_recovery_instances(hook.recovery_instances_of(list(server_ids)))
    if not live:
        return {}
    job_ids = [instance["jobID"] for instance in live if instance.get("jobID")]
    jobs = {job["jobID"]: job for job in hook.describe_jobs(job_ids)} if job_ids else {}
    return recovered_among(live, jobs, own_run=own_run)


def live_recovery_instances(instances: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The recovery instances that are not drills and whose EC2 instance is still there."""
    return [
        instance
        for instance in instances
        if instance.get("isDrill") is False and instance.get("ec2InstanceState") not in GONE_EC2_STATES
    ]


def recovered_among(
    live: Iterable[Mapping[str, Any]],
    jobs: Mapping[str, Mapping[str, Any]],
    *,
    own_run: Mapping[str, str] | None = None,
) -> dict[str, RecoveredServer]:
    """:func:`recovered_servers` from instances and jobs already described (readiness reads them
    for every plan at once)."""
    found: dict[str, RecoveredServer] = {}
    for instance in live:
        job_id = instance.get("jobID")
        tags: Mapping[str, Any] = (jobs.get(job_id) or {}).get("tags") or {} if job_id else {}
        server = RecoveredServer(
            source_server_id=instance["sourceServerID"],
            recovery_instance_id=instance.get("recoveryInstanceID") or instance.get("ec2InstanceID", "?"),
            ec2_state=str(instance.get("ec2InstanceState", "UNKNOWN")),
            job_id=job_id,
            dag_id=tags.get(TAG_DAG_ID),
            run_id=tags.get(TAG_RUN_ID),
        )
        if own_run and (server.dag_id, server.run_id) == (own_run.get(TAG_DAG_ID), own_run.get(TAG_RUN_ID)):
            continue
        found[server.source_server_id] = server
    return found


def refused(
    recovered: Mapping[str, RecoveredServer], server_ids: Sequence[str], mode: str, relaunch: bool
) -> list[RecoveredServer]:
    """The servers of ``server_ids`` a run of ``mode`` may not launch (in their order)."""
    if refusal(mode, relaunch) is None:
        return []
    return [recovered[server_id] for server_id in server_ids if server_id in recovered]
