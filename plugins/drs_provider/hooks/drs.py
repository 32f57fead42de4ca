"""Hook for AWS Elastic Disaster Recovery (DRS).

A thin wrapper around ``boto3.client("drs")`` with helpers only where one DRS request is not
enough: pagination, the API's per-request limits (200 source servers, 1000 job IDs), tag
selection of source servers, assembling per-server results of finished jobs, and launch settings
(a launch configuration in DRS and a launch template in EC2).
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from drs_provider.constants import (
    JOB_IDS_PER_REQUEST,
    MAX_SERVERS_PER_START_RECOVERY,
    RECOVERY_INSTANCES_PER_REQUEST,
    SOURCE_SERVER_IDS_PER_REQUEST,
)
from drs_provider.exceptions import (
    DrsCapacityError,
    DrsJobNotFoundError,
    DrsProviderError,
    DrsQuotaError,
    DrsServerBusyError,
    DrsServerSelectionError,
)
from drs_provider.hooks.ec2 import LaunchTemplateHook
from drs_provider.hooks.service_quotas import SERVERS_PER_JOB_QUOTA_CODES, applied_quota
from drs_provider.hooks.throttling import retry_after_throttling
from drs_provider.recovery.cleanup import CleanupPlan, cleanup_entry, plan_cleanup
from drs_provider.recovery.launch import (
    CONFIGURATION_MEMBERS,
    TEMPLATE_SETTINGS,
    LaunchState,
    configuration_update,
    differences,
    needs_template,
    template_update,
)
from drs_provider.recovery.outcome import judge_jobs
from drs_provider.recovery.selection import (
    carries_tags,
    is_source_server_id,
    select_servers,
    source_server_hostname,
    tags_text,
)
from drs_provider.recovery.times import format_drs_time, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    import boto3

    from drs_provider.plans.model import LaunchSettings
    from drs_provider.recovery.missing import MissingJobs
    from drs_provider.recovery.outcome import RecoveryOutcome

log = logging.getLogger(__name__)

#: Sent with every answer by the local DRS simulator (``drs-simulator``), never by AWS: its speed,
#: simulated seconds per real second, so a run can say its DRS times are simulated ones.
SIMULATOR_SPEED_HEADER = "x-drs-simulator-speed"

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of ``items`` holding at most ``size`` elements."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DrsHook(AwsBaseHook):
    """
    Interact with AWS Elastic Disaster Recovery (DRS).

    Provides a thin wrapper around :external+boto3:py:class:`boto3.client("drs") <drs.Client>`
    plus helpers for multi-request work. Throttled requests are retried after the
    ``Retry-After`` that DRS sends, so throttling delays a recovery but does not fail it.

    Additional arguments (such as ``aws_conn_id``, ``region_name``, ``config``) are passed down
    to :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`.
    """

    #: Replication states from which DRS can launch a recovery instance.
    RECOVERABLE_REPLICATION_STATES: frozenset[str] = frozenset(
        {
            "CONTINUOUS",
            "BACKLOG",
            "CREATING_SNAPSHOT",
            "RESCAN",
            "PENDING_SNAPSHOT_SHIPPING",
            "SHIPPING_SNAPSHOT",
        }
    )
    #: Job statuses of a job that still holds its servers.
    ACTIVE_JOB_STATUSES: frozenset[str] = frozenset({"PENDING", "STARTED"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "drs"
        super().__init__(*args, **kwargs)
        self._service_quotas: dict[str, int | None] = {}
        #: the local DRS simulator's speed, once one of its answers said so; None for AWS
        self.simulator_speed: float | None = None

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> boto3.session.Session:
        """Session whose clients (boto3 and aiobotocore alike) honour DRS's ``Retry-After``."""
        session = super().get_session(region_name=region_name, deferrable=deferrable)
        events = getattr(session, "events", None)
        if events is None:  # an aiobotocore session is a botocore session
            events = session.get_component("event_emitter")  # type: ignore[attr-defined]
        events.register_first("needs-retry.drs", retry_after_throttling, unique_id="drs-retry-after")
        events.register("after-call.drs", self._note_simulator, unique_id=f"drs-simulator-{id(self)}")
        return session

    def _note_simulator(self, http_response: Any = None, **_: Any) -> None:
        """botocore ``after-call`` handler: remember the simulator's speed when an answer names it."""
        headers = getattr(http_response, "headers", None) or {}
        speed = headers.get(SIMULATOR_SPEED_HEADER)
        if speed is not None:
            with contextlib.suppress(ValueError):
                self.simulator_speed = float(speed)

    # --- source servers ---------------------------------------------------------------

    def describe_source_servers(self, ids: Sequence[str] | None = None) -> list[dict]:
        """
        Describe source servers, following every page.

        :param ids: source server IDs to describe (any number; sent 200 per request), or
            ``None`` for every source server in the account and region.
        :return: the source servers DRS returned; unknown IDs are simply absent.
        """
        paginator = self.conn.get_paginator("describe_source_servers")
        if ids is None:
            return [item for page in paginator.paginate(filters={}) for item in page.get("items", [])]
        servers: list[dict] = []
        for chunk in chunked(list(dict.fromkeys(ids)), SOURCE_SERVER_IDS_PER_REQUEST):
            for page in paginator.paginate(filters={"sourceServerIDs": list(chunk)}):
                servers.extend(page.get("items", []))
        return servers

    def resolve_source_servers(
        self, ids: Sequence[str] = (), tags: Mapping[str, str] | None = None
    ) -> list[dict]:
        """
        Resolve a server selector to source servers.

        The result is the union of the servers named by ID and the servers carrying ALL of the
        given tags, in that order, without duplicates.

        :param ids: source server IDs; each must exist.
        :param tags: tag selector; must match at least one server.
        :raises DrsServerSelectionError: naming the unknown or malformed IDs, or the tag
            selector that matched nothing.
        """
        ids = list(dict.fromkeys(ids))
        malformed = [server_id for server_id in ids if not is_source_server_id(server_id)]
        if malformed:
            raise DrsServerSelectionError(
                "not source server IDs (expected 's-' and 17 letters or digits): "
                + ", ".join(repr(server_id) for server_id in malformed),
                unknown_ids=malformed,
            )
        known = (
            {server["sourceServerID"]: server for server in self.describe_source_servers(ids)} if ids else {}
        )
        everyone = self.describe_source_servers() if tags else []
        known.update((server["sourceServerID"], server) for server in everyone)
        selection = select_servers(known, ids=ids, tags=tags, candidates=everyone)
        if selection.unknown_ids:
            raise DrsServerSelectionError(
                f"unknown source server IDs in region {self.conn_region_name}: "
                f"{', '.join(selection.unknown_ids)}",
                unknown_ids=selection.unknown_ids,
            )
        if selection.unmatched_tags:
            raise DrsServerSelectionError(
                f"no source server in region {self.conn_region_name} carries all tags "
                f"{tags_text(selection.unmatched_tags)}",
                tags=selection.unmatched_tags,
            )
        return [known[server_id] for server_id in selection.server_ids]

    # --- jobs ---------------------------------------------------------------------------

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

    def recovery_outcome(
        self, jobs: Sequence[Mapping[str, Any]], optional_ids: Sequence[str] = ()
    ) -> RecoveryOutcome:
        """Judge DescribeJobs items server by server (see :func:`~drs_provider.recovery.outcome.judge_jobs`).

        Reads what the verdict names: each server's hostname, each recovery instance's EC2
        instance ID (left out, with a warning, if DRS cannot describe them) and the job logs.
        """
        servers = [server for job in jobs for server in job.get("participatingServers") or ()]
        hostnames = {
            server["sourceServerID"]: source_server_hostname(server)
            for server in self.describe_source_servers([s["sourceServerID"] for s in servers])
        }
        instance_ids = [s["recoveryInstanceID"] for s in servers if s.get("recoveryInstanceID")]
        ec2_ids: dict[str, str | None] = {}
        if instance_ids:
            try:
                ec2_ids = {
                    instance["recoveryInstanceID"]: instance.get("ec2InstanceID")
                    for instance in self.describe_recovery_instances(instance_ids)
                }
            except ClientError as error:  # results stay useful without the EC2 IDs
                self.log.warning("could not describe recovery instances: %s", error)
        log_items = {job["jobID"]: self.job_log_items(job["jobID"]) for job in jobs}
        return judge_jobs(
            jobs, optional_ids, hostnames=hostnames, ec2_instance_ids=ec2_ids, log_items=log_items
        )

    def job_log_items(self, job_id: str) -> list[dict]:
        """Every log item of a job, oldest first as DRS returns them."""
        paginator = self.conn.get_paginator("describe_job_log_items")
        return [item for page in paginator.paginate(jobID=job_id) for item in page.get("items", [])]

    def describe_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> list[dict]:
        """Describe recovery instances by ID, 200 per request, following every page."""
        paginator = self.conn.get_paginator("describe_recovery_instances")
        instances: list[dict] = []
        for chunk in chunked(list(dict.fromkeys(recovery_instance_ids)), RECOVERY_INSTANCES_PER_REQUEST):
            for page in paginator.paginate(filters={"recoveryInstanceIDs": list(chunk)}):
                instances.extend(page.get("items", []))
        return instances

    # --- snapshots ----------------------------------------------------------------------

    def service_quota(self, quota_code: str) -> int | None:
        """The applied value of one of DRS's quotas in Service Quotas, or None when the connection
        may not read it (:func:`~drs_provider.hooks.service_quotas.applied_quota`); each asked once
        per hook."""
        if quota_code not in self._service_quotas:
            self._service_quotas[quota_code] = applied_quota(self.service_quotas_client, quota_code, self.log)
        return self._service_quotas[quota_code]

    def service_quotas_client(self) -> Any:
        """A Service Quotas client on this hook's connection, region and settings."""
        quotas = AwsBaseHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.config,
            client_type="service-quotas",
        )
        return quotas.conn

    def recovery_instances_of(self, source_server_ids: Sequence[str]) -> list[dict]:
        """The recovery instances of these source servers (at most one each), 200 servers per request."""
        paginator = self.conn.get_paginator("describe_recovery_instances")
        instances: list[dict] = []
        for chunk in chunked(list(dict.fromkeys(source_server_ids)), SOURCE_SERVER_IDS_PER_REQUEST):
            for page in paginator.paginate(filters={"sourceServerIDs": list(chunk)}):
                instances.extend(page.get("items", []))
        return instances

    def all_recovery_instances(self) -> list[dict]:
        """Every recovery instance of the account and region (one call per page of 200)."""
        paginator = self.conn.get_paginator("describe_recovery_instances")
        return [item for page in paginator.paginate(filters={}) for item in page.get("items", [])]

    def newest_snapshot_time(self, server_id: str) -> datetime | None:
        """When the newest completed recovery snapshot of a server was taken (None: it has none).

        DRS has no "last snapshot" field; the newest snapshots come first with ``order=DESC``, and
        one in progress (no ``timestamp`` yet) may lead, so a few are read, one call.
        """
        answer = self.conn.describe_recovery_snapshots(sourceServerID=server_id, order="DESC", maxResults=5)
        times = [parse_time(item["timestamp"]) for item in answer.get("items", []) if item.get("timestamp")]
        return max(times, default=None)

    def snapshots_before(
        self, server_ids: Iterable[str], point_in_time: datetime
    ) -> tuple[dict[str, str], list[str]]:
        """
        For each server, the latest completed recovery snapshot taken at or before a moment.

        :param server_ids: source server IDs.
        :param point_in_time: the moment to recover to (naive values are UTC).
        :return: ``(chosen, missing)``: source server ID -> ``recoverySnapshotID`` to pass to
            StartRecovery, and the servers with no such snapshot.
        """
        if point_in_time.tzinfo is None:
            point_in_time = point_in_time.replace(tzinfo=UTC)
        paginator = self.conn.get_paginator("describe_recovery_snapshots")
        # The filter's bound may be exclusive; widen it and decide on the exact times here.
        filters = {"toDateTime": format_drs_time(point_in_time + timedelta(seconds=1))}
        chosen: dict[str, str] = {}
        missing: list[str] = []
        for server_id in dict.fromkeys(server_ids):
            best: tuple[datetime, str] | None = None
            for page in paginator.paginate(sourceServerID=server_id, filters=filters, order="DESC"):
                for snapshot in page.get("items", []):
                    taken = snapshot.get("timestamp")  # absent until the snapshot is complete
                    if not taken:
                        continue
                    moment = parse_time(taken)
                    if moment <= point_in_time and (best is None or moment > best[0]):
                        best = (moment, snapshot["snapshotID"])
            if best is None:
                missing.append(server_id)
            else:
                chosen[server_id] = best[1]
        return chosen, missing

    def latest_snapshots_before(self, server_ids: Iterable[str], point_in_time: datetime) -> dict[str, str]:
        """
        :meth:`snapshots_before`, when every server has a snapshot.

        :return: source server ID -> ``recoverySnapshotID`` to pass to StartRecovery.
        :raises DrsServerSelectionError: naming every server with no such snapshot.
        """
        chosen, missing = self.snapshots_before(server_ids, point_in_time)
        if missing:
            raise DrsServerSelectionError(
                f"no completed recovery snapshot at or before {format_drs_time(point_in_time)} "
                f"for source servers: {', '.join(missing)}",
                unknown_ids=missing,
            )
        return chosen

    # --- recovery -----------------------------------------------------------------------

    def start_recovery_job(
        self,
        source_servers: Sequence[Mapping[str, str]],
        *,
        is_drill: bool,
        tags: Mapping[str, str] | None = None,
    ) -> dict:
        """
        One StartRecovery request; returns the job DRS created.

        Errors are raised as botocore ``ClientError``; :meth:`explain_start_recovery_error`
        turns them into this provider's exceptions.
        """
        if not 1 <= len(source_servers) <= MAX_SERVERS_PER_START_RECOVERY:
            raise ValueError(
                f"StartRecovery takes 1 to {MAX_SERVERS_PER_START_RECOVERY} source servers, "
                f"got {len(source_servers)}"
            )
        request: dict[str, Any] = {
            "sourceServers": [dict(server) for server in source_servers],
            "isDrill": is_drill,
        }
        if tags:
            request["tags"] = dict(tags)
        return self.conn.start_recovery(**request)["job"]

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

    def terminate_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> dict:
        """
        Terminate recovery instances, 200 per request.

        :return: ``{"jobs": [...]}``, the termination jobs DRS started.
        """
        jobs = []
        for chunk in chunked(list(dict.fromkeys(recovery_instance_ids)), RECOVERY_INSTANCES_PER_REQUEST):
            jobs.append(self.conn.terminate_recovery_instances(recoveryInstanceIDs=list(chunk))["job"])
        return {"jobs": jobs}

    # --- launch settings ------------------------------------------------------------------

    def launch_template_hook(self) -> LaunchTemplateHook:
        """EC2 launch templates on this hook's connection, region and settings."""
        return LaunchTemplateHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config
        )

    def launch_configuration(self, server_id: str) -> dict[str, Any]:
        """GetLaunchConfiguration of one server (DRS has no batch form)."""
        answer = dict(self.conn.get_launch_configuration(sourceServerID=server_id))
        answer.pop("ResponseMetadata", None)
        return answer

    def read_launch_states(
        self, server_ids: Sequence[str], *, templates: bool = True
    ) -> dict[str, LaunchState]:
        """What each server would launch with now: one GetLaunchConfiguration per server, and (with
        ``templates``) the default versions of their launch templates in one EC2 listing.

        A server DRS does not know is left out; any other error is raised.
        """
        configurations: dict[str, dict[str, Any]] = {}
        for server_id in dict.fromkeys(server_ids):
            try:
                configurations[server_id] = self.launch_configuration(server_id)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                self.log.info("no launch configuration of %s: DRS does not know it", server_id)
        versions: dict[str, dict[str, Any]] = {}
        if templates:
            ids = {
                str(c["ec2LaunchTemplateID"]) for c in configurations.values() if c.get("ec2LaunchTemplateID")
            }
            versions = self.launch_template_hook().default_versions(ids)
        return {
            server_id: LaunchState(configuration, versions.get(str(configuration.get("ec2LaunchTemplateID"))))
            for server_id, configuration in configurations.items()
        }

    def apply_launch_settings(
        self, server_id: str, settings: LaunchSettings, state: LaunchState
    ) -> list[str]:
        """Make DRS launch ``server_id`` with the plan's ``settings``; return what was changed.

        The launch configuration first (UpdateLaunchConfiguration, also when the template is
        missing, since DRS then creates one), as DRS writes a new default template version of its
        own on every update; then, read again, the template: a new default version based on the
        default, holding the plan's instance type, subnet, security groups and private IP.

        :raises DrsProviderError: DRS names no launch template, or EC2 has none by that ID.
        """
        changes = differences(settings, state)
        done: list[str] = []
        configuration: Mapping[str, Any] = state.configuration
        missing = needs_template(settings) and state.template is None
        if missing or any(change.setting in CONFIGURATION_MEMBERS for change in changes):
            configuration = self.conn.update_launch_configuration(**configuration_update(server_id, settings))
            done.append("launch configuration updated (UpdateLaunchConfiguration)")
        if not (missing or any(change.setting in TEMPLATE_SETTINGS for change in changes)):
            return done
        template_id = configuration.get("ec2LaunchTemplateID")
        if not template_id:
            raise DrsProviderError(f"DRS names no EC2 launch template for {server_id}")
        templates = self.launch_template_hook()
        base = templates.default_version(str(template_id))
        if base is None:
            raise DrsProviderError(
                f"the EC2 launch template {template_id} DRS names for {server_id} does not exist"
            )
        if any(
            change.setting in TEMPLATE_SETTINGS
            for change in differences(settings, LaunchState(configuration, base))
        ):
            number = templates.new_default_version(
                base, template_update(base.get("LaunchTemplateData") or {}, settings)
            )
            done.append(f"launch template {template_id}: version {number} is the default")
        return done

    # --- a drill's cleanup ----------------------------------------------------------------

    def run_cleanup_plan(
        self, tags: Mapping[str, str], *, since: datetime | None = None
    ) -> tuple[list[dict], CleanupPlan]:
        """A run's jobs (found by its ``airflow:dag_id`` / ``airflow:run_id`` tags) and what a cleanup of
        it may terminate (:func:`~drs_provider.recovery.cleanup.plan_cleanup`)."""
        jobs = self.find_jobs_by_tags(tags, since=since)
        launched = [
            i
            for job in jobs
            for i in (s.get("recoveryInstanceID") for s in job.get("participatingServers") or ())
            if i
        ]
        instances = self.describe_recovery_instances(launched) if launched else []
        return jobs, plan_cleanup(jobs, instances)

    def carry_out_cleanup(self, plan: CleanupPlan, *, timeout: float, waiter_delay: float) -> dict[str, Any]:
        """Terminate ``plan.to_terminate`` (200 per call), wait up to ``timeout`` seconds for the
        TERMINATE jobs, and return the report's ``cleanup`` entry
        (:func:`~drs_provider.recovery.cleanup.cleanup_entry`; state ``terminating`` when the jobs
        had not ended in time)."""
        if not plan.to_terminate:
            return cleanup_entry(plan)
        job_ids = [str(job["jobID"]) for job in self.terminate_recovery_instances(plan.to_terminate)["jobs"]]
        deadline = time.monotonic() + timeout
        while True:
            finished = all(job.get("status") == "COMPLETED" for job in self.describe_jobs_in_order(job_ids))
            if finished or time.monotonic() > deadline:
                break
            time.sleep(waiter_delay)
        remaining = {i["recoveryInstanceID"] for i in self.describe_recovery_instances(plan.to_terminate)}
        return cleanup_entry(plan, jobs=job_ids, remaining=remaining, finished=finished)


def _summarise(ids: Sequence[str], shown: int = 5) -> str:
    """The first few IDs and how many more, for messages about large selections."""
    head = ", ".join(ids[:shown])
    return head if len(ids) <= shown else f"{head} and {len(ids) - shown} more"
