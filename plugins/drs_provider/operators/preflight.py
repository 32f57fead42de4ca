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
import math
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from drs_provider.constants import (
    DEFAULT_MAX_SERVERS_PER_JOB,
    MODE_DRILL,
    MODE_RECOVERY,
    RECOVERY_RUN_TYPES,
    RELAUNCH_RECOVERED_PARAM,
    RUN_PARAMS,
    TAG_DAG_ID,
    TAG_RUN_ID,
)
from drs_provider.exceptions import DrsPreflightError
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.service_quotas import account_quotas
from drs_provider.operators.plan_lease import claim_for_drill, take_for_recovery
from drs_provider.operators.plan_run import run_type_of
from drs_provider.operators.plan_task import PlanTaskMixin
from drs_provider.operators.preflight_resources import ResourceChecker
from drs_provider.operators.trigger_identity import triggering_user, user_roles
from drs_provider.recovery.access import allowed_roles, allowed_users, recovery_refusal
from drs_provider.recovery.job_tags import tag_value
from drs_provider.recovery.recovered import recovered_servers, refusal
from drs_provider.recovery.run import ResolvedRun, ResolvedWave
from drs_provider.recovery.selection import carries_tags, select_servers, source_server_hostname, tags_text
from drs_provider.recovery.times import parse_time
from drs_provider.triggers.plan_lease import DrsPlanLeaseTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context


def _run_id(context: Context) -> str | None:
    ti = context.get("ti")
    return str(ti.run_id) if ti is not None else None


def peak_concurrent(weights: Mapping[str, int], ancestors: Mapping[str, set[str]]) -> int:
    """
    The largest total weight of waves that can be active together.

    Two waves can overlap unless one is an ancestor of the other, so this is the heaviest
    set of pairwise unrelated waves (a maximum-weight antichain). Plans are small; a
    branch-and-bound search is exact and fast for them. Beyond 40 waves it returns the sum
    of all weights, a safe upper bound.
    """
    names = sorted(weights, key=lambda name: -weights[name])
    if len(names) > 40:
        return sum(weights.values())
    related = {
        name: {other for other in names if other in ancestors[name] or name in ancestors[other]}
        for name in names
    }
    remaining = [sum(weights[name] for name in names[index:]) for index in range(len(names) + 1)]
    best = 0

    def search(index: int, blocked: frozenset[str], total: int) -> None:
        nonlocal best
        best = max(best, total)
        if index == len(names) or total + remaining[index] <= best:
            return
        name = names[index]
        if name not in blocked:
            search(index + 1, blocked | related[name], total + weights[name])
        search(index + 1, blocked, total)

    search(0, frozenset(), 0)
    return best


def _ancestors(waves: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    parents = {wave["name"]: set(wave.get("depends_on") or ()) for wave in waves}
    found: dict[str, set[str]] = {}

    def visit(name: str) -> set[str]:
        if name not in found:
            found[name] = set()  # cycles are rejected by the plan loader; this only guards recursion
            result: set[str] = set()
            for parent in parents.get(name, ()):
                result |= {parent} | visit(parent)
            found[name] = result
        return found[name]

    for name in parents:
        visit(name)
    return found


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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
        if mode not in (MODE_DRILL, MODE_RECOVERY):
            return [f"mode: {mode!r} is not 'drill' or 'recovery'"]
        if mode == MODE_DRILL:
            return []
        problems = []
        refusal = self.check_allowed(mode, user)
        if refusal:
            problems.append(refusal)
        if run_type not in RECOVERY_RUN_TYPES:
            problems.append(
                f"mode: a {run_type or 'non-manual'} run is always a drill; a recovery must be "
                "triggered by hand (UI, REST API or CLI) with mode=recovery"
            )
        confirm = params.get("confirm") or ""
        if confirm != self.plan_name:
            problems.append(
                f"confirm: mode=recovery needs confirm={self.plan_name!r} (the plan name), got {confirm!r}"
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

    def _resolved_wave(
        self, name: str, launch: Mapping[str, Mapping[str, Any]], snapshots: Mapping[str, str]
    ) -> ResolvedWave:
        chosen = launch.get(name, {})
        required = tuple(chosen.get("source_server_ids", ()))
        optional = tuple(chosen.get("optional_source_server_ids", ()))
        hostnames = {
            server_id: hostname
            for server_id in (*required, *optional)
            if (hostname := source_server_hostname(self.servers.get(server_id, {})))
        }
        return ResolvedWave(
            name in launch,
            required,
            optional,
            MappingProxyType(hostnames),
            MappingProxyType({i: snapshots[i] for i in (*required, *optional) if i in snapshots}),
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
        mode = MODE_RECOVERY if params.get("mode") == MODE_RECOVERY else MODE_DRILL
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
        launch = self._resolve(chosen, problems, warnings)
        self._check_servers(launch, problems, warnings, own_run=own_run)
        relaunch = bool(params.get(RELAUNCH_RECOVERED_PARAM))
        self._check_recovered(launch, mode, relaunch, problems, warnings, own_run)
        snapshots = self._check_snapshots(launch, moment, problems, warnings) if moment is not None else {}
        self._check_quotas(launch, warnings)
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
                {wave["name"]: self._resolved_wave(wave["name"], launch, snapshots) for wave in self.waves}
            ),
            warnings=tuple(warnings),
            aws_conn_id=self.aws_conn_id,
            region=self.hook.conn_region_name,
            simulator_speed=self.hook.simulator_speed,
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

    def _resolve(
        self, chosen: Sequence[str], problems: list[str], warnings: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Resolve every chosen wave's selectors with at most two DescribeSourceServers sweeps."""
        waves = [wave for wave in self.waves if wave["name"] in chosen]
        selectors = [
            (wave["name"], optional, selector)
            for wave in waves
            for optional, selector in ((False, wave.get("servers")), (True, wave.get("optional_servers")))
            if selector
        ]
        named_ids = list(dict.fromkeys(i for _, _, selector in selectors for i in selector.get("ids") or ()))
        by_id = {server["sourceServerID"]: server for server in self.hook.describe_source_servers(named_ids)}
        everyone: list[dict] = []
        if any(selector.get("tags") for _, _, selector in selectors):
            everyone = self.hook.describe_source_servers()
            by_id.update((server["sourceServerID"], server) for server in everyone)
        self.servers = by_id
        launch: dict[str, dict[str, Any]] = {
            wave["name"]: {"source_server_ids": [], "optional_source_server_ids": []} for wave in waves
        }
        for wave_name, optional, selector in selectors:
            field = "optional_servers" if optional else "servers"
            picked = select_servers(
                by_id, ids=selector.get("ids") or (), tags=selector.get("tags") or {}, candidates=everyone
            )
            found_nothing = []
            if picked.unknown_ids:
                found_nothing.append(f"{field}.ids: unknown source server(s) {', '.join(picked.unknown_ids)}")
            if picked.unmatched_tags:
                tags = tags_text(picked.unmatched_tags)
                found_nothing.append(f"{field}.tags {tags} match no source server")
            for what in found_nothing:
                if optional:
                    warnings.append(f"wave {wave_name!r}: {what} (left out)")
                else:
                    problems.append(f"wave {wave_name!r}: {what}")
            key = "optional_source_server_ids" if optional else "source_server_ids"
            launch[wave_name][key] = list(dict.fromkeys(launch[wave_name][key] + list(picked.server_ids)))
        for wave in launch.values():  # a server both required and optional is required
            required = set(wave["source_server_ids"])
            wave["optional_source_server_ids"] = [
                i for i in wave["optional_source_server_ids"] if i not in required
            ]
        owners: dict[str, list[str]] = {}
        for wave_name, wave in launch.items():
            for server_id in wave["source_server_ids"] + wave["optional_source_server_ids"]:
                owners.setdefault(server_id, []).append(wave_name)
        for server_id, wave_names in owners.items():
            if len(wave_names) > 1:
                problems.append(
                    f"{self._name(server_id)} is selected by more than one wave: "
                    f"{', '.join(map(repr, wave_names))}; a server can be recovered only once per run"
                )
        return launch

    def _name(self, server_id: str) -> str:
        hostname = source_server_hostname(self.servers.get(server_id, {}))
        return f"{server_id} ({hostname})" if hostname else server_id

    def _drop(self, launch: dict[str, dict[str, Any]], wave_name: str, server_id: str) -> None:
        wave = launch[wave_name]
        wave["optional_source_server_ids"] = [i for i in wave["optional_source_server_ids"] if i != server_id]

    def _each_server(self, launch: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, bool]]:
        return [
            (wave_name, server_id, optional)
            for wave_name, wave in launch.items()
            for optional, key in ((False, "source_server_ids"), (True, "optional_source_server_ids"))
            for server_id in wave[key]
        ]

    @staticmethod
    def _run_identity(context: Context) -> dict[str, str]:
        ti = context.get("ti")
        if ti is None:
            return {}
        return {TAG_DAG_ID: tag_value(ti.dag_id), TAG_RUN_ID: tag_value(ti.run_id)}

    def _check_servers(
        self,
        launch: dict[str, dict[str, Any]],
        problems: list[str],
        warnings: list[str],
        own_run: Mapping[str, str] | None = None,
    ) -> None:
        """Replication state and servers held by active DRS jobs (but this run's own: a preflight
        cleared after waves launched sees their jobs, which ``start_recovery`` adopts)."""
        recoverable = DrsHook.RECOVERABLE_REPLICATION_STATES
        self.active_jobs = self.hook.active_jobs()
        holder = {
            server["sourceServerID"]: job
            for job in self.active_jobs
            for server in job.get("participatingServers") or ()
            if server.get("sourceServerID")
        }
        for wave_name, server_id, optional in self._each_server(launch):
            reasons = []
            state = (self.servers[server_id].get("dataReplicationInfo") or {}).get(
                "dataReplicationState", "UNKNOWN"
            )
            if state not in recoverable:
                reasons.append(f"is not recoverable: replication state {state}")
            job = holder.get(server_id)
            if job is not None and own_run and carries_tags(job, own_run):
                warnings.append(
                    f"wave {wave_name!r}: {self._name(server_id)} is in job {job.get('jobID')} of this run "
                    "already; its start_recovery adopts the job"
                )
            elif job is not None:
                reasons.append(
                    f"is busy in active DRS job {job.get('jobID')} "
                    f"({job.get('status')}, {job.get('type', 'job')})"
                )
            for reason in reasons:
                message = f"wave {wave_name!r}: {self._name(server_id)} {reason}"
                if optional:
                    warnings.append(f"{message}; optional server left out")
                    self._drop(launch, wave_name, server_id)
                else:
                    problems.append(message)

    def _check_recovered(
        self,
        launch: dict[str, dict[str, Any]],
        mode: str,
        relaunch: bool,
        problems: list[str],
        warnings: list[str],
        own_run: Mapping[str, str],
    ) -> None:
        """No launch over a server that was really recovered (:mod:`drs_provider.recovery.recovered`)."""
        servers = self._each_server(launch)
        recovered = recovered_servers(self.hook, [server_id for _, server_id, _ in servers], own_run=own_run)
        why = refusal(mode, relaunch)
        for wave_name, server_id, optional in servers:
            found = recovered.get(server_id)
            if found is None:
                continue
            message = f"wave {wave_name!r}: {self._name(server_id)} has a {found.describe()}"
            if why is None:
                warnings.append(f"{message}; {RELAUNCH_RECOVERED_PARAM}: true, so this recovery replaces it")
            elif optional:
                warnings.append(f"{message}: {why}; optional server left out")
                self._drop(launch, wave_name, server_id)
            else:
                problems.append(f"{message}: {why}")

    def _check_snapshots(
        self, launch: dict[str, dict[str, Any]], moment: datetime, problems: list[str], warnings: list[str]
    ) -> dict[str, str]:
        """Each launched server's snapshot for ``moment`` (what the waves launch from, as chosen
        here); a required server without one is a problem, an optional one is left out."""
        servers = self._each_server(launch)
        chosen, unchosen = self.hook.snapshots_before([server_id for _, server_id, _ in servers], moment)
        missing = set(unchosen)
        for wave_name, server_id, optional in servers:
            if server_id not in missing:
                continue
            message = (
                f"wave {wave_name!r}: {self._name(server_id)} has no recovery snapshot at or before "
                f"point_in_time {moment.isoformat()}"
            )
            if optional:
                warnings.append(f"{message}; optional server left out")
                self._drop(launch, wave_name, server_id)
            else:
                problems.append(message)
        return chosen

    def _check_quotas(self, launch: Mapping[str, Mapping[str, Any]], warnings: list[str]) -> None:
        """Quotas never fail a run: a wave over the account's capacity waits for it at launch
        (:mod:`drs_provider.triggers.capacity`). Preflight says when waves will have to wait."""
        max_jobs, max_servers = account_quotas(
            self.max_concurrent_jobs, self.max_servers_in_active_jobs, self.hook
        )
        sizes = {
            name: len(wave["source_server_ids"]) + len(wave["optional_source_server_ids"])
            for name, wave in launch.items()
        }
        jobs = {name: math.ceil(size / self.max_servers_per_job) for name, size in sizes.items()}
        ancestors = _ancestors(self.waves)
        peak_servers = peak_concurrent(sizes, ancestors)
        peak_jobs = peak_concurrent(jobs, ancestors)
        active_servers = sum(len(job.get("participatingServers") or ()) for job in self.active_jobs)
        if active_servers + peak_servers > max_servers:
            warnings.append(
                f"quota: up to {peak_servers} server(s) of this run may recover at once, and "
                f"{active_servers} already are in {len(self.active_jobs)} active job(s): more than the "
                f"{max_servers} servers allowed across active jobs ([drs] max_servers_in_active_jobs); "
                "waves will wait for DRS capacity"
            )
        if len(self.active_jobs) + peak_jobs > max_jobs:
            warnings.append(
                f"quota: up to {peak_jobs} job(s) of this run (at most {self.max_servers_per_job} servers "
                f"each) may run at once beside {len(self.active_jobs)} active job(s): more than the "
                f"{max_jobs} concurrent jobs allowed ([drs] max_concurrent_jobs); waves will wait for "
                "DRS capacity"
            )
