"""The project's one exception tree.

Every error the provider raises on purpose derives from :class:`DrsProviderError`.
Subclasses carry the facts (file, field path, job, servers) as attributes so callers and
tests can act on them, and their messages say where and what.

Airflow moves exceptions between processes (a trigger's error, a task's failure), so every
class here survives ``pickle``: those whose constructor takes more than the message define
``__reduce__`` to rebuild themselves from their facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    """Unpickling helper: call ``cls`` with its original arguments, keywords included."""
    return cls(*args, **kwargs)


class DrsProviderError(Exception):
    """Root of every error raised on purpose by airflow-provider-drs."""


class DrsInputError(DrsProviderError, ValueError):
    """A task's arguments or a run's parameters are invalid (which field, and why).

    The same input fails the same way on every try, so it is a verdict, never retried. A
    ``ValueError`` too, for callers that validate values.
    """


# --- plans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan file: where (file, field path) and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class PlanError(DrsProviderError):
    """A plan file (or a set of plan files) is invalid; holds every issue found."""

    def __init__(self, issues: Sequence[PlanIssue]) -> None:
        self.issues: tuple[PlanIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.issues,), {})


# --- AWS / DRS ---------------------------------------------------------------------------


class DrsServerSelectionError(DrsProviderError):
    """Servers named by a selector cannot be used: unknown IDs, or a tag selector matching nothing."""

    def __init__(
        self,
        message: str,
        *,
        unknown_ids: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.unknown_ids = tuple(unknown_ids)
        self.tags = dict(tags or {})
        super().__init__(message)

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (str(self),), {"unknown_ids": self.unknown_ids, "tags": self.tags})


class DrsServerBusyError(DrsProviderError):
    """A source server is already taking part in an active DRS job."""

    def __init__(self, busy: Mapping[str, str]) -> None:
        #: source server ID -> ID of the active job holding it
        self.busy = dict(busy)
        listed = ", ".join(f"{server} (in job {job})" for server, job in sorted(self.busy.items()))
        super().__init__(f"source servers busy in an active DRS job: {listed}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.busy,), {})


class DrsQuotaError(DrsProviderError):
    """A request would go beyond a DRS quota (servers per job, active servers, concurrent jobs)."""


class DrsCapacityError(DrsQuotaError):
    """DRS refused a launch for the account's capacity (concurrent jobs, servers in active jobs):
    a wait, not a verdict, for an operator that waits for capacity.

    :param quota_code: the quota DRS named.
    :param active_jobs: jobs active when DRS refused.
    :param active_servers: servers in those jobs.
    """

    def __init__(self, message: str, *, quota_code: str, active_jobs: int, active_servers: int) -> None:
        self.quota_code = quota_code
        self.active_jobs = active_jobs
        self.active_servers = active_servers
        super().__init__(message)

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        facts = {
            "quota_code": self.quota_code,
            "active_jobs": self.active_jobs,
            "active_servers": self.active_servers,
        }
        return _rebuild, (type(self), (str(self),), facts)


class DrsPreflightError(DrsProviderError):
    """Preflight found problems; nothing was launched. Holds every problem found."""

    def __init__(self, plan: str, problems: Sequence[str]) -> None:
        self.plan = plan
        self.problems = tuple(problems)
        body = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"preflight of plan '{plan}' failed with {len(self.problems)} problem(s); "
            f"no recovery was launched:\n{body}"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.plan, self.problems), {})


class DrsPreemptedError(DrsProviderError):
    """A recovery of the plan took over from this drill: nothing more of the drill launches.

    :param run_id: the drill run.
    :param by: the recovery run that preempted it.
    """

    def __init__(self, run_id: str, by: str) -> None:
        self.run_id = run_id
        self.by = by
        super().__init__(f"drill {run_id} preempted by recovery {by}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.run_id, self.by), {})


class DrsAgentStartingError(DrsProviderError):
    """ReverseReplication refused (DRS's ConflictException): the recovery instance's agent is still
    starting, or the instance cannot be reversed yet. Ask again later.

    :param recovery_instance_id: the instance.
    :param reason: DRS's message.
    """

    def __init__(self, recovery_instance_id: str, reason: str) -> None:
        self.recovery_instance_id = recovery_instance_id
        self.reason = reason
        super().__init__(f"recovery instance {recovery_instance_id} cannot be reversed yet: {reason}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.recovery_instance_id, self.reason), {})


class DrsFailbackWaitError(DrsProviderError):
    """A failback wave's servers were not ready to launch home in time (``failback_sync_timeout``).

    :param task_id: the wave's task.
    :param timeout: the seconds it waited.
    :param waiting_for: each unready server with its state (lag, ETA, failback state).
    """

    def __init__(self, task_id: str, timeout: float, waiting_for: str) -> None:
        self.task_id = task_id
        self.timeout = timeout
        self.waiting_for = waiting_for
        super().__init__(
            f"{task_id}: not ready to fail back after {timeout:.0f} s (failback_sync_timeout): {waiting_for}"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.task_id, self.timeout, self.waiting_for), {})


class DrsRecoveredServerError(DrsProviderError):
    """A launch would replace live recovery instances that are not drills (servers really recovered).

    :param servers: ``(source server ID, what holds it)``, e.g. ``("s-1...", "live recovery
        instance i-0... (RUNNING, not a drill) launched by run R of D (DRS job drsjob-...)")``.
    :param why: why this run may not launch over them.
    """

    def __init__(self, task: str, servers: Sequence[tuple[str, str]], why: str) -> None:
        self.task = task
        self.servers = tuple(servers)
        self.why = why
        listed = "; ".join(f"{server_id} has a {holder}" for server_id, holder in self.servers)
        super().__init__(f"{task}: not launched: {listed}: {why}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.task, self.servers, self.why), {})


@dataclass(frozen=True)
class FailedServer:
    """A source server whose launch failed in a DRS job, with the job log's rawError."""

    source_server_id: str
    job_id: str
    launch_status: str
    hostname: str | None = None
    raw_error: str | None = None

    def __str__(self) -> str:
        name = f"{self.source_server_id} ({self.hostname})" if self.hostname else self.source_server_id
        reason = self.raw_error or "no rawError in the job log"
        return f"{name} in job {self.job_id}: {self.launch_status}: {reason}"


class DrsJobFailedError(DrsProviderError):
    """Required servers did not launch in their DRS job(s)."""

    def __init__(self, failed: Sequence[FailedServer]) -> None:
        self.failed = tuple(failed)
        body = "\n".join(f"  - {server}" for server in self.failed)
        super().__init__(f"{len(self.failed)} required source server(s) failed to launch:\n{body}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.failed,), {})


class DrsJobTimeoutError(DrsProviderError):
    """DRS jobs did not reach COMPLETED within the allowed time."""

    def __init__(self, job_ids: Sequence[str], waited_seconds: float) -> None:
        self.job_ids = tuple(job_ids)
        self.waited_seconds = waited_seconds
        super().__init__(f"DRS job(s) {', '.join(self.job_ids)} not COMPLETED after {waited_seconds:.0f} s")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.job_ids, self.waited_seconds), {})


class DrsJobNotFoundError(DrsProviderError):
    """DRS does not know (any more) jobs this task waits for or reads."""

    def __init__(self, job_ids: Sequence[str], *, region: str | None = None) -> None:
        self.job_ids = tuple(job_ids)
        self.region = region
        where = f" in region {region}" if region else ""
        super().__init__(
            f"DRS job(s) {', '.join(self.job_ids)} not found{where}: DRS no longer knows them "
            "(deleted, or the connection points at another account or region)"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.job_ids,), {"region": self.region})


class DrsCleanupError(DrsProviderError):
    """A drill's cleanup could not terminate some of the recovery instances it launched."""

    def __init__(self, instances: Sequence[str], termination_jobs: Sequence[str] = ()) -> None:
        self.instances = tuple(instances)
        self.termination_jobs = tuple(termination_jobs)
        jobs = f" (TERMINATE jobs {', '.join(self.termination_jobs)})" if self.termination_jobs else ""
        super().__init__(
            f"{len(self.instances)} recovery instance(s) of this drill still exist after termination{jobs}: "
            f"{', '.join(self.instances)}; terminate them in the DRS console or clear the cleanup task"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.instances, self.termination_jobs), {})


class DrsReportNotStoredError(DrsProviderError):
    """The run report could not be written to its S3 object; the document is still the task's XCom."""

    def __init__(self, bucket: str, key: str, error: str) -> None:
        self.bucket = bucket
        self.key = key
        self.error = error
        super().__init__(
            f"the run report was not stored: bucket {bucket}, key {key}: {error}; "
            "the report is still this task's XCom (return_value) and in its log"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.bucket, self.key, self.error), {})


class DrsStepError(DrsProviderError):
    """A runbook step failed; names the step (its task) and what went wrong."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        self.message = message
        super().__init__(f"{step}: {message}")

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.step, self.message), {})


@dataclass(frozen=True)
class NativePlanFailure:
    """A plan's native recovery plans not brought in line in one place: the plan, where, why."""

    plan: str
    target: str
    cause: str

    def __str__(self) -> str:
        return f"plan {self.plan}, {self.target}: {self.cause}"


class DrsNativePlanSyncError(DrsProviderError):
    """Native recovery plans of some plans could not be kept in step; the others were."""

    def __init__(self, failures: Sequence[NativePlanFailure]) -> None:
        self.failures = tuple(failures)
        body = "\n".join(f"  - {failure}" for failure in self.failures)
        super().__init__(
            f"native recovery plans not brought in line in {len(self.failures)} place(s); "
            f"the others were:\n{body}"
        )

    def __reduce__(self) -> tuple[Callable[..., Exception], tuple[Any, ...]]:
        return _rebuild, (type(self), (self.failures,), {})
