"""Starting the DRS jobs of one task, once however often the task runs.

A task's jobs carry its identity tags: a retried or resumed task finds the jobs it started and
launches only the servers none of them covers, and a StartRecovery whose answer was lost is
adopted instead of launched again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.constants import TAG_CHUNK
from drs_provider.exceptions import DrsCapacityError, DrsInputError, DrsProviderError
from drs_provider.hooks.chunking import chunked

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from drs_provider.hooks.drs import DrsHook
    from drs_provider.operators.recovery_arguments import RecoveryArguments


class WaitForCapacity(Exception):
    """A launch must wait for capacity; ``jobs`` jobs of ``servers`` servers are still to start.

    Either DRS refused it (``refusal``), or ``ahead`` launches wait for the account's capacity
    ahead of it and it must not overtake them (``refusal`` None).
    """

    def __init__(self, refusal: DrsCapacityError | None, jobs: int, servers: int, ahead: int = 0) -> None:
        super().__init__(str(refusal) if refusal else f"{ahead} launch(es) wait for DRS capacity ahead")
        self.refusal, self.jobs, self.servers, self.ahead = refusal, jobs, servers, ahead


@dataclass(frozen=True)
class JobStarter:
    """Starts the DRS jobs of the task ``task_id`` through ``hook``, logging to ``log``."""

    hook: DrsHook
    task_id: str
    log: Any  # the task's logger: stdlib or Airflow's structured one
    #: launches waiting for the account's capacity that this one must not overtake; None: no queue
    waits_ahead: Callable[[], int] | None = None

    def start_jobs(
        self,
        since: datetime | None,
        selected: list[str],
        identity: dict[str, str],
        job_tags: dict[str, str],
        is_drill: bool,
        size: int,
        args: RecoveryArguments,
    ) -> list[str]:
        """Start jobs for every selected server that no job of this task covers yet."""
        earlier = self.hook.find_jobs_by_tags(identity, since=since)
        covered = {s["sourceServerID"] for job in earlier for s in job.get("participatingServers", [])}
        job_ids = [job["jobID"] for job in earlier]
        if earlier:
            self.log.info(
                "This task already started %d DRS jobs (%s) covering %d servers; not starting them again",
                len(earlier),
                ", ".join(job_ids),
                len(covered & set(selected)),
            )
        remaining = [server_id for server_id in selected if server_id not in covered]
        if not remaining:
            return job_ids
        # the queue first: a launch that defers would look its snapshots up again when let go
        ahead = self.waits_ahead() if self.waits_ahead else 0
        if ahead:
            raise WaitForCapacity(None, math.ceil(len(remaining) / size), len(remaining), ahead=ahead)
        snapshots = self._snapshots(remaining, args)
        entries = [
            {
                "sourceServerID": server_id,
                **({"recoverySnapshotID": snapshots[server_id]} if snapshots else {}),
            }
            for server_id in remaining
        ]
        chunks = list(chunked(entries, size))
        total = len(earlier) + len(chunks)
        for index, chunk in enumerate(chunks):
            number = len(earlier) + index + 1
            tags = {**job_tags, **identity, TAG_CHUNK: f"{number}/{total}"}
            try:
                job_id = self._start_one(chunk, tags, identity, is_drill, since)
            except DrsCapacityError as refusal:
                left = chunks[index:]
                raise WaitForCapacity(refusal, len(left), sum(len(c) for c in left)) from refusal
            self.log.info("Started DRS job %s (%d/%d) for %d servers", job_id, number, total, len(chunk))
            job_ids.append(job_id)
        return job_ids

    def _snapshots(self, server_ids: list[str], args: RecoveryArguments) -> dict[str, str]:
        """The recovery snapshot of each server: as chosen already, else the latest at or before
        ``point_in_time``; none without a point in time (DRS launches from the latest data)."""
        if args.snapshot_ids is not None:
            unchosen = [server_id for server_id in server_ids if server_id not in args.snapshot_ids]
            if unchosen:
                raise DrsInputError(
                    f"{self.task_id}.snapshot_ids: no recovery snapshot chosen for {', '.join(unchosen)}"
                )
            return {server_id: args.snapshot_ids[server_id] for server_id in server_ids}
        if args.point_in_time is None:
            return {}
        return self.hook.latest_snapshots_before(server_ids, args.point_in_time)

    def _start_one(
        self,
        chunk: Sequence[Mapping[str, str]],
        tags: dict[str, str],
        identity: dict[str, str],
        is_drill: bool,
        since: datetime | None,
    ) -> str:
        """One StartRecovery; a conflict or lost response is first checked against our own tags."""
        try:
            return self.hook.start_recovery_job(chunk, is_drill=is_drill, tags=tags)["jobID"]
        except (ClientError, BotoCoreError) as error:
            code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if code else 0
            if isinstance(error, BotoCoreError) or code == "ConflictException" or status >= 500:
                # The job may exist although its response never arrived or was a server error
                # (botocore's retry then conflicts with it): adopt it rather than fail or relaunch.
                wanted = {server["sourceServerID"] for server in chunk}
                try:
                    earlier = self.hook.find_jobs_by_tags(identity, since=since)
                except (ClientError, BotoCoreError) as lookup_error:
                    server_ids = [server["sourceServerID"] for server in chunk]
                    raise DrsProviderError(
                        f"{self.task_id}: StartRecovery of {len(server_ids)} source servers "
                        f"({', '.join(server_ids)}) failed "
                        f"({error}), and the jobs of this task could not be listed to check whether it "
                        f"created one ({lookup_error}). DRS may hold a job for them: retry the task, "
                        "which adopts a job it started instead of launching again."
                    ) from error
                for job in earlier:
                    held = {s["sourceServerID"] for s in job.get("participatingServers", [])}
                    if wanted <= held:
                        self.log.warning(
                            "StartRecovery answered %s, but job %s of this task holds the servers; using it",
                            code or type(error).__name__,
                            job["jobID"],
                        )
                        return job["jobID"]
            if isinstance(error, ClientError):
                raise self.hook.explain_start_recovery_error(error, chunk) from error
            raise
