"""Which recovery instances a drill's cleanup may terminate: exactly the drill instances its jobs launched."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


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
