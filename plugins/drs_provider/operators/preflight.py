"""Preflight of a recovery plan run: every check before anything is launched.

``preflight`` is the first task of every plan DAG. It checks the run's parameters, then where
its events and report go (the ``notify`` topic, a write under the report prefix), and only then
the state of every source server the run would launch; it reports every problem of a stage at
once in one :class:`~drs_provider.exceptions.DrsPreflightError`, and only ever makes read-only
DRS calls (DescribeSourceServers, DescribeJobs, DescribeRecoveryInstances,
DescribeRecoverySnapshots). On success it returns (XCom
``return_value``) the resolved run: drill or not, and for each wave whether it runs and the
exact source server IDs to launch. Each wave's ``start_recovery``
(:class:`DrsPlanWaveStartOperator`) launches exactly those servers, so what is launched is what
was checked, even when tag selectors would match other servers later.

Quota defaults (DRS account quotas vary; override in Airflow config ``[drs]`` or per operator):
``max_servers_in_active_jobs`` = 500 servers across all active jobs, counting jobs already
running; ``max_concurrent_jobs`` = 20 active jobs; jobs hold at most ``max_servers_per_job``
servers (the plan's value, else 100). Waves that may run at the same time (no dependency path
between them) are counted together. Quotas never fail a run: preflight warns when waves will
wait, and each wave waits for the account's capacity at launch (:mod:`drs_provider.triggers.capacity`).
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from drs_provider.constants import (
    DEFAULT_MAX_SERVERS_PER_JOB,
    FAILBACK_DRILL_PARAM,
    MODE_DRILL,
    MODE_FAILBACK,
    MODE_RECOVERY,
    RECOVERY_RUN_TYPES,
    RELAUNCH_RECOVERED_PARAM,
    RUN_PARAMS,
    TAG_DAG_ID,
    TAG_RUN_ID,
)
from drs_provider.exceptions import DrsPreflightError
from drs_provider.hooks.drs import DrsHook
from drs_provider.operators.plan_lease import claim_for_drill, take_for_recovery
from drs_provider.operators.plan_run import run_type_of
from drs_provider.operators.plan_task import PlanTaskMixin
from drs_provider.operators.preflight_failback import FailbackChecks
from drs_provider.operators.preflight_fleet import FleetChecks
from drs_provider.operators.preflight_resources import ResourceChecker
from drs_provider.operators.trigger_identity import triggering_user, user_roles
from drs_provider.plans.model import FAILBACK_SYNC_TIMEOUT_DEFAULT
from drs_provider.recovery.access import allowed_roles, allowed_users, recovery_refusal
from drs_provider.recovery.job_tags import tag_value
from drs_provider.recovery.run import ResolvedRun, ResolvedWave
from drs_provider.recovery.times import parse_time
from drs_provider.triggers.plan_lease import DrsPlanLeaseTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context


def _run_id(context: Context) -> str | None:
    ti = context.get("ti")
    return str(ti.run_id) if ti is not None else None


class DrsPlanPreflightOperator(PlanTaskMixin, AwsBaseOperator[DrsHook]):
    """
    Check a recovery plan run before anything is launched; fail with every problem at once.

    Checks: no unknown run parameter (a typo such as ``mdoe`` names the parameter it resembles),
    ``mode``/``confirm`` (a recovery needs ``confirm`` equal to the plan name and a run
    triggered by hand, by a user the plan's ``recovery_allowed`` lists when it has one; these
    fail before any DRS call), ``waves`` names, ``point_in_time``
    (readable, not in the future, a snapshot at or before it for each server), every selector
    (unknown IDs, tag selectors matching nothing, a server picked by two waves), replication
    state, servers busy in active DRS jobs, servers that were really recovered (a live recovery
    instance that is not a drill: a drill never launches over one, a recovery only with
    ``relaunch_recovered``; :mod:`drs_provider.recovery.recovered`), the quotas described in the
    module docstring (a warning only: waves wait for capacity), and the runbook steps' Lambda
    functions and SSM documents (:mod:`.preflight_resources`). Before
    any DRS call, with the parameters: the ``notify`` topic exists and the report can be written
    to its bucket (a probe object, written and removed).
    Optional servers never fail the preflight: unusable ones are left out and logged.

    :param plan_name: the plan's name (what ``confirm`` must equal).
    :param waves: the plan's waves in JSON form: ``name``, ``servers`` (``ids``, ``tags``),
        ``optional_servers`` (same shape, or null), resolved ``depends_on`` and ``steps`` (each
        with ``phase``, ``name``, ``kind``, ``optional`` and the step's own keys).
    :param max_servers_per_job: servers per StartRecovery job (default 100).
    :param max_servers_in_active_jobs: default from ``[drs] max_servers_in_active_jobs``, else 500.
    :param max_concurrent_jobs: default from ``[drs] max_concurrent_jobs``, else 20.
    :param sns_topic_arn: the plan's ``notify`` topic, checked to exist.
    :param report_s3_uri: the plan's ``report`` location, checked to take a write.
    :param recovery_allowed: the plan's ``recovery_allowed`` (users, ``role:<name>`` roles): who
        may start a run that is not a drill (None: everyone who may trigger the DAG).
    :param failback_cleanup: the plan's ``failback_cleanup`` (``keep`` or ``terminate``).
    :param failback_sync_timeout: the plan's ``failback_sync_timeout`` (seconds).

    A failback (``mode=failback``) is confirmed like a recovery. It does not check replication,
    nor refuse recovered servers: it needs them. Instead every server must have a live recovery
    instance that is not a drill, with a way home (:mod:`.preflight_failback`).
    """

    aws_hook_class = DrsHook
    ui_color = "#e8f4ff"
    preemptible = False  # it reads the plan lease itself

    def __init__(
        self,
        *,
        plan_name: str,
        waves: Sequence[Mapping[str, Any]],
        max_servers_per_job: int | None = None,
        max_servers_in_active_jobs: int | None = None,
        max_concurrent_jobs: int | None = None,
        sns_topic_arn: str | None = None,
        report_s3_uri: str | None = None,
        rto_target: int | None = None,
        recovery_allowed: Sequence[str] | None = None,
        failback_cleanup: str | None = None,
        failback_sync_timeout: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.failback_cleanup = failback_cleanup
        self.failback_sync_timeout = failback_sync_timeout
        self.recovery_allowed = list(recovery_allowed) if recovery_allowed is not None else None
        self.rto_target = rto_target
        self.sns_topic_arn = sns_topic_arn
        self.report_s3_uri = report_s3_uri
        self.plan_name = plan_name
        self.waves = [dict(wave) for wave in waves]
        self.max_servers_per_job = max_servers_per_job or DEFAULT_MAX_SERVERS_PER_JOB
        self.max_servers_in_active_jobs = max_servers_in_active_jobs
        self.max_concurrent_jobs = max_concurrent_jobs

    # --- parameters (no DRS calls) ------------------------------------------------------

    def check_conf(self, conf: Mapping[str, Any]) -> list[str]:
        """Run parameters nobody knows: a typo (``mdoe``) must not pass as a plain drill."""
        problems = []
        for key in sorted(set(conf) - set(RUN_PARAMS)):
            close = difflib.get_close_matches(str(key), RUN_PARAMS, n=1, cutoff=0.6)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(RUN_PARAMS)
            problems.append(f"{key}: unknown run parameter{guess}; run parameters: {known}")
        return problems

    def check_safety(self, params: Mapping[str, Any], run_type: str, user: str | None = None) -> list[str]:
        """Problems that must stop the run before it talks to DRS at all; ``user`` triggered it."""
        mode = params.get("mode") or MODE_DRILL
        if mode not in (MODE_DRILL, MODE_RECOVERY, MODE_FAILBACK):
            return [f"mode: {mode!r} is not 'drill', 'recovery' or 'failback'"]
        problems = []
        if params.get(FAILBACK_DRILL_PARAM) is True and mode != MODE_FAILBACK:
            problems.append(f"{FAILBACK_DRILL_PARAM}: applies to mode=failback only, this run is a {mode}")
        if mode == MODE_DRILL:
            return problems
        refusal = self.check_allowed(mode, user)
        if refusal:
            problems.append(refusal)
        if run_type not in RECOVERY_RUN_TYPES:
            problems.append(
                f"mode: a {run_type or 'non-manual'} run is always a drill; a {mode} must be "
                f"triggered by hand (UI, REST API or CLI) with mode={mode}"
            )
        confirm = params.get("confirm") or ""
        if confirm != self.plan_name:
            problems.append(
                f"confirm: mode={mode} needs confirm={self.plan_name!r} (the plan name), got {confirm!r}"
            )
        if mode == MODE_FAILBACK and params.get("point_in_time"):
            problems.append(
                "point_in_time: a failback launches the latest data its reversed replication copied; "
                "leave point_in_time empty"
            )
        return problems

    def check_allowed(self, mode: str, user: str | None) -> str | None:
        """Why ``user`` may not start this ``mode`` run under the plan's ``recovery_allowed`` (None: may)."""
        if self.recovery_allowed is None:
            return None
        roles: frozenset[str] | None = frozenset()
        unknown = ""
        # The auth manager is asked only when a role could still let the user in.
        if (
            user is not None
            and user not in allowed_users(self.recovery_allowed)
            and allowed_roles(self.recovery_allowed)
        ):
            roles, unknown = user_roles(user)
        return recovery_refusal(
            plan=self.plan_name,
            mode=mode,
            allowed=self.recovery_allowed,
            user=user,
            roles=roles,
            roles_unknown_reason=unknown,
        )

    def chosen_waves(self, params: Mapping[str, Any], problems: list[str]) -> list[str]:
        """The waves this run launches (every wave unless ``waves`` names some)."""
        names = [wave["name"] for wave in self.waves]
        wanted = params.get("waves") or []
        if isinstance(wanted, str):
            wanted = [wanted]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            problems.append(
                f"waves: unknown wave(s) {', '.join(map(repr, unknown))}; "
                f"plan {self.plan_name!r} has {', '.join(names)}"
            )
        if not wanted:
            return names
        return [name for name in names if name in wanted]

    def point_in_time(self, params: Mapping[str, Any], problems: list[str]) -> datetime | None:
        text = params.get("point_in_time")
        if not text:
            return None
        try:
            moment = parse_time(str(text))
        except ValueError:
            problems.append(f"point_in_time: {text!r} is not an ISO-8601 date and time")
            return None
        now = datetime.now(UTC)
        if moment > now:
            problems.append(
                f"point_in_time: {moment.isoformat()} is in the future "
                f"(now {now.isoformat(timespec='seconds')})"
            )
            return None
        return moment

    def _waves_by_place(self) -> list[tuple[DrsHook, list[str]]]:
        """The waves grouped by where their DRS is (a wave's own connection and region, else the
        plan's), each group with a hook there."""
        groups: dict[tuple[str | None, str | None], list[str]] = {}
        for wave in self.waves:
            groups.setdefault((wave.get("aws_conn_id"), wave.get("region")), []).append(wave["name"])
        return [(self.hook.at(conn_id, region), names) for (conn_id, region), names in groups.items()]

    @staticmethod
    def _resolved_wave(
        wave: Mapping[str, Any],
        launch: Mapping[str, Mapping[str, Any]],
        snapshots: Mapping[str, str],
        fleet: FleetChecks,
        failback: FailbackChecks | None,
    ) -> ResolvedWave:
        name = wave["name"]
        chosen = launch.get(name, {})
        required = tuple(chosen.get("source_server_ids", ()))
        optional = tuple(chosen.get("optional_source_server_ids", ()))
        hostnames = fleet.hostnames((*required, *optional))
        way_home, home_region = failback.wave_failback(name) if failback else (MappingProxyType({}), None)
        own_place = bool(wave.get("aws_conn_id") or wave.get("region"))
        return ResolvedWave(
            name in launch,
            required,
            optional,
            MappingProxyType(hostnames),
            MappingProxyType({i: snapshots[i] for i in (*required, *optional) if i in snapshots}),
            failback=way_home,
            home_region=home_region,
            aws_conn_id=wave.get("aws_conn_id") or None,
            region=fleet.hook.conn_region_name if own_place else None,
        )

    def check_lifecycle(self, resources: ResourceChecker, context: Context, problems: list[str]) -> None:
        """Where the run's events and its report go: the ``notify`` topic exists, and the report
        can be written (a probe object under the report prefix, written and removed)."""
        if self.sns_topic_arn:
            resources.check_topic(self.sns_topic_arn, problems)
        if self.report_s3_uri:
            ti = context.get("ti")
            run_id = str(getattr(ti, "run_id", None) or "preflight")
            resources.check_report(self.report_s3_uri, self.dag_id, run_id, problems)

    # --- DRS state ----------------------------------------------------------------------

    def run_task(self, context: Context) -> dict[str, Any]:
        params = context.get("params") or {}
        run_type = run_type_of(context)
        conf = getattr(context.get("dag_run"), "conf", None) or {}
        user = triggering_user(context)
        self.log.info("run triggered by %s (%s run)", user or "no user", run_type or "unknown")
        problems = self.check_conf(conf) + self.check_safety(params, run_type, user)
        if problems:
            raise DrsPreflightError(self.plan_name, problems)
        mode = str(params["mode"]) if params.get("mode") in (MODE_RECOVERY, MODE_FAILBACK) else MODE_DRILL
        if mode == MODE_DRILL:
            self._claim_for_drill(context)
        # the task's own connection arguments (the amazon provider's), for the other services' hooks
        resources = ResourceChecker(dict(self._hook_parameters))
        self.check_lifecycle(resources, context, problems)
        if problems:  # a run that could not tell anyone, or keep its evidence, never calls DRS
            raise DrsPreflightError(self.plan_name, problems)
        chosen = self.chosen_waves(params, problems)
        moment = self.point_in_time(params, problems)
        warnings: list[str] = []
        own_run = self._run_identity(context)
        rehearsal = params.get(FAILBACK_DRILL_PARAM) is True
        relaunch = bool(params.get(RELAUNCH_RECOVERED_PARAM))
        launch: dict[str, dict[str, Any]] = {}
        snapshots: dict[str, str] = {}
        fleets: dict[str, tuple[FleetChecks, FailbackChecks | None]] = {}
        # Each account and region is its own DRS: its waves are resolved and checked there.
        for hook, names in self._waves_by_place():
            fleet = FleetChecks(
                hook,
                self.waves,
                max_servers_per_job=self.max_servers_per_job,
                max_concurrent_jobs=self.max_concurrent_jobs,
                max_servers_in_active_jobs=self.max_servers_in_active_jobs,
            )
            here = fleet.resolve([name for name in chosen if name in names], problems, warnings)
            failback = FailbackChecks(hook, fleet) if mode == MODE_FAILBACK else None
            fleet.check_servers(
                here, problems, warnings, own_run=own_run, require_replicating=failback is None
            )
            if failback is not None:
                failback.check(here, problems, warnings, rehearsal=rehearsal)
            else:
                fleet.check_recovered(here, mode, relaunch, problems, warnings, own_run)
            if moment is not None:
                snapshots.update(fleet.check_snapshots(here, moment, problems, warnings))
            fleet.check_quotas(here, warnings)
            launch.update(here)
            fleets.update((name, (fleet, failback)) for name in names)
        resources.check(self.waves, chosen, problems, warnings)
        for warning in warnings:
            self.log.warning("%s", warning)
        if problems:
            raise DrsPreflightError(self.plan_name, problems)
        for name, wave in launch.items():
            self.log.info(
                "wave %s: %d server(s) %s; optional %s",
                name,
                len(wave["source_server_ids"]),
                ", ".join(wave["source_server_ids"]),
                ", ".join(wave["optional_source_server_ids"]) or "-",
            )
        run_id = _run_id(context)
        if mode != MODE_DRILL and run_id:
            lease = take_for_recovery(self.plan_name, run_id, mode)
            for drill in lease.preempted if lease else ():
                self.log.warning("drill %s of this plan is preempted: it launches nothing more", drill)
        self.log.info(
            "preflight passed: %s of plan %s, waves %s", mode.upper(), self.plan_name, ", ".join(chosen)
        )
        resolved = ResolvedRun(
            plan=self.plan_name,
            mode=mode,
            point_in_time=moment.isoformat() if moment else None,
            rto_target=self.rto_target,
            waves=MappingProxyType(
                {w["name"]: self._resolved_wave(w, launch, snapshots, *fleets[w["name"]]) for w in self.waves}
            ),
            warnings=tuple(warnings),
            aws_conn_id=self.aws_conn_id,
            region=self.hook.conn_region_name,
            simulator_speed=self.hook.simulator_speed,
            failback_drill=mode == MODE_FAILBACK and rehearsal,
            failback_cleanup=self.failback_cleanup if mode == MODE_FAILBACK else None,
            failback_sync_timeout=(
                (self.failback_sync_timeout or FAILBACK_SYNC_TIMEOUT_DEFAULT)
                if mode == MODE_FAILBACK
                else None
            ),
        )
        return resolved.to_json()

    # --- the plan lease (drs_provider.recovery.lease) ----------------------------------------

    def _claim_for_drill(self, context: Context) -> None:
        """Take the plan for this drill; wait (deferred) while another drill holds it."""
        run_id = _run_id(context)
        going = claim_for_drill(self.plan_name, run_id) if run_id else None
        if going is not None and run_id:
            self.log.info("drill %s of this plan is going: this drill waits for it to end", going.run_id)
            self.defer(
                trigger=DrsPlanLeaseTrigger(plan_name=self.plan_name, run_id=run_id),
                method_name="after_lease_wait",
            )

    def after_lease_wait(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Back from waiting for the plan: the whole preflight again, as the fleet may have changed."""
        return self.run_task(context)

    @staticmethod
    def _run_identity(context: Context) -> dict[str, str]:
        ti = context.get("ti")
        if ti is None:
            return {}
        return {TAG_DAG_ID: tag_value(ti.dag_id), TAG_RUN_ID: tag_value(ti.run_id)}
