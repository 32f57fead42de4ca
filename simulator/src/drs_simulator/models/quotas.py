"""Quota and conflict checks a new job must pass (StartRecovery, TerminateRecoveryInstances)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_simulator import exceptions as errors

if TYPE_CHECKING:
    from drs_simulator.fleet import Quotas
    from drs_simulator.models.jobs import Job

# Quota codes the ServiceQuotaExceededException names.
QUOTA_SERVERS_PER_JOB = "max-source-servers-per-job"
QUOTA_SERVERS_IN_ACTIVE_JOBS = "max-source-servers-in-all-active-jobs"
QUOTA_CONCURRENT_JOBS = "max-concurrent-jobs"


def check_job_size(ids: list[str], quotas: Quotas) -> None:
    """Refuse a job holding more source servers than one job may."""
    if len(ids) > quotas.max_servers_per_job:
        raise errors.ServiceQuotaExceededException(
            f"A recovery job can hold at most {quotas.max_servers_per_job} source servers; "
            f"{len(ids)} were requested",
            quota_code=QUOTA_SERVERS_PER_JOB,
            resource_type="JOB",
        )


def check_capacity(ids: list[str], busy: dict[str, str], active: list[Job], quotas: Quotas) -> None:
    """Refuse a new job over ``ids`` if one of them is ``busy`` or the active jobs are at a quota.

    :param busy: source server ID -> the active job holding it.
    :param active: the jobs not yet completed.
    """
    held = [(server_id, busy[server_id]) for server_id in ids if server_id in busy]
    if held:
        listed = ", ".join(f"{server_id} (held by active job {job_id})" for server_id, job_id in held)
        conflict = errors.ConflictException(
            f"Source server(s) already taking part in an active job: {listed}",
            resource_id=held[0][0],
            resource_type="SOURCE_SERVER",
        )
        conflict.job_ids = list(dict.fromkeys(job_id for _, job_id in held))
        raise conflict
    if len(active) >= quotas.max_concurrent_jobs:
        raise errors.ServiceQuotaExceededException(
            f"At most {quotas.max_concurrent_jobs} jobs can be active at once; {len(active)} are active",
            quota_code=QUOTA_CONCURRENT_JOBS,
            resource_type="JOB",
        )
    in_jobs = sum(len(job.participants) for job in active)
    if in_jobs + len(ids) > quotas.max_servers_in_active_jobs:
        raise errors.ServiceQuotaExceededException(
            f"At most {quotas.max_servers_in_active_jobs} source servers can take part in "
            f"active jobs; {in_jobs} already do and {len(ids)} more were requested",
            quota_code=QUOTA_SERVERS_IN_ACTIVE_JOBS,
            resource_type="SOURCE_SERVER",
        )
