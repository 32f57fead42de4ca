"""Jobs: their records, lifecycle (PENDING, STARTED, COMPLETED) and log, DescribeJobs and
DescribeJobLogItems. What a job does to its servers is in :mod:`.launch_jobs` (LAUNCH) and
:mod:`.recovery_instances` (TERMINATE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drs_simulator import exceptions as errors
from drs_simulator.models.base import BackendBase
from drs_simulator.models.quotas import check_capacity
from drs_simulator.models.wire import date_filter, iso, random_alnum

JOB_START_DELAY = 2.0  # simulated seconds from the request to JOB_START
JOB_END_DELAY = 1.0  # from the last server's end to JOB_END


@dataclass
class Participant:
    source_server_id: str
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None


@dataclass
class Job:
    id: str
    arn: str
    type: str
    initiated_by: str
    created: float
    tags: dict[str, str]
    participants: dict[str, Participant]
    is_drill: bool = False
    status: str = "PENDING"
    ended: float | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status != "COMPLETED"


class JobsBackend(BackendBase):
    def _new_job_id(self) -> str:
        while True:
            job_id = "drsjob-" + random_alnum(17)
            if job_id not in self.jobs:
                return job_id

    def _active_jobs(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.active]

    def busy_servers(self) -> dict[str, str]:
        """Source server ID -> the active job holding it."""
        return {server_id: job.id for job in self._active_jobs() for server_id in job.participants}

    def _refuse_if_in_job(
        self, server_id: str, refused: str, *, resource_id: str, resource_type: str
    ) -> None:
        """DRS's ConflictException naming the job, while ``server_id`` takes part in an active job.

        :param refused: what is refused, up to the verb: "delete source server s-1: it".
        """
        job_id = self.busy_servers().get(server_id)
        if job_id is None:
            return
        conflict = errors.ConflictException(
            f"Cannot {refused} takes part in active job {job_id}",
            resource_id=resource_id,
            resource_type=resource_type,
        )
        conflict.job_ids = [job_id]
        raise conflict

    def _check_capacity(self, ids: list[str]) -> None:
        check_capacity(ids, self.busy_servers(), self._active_jobs(), self.quotas)

    @staticmethod
    def _log(job: Job, when: float, event: str, **data: Any) -> None:
        item: dict[str, Any] = {"logDateTime": iso(when), "event": event}
        if data:
            item["eventData"] = {k: v for k, v in data.items() if v is not None}
        job.logs.append(item)

    def _create_job(
        self,
        kind: str,
        initiated_by: str,
        ids: list[str],
        tags: dict[str, str],
        now: float,
        *,
        is_drill: bool,
    ) -> Job:
        job_id = self._new_job_id()
        job = Job(
            id=job_id,
            arn=self.arn("job", job_id),
            type=kind,
            initiated_by=initiated_by,
            created=now,
            tags=tags,
            participants={server_id: Participant(server_id) for server_id in ids},
            is_drill=is_drill,
        )
        self.jobs[job_id] = job
        return job

    def _job_started(self, job: Job, when: float) -> None:
        job.status = "STARTED"
        self._log(job, when, "JOB_START")

    def _job_ended(self, job: Job, when: float) -> None:
        self._log(job, when, "JOB_END")
        job.status = "COMPLETED"
        job.ended = when

    def _job_json(self, job: Job) -> dict[str, Any]:
        item: dict[str, Any] = {
            "jobID": job.id,
            "arn": job.arn,
            "type": job.type,
            "initiatedBy": job.initiated_by,
            "creationDateTime": iso(job.created),
            "status": job.status,
            "participatingServers": [
                {
                    "sourceServerID": part.source_server_id,
                    "launchStatus": part.launch_status,
                    **(
                        {"recoveryInstanceID": part.recovery_instance_id} if part.recovery_instance_id else {}
                    ),
                }
                for part in job.participants.values()
            ],
            "tags": dict(job.tags),
        }
        if job.ended is not None:
            item["endDateTime"] = iso(job.ended)
        return item

    def describe_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        filters = params.get("filters") or {}
        wanted = filters.get("jobIDs")
        low = date_filter(filters, "fromDate")
        high = date_filter(filters, "toDate")
        listed_before = self.clock.now() - self._faults().listing_lag_seconds
        items = [
            job
            for job in self.jobs.values()
            if job.created <= listed_before
            and (not wanted or job.id in wanted)
            and (low is None or job.created >= low)
            and (high is None or job.created <= high)
        ]
        return self.page(items, params, self._job_json)

    def describe_job_log_items(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        job = self.jobs.get(params["jobID"])
        logs = list(job.logs) if job is not None else []
        return self.page(logs, params, dict)
