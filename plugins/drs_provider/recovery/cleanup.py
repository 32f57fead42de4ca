"""Which recovery instances a drill's cleanup may terminate: exactly the drill instances its jobs launched.

One home for the rule, read by the ``cleanup`` task, ``drs-plan cleanup`` and the Recovery view's
"Terminate this drill's instances" action alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence


@dataclass(frozen=True)
class CleanupPlan:
    """What a cleanup terminates, and what it leaves alone with the reason."""

    to_terminate: tuple[str, ...] = ()
    #: recovery instance ID -> why it stays
    left_alone: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def plan_cleanup(jobs: Sequence[Mapping[str, Any]], instances: Sequence[Mapping[str, Any]]) -> CleanupPlan:
    """Decide from a run's jobs (DescribeJobs items) and the instances they name (DescribeRecoveryInstances).

    An instance is terminated only when DRS says it is a drill instance (``isDrill``) and that
    one of these jobs launched it (its ``jobID``). A later launch of the same server (another
    run) replaces the instance, and a recovery launches non-drill instances: both stay.
    """
    launch_jobs = {job["jobID"] for job in jobs if job.get("type", "LAUNCH") == "LAUNCH"}
    launched = dict.fromkeys(
        server["recoveryInstanceID"]
        for job in jobs
        if job["jobID"] in launch_jobs
        for server in job.get("participatingServers") or ()
        if server.get("recoveryInstanceID")
    )
    described = {instance["recoveryInstanceID"]: instance for instance in instances}
    terminate: list[str] = []
    left_alone: dict[str, str] = {}
    for instance_id in launched:
        instance = described.get(instance_id)
        if instance is None:
            left_alone[instance_id] = "DRS no longer has it (already terminated)"
        elif instance.get("isDrill") is not True:
            left_alone[instance_id] = "not a drill instance"
        elif instance.get("jobID") not in launch_jobs:
            left_alone[instance_id] = f"launched by job {instance.get('jobID')}, not by this run"
        else:
            terminate.append(instance_id)
    return CleanupPlan(tuple(terminate), MappingProxyType(left_alone))


#: How DRS marks a job that launched drill instances (``initiatedBy``); a recovery's is START_RECOVERY.
DRILL_INITIATOR = "START_DRILL"
#: Statuses of a job that is still going.
ACTIVE_JOB_STATUSES = frozenset({"PENDING", "STARTED"})


def launch_jobs_of(jobs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The LAUNCH jobs among a run's jobs (a TERMINATE job of an earlier cleanup carries no run tags,
    but a run's tag search may still meet one)."""
    return [job for job in jobs if job.get("type", "LAUNCH") == "LAUNCH"]


def refusal(jobs: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a finished run's drill instances may not be terminated after the run, from its DRS jobs; None
    when they may.

    Refused: a run with no LAUNCH job (nothing to terminate, or the wrong run, region or account), a
    run any of whose jobs is not a drill (``initiatedBy`` other than START_DRILL: its instances are
    the recovered production), and a run with a job still going (it may still launch instances).
    """
    launches = launch_jobs_of(jobs)
    if not launches:
        return "no DRS launch job carries this run's tags: it launched nothing in this account and region"
    recovery = [job for job in launches if job.get("initiatedBy") != DRILL_INITIATOR]
    if recovery:
        named = ", ".join(f"{job['jobID']} ({job.get('initiatedBy')})" for job in recovery[:5])
        return (
            f"a recovery run: job(s) {named} launched recovery instances, which are the recovered "
            "production; they are never terminated here"
        )
    going = [job for job in launches if job.get("status") in ACTIVE_JOB_STATUSES]
    if going:
        named = ", ".join(f"{job['jobID']} ({job.get('status')})" for job in going[:5])
        return f"the run is still launching: job(s) {named} have not ended"
    return None


def cleanup_entry(
    plan: CleanupPlan,
    *,
    jobs: Sequence[str] = (),
    remaining: Collection[str] = (),
    finished: bool = True,
) -> dict[str, Any]:
    """The report's ``cleanup`` entry once ``plan`` was carried out (docs/reference/run-report.md).

    :param jobs: the TERMINATE jobs DRS started.
    :param remaining: which of ``plan.to_terminate`` DRS still has after them.
    :param finished: whether every TERMINATE job COMPLETED; if not, the instances still there are
        ``terminating`` (state ``terminating``), not ``failed``.
    """
    gone = [i for i in plan.to_terminate if i not in remaining]
    left = [i for i in plan.to_terminate if i in remaining]
    entry: dict[str, Any] = {
        "state": "success",
        "reason": None,
        "terminated": gone,
        "failed": left if finished else [],
        "left_alone": [{"recoveryInstanceID": i, "reason": why} for i, why in plan.left_alone.items()],
        "jobs": list(jobs),
    }
    if not finished:
        entry["terminating"] = left
        entry["state"] = "terminating" if left else "success"
    elif left:
        entry["state"] = "failed"
    return entry


def merge_entries(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One report ``cleanup`` entry from each region's."""
    if len(entries) == 1:
        return entries[0]
    merged: dict[str, Any] = {"state": "success", "reason": None}
    for key in ("terminated", "failed", "left_alone", "jobs", "terminating"):
        merged[key] = [item for entry in entries for item in entry.get(key) or ()]
    if not merged["terminating"]:
        del merged["terminating"]
    states = {entry["state"] for entry in entries}
    for state in ("failed", "terminating"):
        if state in states:
            merged["state"] = state
            break
    return merged
