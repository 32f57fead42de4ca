"""Operator that starts DRS recovery (or drill) jobs, once per task however often it runs.

Its arguments once read, and the servers they select, are :mod:`.recovery_arguments`; starting the
jobs, adopting those the task started already, is :mod:`.recovery_jobs`.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from drs_provider.constants import (
    CAPACITY_WAIT_XCOM_KEY,
    DEFAULT_MAX_SERVERS_PER_JOB,
    MAX_TAGS_PER_RESOURCE,
    OPTIONAL_SERVERS_XCOM_KEY,
    TAG_DAG_ID,
    TAG_MAP_INDEX,
    TAG_RUN_ID,
    TAG_TASK_ID,
)
from drs_provider.exceptions import (
    DrsInputError,
    DrsJobNotFoundError,
    DrsJobTimeoutError,
    DrsProviderError,
    DrsQuotaError,
)
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.service_quotas import CONCURRENT_JOBS_QUOTA_CODES, account_quotas
from drs_provider.links.drs import DrsJobLink, DrsSourceServerLink
from drs_provider.operators.capacity_queue import waits_ahead
from drs_provider.operators.recovery_arguments import (
    RecoveryArguments,
    read_max_servers_per_job,
    read_point_in_time,
    resolve_servers,
)
from drs_provider.operators.recovery_jobs import JobStarter, WaitForCapacity
from drs_provider.recovery.job_tags import JOB_LOOKBACK, tag_value, validate_job_tags
from drs_provider.recovery.missing import MissingJobs
from drs_provider.recovery.outcome import wait_verdict
from drs_provider.template_values import as_bool, as_str_dict, as_str_list
from drs_provider.triggers.capacity import DrsCapacityTrigger
from drs_provider.triggers.drs import DrsJobCompleteTrigger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow.sdk import Context


class DrsStartRecoveryOperator(AwsBaseOperator[DrsHook]):
    """
    Start recovery (or a drill) of DRS source servers and return the IDs of the jobs.

    Servers are selected by ID and/or by tags (a server must carry ALL the tags); optional
    servers are launched too, but the sensor lets their launches fail. The selection is split
    into jobs of at most ``max_servers_per_job`` servers. Each job is tagged with the DAG, run,
    task (and map index) that started it and a ``airflow:chunk`` marker such as ``2/5``.

    Idempotent: when the task runs again in the same DAG run (a retry, or after a response
    was lost), it finds the jobs it already started by those tags and starts only the servers
    none of them covers. A ConflictException is checked against those tags before it is
    reported as a server busy in another job. To launch again, start a new DAG run.

    Pushes XComs ``source_server_ids`` and ``optional_source_server_ids`` (the resolved IDs)
    and returns the job IDs (``return_value``).

    :param source_server_ids: required servers by ID: a list or a JSON / Python-literal list
        string. (templated)
    :param tags: required servers by tags, a mapping or a JSON string. (templated)
    :param optional_source_server_ids: optional servers by ID. (templated)
    :param optional_tags: optional servers by tags. (templated)
    :param is_drill: launch drill instances (default) instead of recovery instances. (templated)
    :param point_in_time: ISO-8601 time; launch every server from its latest recovery
        snapshot taken at or before it, instead of the latest data. (templated)
    :param max_servers_per_job: servers per DRS job, 1 to 200 (default 100). (templated)
    :param job_tags: extra tags for every job. (templated)
    :param wait_for_completion: wait in the worker until the jobs finish and every required
        server launched.
    :param waiter_delay: seconds between polls while waiting.
    :param waiter_max_attempts: polls before giving up.
    :param deferrable: wait in the triggerer instead (frees the worker slot).
    :param wait_for_capacity: when DRS refuses a launch for the account's capacity (concurrent
        jobs, servers in active jobs), wait in the triggerer for capacity, in turn with other
        launches (:mod:`drs_provider.triggers.capacity`), instead of failing with
        :class:`~drs_provider.exceptions.DrsCapacityError`. The wait lasts at most
        ``waiter_delay * waiter_max_attempts`` seconds.
    :param priority: among waiting launches of the same kind (recoveries go before drills),
        higher goes first.
    :param max_concurrent_jobs: the account's concurrent jobs quota, default from ``[drs]
        max_concurrent_jobs``, else 20.
    :param max_servers_in_active_jobs: the account's quota of servers in active jobs, default
        from ``[drs] max_servers_in_active_jobs``, else 500.
    """

    aws_hook_class = DrsHook
    template_fields: Sequence[str] = aws_template_fields(
        "source_server_ids",
        "tags",
        "optional_source_server_ids",
        "optional_tags",
        "is_drill",
        "point_in_time",
        "max_servers_per_job",
        "job_tags",
    )
    template_fields_renderers = {
        "source_server_ids": "json",
        "tags": "json",
        "optional_source_server_ids": "json",
        "optional_tags": "json",
        "job_tags": "json",
    }
    operator_extra_links = (DrsJobLink(), DrsSourceServerLink())
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        source_server_ids: Sequence[str] | str | None = None,
        tags: Mapping[str, str] | str | None = None,
        optional_source_server_ids: Sequence[str] | str | None = None,
        optional_tags: Mapping[str, str] | str | None = None,
        is_drill: bool | str = True,
        point_in_time: str | None = None,
        max_servers_per_job: int | str = DEFAULT_MAX_SERVERS_PER_JOB,
        job_tags: Mapping[str, str] | str | None = None,
        wait_for_completion: bool = False,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 120,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_capacity: bool = False,
        priority: int = 0,
        max_concurrent_jobs: int | None = None,
        max_servers_in_active_jobs: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_for_capacity = wait_for_capacity
        self.priority = priority
        self.max_concurrent_jobs = max_concurrent_jobs
        self.max_servers_in_active_jobs = max_servers_in_active_jobs
        #: epoch seconds this task first waited for capacity (set when it resumes from a wait)
        self._waiting_since: float | None = None
        #: this task has waited for capacity and been let go: it keeps its turn
        self._waited_for_capacity = False
        self.source_server_ids = source_server_ids
        self.tags = tags
        self.optional_source_server_ids = optional_source_server_ids
        self.optional_tags = optional_tags
        self.is_drill = is_drill
        self.point_in_time = point_in_time
        self.max_servers_per_job = max_servers_per_job
        self.job_tags = job_tags
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.deferrable = deferrable

    # --- arguments ----------------------------------------------------------------------

    def _field(self, name: str) -> str:
        return f"{self.task_id}.{name}"

    def _identity_tags(self, context: Context) -> dict[str, str]:
        ti = context["ti"]
        identity = {
            TAG_DAG_ID: tag_value(ti.dag_id),
            TAG_RUN_ID: tag_value(ti.run_id),
            TAG_TASK_ID: tag_value(ti.task_id),
        }
        map_index = getattr(ti, "map_index", -1)
        if map_index is not None and map_index >= 0:
            identity[TAG_MAP_INDEX] = str(map_index)
        return identity

    @staticmethod
    def _lookback_start(context: Context) -> datetime | None:
        dag_run = context.get("dag_run")
        moments = [getattr(dag_run, name, None) for name in ("run_after", "logical_date", "start_date")]
        known = [moment for moment in moments if isinstance(moment, datetime)]
        return min(known) - JOB_LOOKBACK if known else None

    # --- execution ----------------------------------------------------------------------

    def read_arguments(self) -> RecoveryArguments:
        """Read and check every templated argument; errors name the task and the field."""
        job_tags = as_str_dict(self.job_tags, field=self._field("job_tags"))
        validate_job_tags(job_tags, field=self._field("job_tags"))
        return RecoveryArguments(
            source_server_ids=as_str_list(self.source_server_ids, field=self._field("source_server_ids")),
            tags=as_str_dict(self.tags, field=self._field("tags")),
            optional_source_server_ids=as_str_list(
                self.optional_source_server_ids, field=self._field("optional_source_server_ids")
            ),
            optional_tags=as_str_dict(self.optional_tags, field=self._field("optional_tags")),
            is_drill=as_bool(self.is_drill, field=self._field("is_drill")),
            point_in_time=read_point_in_time(self.point_in_time, field=self._field("point_in_time")),
            max_servers_per_job=read_max_servers_per_job(
                self.max_servers_per_job, field=self._field("max_servers_per_job")
            ),
            job_tags=job_tags,
        )

    def execute(self, context: Context) -> list[str]:
        return self.start(context, self.read_arguments())

    def start(self, context: Context, args: RecoveryArguments) -> list[str]:
        """Resolve ``args``' servers, start the jobs none of this task's jobs covers, wait if asked."""
        is_drill, size = args.is_drill, args.max_servers_per_job
        job_tags = args.job_tags
        identity = self._identity_tags(context)
        if len(identity) + 1 + len(job_tags) > MAX_TAGS_PER_RESOURCE:
            raise DrsInputError(
                f"{self._field('job_tags')}: {len(job_tags)} tags plus {len(identity) + 1} identity tags "
                f"exceed the AWS limit of {MAX_TAGS_PER_RESOURCE} tags per job"
            )

        required, optional = resolve_servers(self.hook, args, task_id=self.task_id)
        ti = context["ti"]
        ti.xcom_push(key="source_server_ids", value=required)
        ti.xcom_push(key=OPTIONAL_SERVERS_XCOM_KEY, value=optional)
        selected = required + optional
        self.log.info(
            "%s of %d required and %d optional source servers",
            "Drill" if is_drill else "RECOVERY",
            len(required),
            len(optional),
        )

        try:
            starter = JobStarter(self.hook, self.task_id, self.log, self.queue_check(recovery=not is_drill))
            since = self._lookback_start(context)
            job_ids = starter.start_jobs(since, selected, identity, job_tags, is_drill, size, args)
        except WaitForCapacity as short:
            if not self.wait_for_capacity and short.refusal is not None:
                raise short.refusal from None
            self._defer_for_capacity(context, short, recovery=not is_drill, owner=identity)
        self._persist_links(context, job_ids, selected)

        if self.deferrable:
            self.defer(
                trigger=DrsJobCompleteTrigger(
                    job_ids=job_ids,
                    optional_source_server_ids=optional,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=self.waiter_max_attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
            )
        if self.wait_for_completion:
            self._wait(job_ids, optional)
        return job_ids

    def _defer_for_capacity(
        self,
        context: Context,
        short: WaitForCapacity,
        *,
        recovery: bool,
        owner: dict[str, str],
        region_name: str | None = None,
    ) -> None:
        """Wait in the triggerer until DRS has room for what is left to launch, then start again
        (:meth:`execute_after_capacity`; the jobs already started are adopted, not relaunched).

        :param region_name: the region DRS refused the launch in, when not the task's own.
        """
        refusal = short.refusal
        hook = self.hook.in_region(region_name) if region_name else self.hook
        max_jobs, max_servers = account_quotas(
            self.max_concurrent_jobs, self.max_servers_in_active_jobs, hook
        )
        to_launch = f"{short.jobs} job(s) for {short.servers} server(s) still to launch"
        if refusal is None:
            why = f"waiting for DRS capacity: {short.ahead} launch(es) already waiting ahead; {to_launch}"
            self.log.warning("%s (not overtaking them)", why)
        else:
            # What DRS just refused bounds the quota: with N jobs active it allows no more than N.
            if refusal.quota_code in CONCURRENT_JOBS_QUOTA_CODES:
                max_jobs = min(max_jobs, max(refusal.active_jobs, 1))
            else:
                max_servers = min(max_servers, max(refusal.active_servers, 1))
            why = (
                f"waiting for DRS capacity: {refusal.active_jobs} of {max_jobs} jobs active, "
                f"{refusal.active_servers} of {max_servers} servers in active jobs; {to_launch}"
            )
            self.log.warning("%s (DRS answered %s)", why, refusal.quota_code)
        since = self._waiting_since or time.time()
        context["ti"].xcom_push(key=CAPACITY_WAIT_XCOM_KEY, value=why)
        self.defer(
            trigger=DrsCapacityTrigger(
                jobs=short.jobs,
                servers=short.servers,
                recovery=recovery,
                priority=self.priority,
                waiting_since=since,
                max_jobs=max_jobs,
                max_servers=max_servers,
                timeout=float(self.waiter_delay * self.waiter_max_attempts),
                owner=owner,
                aws_conn_id=self.aws_conn_id,
                region_name=region_name or self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_after_capacity",
            kwargs={"waiting_since": since},
        )

    def queue_check(self, *, recovery: bool, region_name: str | None = None) -> Callable[[], int] | None:
        """How a launch that has not waited yet counts the capacity waits ahead of it (None when
        this task does not wait for capacity, or has waited already and keeps its place)."""
        if not self.wait_for_capacity or self._waited_for_capacity:
            return None
        region = region_name or self.region_name
        return partial(waits_ahead, self.aws_conn_id, region, recovery=recovery, priority=self.priority)

    def execute_after_capacity(
        self, context: Context, event: dict[str, Any] | None = None, waiting_since: float | None = None
    ) -> Any:
        """Resume after a capacity wait: launch what is left (or fail when the wait timed out)."""
        if not event or event.get("status") != "capacity":
            message = (event or {}).get("message") or "the capacity wait ended without an event"
            raise DrsQuotaError(f"{self.task_id}: {message}")
        self.log.info("DRS has capacity (%s): launching", event.get("message"))
        self._waited_for_capacity = True
        self._waiting_since = waiting_since
        return self.execute(context)

    def _persist_links(
        self, context: Context, job_ids: list[str], selected: list[str], region: str | None = None
    ) -> None:
        """The console links of the first job and the servers, in ``region`` (the task's own region
        unless the jobs run elsewhere, as a failback's do at home)."""
        region = region or self.hook.conn_region_name
        partition = self.hook.conn_partition
        if job_ids:
            DrsJobLink.persist(
                context=context, operator=self, region_name=region, aws_partition=partition, job_id=job_ids[0]
            )
        DrsSourceServerLink.persist(
            context=context,
            operator=self,
            region_name=region,
            aws_partition=partition,
            source_server_id=selected[0] if len(selected) == 1 else "",
        )

    def _wait(self, job_ids: list[str], optional: list[str]) -> None:
        """Wait in the worker: DescribeJobs every ``waiter_delay`` s until the wait's verdict
        (:func:`~drs_provider.recovery.outcome.wait_verdict`, the trigger's), then judge every server."""
        attempts = max(self.waiter_max_attempts, 1)
        missing_jobs = MissingJobs()  # a new job may be left out of a first answer (as the sensor)
        for attempt in range(1, attempts + 1):
            jobs = self.hook.describe_listed_jobs(job_ids, missing_jobs)
            if jobs is not None:
                if wait_verdict(jobs, optional) is not None:
                    break
                self.log.info("DRS jobs %s: %s", ", ".join(job_ids), [job.get("status") for job in jobs])
            if attempt == attempts:
                raise DrsJobTimeoutError(job_ids, self.waiter_delay * self.waiter_max_attempts)
            time.sleep(self.waiter_delay)
        self._judge(job_ids, optional)

    def _judge(self, job_ids: list[str], optional: list[str]) -> None:
        outcome = self.hook.recovery_outcome(self.hook.describe_jobs_in_order(job_ids), optional)
        outcome.log_warnings(self.log)
        outcome.raise_for_required()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume after the trigger: fail unless every required server launched."""
        if not event:
            raise DrsProviderError(f"{self.task_id}: the trigger ended without an event")
        job_ids = as_str_list(event.get("job_ids"), field="job_ids")
        status = event.get("status")
        if status == "timeout":
            raise DrsJobTimeoutError(job_ids, self.waiter_delay * self.waiter_max_attempts)
        if status == "not_found":
            missing = as_str_list(event.get("missing_job_ids") or job_ids, field="missing_job_ids")
            raise DrsJobNotFoundError(missing, region=self.hook.conn_region_name)
        if status not in ("success", "failure"):
            raise DrsProviderError(
                f"waiting for DRS jobs {', '.join(job_ids)} failed: {event.get('message')}"
            )
        self._judge(job_ids, as_str_list(event.get("optional_source_server_ids"), field="optional"))
        return job_ids
