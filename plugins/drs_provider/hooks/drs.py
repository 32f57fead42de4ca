"""Hook for AWS Elastic Disaster Recovery (DRS).

A thin wrapper around ``boto3.client("drs")`` with helpers only where one DRS request is not
enough: pagination, the API's per-request limits (200 source servers, 1000 job IDs), tag
selection of source servers, assembling per-server results of finished jobs, and launch settings
(a launch configuration in DRS and a launch template in EC2).

The hook is one class; the calls of a resource it holds beside its source servers and recovery
instances come from mixins: jobs (:mod:`.drs_jobs`), recovery snapshots (:mod:`.drs_snapshots`),
launch settings (:mod:`.drs_launch`) and staging accounts (:mod:`.drs_staging`). Requests are cut
to DRS's limits by :mod:`.chunking`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from drs_provider.constants import (
    MAX_SERVERS_PER_START_RECOVERY,
    RECOVERY_INSTANCES_PER_REQUEST,
    SOURCE_SERVER_IDS_PER_REQUEST,
)
from drs_provider.exceptions import DrsServerSelectionError
from drs_provider.hooks.chunking import chunked
from drs_provider.hooks.drs_failback import DrsFailbackMixin
from drs_provider.hooks.drs_jobs import DrsJobsMixin
from drs_provider.hooks.drs_launch import DrsLaunchSettingsMixin
from drs_provider.hooks.drs_native_plans import DrsNativePlansMixin
from drs_provider.hooks.drs_snapshots import DrsSnapshotsMixin
from drs_provider.hooks.drs_staging import DrsStagingMixin
from drs_provider.hooks.lean_clients import LeanClientsMixin, lean_hook
from drs_provider.hooks.service_quotas import applied_quota
from drs_provider.hooks.throttling import retry_after_throttling
from drs_provider.recovery.cleanup import CleanupPlan, cleanup_entry, plan_cleanup
from drs_provider.recovery.outcome import judge_jobs
from drs_provider.recovery.selection import (
    is_source_server_id,
    select_servers,
    source_server_hostname,
    tags_text,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    import boto3

    from drs_provider.recovery.outcome import RecoveryOutcome

log = logging.getLogger(__name__)

#: Sent with every answer by the local DRS simulator (``drs-simulator``), never by AWS: its speed,
#: simulated seconds per real second, so a run can say its DRS times are simulated ones.
SIMULATOR_SPEED_HEADER = "x-drs-simulator-speed"


class DrsHook(
    LeanClientsMixin,
    DrsJobsMixin,
    DrsSnapshotsMixin,
    DrsLaunchSettingsMixin,
    DrsFailbackMixin,
    DrsNativePlansMixin,
    DrsStagingMixin,
    AwsBaseHook,
):
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

    def poll_interval(self, seconds: float) -> float:
        """Seconds between polls of something DRS is doing: ``seconds`` on AWS, at most 1 s once an
        answer came from the simulator, whose jobs and replication end in seconds of real time."""
        return seconds if self.simulator_speed is None else min(seconds, 1.0)

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

    def recovery_outcome(
        self, jobs: Sequence[Mapping[str, Any]], optional_ids: Sequence[str] = ()
    ) -> RecoveryOutcome:
        """Judge DescribeJobs items server by server (see :func:`~drs_provider.recovery.outcome.judge_jobs`).

        Reads what the verdict names: each server's hostname (and staging account, for an extended
        source server), each recovery instance's EC2 instance ID (left out, with a warning, if DRS
        cannot describe them) and the job logs.
        """
        servers = [server for job in jobs for server in job.get("participatingServers") or ()]
        described = self.describe_source_servers([s["sourceServerID"] for s in servers])
        hostnames = {server["sourceServerID"]: source_server_hostname(server) for server in described}
        # an extended source server's machine replicates through a staging account: the report says which
        staging_accounts = {
            server["sourceServerID"]: str(account)
            for server in described
            if (account := (server.get("stagingArea") or {}).get("stagingAccountID"))
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
            jobs,
            optional_ids,
            hostnames=hostnames,
            ec2_instance_ids=ec2_ids,
            log_items=log_items,
            staging_accounts=staging_accounts,
        )

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
        quotas = lean_hook(AwsBaseHook)(
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

    def terminate_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> dict:
        """
        Terminate recovery instances, 200 per request.

        :return: ``{"jobs": [...]}``, the termination jobs DRS started.
        """
        jobs = []
        for chunk in chunked(list(dict.fromkeys(recovery_instance_ids)), RECOVERY_INSTANCES_PER_REQUEST):
            jobs.append(self.conn.terminate_recovery_instances(recoveryInstanceIDs=list(chunk))["job"])
        return {"jobs": jobs}

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
            time.sleep(self.poll_interval(waiter_delay))
        remaining = {i["recoveryInstanceID"] for i in self.describe_recovery_instances(plan.to_terminate)}
        return cleanup_entry(plan, jobs=job_ids, remaining=remaining, finished=finished)
