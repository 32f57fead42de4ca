"""What finished DRS jobs mean, server by server (docs/explanation/dag-and-waves.md).

A job's COMPLETED status says nothing about success: the verdict is per server, from
``participatingServers[].launchStatus``. Every required server must be LAUNCHED; optional ones
may fail. Failures are named with the job log's ``rawError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from drs_provider.exceptions import DrsJobFailedError, FailedServer

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: DRS job statuses. A COMPLETED job says nothing about whether its servers launched.
JOB_INTERMEDIATE_STATES: tuple[str, ...] = ("PENDING", "STARTED")
JOB_SUCCESS_STATES: tuple[str, ...] = ("COMPLETED",)
#: DRS has no failed job status: failure is only ever per server.
JOB_FAILURE_STATES: tuple[str, ...] = ()
#: ``participatingServers[].launchStatus`` values: the verdict per server.
LAUNCH_INTERMEDIATE_STATES: tuple[str, ...] = ("PENDING", "IN_PROGRESS")
LAUNCH_SUCCESS_STATES: tuple[str, ...] = ("LAUNCHED",)
LAUNCH_FAILURE_STATES: tuple[str, ...] = ("FAILED", "TERMINATED")


class WarningLog(Protocol):
    """The one logger method the outcome needs (stdlib and Airflow's structured loggers both have it)."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass
class RecoveryOutcome:
    """Per-server results of a set of DRS jobs, and which of them failed."""

    #: one dict per server (the ``wait_for_recovery`` XCom shape; see ``DrsJobSensor``)
    results: list[dict[str, Any]] = field(default_factory=list)
    failed_required: list[FailedServer] = field(default_factory=list)
    failed_optional: list[FailedServer] = field(default_factory=list)
    #: servers still launching in an unfinished job when a required failure ended the wait
    still_launching: list[str] = field(default_factory=list)

    @property
    def launched(self) -> int:
        return sum(1 for result in self.results if result["launchStatus"] in LAUNCH_SUCCESS_STATES)

    def log_warnings(self, log: WarningLog) -> None:
        """Warn about optional servers that did not launch and servers left launching."""
        for failed in self.failed_optional:
            log.warning("optional source server did not launch: %s", failed)
        if self.still_launching:
            log.warning(
                "a required server failed; these were still launching: %s", ", ".join(self.still_launching)
            )

    def raise_for_required(self) -> None:
        """Raise :class:`DrsJobFailedError` naming every required server that did not launch."""
        if self.failed_required:
            raise DrsJobFailedError(self.failed_required)


@dataclass(frozen=True)
class LaunchEvents:
    """What a job's log says per source server."""

    #: source server ID -> when its launch started (``LAUNCH_START``)
    started: Mapping[str, str]
    #: source server ID -> the ``rawError`` of its failure
    raw_errors: Mapping[str, str]


def launch_events(log_items: Iterable[Mapping[str, Any]]) -> LaunchEvents:
    """Read DescribeJobLogItems items: when each server's launch started, and why it failed.

    The launch failure (``LAUNCH_FAILED``) is what people need; an earlier failure event of
    the same server (a snapshot or conversion that failed) only fills a gap.
    """
    started: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in log_items:
        data = item.get("eventData") or {}
        server_id = data.get("sourceServerID")
        if not server_id:
            continue
        event = item.get("event") or ""
        if event == "LAUNCH_START" and item.get("logDateTime"):
            started.setdefault(server_id, item["logDateTime"])
        failure = data.get("rawError") and event.endswith(("FAILED", "FAIL"))
        if failure and (event == "LAUNCH_FAILED" or server_id not in errors):
            errors[server_id] = data["rawError"]
    return LaunchEvents(started, errors)


def required_server_failed(jobs: Iterable[Mapping[str, Any]], optional_ids: Iterable[str] = ()) -> bool:
    """Whether a required server of ``jobs`` has already failed (the wait can end before COMPLETED)."""
    optional = set(optional_ids)
    return any(
        server.get("launchStatus") in LAUNCH_FAILURE_STATES and server.get("sourceServerID") not in optional
        for job in jobs
        for server in job.get("participatingServers") or ()
    )


#: How a wait for DRS jobs ends (:func:`wait_verdict`).
WAIT_FAILED = "failure"
WAIT_SUCCEEDED = "success"


def wait_verdict(jobs: Sequence[Mapping[str, Any]], optional_ids: Iterable[str] = ()) -> str | None:
    """Whether a wait for ``jobs`` (DescribeJobs items) is over: :data:`WAIT_FAILED` once a required
    server failed, :data:`WAIT_SUCCEEDED` once every job is COMPLETED, else None (keep waiting).

    The one verdict of every way to wait: the deferred trigger, the sensor's poke and the
    StartRecovery operator's wait in the worker. Which servers launched is judged afterwards.
    """
    if required_server_failed(jobs, optional_ids):
        return WAIT_FAILED
    if all(job.get("status") in JOB_SUCCESS_STATES for job in jobs):
        return WAIT_SUCCEEDED
    return None


def judge_jobs(
    jobs: Sequence[Mapping[str, Any]],
    optional_ids: Iterable[str] = (),
    *,
    hostnames: Mapping[str, str | None],
    ec2_instance_ids: Mapping[str, str | None],
    log_items: Mapping[str, Sequence[Mapping[str, Any]]],
    staging_accounts: Mapping[str, str] | None = None,
) -> RecoveryOutcome:
    """Judge DRS jobs (DescribeJobs items) server by server.

    A required server succeeded only if its ``launchStatus`` is LAUNCHED; a FAILED or TERMINATED
    server, or anything else in a COMPLETED job, is a failure, named with the ``rawError`` from
    the job log. A server still launching in an unfinished job (the wait ends early once a
    required server has failed) is neither: it is listed in ``still_launching``, never named as
    failed. Optional servers may fail without failing the outcome.

    :param hostnames: source server ID -> hostname
    :param ec2_instance_ids: recovery instance ID -> EC2 instance ID
    :param log_items: job ID -> its DescribeJobLogItems items
    :param staging_accounts: source server ID -> the staging account an extended source server
        replicates through (its result carries it as ``stagingAccountID``; other servers' do not)
    """
    optional = set(optional_ids)
    outcome = RecoveryOutcome()
    for job in jobs:
        job_finished = job.get("status") in JOB_SUCCESS_STATES
        events = launch_events(log_items.get(job["jobID"], ()))
        for server in job.get("participatingServers") or ():
            server_id = server["sourceServerID"]
            status = server.get("launchStatus", "PENDING")
            recovery_instance = server.get("recoveryInstanceID")
            result: dict[str, Any] = {
                "sourceServerID": server_id,
                "hostname": hostnames.get(server_id),
                "recoveryInstanceID": recovery_instance,
                "ec2InstanceID": ec2_instance_ids.get(recovery_instance or ""),
                "launchStatus": status,
                "jobID": job["jobID"],
                "optional": server_id in optional,
                "jobCreationDateTime": job.get("creationDateTime"),
                "launchStartedDateTime": events.started.get(server_id),
                "endDateTime": job.get("endDateTime"),
            }
            staging_account = (staging_accounts or {}).get(server_id)
            if staging_account:
                result["stagingAccountID"] = staging_account
            if status in LAUNCH_SUCCESS_STATES:
                pass
            elif status in LAUNCH_INTERMEDIATE_STATES and not job_finished:
                outcome.still_launching.append(server_id)
            else:
                result["rawError"] = events.raw_errors.get(server_id)
                failed = FailedServer(
                    source_server_id=server_id,
                    job_id=job["jobID"],
                    launch_status=status,
                    hostname=hostnames.get(server_id),
                    raw_error=events.raw_errors.get(server_id),
                )
                (outcome.failed_optional if server_id in optional else outcome.failed_required).append(failed)
            outcome.results.append(result)
    return outcome
