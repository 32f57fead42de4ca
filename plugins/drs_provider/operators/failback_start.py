"""``start_recovery`` of a failback run: start each server of the wave on its way home.

Per server, by the origin preflight found (:class:`~drs_provider.recovery.failback.FailbackServer`):

* **EC2 origin**: ReverseReplication on the live recovery instance creates a FAILBACK source
  server in the origin region; once every one of the wave's FAILBACK servers is CONTINUOUS, one
  StartRecovery in the origin region launches them (drills when the failback is rehearsed).
* **On premises**: once every recovery instance is FAILBACK_READY_FOR_LAUNCH (its Failback Client
  connected), StartFailbackLaunch in the recovery region.

Every wait is deferred (:class:`~drs_provider.triggers.failback.DrsFailbackReadyTrigger`), bounded
by the plan's ``failback_sync_timeout`` from the wave's first wait, and names what it waits for.
A retried or resumed task reverses and launches nothing twice: a reversed instance is found by
its FAILBACK server (``identificationHints.awsInstanceID``), a launch by the job's identity tags.
The task returns the job IDs and pushes the region they run in (XCom ``home_region``), where the
wave's ``wait_for_recovery`` waits for them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from drs_provider.constants import FAILBACK_SERVERS_XCOM_KEY, HOME_REGION_XCOM_KEY, OPTIONAL_SERVERS_XCOM_KEY
from drs_provider.exceptions import DrsAgentStartingError, DrsFailbackWaitError
from drs_provider.operators.recovery_jobs import JobStarter, WaitForCapacity
from drs_provider.triggers.failback import DEFAULT_POLL_INTERVAL, DrsFailbackReadyTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

    from drs_provider.hooks.drs import DrsHook
    from drs_provider.operators.plan_run import DrsPlanWaveStartOperator
    from drs_provider.recovery.failback import FailbackServer
    from drs_provider.recovery.run import ResolvedRun, ResolvedWave

#: Seconds between ReverseReplication attempts while a recovery instance's agent is still starting.
AGENT_RETRY_SECONDS = 30


class FailbackStart:
    """One try of a failback wave's ``start_recovery`` (:mod:`module docstring <.failback_start>`).

    :param task: the wave's start operator (its hook, identity tags, logger and deferral).
    :param run: the run preflight resolved.
    :param wave: this wave of it.
    :param waiting_since: epoch seconds of the wave's first failback wait (its deadline's start).
    """

    def __init__(
        self,
        task: DrsPlanWaveStartOperator,
        run: ResolvedRun,
        wave: ResolvedWave,
        waiting_since: float | None,
    ) -> None:
        self.task = task
        self.run = run
        self.wave = wave
        self.waiting_since = waiting_since
        self.recovery_region = task.hook.conn_region_name
        self.home_region = wave.home_region or self.recovery_region
        chosen = [*wave.source_server_ids, *wave.optional_source_server_ids]
        servers = [wave.failback[server_id] for server_id in chosen if server_id in wave.failback]
        self.aws = [server for server in servers if server.origin.is_aws]
        self.on_premises = [server for server in servers if not server.origin.is_aws]
        #: FAILBACK source server ID -> the plan's source server it brings home
        self._failback_of: dict[str, str] = {}

    @cached_property
    def home_hook(self) -> DrsHook:
        """The DRS of the region the wave goes home to (the task's own hook when that is its region)."""
        return self.task.hook.in_region(self.home_region)

    def start(self, context: Context) -> list[str]:
        """Start what is left of the wave's way home; defers while servers are not ready."""
        ti = context["ti"]
        ti.xcom_push(key=HOME_REGION_XCOM_KEY, value=self.home_region)
        identity = self.task._identity_tags(context)
        since = self.task._lookback_start(context)
        job_ids: list[str] = []
        launched: list[str] = []
        if self.aws:
            failback_ids = self._reversed(context)
            self._wait_until_ready(context, source_server_ids=failback_ids)
            job_ids += self._launch_in_origin(context, failback_ids, identity, since)
            launched += failback_ids
        if self.on_premises:
            job_ids += self._launch_on_premises(context, identity, since)
            launched += [server.source_server_id for server in self.on_premises]
        optional = set(self.wave.optional_source_server_ids)
        ti.xcom_push(key=FAILBACK_SERVERS_XCOM_KEY, value=self._failback_of)
        ti.xcom_push(key="source_server_ids", value=launched)
        ti.xcom_push(
            key=OPTIONAL_SERVERS_XCOM_KEY,
            value=[i for i in launched if self._plan_server(i) in optional],
        )
        job_ids = list(dict.fromkeys(job_ids))
        # EC2 origins launch at home (their jobs come first); on-premises ones from the recovery region.
        links_region = self.home_region if self.aws else self.recovery_region
        self.task._persist_links(context, job_ids, launched, region=links_region)
        return job_ids

    def _plan_server(self, launched_id: str) -> str:
        """The plan's source server a launched server stands for (a FAILBACK server's original)."""
        return self._failback_of.get(launched_id, launched_id)

    # --- EC2 origins ----------------------------------------------------------------------

    def _reversed(self, context: Context) -> list[str]:
        """The FAILBACK source server of each EC2-origin server, reversing those not reversed yet."""
        home = self.home_hook
        found = home.find_failback_servers([server.ec2_instance_id for server in self.aws])
        failback_ids = []
        for server in self.aws:
            earlier = found.get(server.ec2_instance_id)
            if earlier is not None:
                failback_id = str(earlier["sourceServerID"])
            else:
                failback_id = self._reverse(context, server)
            self._failback_of[failback_id] = server.source_server_id
            failback_ids.append(failback_id)
        return failback_ids

    def _reverse(self, context: Context, server: FailbackServer) -> str:
        try:
            arn = self.task.hook.reverse_replication(server.recovery_instance_id)
        except DrsAgentStartingError as starting:
            self.task.log.info("%s; asking again in %d s", starting, AGENT_RETRY_SECONDS)
            self._defer(context, None, wait_for=str(starting), delay=AGENT_RETRY_SECONDS)
        failback_id = arn.rsplit("/", 1)[-1]
        self.task.log.info(
            "reversed replication of %s (recovery instance %s): FAILBACK source server %s in %s",
            server.source_server_id,
            server.recovery_instance_id,
            failback_id,
            self.home_region,
        )
        return failback_id

    def _launch_in_origin(
        self, context: Context, failback_ids: list[str], identity: dict[str, str], since: Any
    ) -> list[str]:
        """One StartRecovery (a job per ``max_servers_per_job``) of the synced FAILBACK servers."""
        args = replace(
            self.task.read_arguments(),
            source_server_ids=failback_ids,
            tags={},
            optional_source_server_ids=[],
            optional_tags={},
            is_drill=self.run.failback_drill,
            point_in_time=None,
            snapshot_ids=None,
        )
        check = self.task.queue_check(recovery=not args.is_drill, region_name=self.home_region)
        starter = JobStarter(self.home_hook, self.task.task_id, self.task.log, check)
        try:
            return starter.start_jobs(
                since, failback_ids, identity, args.job_tags, args.is_drill, args.max_servers_per_job, args
            )
        except WaitForCapacity as short:
            if not self.task.wait_for_capacity and short.refusal is not None:
                raise short.refusal from None
            self.task._defer_for_capacity(
                context, short, recovery=not args.is_drill, owner=identity, region_name=self.home_region
            )
            raise AssertionError("not reached: defer() raises") from None

    # --- on-premises origins ----------------------------------------------------------------

    def _launch_on_premises(self, context: Context, identity: dict[str, str], since: Any) -> list[str]:
        """StartFailbackLaunch of the instances no job of this task covers yet, once all are ready."""
        hook = self.task.hook
        earlier = hook.find_jobs_by_tags(identity, since=since)
        covered = {s["sourceServerID"] for job in earlier for s in job.get("participatingServers", [])}
        todo = [server for server in self.on_premises if server.source_server_id not in covered]
        job_ids = [job["jobID"] for job in earlier]
        if not todo:
            return job_ids
        instance_ids = [server.recovery_instance_id for server in todo]
        self._wait_until_ready(context, recovery_instance_ids=instance_ids)
        tags = {**self.task.read_arguments().job_tags, **identity}
        jobs = hook.start_failback_launch(instance_ids, tags=tags)
        for job in jobs:
            self.task.log.info("Started failback launch job %s for %d instances", job["jobID"], len(todo))
        return job_ids + [job["jobID"] for job in jobs]

    # --- waiting --------------------------------------------------------------------------

    def _wait_until_ready(
        self,
        context: Context,
        *,
        source_server_ids: Sequence[str] = (),
        recovery_instance_ids: Sequence[str] = (),
    ) -> None:
        """Return when every server is ready to launch; else defer until they are (then start again)."""
        ids = [*source_server_ids, *recovery_instance_ids]
        region = self.home_region if source_server_ids else self.recovery_region
        hook = self.home_hook if source_server_ids else self.task.hook
        found = hook.failback_readiness(source_server_ids, recovery_instance_ids)
        labels = self._labels()
        unready = {
            server_id: waiting_for(server_id, found[server_id].description, labels)
            if server_id in found
            else f"{server_id}: not listed by DRS"
            for server_id in ids
            if server_id not in found or not found[server_id].ready
        }
        if not unready:
            return
        self.task.log.info(
            "waiting for %d server(s) to be ready for the failback launch in %s: %s",
            len(unready),
            region,
            "; ".join(unready.values()),
        )
        trigger_args: Mapping[str, Any] = {
            "source_server_ids": [i for i in source_server_ids if i in unready],
            "recovery_instance_ids": [i for i in recovery_instance_ids if i in unready],
            "region_name": region,
        }
        self._defer(context, trigger_args, wait_for="; ".join(unready.values()))

    def _deadline(self) -> tuple[float, float]:
        since = self.waiting_since or time.time()
        return since, since + float(self.run.failback_sync_timeout or 0)

    def _defer(
        self, context: Context, trigger_args: Mapping[str, Any] | None, *, wait_for: str, delay: int = 0
    ) -> None:
        """Defer this task; it starts again (:meth:`DrsPlanWaveStartOperator.failback_after_wait`)."""
        since, deadline = self._deadline()
        if time.time() >= deadline:
            raise DrsFailbackWaitError(self.task.task_id, self.run.failback_sync_timeout or 0, wait_for)
        if trigger_args is None:
            from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

            trigger: Any = TimeDeltaTrigger(timedelta(seconds=delay))
        else:
            task = self.task
            trigger = DrsFailbackReadyTrigger(
                **trigger_args,
                deadline=deadline,
                poll_interval=task.hook.poll_interval(DEFAULT_POLL_INTERVAL),
                aws_conn_id=task.aws_conn_id,
                verify=task.verify,
                botocore_config=task.botocore_config,
            )
        # The plan's servers by the IDs waited for, so a timeout names what the plan calls them.
        self.task.defer(
            trigger=trigger,
            method_name="failback_after_wait",
            kwargs={"waiting_since": since, "servers": self._labels()},
        )

    def _labels(self) -> dict[str, str]:
        """FAILBACK source server ID -> the plan's server it brings home, as a person reads it."""
        return {failback_id: self._label(plan_id) for failback_id, plan_id in self._failback_of.items()}

    def _label(self, server_id: str) -> str:
        hostname = self.wave.hostnames.get(server_id)
        return f"{server_id} ({hostname})" if hostname else server_id


def waiting_for(waited_id: str, description: str, labels: Mapping[str, str]) -> str:
    """``description`` of a server waited for, led by the plan's server when it is a FAILBACK one
    (``labels``: FAILBACK source server ID -> the plan's server)."""
    label = labels.get(waited_id)
    return f"{label}, FAILBACK source server {description}" if label else description
