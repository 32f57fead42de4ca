"""DRS jobs in :class:`~drs_provider.hooks.drs.DrsHook`: listing, finding and describing jobs, and a
refused StartRecovery explained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import JOB_IDS_PER_REQUEST
from drs_provider.exceptions import (
    DrsCapacityError,
    DrsJobNotFoundError,
    DrsProviderError,
    DrsQuotaError,
    DrsServerBusyError,
)
from drs_provider.hooks.chunking import chunked
from drs_provider.hooks.service_quotas import SERVERS_PER_JOB_QUOTA_CODES
from drs_provider.recovery.selection import carries_tags
from drs_provider.recovery.times import format_drs_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase
    from botocore.exceptions import ClientError

    from drs_provider.recovery.missing import MissingJobs
else:
    _HookBase = object


class DrsJobsMixin(_HookBase):
    """DescribeJobs and DescribeJobLogItems, every page and chunk, and StartRecovery's errors explained."""

    #: Job statuses of a job that still holds its servers.
    ACTIVE_JOB_STATUSES: frozenset[str] = frozenset({"PENDING", "STARTED"})

    def _paginate_jobs(self, filters: Mapping[str, Any]) -> list[dict]:
        paginator = self.conn.get_paginator("describe_jobs")
        return [item for page in paginator.paginate(filters=dict(filters)) for item in page.get("items", [])]

    def active_jobs(self) -> list[dict]:
        """Every DRS job that is still PENDING or STARTED (and so still holds its servers)."""
        return [job for job in self._paginate_jobs({}) if job.get("status") in self.ACTIVE_JOB_STATUSES]

    def find_busy_servers(self, server_ids: Iterable[str]) -> dict[str, str]:
        """Map each of ``server_ids`` that takes part in an active job to that job's ID."""
        wanted = set(server_ids)
        busy: dict[str, str] = {}
        for job in self.active_jobs():
            for server in job.get("participatingServers", []):
                if server.get("sourceServerID") in wanted:
                    busy.setdefault(server["sourceServerID"], job["jobID"])
        return busy

    def find_jobs_by_tags(self, tags: Mapping[str, str], *, since: datetime | None = None) -> list[dict]:
        """
        Jobs carrying ALL of ``tags``, oldest first.

        :param tags: tags every returned job must carry with these values.
        :param since: only look at jobs created at or after this time (narrows the listing).
        """
        filters = {"fromDate": format_drs_time(since)} if since else {}
        jobs = [job for job in self._paginate_jobs(filters) if carries_tags(job, tags)]
        return sorted(jobs, key=lambda job: job.get("creationDateTime", ""))

    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict]:
        """Describe jobs by ID: one DescribeJobs request per 1000 IDs; unknown IDs are absent."""
        jobs: list[dict] = []
        for chunk in chunked(list(dict.fromkeys(job_ids)), JOB_IDS_PER_REQUEST):
            jobs.extend(self._paginate_jobs_page_sized({"jobIDs": list(chunk)}, len(chunk)))
        return jobs

    def _paginate_jobs_page_sized(self, filters: Mapping[str, Any], page_size: int) -> list[dict]:
        paginator = self.conn.get_paginator("describe_jobs")
        pages = paginator.paginate(filters=dict(filters), PaginationConfig={"PageSize": page_size})
        return [item for page in pages for item in page.get("items", [])]

    def describe_jobs_in_order(self, job_ids: Sequence[str]) -> list[dict]:
        """Describe jobs by ID, in the given order.

        :raises DrsJobNotFoundError: naming every job DRS does not know (any more)
        """
        found = {job["jobID"]: job for job in self.describe_jobs(job_ids)}
        missing = [job_id for job_id in job_ids if job_id not in found]
        if missing:
            raise DrsJobNotFoundError(missing, region=self.conn_region_name)
        return [found[job_id] for job_id in job_ids]

    def describe_listed_jobs(self, job_ids: Sequence[str], missing_jobs: MissingJobs) -> list[dict] | None:
        """One answer of a wait: the jobs in order, or None while DRS leaves some out (a new job
        may be listed late), counted in ``missing_jobs`` across the wait's answers.

        :raises DrsJobNotFoundError: naming the jobs left out of too many answers in a row
        """
        found = {job["jobID"]: job for job in self.describe_jobs(job_ids)}
        missing, gone = missing_jobs.record(job_ids, found)
        if gone:
            raise DrsJobNotFoundError(gone, region=self.conn_region_name)
        if missing:
            self.log.info("DRS did not list job(s) %s; asking again", ", ".join(missing))
            return None
        return [found[job_id] for job_id in job_ids]

    def job_log_items(self, job_id: str) -> list[dict]:
        """Every log item of a job, oldest first as DRS returns them."""
        paginator = self.conn.get_paginator("describe_job_log_items")
        return [item for page in paginator.paginate(jobID=job_id) for item in page.get("items", [])]

    def explain_start_recovery_error(
        self, error: ClientError, source_servers: Sequence[Mapping[str, str]]
    ) -> Exception:
        """
        Turn a StartRecovery ``ClientError`` into an exception a person can act on.

        ConflictException becomes :class:`DrsServerBusyError` naming the jobs that hold the
        servers; ServiceQuotaExceededException becomes :class:`DrsQuotaError` with the numbers.
        Anything else is returned unchanged.
        """
        code = error.response.get("Error", {}).get("Code")
        server_ids = [server["sourceServerID"] for server in source_servers]
        message = error.response.get("Error", {}).get("Message") or error.response.get("message", "")
        if code == "ConflictException":
            busy = self.find_busy_servers(server_ids)
            if busy:
                return DrsServerBusyError(busy)
            return DrsProviderError(
                f"StartRecovery of {len(server_ids)} source servers ({_summarise(server_ids)}) "
                f"conflicted with the state of a resource, but no active job holds them now: {message}"
            )
        if code == "ServiceQuotaExceededException":
            active = self.active_jobs()
            active_servers = sum(len(job.get("participatingServers", [])) for job in active)
            quota = error.response.get("quotaCode") or "unknown quota"
            explained = (
                f"StartRecovery of {len(server_ids)} source servers ({_summarise(server_ids)}) "
                f"exceeds a DRS quota ({quota}): {message}. "
                f"Right now {len(active)} active jobs hold {active_servers} source servers."
            )
            if quota in SERVERS_PER_JOB_QUOTA_CODES:
                return DrsQuotaError(f"{explained} Lower max_servers_per_job, or raise the quota.")
            return DrsCapacityError(
                f"{explained} Wait for running jobs, or raise the quota.",
                quota_code=quota,
                active_jobs=len(active),
                active_servers=active_servers,
            )
        return error


def _summarise(ids: Sequence[str], shown: int = 5) -> str:
    """The first few IDs and how many more, for messages about large selections."""
    head = ", ".join(ids[:shown])
    return head if len(ids) <= shown else f"{head} and {len(ids) - shown} more"
