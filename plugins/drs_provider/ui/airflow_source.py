"""What the Recovery view reads from Airflow: DAG structure, runs, task instances, XComs, HITL, logs,
and the plan DAGs the plans page lists.

Everything comes from Airflow's metadata database and task logs, in the API server's process,
the way the REST API's own routes read them; nothing here calls DRS. The results are the plain
records of :mod:`drs_provider.ui.live_report`. The ``drs_failover`` runs are read in
:mod:`drs_provider.ui.failover_source`, the plans' readiness in :mod:`drs_provider.ui.readiness_source`.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_

from drs_provider.constants import (
    CAPACITY_WAIT_XCOM_KEY,
    FAILBACK_SERVERS_XCOM_KEY,
    HOME_REGION_XCOM_KEY,
    MODE_PARAM,
    STEP_OUTCOME_XCOM_KEY,
    TASK_ERROR_XCOM_KEY,
)
from drs_provider.recovery.report import DAG_ID_PREFIX, triggered_by
from drs_provider.recovery.run_record import (
    CLEANUP_TASK,
    PREFLIGHT_TASK,
    REPORT_TASK,
    RETURN_VALUE,
    SERVERS_XCOM,
    ApprovalRecord,
    RunRecord,
    TaskRecord,
    WaveShape,
    state_value,
)
from drs_provider.recovery.wave_shapes import dag_waves, run_waves
from drs_provider.ui.live_report import run_report
from drs_provider.ui.readiness_source import PlanReadiness, readiness_history

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
    from datetime import datetime

    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy.orm import Session

    from drs_provider.ui.security import RunAccess

log = logging.getLogger(__name__)

#: The DAG tag every plan DAG carries.
PLAN_DAG_TAG = "drs"
#: XCom keys the view reads; anything else a task pushed is left in the database.
XCOM_KEYS = (
    RETURN_VALUE,
    SERVERS_XCOM,
    STEP_OUTCOME_XCOM_KEY,
    TASK_ERROR_XCOM_KEY,
    "drs_job",
    # why a wave's launch waits for DRS capacity, shown under its state while it does
    CAPACITY_WAIT_XCOM_KEY,
    # a failback wave's: where it goes home, and which FAILBACK source server brings each server
    HOME_REGION_XCOM_KEY,
    FAILBACK_SERVERS_XCOM_KEY,
)
RECENT_RUNS = 10


@functools.cache
def dag_bag() -> DBDagBag:
    """The serialized DAGs, cached the way the API server caches them for its own routes."""
    from airflow.api_fastapi.common.dagbag import create_dag_bag

    return create_dag_bag()


def _task_record(ti: TaskInstance) -> TaskRecord:
    return TaskRecord(
        task_id=ti.task_id,
        state=state_value(ti.state),
        start_date=ti.start_date,
        end_date=ti.end_date,
        operator=ti.operator,
        try_number=ti.try_number or 0,
        map_index=ti.map_index,
    )


def _xcoms(
    session: Session, runs: Iterable[tuple[str, str]], task_ids: Sequence[str] | None = None
) -> dict[tuple[str, str], dict[tuple[str, str], Any]]:
    """``{(dag_id, run_id): {(task_id, key): value}}`` for the view's XCom keys."""
    from airflow.models.xcom import XComModel

    keys = list(runs)
    query = select(XComModel).where(
        tuple_(XComModel.dag_id, XComModel.run_id).in_(keys),
        XComModel.map_index == -1,
        XComModel.key.in_(XCOM_KEYS),
    )
    if task_ids is not None:
        query = query.where(XComModel.task_id.in_(task_ids))
    found: dict[tuple[str, str], dict[tuple[str, str], Any]] = {key: {} for key in keys}
    for row in session.scalars(query):
        found.setdefault((row.dag_id, row.run_id), {})[(row.task_id, row.key)] = XComModel.deserialize_value(
            row
        )
    return found


def _approvals(session: Session, dag_id: str, run_id: str) -> dict[str, ApprovalRecord]:
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance

    query = (
        select(HITLDetail, TaskInstance.task_id, TaskInstance.map_index)
        .join(TaskInstance, HITLDetail.ti_id == TaskInstance.id)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    )
    approvals = {}
    for detail, task_id, map_index in session.execute(query):
        responder = detail.responded_by if isinstance(detail.responded_by, dict) else {}
        approvals[task_id] = ApprovalRecord(
            task_id=task_id,
            subject=detail.subject,
            body=detail.body,
            options=tuple(detail.options or ()),
            multiple=bool(detail.multiple),
            map_index=map_index,
            created_at=detail.created_at,
            chosen_options=tuple(detail.chosen_options) if detail.chosen_options is not None else None,
            responded_by=responder.get("name") or responder.get("id"),
            responded_at=detail.responded_at,
            assigned_users=tuple(str(assignee["id"]) for assignee in detail.assigned_users),
        )
    return approvals


def error_from_log(messages: Iterable[Any]) -> str | None:
    """The exception a task log ends with, else its last error line (structured log messages)."""
    error = None
    last_error_line = None
    for message in messages:
        fields = {**(getattr(message, "model_extra", None) or {}), "event": getattr(message, "event", None)}
        for detail in fields.get("error_detail") or ():
            if isinstance(detail, dict):
                error = f"{detail.get('exc_type')}: {detail.get('exc_value')}"
        if fields.get("level") == "error" and fields.get("event"):
            last_error_line = str(fields["event"])
    return error or last_error_line


#: Errors of failed tries by task instance key and try: a failed try's log no longer changes.
_ERRORS: dict[tuple[str, str, str, int, int], str] = {}
_ERRORS_KEPT = 2000
_ERRORS_LOCK = threading.Lock()  # sync routes run in a thread pool


def task_error(ti: TaskInstance, dag: Any) -> str | None:
    """Why a failed task failed, from the log of its last try (read the way the log route does)."""
    from airflow.utils.log.log_reader import TaskLogReader

    key = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number)
    with _ERRORS_LOCK:
        if key in _ERRORS:
            return _ERRORS[key]
    reader = TaskLogReader()
    if not reader.supports_read:
        return None
    try:
        if dag is not None and ti.task_id in dag.task_dict:
            ti.task = dag.get_task(ti.task_id)
        whole_log: Any = {"download_logs": True}  # what the log route asks for a full download
        messages, _ = reader.read_log_chunks(ti, ti.try_number, whole_log)
        error = error_from_log(messages)
    except Exception:  # a missing or unreadable log must not take the page down
        log.warning("could not read the log of %s", key, exc_info=True)
        return None
    if error:  # a log without one may still be being written: read it again next time
        with _ERRORS_LOCK:
            _ERRORS[key] = error
            while len(_ERRORS) > _ERRORS_KEPT:
                _ERRORS.pop(next(iter(_ERRORS)))
    return error


def load_run(
    session: Session, dag_run: DagRun, dag: Any, *, with_errors: bool = True, with_approvals: bool = True
) -> RunRecord:
    """Everything the run page shows of ``dag_run``, as plain records."""
    from airflow.models.taskinstance import TaskInstance

    tis = list(
        session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.map_index == -1,
            )
        )
    )
    errors = {}
    if with_errors:
        for ti in tis:
            if state_value(ti.state) == "failed":
                error = task_error(ti, dag)
                if error:
                    errors[ti.task_id] = error
    return RunRecord(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        state=state_value(dag_run.state),
        start_date=dag_run.start_date,
        end_date=dag_run.end_date,
        waves=run_waves(dag, (dag_run.conf or {}).get(MODE_PARAM)),
        tasks={ti.task_id: _task_record(ti) for ti in tis},
        xcoms=_xcoms(session, [(dag_run.dag_id, dag_run.run_id)])[(dag_run.dag_id, dag_run.run_id)],
        conf=dict(dag_run.conf or {}),
        errors=errors,
        approvals=_approvals(session, dag_run.dag_id, dag_run.run_id) if with_approvals else {},
        triggered_by=dag_run.triggering_user_name,
        run_type=state_value(dag_run.run_type),
    )


def find_run(session: Session, dag_id: str, run_id: str) -> tuple[DagRun, Any] | None:
    """The run and the DAG version it ran with; None if there is no such run."""
    from airflow.api_fastapi.common.dagbag import get_dag_for_run_or_latest_version
    from airflow.models.dagrun import DagRun

    dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if dag_run is None:
        return None
    return dag_run, get_dag_for_run_or_latest_version(dag_bag(), dag_run, dag_id, session)


# -- the plans page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """One past run of a plan: its result and RTO."""

    run_id: str
    state: str
    mode: str
    started: datetime | None
    rto_seconds: float | None
    rto_target: float | None
    #: the user who triggered the run (None: nobody, e.g. the schedule)
    triggered_by: str | None = None
    run_type: str | None = None

    @property
    def triggered_by_text(self) -> str:
        return triggered_by(self.triggered_by, self.run_type)


@dataclass(frozen=True)
class PlanSummary:
    """One plan DAG as the plans page lists it; its runs only as far as the user may read them."""

    dag_id: str
    plan: str
    description: str | None
    is_paused: bool
    schedule: str | None
    next_run: datetime | None
    waves: tuple[WaveShape, ...]
    #: newest first
    runs: tuple[RunSummary, ...]
    #: False: the user may not read this DAG's runs, so none is listed
    runs_readable: bool = True
    #: None: the user may not read the ``drs_readiness`` DAG's checks, so no readiness is shown
    readiness: PlanReadiness | None = None

    @property
    def drills_paused(self) -> bool:
        """A plan with a schedule whose DAG is paused: its scheduled drills do not run."""
        return bool(self.schedule) and self.is_paused


def _run_summaries(
    session: Session, dag_id: str, waves: tuple[WaveShape, ...], *, details: bool
) -> tuple[RunSummary, ...]:
    """The DAG's recent runs; their RTO and the report's verdict only with ``details`` (the runs' task
    instances and XComs), else Airflow's state and the run's conf alone."""
    from airflow.models.dagrun import DagRun

    runs = list(
        session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc()).limit(RECENT_RUNS)
        )
    )
    return summaries_of(session, dag_id, waves, runs, details=details)


def summaries_of(
    session: Session, dag_id: str, waves: tuple[WaveShape, ...], runs: Sequence[DagRun], *, details: bool
) -> tuple[RunSummary, ...]:
    """``runs`` of ``dag_id`` as :class:`RunSummary`, in their order (``details`` as
    :func:`_run_summaries` says)."""
    from airflow.models.taskinstance import TaskInstance

    if not runs:
        return ()
    run_ids = [run.run_id for run in runs]
    tasks: dict[str, dict[str, TaskRecord]] = {run_id: {} for run_id in run_ids}
    xcoms: dict[tuple[str, str], dict[tuple[str, str], Any]] = {(dag_id, run_id): {} for run_id in run_ids}
    if details:
        for ti in session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids), TaskInstance.map_index == -1
            )
        ):
            tasks[ti.run_id][ti.task_id] = _task_record(ti)
        xcoms = _xcoms(
            session,
            [(dag_id, run_id) for run_id in run_ids],
            task_ids=[PREFLIGHT_TASK, REPORT_TASK, CLEANUP_TASK],
        )
    summaries = []
    for run in runs:
        record = RunRecord(
            dag_id=dag_id,
            run_id=run.run_id,
            state=state_value(run.state),
            start_date=run.start_date,
            end_date=run.end_date,
            waves=waves,
            tasks=tasks[run.run_id],
            xcoms=xcoms[(dag_id, run.run_id)],
            conf=dict(run.conf or {}),
        )
        report, _ = run_report(record)
        target = report.get("rto_target")
        summaries.append(
            RunSummary(
                run_id=run.run_id,
                state=str(report.get("state") or record.state),
                mode=str(report.get("mode") or "drill"),
                started=run.start_date,
                rto_seconds=report.get("rto_seconds"),
                rto_target=float(target) if target is not None else None,
                triggered_by=run.triggering_user_name,
                run_type=state_value(run.run_type),
            )
        )
    return tuple(summaries)


def plan_summaries(
    session: Session,
    readable_dag_ids: set[str],
    run_access: Callable[[Collection[str]], Mapping[str, RunAccess]],
    *,
    with_readiness: bool = False,
) -> list[PlanSummary]:
    """Every plan DAG among ``readable_dag_ids`` with its waves, schedule and recent runs, the runs
    as far as ``run_access`` (asked once, with the plan DAGs) lets the user read them, and with
    ``with_readiness`` (the user may read the readiness checks) its readiness."""
    from airflow.models.dag import DagModel

    query = (
        select(DagModel)
        .where(DagModel.dag_id.in_(readable_dag_ids), DagModel.dag_id.startswith(DAG_ID_PREFIX))
        .where(DagModel.is_stale.is_(False))
        .order_by(DagModel.dag_id)
    )
    models = [model for model in session.scalars(query) if PLAN_DAG_TAG in {tag.name for tag in model.tags}]
    access = run_access([model.dag_id for model in models])
    names = {model.dag_id: model.dag_id.removeprefix(DAG_ID_PREFIX) for model in models}
    readiness = readiness_history(session, names.values()) if with_readiness else None
    plans = []
    for model in models:
        dag = dag_bag().get_latest_version_of_dag(model.dag_id, session=session)
        waves = dag_waves(dag) if dag is not None else ()
        may_read = access[model.dag_id]
        runs = _run_summaries(session, model.dag_id, waves, details=may_read.details) if may_read.runs else ()
        plans.append(
            PlanSummary(
                dag_id=model.dag_id,
                plan=names[model.dag_id],
                description=model.description,
                is_paused=bool(model.is_paused),
                schedule=model.timetable_summary if model.timetable_summary not in (None, "None") else None,
                next_run=model.next_dagrun_create_after,
                waves=waves,
                runs=runs,
                runs_readable=may_read.runs,
                readiness=PlanReadiness.of(readiness[names[model.dag_id]]) if readiness is not None else None,
            )
        )
    return plans
