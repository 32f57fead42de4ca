"""Sensor that waits for DRS recovery jobs and judges every server's launch."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import PokeReturnValue
from airflow.triggers.base import StartTriggerArgs

from drs_provider.constants import SERVERS_XCOM_KEY
from drs_provider.exceptions import DrsInputError, DrsJobNotFoundError, DrsJobTimeoutError, DrsProviderError
from drs_provider.hooks.drs import DrsHook
from drs_provider.links.drs import DrsJobLink
from drs_provider.recovery.missing import MissingJobs
from drs_provider.recovery.outcome import (
    JOB_FAILURE_STATES,
    JOB_INTERMEDIATE_STATES,
    JOB_SUCCESS_STATES,
    LAUNCH_FAILURE_STATES,
    LAUNCH_INTERMEDIATE_STATES,
    LAUNCH_SUCCESS_STATES,
    wait_verdict,
)
from drs_provider.template_values import as_str_list
from drs_provider.triggers.drs import DEFAULT_ERROR_TIMEOUT, DrsJobCompleteTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

#: Seconds between polls unless a plan's ``poll_interval`` (the sensor's ``poke_interval``) says
#: otherwise. Short, because in the triggerer one DescribeJobs per tick serves every wait
#: (``triggers/job_poller.py``): the cost to DRS does not grow with the waits, and a wave's
#: successor starts within about this long of its jobs' end.
DEFAULT_POLL_INTERVAL = 1

#: Most seconds a poke in reschedule mode pauses before asking again for a job DRS left out.
RESCHEDULE_RECHECK_SECONDS = 5.0


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
    :param poke_interval: seconds between DescribeJobs polls (default :data:`DEFAULT_POLL_INTERVAL`:
        in the triggerer one poll serves every wait, so a short one costs DRS little).
    :param timeout: seconds to wait for the jobs; then the task fails.
    :param max_attempts: polls in deferrable mode; default ``timeout / poke_interval``.
    :param error_timeout: deferrable mode: seconds of DescribeJobs failing in a row (DRS down or
        erroring) that the wait rides out before it fails naming the jobs and the last error.
    :param start_from_trigger: begin in the triggerer without a worker (Airflow 3). The trigger
        then renders only ``job_ids``, ``optional_source_server_ids`` and the connection fields.

    Either way a job DescribeJobs leaves out fails the task only once two answers in a row left it
    out (:class:`~drs_provider.recovery.missing.MissingJobs`): DRS may list a new job a moment late.
    In poke mode the count lives in the sensor between pokes; in reschedule mode each poke is a
    new sensor, so a poke that misses a job asks again itself after ``poke_interval`` (at most
    :data:`RESCHEDULE_RECHECK_SECONDS`).
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
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = 6 * 60 * 60,
        max_attempts: int | None = None,
        start_from_trigger: bool = False,
        error_timeout: float = DEFAULT_ERROR_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.error_timeout = error_timeout
        self.start_from_trigger = start_from_trigger
        self.job_ids = job_ids
        self.optional_source_server_ids = optional_source_server_ids
        self.deferrable = deferrable
        self._missing_jobs = MissingJobs()
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
            "error_timeout": self.error_timeout,
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
        self._begin_waiting(context, job_ids)
        if not self.deferrable:
            return super().execute(context=context)
        kwargs = {
            **self._trigger_kwargs(),
            "job_ids": job_ids,
            "optional_source_server_ids": self._optional_ids,
        }
        self.defer(trigger=DrsJobCompleteTrigger(**kwargs), method_name="execute_complete")
        return None  # not reached: defer() raises

    def _begin_waiting(self, context: Context, job_ids: list[str]) -> None:
        """Refuse to wait for no job, and link the task to the first job in the UI."""
        if not job_ids:
            raise DrsInputError(f"{self.task_id}: job_ids is empty; there is no DRS job to wait for")
        DrsJobLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            job_id=job_ids[0],
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        job_ids = self._job_ids
        optional = set(self._optional_ids)
        jobs = self._describe(job_ids)
        if jobs is None:
            return False
        if wait_verdict(jobs, optional) is None:
            unfinished = [job["jobID"] for job in jobs if job.get("status") not in self.JOB_SUCCESS_STATES]
            self.log.info("DRS jobs not COMPLETED yet: %s", ", ".join(unfinished))
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._judge(context, jobs, optional))

    def _describe(self, job_ids: list[str]) -> list[dict] | None:
        """The jobs in order, or ``None`` while DRS has left one out too few answers in a row."""
        while True:
            jobs = self.hook.describe_listed_jobs(job_ids, self._missing_jobs)
            if jobs is not None or not self.reschedule:
                return jobs
            # The next poke builds a new sensor, whose count starts at zero: ask again now.
            time.sleep(min(self.poke_interval, RESCHEDULE_RECHECK_SECONDS))

    def _judge(
        self, context: Context, jobs: Sequence[Mapping[str, Any]], optional: set[str]
    ) -> list[dict[str, Any]]:
        outcome = self.hook.recovery_outcome(jobs, sorted(optional))
        outcome.log_warnings(self.log)
        # Pushed before the verdict: a failed wave's servers (with each rawError) stay readable.
        context["ti"].xcom_push(key=SERVERS_XCOM_KEY, value=outcome.results)
        outcome.raise_for_required()
        self.log.info("%d of %d source servers launched", outcome.launched, len(outcome.results))
        return outcome.results

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Resume after the trigger: judge every server, or report why waiting ended."""
        if not event:
            raise DrsProviderError(f"{self.task_id}: the trigger ended without an event")
        job_ids = as_str_list(event.get("job_ids") or self.job_ids, field="job_ids")
        if self.start_from_trigger:  # execute() never ran: its check and the link are done here
            self._begin_waiting(context, job_ids)
        status = event.get("status")
        if status == "timeout":
            raise DrsJobTimeoutError(job_ids, self.max_attempts * self.poke_interval)
        if status == "not_found":
            missing = as_str_list(event.get("missing_job_ids") or job_ids, field="missing_job_ids")
            raise DrsJobNotFoundError(missing, region=self.hook.conn_region_name)
        if status not in ("success", "failure"):
            raise DrsProviderError(
                f"waiting for DRS jobs {', '.join(job_ids)} failed: {event.get('message')}"
            )
        optional = set(
            as_str_list(event.get("optional_source_server_ids"), field="optional_source_server_ids")
        )
        return self._judge(context, self.hook.describe_jobs_in_order(job_ids), optional)
