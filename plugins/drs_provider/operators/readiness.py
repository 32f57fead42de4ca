"""Readiness of every plan (DAG ``drs_readiness``, task ``check``; ``drs-plan ready``): what a
recovery from each plan would meet right now, read without launching or changing anything.

DRS is read once per account and region for all plans that recover there
(:func:`read_account`: DescribeSourceServers by pages of 1,000, DescribeRecoveryInstances,
DescribeJobs of the instances' jobs, two quotas, one ListStagingAccounts and one
ListExtensibleSourceServers per staging account), then one DescribeRecoverySnapshots per server
of a plan with ``rpo_target`` and one GetLaunchConfiguration per server of a plan with
``launch``, the look-ups DRS gives no batch for, and the default versions of those servers' EC2
launch templates in one listing (pages of 200). Step targets and ``notify``
topics are looked up once each, as preflight does. A plan's findings and status follow
:mod:`drs_provider.readiness.checks`; the result is the contract's JSON::

    {"checked_at": "...", "plans": {"<plan>": {"status": "ready|at_risk|not_ready",
      "findings": [{"severity", "code", "wave", "server", "message"}]}},
     "coverage": [{"aws_conn_id", "region", "replicating", "uncovered": [...]}]}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.constants import (
    DEFAULT_MAX_REPLICATING_SERVERS,
    DEFAULT_MAX_SERVERS_PER_JOB,
)
from drs_provider.factory.render import wave_json
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.service_quotas import account_quota
from drs_provider.notifications.sns import PlanEvents
from drs_provider.operators.plan_folder import PlanFolderOperator
from drs_provider.operators.preflight_resources import ResourceChecker
from drs_provider.operators.report_store import aws_error
from drs_provider.readiness import READINESS_TASK_ID
from drs_provider.readiness.account import AccountState
from drs_provider.readiness.checks import (
    check_drills,
    check_instances,
    check_quotas,
    check_replication,
    check_snapshots,
)
from drs_provider.readiness.findings import (
    CONNECTION_FAILED,
    ERROR,
    NOTIFY_TOPIC_MISSING,
    PLAN_PAUSED,
    REPORT_BUCKET_MISSING,
    STEP_TARGET_MISSING,
    WARNING,
    Finding,
    status_of,
    status_of_json,
)
from drs_provider.readiness.launch_checks import check_launch, launch_servers
from drs_provider.readiness.selection import selected_servers
from drs_provider.readiness.staging import StagingServer
from drs_provider.recovery.launch import needs_template

if TYPE_CHECKING:
    from airflow.sdk import Context

    from drs_provider.plans.model import Plan, Wave

log = logging.getLogger(__name__)

#: The notify event a plan's status change sends.
READINESS_CHANGED = "readiness_changed"


def read_account(hook: DrsHook, where: str) -> AccountState:
    """Everything readiness needs from one account and region, in a handful of calls."""
    servers = {server["sourceServerID"]: server for server in hook.describe_source_servers()}
    instances = {
        item["sourceServerID"]: item for item in hook.all_recovery_instances() if item.get("sourceServerID")
    }
    job_ids = [str(item["jobID"]) for item in instances.values() if item.get("jobID")]
    jobs = {job["jobID"]: job for job in hook.describe_jobs(job_ids)} if job_ids else {}
    return AccountState(
        where=where,
        servers=servers,
        instances=instances,
        jobs=jobs,
        servers_per_job=account_quota("max_servers_per_job", None, DEFAULT_MAX_SERVERS_PER_JOB, hook),
        max_replicating_servers=account_quota(
            "max_replicating_servers", None, DEFAULT_MAX_REPLICATING_SERVERS, hook
        ),
        recoverable_states=DrsHook.RECOVERABLE_REPLICATION_STATES,
    )


class _Account:
    """The plans that recover in one account and region, and what DRS shows there."""

    def __init__(self, conn_id: str, region: str | None, plans: list[Plan]) -> None:
        self.conn_id, self.region, self.plans = conn_id, region, plans
        self.hook = DrsHook(aws_conn_id=conn_id, region_name=region)
        self.state: AccountState | None = None
        self.error: str | None = None
        self.launch_error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.conn_id}, {self.region or self.hook.conn_region_name}"

    def read(self) -> None:
        try:
            self.state = read_account(self.hook, self.where)
        except (ClientError, BotoCoreError, OSError, ValueError, RuntimeError) as error:
            self.error = aws_error(error)
            log.warning("readiness could not read DRS in %s: %s", self.where, self.error)

    def read_staging(self) -> None:
        """The staging accounts' servers not yet extended into this account: one ListStagingAccounts,
        then one ListExtensibleSourceServers listing per staging account.

        A role that may not list them, or any other refusal, costs no finding, only a warning in
        the log: most accounts have no staging account, and a permission missing for a listing
        that finds nothing in them should not put every plan at risk. The plans are then checked
        as if there were no staging account.
        """
        assert self.state is not None
        try:
            accounts = self.hook.staging_account_ids()
        except (ClientError, BotoCoreError) as error:
            log.warning(
                "readiness could not list the staging accounts of %s: %s", self.where, aws_error(error)
            )
            return
        servers: list[StagingServer] = []
        for account_id in accounts:
            try:
                items = self.hook.extensible_source_servers(account_id)
            except (ClientError, BotoCoreError) as error:
                log.warning(
                    "readiness could not list the servers of staging account %s in %s: %s",
                    account_id,
                    self.where,
                    aws_error(error),
                )
                continue
            servers += [StagingServer.from_item(account_id, item) for item in items if item.get("arn")]
        self.state.staging = tuple(servers)

    def read_launch(self, plans: Sequence[tuple[Plan, Sequence[str]]]) -> None:
        """What the servers of plans giving ``launch`` would launch with: one GetLaunchConfiguration
        per server, and (when a plan gives template settings) one listing of their templates."""
        assert self.state is not None
        server_ids = list(dict.fromkeys(server_id for _, servers in plans for server_id in servers))
        if not server_ids:
            return
        templates = any(
            needs_template(settings)
            for plan, _ in plans
            for wave in plan.waves
            for settings in (wave.launch, *wave.launch_per_server.values())
            if settings is not None
        )
        try:
            self.state.launch = self.hook.read_launch_states(server_ids, templates=templates)
        except (ClientError, BotoCoreError, OSError, ValueError, RuntimeError) as error:
            self.launch_error = aws_error(error)
            log.warning("readiness could not read launch settings in %s: %s", self.where, self.launch_error)

    def read_snapshots(self, server_ids: Sequence[str]) -> None:
        """The one look-up per server DRS has no batch for (``rpo_target`` plans only)."""
        assert self.state is not None
        replicating = set(self.state.replicating)  # a listing of every server: built once, not per server
        for server_id in server_ids:
            if server_id in self.state.snapshot_times or server_id not in replicating:
                continue
            try:
                self.state.snapshot_times[server_id] = self.hook.newest_snapshot_time(server_id)
            except (ClientError, BotoCoreError) as error:
                log.warning("no recovery snapshots read for %s: %s", server_id, aws_error(error))


def _step_findings(plan: Plan, resources: ResourceChecker) -> list[Finding]:
    """Every step's Lambda function and SSM document exists (as preflight checks them), and the
    ``notify`` topic and the report bucket (which is looked up, not probed: that probe writes)."""
    findings = []
    for wave in plan.waves:
        problems: list[str] = []
        warnings: list[str] = []
        resources.check([wave_json(wave)], [wave.name], problems, warnings)
        findings += [Finding(ERROR, STEP_TARGET_MISSING, text, wave.name) for text in problems]
        findings += [Finding(WARNING, STEP_TARGET_MISSING, text, wave.name) for text in warnings]
    if plan.notify is not None:
        problems = []
        resources.check_topic(plan.notify.sns_topic_arn, problems)
        findings += [Finding(ERROR, NOTIFY_TOPIC_MISSING, text) for text in problems]
    if plan.report_s3_uri is not None:
        problems = []
        resources.check_bucket(plan.report_s3_uri, problems)
        findings += [Finding(ERROR, REPORT_BUCKET_MISSING, text) for text in problems]
    return findings


def check_plans(
    plans: Sequence[Plan], *, now: datetime | None = None, default_conn_id: str = "aws_default"
) -> dict[str, Any]:
    """Every plan's readiness, as the contract's JSON (see the module docstring)."""
    now = now or datetime.now(UTC)
    accounts: dict[tuple[str, str | None], _Account] = {}
    for plan in plans:
        for key, part in plan_parts(plan, default_conn_id):
            accounts.setdefault(key, _Account(key[0], key[1], []))
            accounts[key].plans.append(part)
    result: dict[str, Any] = {"checked_at": now.isoformat(), "plans": {}, "coverage": []}
    found: dict[str, list[Finding]] = {}
    for account in accounts.values():
        account.read()
        if account.state is not None:
            account.read_staging()
        resources = ResourceChecker({"aws_conn_id": account.conn_id, "region_name": account.region})
        state = account.state
        if state is None:
            for plan in account.plans:
                finding = Finding(
                    ERROR, CONNECTION_FAILED, f"DRS in {account.where} cannot be read: {account.error}"
                )
                found.setdefault(plan.name, []).append(finding)
            continue
        selections = {}
        for plan in account.plans:
            findings: list[Finding] = []
            selections[plan.name] = (selected_servers(plan, state, findings), findings)
        account.read_snapshots(
            [
                server_id
                for plan in account.plans
                if plan.rpo_target is not None
                for _, server_id, _ in selections[plan.name][0].each()
            ]
        )
        account.read_launch(
            [
                (plan, launch_servers(plan, selections[plan.name][0]))
                for plan in account.plans
                if plan.declares_launch
            ]
        )
        covered = {server_id for selected, _ in selections.values() for _, server_id, _ in selected.each()}
        for plan in account.plans:
            selected, findings = selections[plan.name]
            check_replication(plan, state, selected, findings)
            check_snapshots(plan, state, selected, now, findings)
            check_instances(plan, state, selected, now, findings)
            check_drills(plan, state, selected, now, findings)
            if plan.declares_launch and account.launch_error is not None:
                findings.append(
                    Finding(
                        ERROR,
                        CONNECTION_FAILED,
                        f"launch settings in {account.where} cannot be read: {account.launch_error}",
                    )
                )
            check_launch(plan, state, selected, findings)
            check_quotas(plan, state, len(covered), findings)
            findings += _step_findings(plan, resources)
            found.setdefault(plan.name, []).extend(findings)
        replicating = state.replicating
        result["coverage"].append(
            {
                "aws_conn_id": account.conn_id,
                "region": account.region or account.hook.conn_region_name,
                "replicating": len(replicating),
                "uncovered": [
                    {"server": server_id, "name": state.name(server_id)}
                    for server_id in replicating
                    if server_id not in covered
                ],
            }
        )
    # a plan whose waves are in several accounts or regions was checked in each: one entry
    result["plans"] = {plan.name: _entry(found.get(plan.name, [])) for plan in plans}
    return result


def plan_parts(plan: Plan, default_conn_id: str) -> list[tuple[tuple[str, str | None], Plan]]:
    """The plan split by where its waves recover: each account and region with the plan as it
    recovers there (its waves there only; the plan itself when they all recover in one place)."""
    places: dict[tuple[str, str | None], list[Wave]] = {}
    for wave in plan.waves:
        key = (wave.aws_conn_id or plan.aws_conn_id or default_conn_id, wave.region or plan.region)
        places.setdefault(key, []).append(wave)
    if len(places) == 1:
        return [(next(iter(places)), plan)]
    return [
        (key, replace(plan, aws_conn_id=key[0], region=key[1], waves=tuple(waves)))
        for key, waves in places.items()
    ]


def _entry(findings: Sequence[Finding]) -> dict[str, Any]:
    return {"status": status_of(findings), "findings": [finding.to_json() for finding in findings]}


def status_changes(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> dict[str, tuple[str | None, str]]:
    """Plan -> (previous status, status), for plans whose status changed since the last check
    (a plan's first check is a change from nothing only when it is not ready)."""
    before = {
        name: entry.get("status")
        for name, entry in ((previous or {}).get("plans") or {}).items()
        if isinstance(entry, Mapping)
    }
    changes: dict[str, tuple[str | None, str]] = {}
    for name, entry in (current.get("plans") or {}).items():
        status, earlier = entry["status"], before.get(name)
        if earlier != status and (earlier is not None or status != "ready"):
            changes[name] = (earlier, status)
    return changes


class DrsReadinessOperator(PlanFolderOperator):
    """Check every plan of a folder (:func:`check_plans`) and return the findings.

    The task succeeds whatever it finds: a plan that is not ready is an answer, not a failure
    of the check. A plan whose status changed since the previous check sends ``readiness_changed``
    through its ``notify``.
    """

    ui_color = "#e8f4ea"

    def execute(self, context: Context) -> dict[str, Any]:
        plans = self.run_plans(context, "not checked")
        result = check_plans(plans)
        self._check_paused(plans, result, context)
        for name, entry in sorted(result["plans"].items()):
            self.log.info("%s: %s", name, entry["status"].replace("_", " "))
            for finding in entry["findings"]:
                self.log.info("  %s %s: %s", finding["severity"], finding["code"], finding["message"])
        previous = context["ti"].xcom_pull(task_ids=READINESS_TASK_ID, include_prior_dates=True)
        self._announce(plans, previous if isinstance(previous, Mapping) else None, result, context)
        return result

    def _check_paused(self, plans: Sequence[Plan], result: dict[str, Any], context: Context) -> None:
        """A plan with a ``schedule`` whose DAG is paused runs no drill: a warning (Airflow knows,
        not DRS, so this is read here, through the Task SDK, not in :func:`check_plans`)."""
        ti = context["ti"]
        for plan in plans:
            if not plan.schedule:
                continue
            try:
                paused = bool(ti.get_dag(plan.dag_id).is_paused)
            except Exception as error:  # a DAG Airflow does not know (yet): nothing to say
                self.log.info("paused state of %s not read: %s", plan.dag_id, error)
                continue
            if paused:
                finding = Finding(
                    WARNING,
                    PLAN_PAUSED,
                    f"DAG {plan.dag_id} is paused: its scheduled drills ({plan.schedule}) do not run",
                )
                entry = result["plans"][plan.name]
                findings = [*entry["findings"], finding.to_json()]
                result["plans"][plan.name] = {"status": status_of_json(findings), "findings": findings}

    def _announce(
        self,
        plans: Sequence[Plan],
        previous: Mapping[str, Any] | None,
        result: Mapping[str, Any],
        context: Context,
    ) -> None:
        by_name = {plan.name: plan for plan in plans}
        run_id = str(context["ti"].run_id)
        for name, (earlier, status) in status_changes(previous, result).items():
            plan = by_name.get(name)
            if plan is None or plan.notify is None:
                continue
            events = PlanEvents(
                plan=name,
                topic_arn=plan.notify.sns_topic_arn,
                events=plan.notify.events,
                aws_conn_id=plan.aws_conn_id or "aws_default",
                region_name=plan.region,
            )
            findings = result["plans"][name]["findings"]
            events.send(
                READINESS_CHANGED,
                run_id,
                "readiness",  # the body's mode: neither a drill nor a recovery
                (
                    f"{earlier.replace('_', ' ')} -> {status.replace('_', ' ')}"
                    if earlier
                    else f"{status.replace('_', ' ')} (first check)"
                ),
                status=status,
                previous_status=earlier,
                findings=findings,
            )
