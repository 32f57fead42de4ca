"""What the tasks of a plan DAG know of their run, and ``start_recovery``, which launches what it checked.

``preflight`` resolves the run (:class:`~drs_provider.recovery.run.ResolvedRun`, its XCom); every
later task reads it here: whether its wave runs at all, drill or recovery, and which servers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drs_provider.constants import (
    FAILBACK_SERVERS_XCOM_KEY,
    PREFLIGHT_TASK_ID,
    RECOVERY_RUN_TYPES,
    RELAUNCH_RECOVERED_PARAM,
    SERVERS_XCOM_KEY,
    START_RECOVERY_TASK,
    TAG_DAG_ID,
    TAG_RUN_ID,
    WAIT_FOR_RECOVERY_TASK,
    wave_group_of_task,
    wave_of_task,
    wave_task_id,
)
from drs_provider.exceptions import (
    DrsAgentStartingError,
    DrsFailbackWaitError,
    DrsPreflightError,
    DrsProviderError,
    DrsRecoveredServerError,
)
from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.operators.failback_finish import home_results, reprotect, stop_failed_failbacks
from drs_provider.operators.failback_start import AGENT_RETRY_SECONDS, FailbackStart, waiting_for
from drs_provider.operators.plan_task import PlanTaskMixin
from drs_provider.recovery.recovered import recovered_servers, refusal
from drs_provider.recovery.run import ResolvedRun, ResolvedWave
from drs_provider.recovery.run_record import state_value
from drs_provider.recovery.times import parse_time
from drs_provider.sensors.drs import DrsJobSensor

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context


def run_type_of(context: Context) -> str:
    """The run's type as a plain string: ``manual``, ``scheduled``, ``backfill``, ..."""
    return state_value(getattr(context.get("dag_run"), "run_type", None)) or ""


def resolved_run(context: Context, preflight_task_id: str = PREFLIGHT_TASK_ID) -> ResolvedRun | None:
    """What ``preflight`` resolved for this run, or None when it left no result."""
    pulled = context["ti"].xcom_pull(task_ids=preflight_task_id, map_indexes=-1)
    return ResolvedRun.from_json(pulled) if isinstance(pulled, dict) else None


def require_wave_in_run(
    context: Context, plan_name: str, wave_name: str, preflight_task_id: str = PREFLIGHT_TASK_ID
) -> ResolvedRun:
    """The resolved run, when it launches ``wave_name``; skips the task when the run leaves it out.

    :raises DrsPreflightError: when preflight left no result for the wave (cleared alone)
    """
    from airflow.sdk.exceptions import AirflowSkipException

    run = resolved_run(context, preflight_task_id)
    wave = run.wave(wave_name) if run else None
    if run is None or wave is None:
        raise DrsPreflightError(
            plan_name, [f"wave {wave_name!r}: no result from task {preflight_task_id!r}; clear it too"]
        )
    if not wave.run:
        raise AirflowSkipException(f"wave {wave_name!r} is not among this run's waves")
    return run


def wave_servers(
    context: Context, wave_name: str, phase: str, run: ResolvedRun | None
) -> list[dict[str, Any]]:
    """The wave's per-server results so far: ``wait_for_recovery``'s in ``post``; in ``pre``, the
    servers the wave will launch (``launchStatus`` still null)."""
    if phase == "post":
        # The wave's own group: the step's (a reversed failback's waves are in a group of their own).
        group = wave_group_of_task(str(context["ti"].task_id)) or wave_name
        pulled = context["ti"].xcom_pull(
            task_ids=wave_task_id(group, WAIT_FOR_RECOVERY_TASK), key=SERVERS_XCOM_KEY, map_indexes=-1
        )
        return [dict(server) for server in pulled or ()]
    wave = run.wave(wave_name) if run else None
    if wave is None:
        return []
    return [
        {"sourceServerID": server_id, "optional": optional, "launchStatus": None}
        for optional, ids in ((False, wave.source_server_ids), (True, wave.optional_source_server_ids))
        for server_id in ids
    ]


class DrsPlanWaveStartOperator(PlanTaskMixin, DrsStartRecoveryOperator):
    """
    ``start_recovery`` of one wave of a plan DAG: launches what ``preflight`` resolved.

    Skips itself when the run's ``waves`` leave this wave out. Otherwise it takes the server
    IDs, the drill/recovery decision and the point in time from ``preflight``'s XCom, so it
    launches exactly what preflight checked. It refuses to run without a preflight result.

    :param plan_name: the plan's name.
    :param wave_name: this wave's name.
    :param preflight_task_id: the preflight task of the DAG.
    """

    def __init__(
        self, *, plan_name: str, wave_name: str, preflight_task_id: str = PREFLIGHT_TASK_ID, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.wave_name = wave_name
        self.preflight_task_id = preflight_task_id

    def run_task(self, context: Context) -> Any:
        return self._start_wave(context, waiting_since=None)

    def _start_wave(self, context: Context, waiting_since: float | None) -> Any:
        resolved = require_wave_in_run(context, self.plan_name, self.wave_name, self.preflight_task_id)
        wave = resolved.wave(self.wave_name)
        assert wave is not None
        if not resolved.is_drill:
            # Defence in depth: the same rule preflight enforced, checked again at launch.
            params = context.get("params") or {}
            if params.get("confirm") != self.plan_name or run_type_of(context) not in RECOVERY_RUN_TYPES:
                raise DrsPreflightError(
                    self.plan_name,
                    [f"a {resolved.mode} needs a manual run with confirm equal to the plan name"],
                )
        if resolved.is_failback:
            return FailbackStart(self, resolved, wave, waiting_since).start(context)
        optional = self._not_recovered_since_preflight(context, resolved, wave)
        # Launch exactly what preflight checked; the selector fields stay as the DAG shows them.
        arguments = replace(
            self.read_arguments(),
            source_server_ids=list(wave.source_server_ids),
            tags={},
            optional_source_server_ids=optional,
            optional_tags={},
            is_drill=resolved.is_drill,
            point_in_time=parse_time(resolved.point_in_time) if resolved.point_in_time else None,
            # the snapshots preflight chose: a later or expired snapshot never changes what launches
            snapshot_ids=dict(wave.snapshot_ids) if resolved.point_in_time else None,
        )
        return self.start(context, arguments)

    def failback_after_wait(
        self,
        context: Context,
        event: Mapping[str, Any] | None = None,
        waiting_since: float | None = None,
        servers: Mapping[str, str] | None = None,
    ) -> Any:
        """Back from a failback wait: start again (what is done already is found, not redone).

        :param servers: FAILBACK source server ID -> the plan's server it brings home, as named.
        """
        status = (event or {}).get("status")
        if status not in (None, "ready"):
            message = (event or {}).get("message") or f"the wait ended with {status!r}"
            if status == "timeout":
                run = resolved_run(context, self.preflight_task_id)
                timeout = run.failback_sync_timeout if run else None
                waiting = (event or {}).get("waiting") or {}
                named = [waiting_for(server_id, why, servers or {}) for server_id, why in waiting.items()]
                raise DrsFailbackWaitError(self.task_id, float(timeout or 0), "; ".join(named) or message)
            raise DrsProviderError(f"{self.task_id}: {message}")
        return self._start_wave(context, waiting_since=waiting_since)

    def _not_recovered_since_preflight(
        self, context: Context, resolved: ResolvedRun, wave: ResolvedWave
    ) -> list[str]:
        """Preflight's guard again at launch, which may come hours later (approvals): a server
        really recovered meanwhile is not launched over. Returns the optional servers still to
        launch (a recovered optional one is left out); fails for a required one."""
        params = context.get("params") or {}
        why = refusal(resolved.mode, bool(params.get(RELAUNCH_RECOVERED_PARAM)))
        optional = list(wave.optional_source_server_ids)
        if why is None:
            return optional
        identity = self._identity_tags(context)
        own_run = {TAG_DAG_ID: identity[TAG_DAG_ID], TAG_RUN_ID: identity[TAG_RUN_ID]}
        found = recovered_servers(self.hook, [*wave.source_server_ids, *optional], own_run=own_run)
        required = [found[i] for i in wave.source_server_ids if i in found]
        if required:
            raise DrsRecoveredServerError(
                self.task_id, [(server.source_server_id, server.describe()) for server in required], why
            )
        for server_id in optional:
            if server_id in found:
                holder = found[server_id].describe()
                self.log.warning("optional server %s left out: it has a %s: %s", server_id, holder, why)
        return [server_id for server_id in optional if server_id not in found]


class DrsPlanWaveSensor(PlanTaskMixin, DrsJobSensor):
    """``wait_for_recovery`` of one wave of a plan DAG: :class:`DrsJobSensor`, recording its start
    and failure for the run report.

    Started in the triggerer (``start_from_trigger``), the task's first code in a worker is
    :meth:`resume_execution`, which records ``task_started`` as the deferral's start (Airflow keeps
    a resumed task's ``start_date``) and any failure, so the report reads the same either way.

    In a failback run the jobs run where the wave goes home: ``region_name`` is the factory's pull
    of ``start_recovery``'s ``home_region`` (empty in other runs: the task's own region). Once the
    launches are judged, the results name the plan's servers with their origins, and EC2-origin
    servers are re-protected (not when the failback is rehearsed): :mod:`.failback_finish`.
    """

    #: The factory's XCom pulls of the wave's job IDs and region (templates or ``XComArg``s), never
    #: plan text.
    template_fields: Sequence[str] = ("job_ids", "optional_source_server_ids", "region_name")

    def __init__(self, *, preflight_task_id: str = PREFLIGHT_TASK_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preflight_task_id = preflight_task_id

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        self.region_name = self.region_name or None  # an empty pull: the connection's region

    def _judge(
        self, context: Context, jobs: Sequence[Mapping[str, Any]], optional: set[str]
    ) -> list[dict[str, Any]]:
        run = resolved_run(context, self.preflight_task_id)
        if run is None or not run.is_failback:
            return super()._judge(context, jobs, optional)
        wave = run.wave(wave_of_task(self.task_id))
        assert wave is not None
        ti = context["ti"]
        failback_of = ti.xcom_pull(
            task_ids=self.task_id.replace(WAIT_FOR_RECOVERY_TASK, START_RECOVERY_TASK),
            key=FAILBACK_SERVERS_XCOM_KEY,
            map_indexes=-1,
        )
        outcome = self.hook.recovery_outcome(jobs, sorted(optional))
        outcome.log_warnings(self.log)
        results = home_results(outcome.results, failback_of or {}, wave)
        ti.xcom_push(key=SERVERS_XCOM_KEY, value=results)
        if outcome.failed_required or outcome.failed_optional:
            stop_failed_failbacks(self.hook, results, self.log)
        outcome.raise_for_required()
        self.log.info("%d of %d source servers came home", outcome.launched, len(results))
        if not run.failback_drill:
            self._reprotect(context, run, results)
        return results

    def _reprotect(self, context: Context, run: ResolvedRun, results: list[dict[str, Any]]) -> None:
        # The plan's servers replicate in the wave's recovery region (this task's region is home).
        wave = run.wave(wave_of_task(self.task_id))
        recovery = self.hook.at(None, (wave.region if wave else None) or run.region)
        try:
            reprotect(self.hook, recovery, results, self.log)
        except DrsAgentStartingError as starting:
            from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

            self.log.info("%s; re-protecting again in %d s", starting, AGENT_RETRY_SECONDS)
            self.defer(
                trigger=TimeDeltaTrigger(timedelta(seconds=AGENT_RETRY_SECONDS)),
                method_name="reprotect_after_wait",
            )

    def reprotect_after_wait(self, context: Context, event: Any = None) -> list[dict[str, Any]]:
        """Back from waiting for a new instance's agent: re-protect what is left."""
        run = resolved_run(context, self.preflight_task_id)
        assert run is not None
        results = context["ti"].xcom_pull(task_ids=self.task_id, key=SERVERS_XCOM_KEY, map_indexes=-1)
        results = [dict(result) for result in results or ()]
        self._reprotect(context, run, results)
        return results
