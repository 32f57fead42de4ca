"""Sensor that waits for DRS recovery jobs and judges every server's launch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import PokeReturnValue
from airflow.triggers.base import StartTriggerArgs
from botocore.exceptions import ClientError

from drs_provider.exceptions import DrsJobFailedError, DrsJobTimeoutError, DrsProviderError, FailedServer
from drs_provider.hooks.drs import DrsHook, source_server_hostname
from drs_provider.links.drs import DrsJobLink
from drs_provider.template_values import as_str_list
from drs_provider.triggers.drs import DrsJobCompleteTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

#: DRS job statuses. A COMPLETED job says nothing about whether its servers launched.
JOB_INTERMEDIATE_STATES: tuple[str, ...] = ("PENDING", "STARTED")
JOB_SUCCESS_STATES: tuple[str, ...] = ("COMPLETED",)
#: DRS has no failed job status: failure is only ever per server.
JOB_FAILURE_STATES: tuple[str, ...] = ()
#: ``participatingServers[].launchStatus`` values: the verdict per server.
LAUNCH_INTERMEDIATE_STATES: tuple[str, ...] = ("PENDING", "IN_PROGRESS")
LAUNCH_SUCCESS_STATES: tuple[str, ...] = ("LAUNCHED",)
LAUNCH_FAILURE_STATES: tuple[str, ...] = ("FAILED", "TERMINATED")
#: XCom key of the per-server results, pushed whether or not the servers launched.
SERVERS_XCOM_KEY = "servers"


class _WarningLog(Protocol):
    """The one logger method the outcome needs (stdlib and Airflow's structured loggers both have it)."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass
class RecoveryOutcome:
    """Per-server results of a set of DRS jobs, and which of them failed."""

    results: list[dict[str, Any]] = field(default_factory=list)
    failed_required: list[FailedServer] = field(default_factory=list)
    failed_optional: list[FailedServer] = field(default_factory=list)
    #: servers still launching in an unfinished job when a required failure ended the wait
    still_launching: list[str] = field(default_factory=list)

    def log_warnings(self, log: _WarningLog) -> None:
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


def _launch_events(log_items: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Per source server: when its launch started, and the rawError of its failure if any."""
    started: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in log_items:
        data = item.get("eventData", {})
        server_id = data.get("sourceServerID")
        if not server_id:
            continue
        if item.get("event") == "LAUNCH_START" and item.get("logDateTime"):
            started.setdefault(server_id, item["logDateTime"])
        failure = data.get("rawError") and item.get("event", "").endswith(("FAILED", "FAIL"))
        # The launch failure is what people need; earlier failures only fill a gap.
        if failure and (item.get("event") == "LAUNCH_FAILED" or server_id not in errors):
            errors[server_id] = data["rawError"]
    return started, errors


def collect_recovery_outcome(
    hook: DrsHook, jobs: Sequence[Mapping[str, Any]], optional_ids: Sequence[str] = ()
) -> RecoveryOutcome:
    """
    Judge finished DRS jobs server by server.

    A required server succeeded only if its ``launchStatus`` is LAUNCHED; a FAILED or TERMINATED
    server, or anything else in a COMPLETED job, is a failure, named with the ``rawError`` from
    the job log. A server still launching in an unfinished job (the wait ends early once a
    required server has failed) is neither: it is listed in ``still_launching``, never named
    as failed. Optional servers may fail without failing the outcome.
    """
    optional = set(optional_ids)
    server_ids = [s["sourceServerID"] for job in jobs for s in job.get("participatingServers", [])]
    hostnames = {
        server["sourceServerID"]: source_server_hostname(server)
        for server in hook.describe_source_servers(server_ids)
    }
    instance_ids = [
        s["recoveryInstanceID"]
        for job in jobs
        for s in job.get("participatingServers", [])
        if s.get("recoveryInstanceID")
    ]
    ec2_ids: dict[str, str | None] = {}
    if instance_ids:
        try:
            ec2_ids = {
                instance["recoveryInstanceID"]: instance.get("ec2InstanceID")
                for instance in hook.describe_recovery_instances(instance_ids)
            }
        except ClientError as error:  # results stay useful without the EC2 IDs
            hook.log.warning("could not describe recovery instances: %s", error)
    outcome = RecoveryOutcome()
    for job in jobs:
        job_finished = job.get("status") in JOB_SUCCESS_STATES
        started, raw_errors = _launch_events(hook.job_log_items(job["jobID"]))
        for server in job.get("participatingServers", []):
            server_id = server["sourceServerID"]
            status = server.get("launchStatus", "PENDING")
            result: dict[str, Any] = {
                "sourceServerID": server_id,
                "hostname": hostnames.get(server_id),
                "recoveryInstanceID": server.get("recoveryInstanceID"),
                "ec2InstanceID": ec2_ids.get(server.get("recoveryInstanceID", "")),
                "launchStatus": status,
                "jobID": job["jobID"],
                "optional": server_id in optional,
                "jobCreationDateTime": job.get("creationDateTime"),
                "launchStartedDateTime": started.get(server_id),
                "endDateTime": job.get("endDateTime"),
            }
            if status in LAUNCH_SUCCESS_STATES:
                pass
            elif status in LAUNCH_INTERMEDIATE_STATES and not job_finished:
                outcome.still_launching.append(server_id)
            else:
                result["rawError"] = raw_errors.get(server_id)
                failed = FailedServer(
                    source_server_id=server_id,
                    job_id=job["jobID"],
                    launch_status=status,
                    hostname=hostnames.get(server_id),
                    raw_error=raw_errors.get(server_id),
                )
                (outcome.failed_optional if server_id in optional else outcome.failed_required).append(failed)
            outcome.results.append(result)
    return outcome


def describe_all_jobs(hook: DrsHook, job_ids: Sequence[str]) -> list[dict]:
    """Describe jobs by ID, in the given order; raises naming any job DRS does not know."""
    found = {job["jobID"]: job for job in hook.describe_jobs(job_ids)}
    missing = [job_id for job_id in job_ids if job_id not in found]
    if missing:
        raise DrsProviderError(f"DRS jobs not found in region {hook.conn_region_name}: {', '.join(missing)}")
    return [found[job_id] for job_id in job_ids]


class DrsJobSensor(AwsBaseSensor[DrsHook]):
    """
    Wait for DRS recovery jobs to finish and fail unless every required server launched.

    A job's COMPLETED status says nothing about success: the verdict is per server, from
    ``participatingServers[].launchStatus``. A required server that is not LAUNCHED fails the
    task with its ``rawError`` from the job log (as soon as it fails, even before the job
    completes); an optional server's failure only logs a warning.

    Returns (XCom ``return_value``) one dict per server: ``sourceServerID``, ``hostname``,
    ``recoveryInstanceID``, ``ec2InstanceID``, ``launchStatus``, ``jobID``, ``optional``,
    ``jobCreationDateTime``, ``launchStartedDateTime``, ``endDateTime`` (the job's end) and,
    for servers that did not launch, ``rawError``. The same list is pushed as XCom ``servers``
    before the verdict, so a failed wave's results (with each ``rawError``) are kept too.

    :param job_ids: DRS job IDs: a list, a JSON / Python-literal list string, or one ID. (templated)
    :param optional_source_server_ids: servers whose failed launch does not fail the task. (templated)
    :param deferrable: wait in the triggerer instead of a worker (default True).
    :param poke_interval: seconds between DescribeJobs polls.
    :param timeout: seconds to wait for the jobs; then the task fails.
    :param max_attempts: polls in deferrable mode; default ``timeout / poke_interval``.
    :param start_from_trigger: begin in the triggerer without a worker (Airflow 3). The trigger
        then renders only ``job_ids``, ``optional_source_server_ids`` and the connection fields.
    """

    JOB_INTERMEDIATE_STATES = JOB_INTERMEDIATE_STATES
    JOB_SUCCESS_STATES = JOB_SUCCESS_STATES
    JOB_FAILURE_STATES = JOB_FAILURE_STATES
    LAUNCH_INTERMEDIATE_STATES = LAUNCH_INTERMEDIATE_STATES
    LAUNCH_SUCCESS_STATES = LAUNCH_SUCCESS_STATES
    LAUNCH_FAILURE_STATES = LAUNCH_FAILURE_STATES

    aws_hook_class = DrsHook
    template_fields: Sequence[str] = aws_template_fields("job_ids", "optional_source_server_ids")
    template_fields_renderers = {"job_ids": "json", "optional_source_server_ids": "json"}
    operator_extra_links = (DrsJobLink(),)
    ui_color = "#ffd7a8"

    def __init__(
        self,
        *,
        job_ids: Sequence[str] | str,
        optional_source_server_ids: Sequence[str] | str | None = None,
        deferrable: bool = True,
        poke_interval: float = 30,
        timeout: float = 6 * 60 * 60,
        max_attempts: int | None = None,
        start_from_trigger: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.start_from_trigger = start_from_trigger
        self.job_ids = job_ids
        self.optional_source_server_ids = optional_source_server_ids
        self.deferrable = deferrable
        self.max_attempts = max_attempts or max(1, math.ceil(self.timeout / max(self.poke_interval, 1)))
        if self.start_from_trigger:
            self.start_trigger_args = StartTriggerArgs(
                trigger_cls=f"{DrsJobCompleteTrigger.__module__}.{DrsJobCompleteTrigger.__qualname__}",
                trigger_kwargs=self._trigger_kwargs(),
                next_method="execute_complete",
                next_kwargs=None,
                timeout=None,
            )

    def _trigger_kwargs(self) -> dict[str, Any]:
        return {
            "job_ids": self.job_ids,
            "optional_source_server_ids": self.optional_source_server_ids,
            "waiter_delay": max(1, round(self.poke_interval)),  # never hammer DRS
            "waiter_max_attempts": self.max_attempts,
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    @property
    def _job_ids(self) -> list[str]:
        return as_str_list(self.job_ids, field=f"{self.task_id}.job_ids")

    @property
    def _optional_ids(self) -> list[str]:
        return as_str_list(
            self.optional_source_server_ids, field=f"{self.task_id}.optional_source_server_ids"
        )

    def execute(self, context: Context) -> Any:
        job_ids = self._job_ids
        if not job_ids:
            raise ValueError(f"{self.task_id}: job_ids is empty; there is no DRS job to wait for")
        DrsJobLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            job_id=job_ids[0],
        )
        if not self.deferrable:
            return super().execute(context=context)
        kwargs = {
            **self._trigger_kwargs(),
            "job_ids": job_ids,
            "optional_source_server_ids": self._optional_ids,
        }
        self.defer(trigger=DrsJobCompleteTrigger(**kwargs), method_name="execute_complete")
        return None  # not reached: defer() raises

    def poke(self, context: Context) -> PokeReturnValue | bool:
        job_ids = self._job_ids
        optional = set(self._optional_ids)
        jobs = describe_all_jobs(self.hook, job_ids)
        unfinished = [job["jobID"] for job in jobs if job.get("status") not in self.JOB_SUCCESS_STATES]
        required_failed = any(
            server.get("launchStatus") in self.LAUNCH_FAILURE_STATES
            and server.get("sourceServerID") not in optional
            for job in jobs
            for server in job.get("participatingServers", [])
        )
        if unfinished and not required_failed:
            self.log.info("DRS jobs not COMPLETED yet: %s", ", ".join(unfinished))
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._judge(context, jobs, optional))

    def _judge(
        self, context: Context, jobs: Sequence[Mapping[str, Any]], optional: set[str]
    ) -> list[dict[str, Any]]:
        outcome = collect_recovery_outcome(self.hook, jobs, sorted(optional))
        outcome.log_warnings(self.log)
        # Pushed before the verdict: a failed wave's servers (with each rawError) stay readable.
        context["ti"].xcom_push(key=SERVERS_XCOM_KEY, value=outcome.results)
        outcome.raise_for_required()
        launched = sum(
            1 for result in outcome.results if result["launchStatus"] in self.LAUNCH_SUCCESS_STATES
        )
        self.log.info("%d of %d source servers launched", launched, len(outcome.results))
        return outcome.results

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Resume after the trigger: judge every server, or report why waiting ended."""
        if not event:
            raise DrsProviderError(f"{self.task_id}: the trigger ended without an event")
        job_ids = as_str_list(event.get("job_ids") or self.job_ids, field="job_ids")
        status = event.get("status")
        if status == "timeout":
            raise DrsJobTimeoutError(job_ids, self.max_attempts * self.poke_interval)
        if status not in ("success", "failure"):
            raise DrsProviderError(
                f"waiting for DRS jobs {', '.join(job_ids)} failed: {event.get('message')}"
            )
        optional = set(
            as_str_list(event.get("optional_source_server_ids"), field="optional_source_server_ids")
        )
        return self._judge(context, describe_all_jobs(self.hook, job_ids), optional)
