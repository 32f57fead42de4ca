"""What the Recovery view reads of the ``drs_failover`` runs: each failover and its plans' runs.

Everything comes from Airflow's metadata database, in the API server's process; nothing here
calls DRS. A plan's run is read as the plans page reads any run
(:func:`drs_provider.ui.airflow_source.summaries_of`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_

from drs_provider.constants import dag_id_of, failover_plan_run_id
from drs_provider.operators.failover import (
    FAILOVER_DAG_ID,
    PICKED_XCOM_KEY,
    SELECT_TASK_ID,
    SUMMARY_TASK_ID,
)
from drs_provider.recovery.report import DAG_ID_PREFIX, triggered_by
from drs_provider.recovery.run_record import RETURN_VALUE, WaveShape, state_value
from drs_provider.recovery.wave_shapes import dag_waves
from drs_provider.ui.airflow_source import RunSummary, dag_bag, summaries_of

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from datetime import datetime

    from airflow.models.dagrun import DagRun
    from sqlalchemy.orm import Session

    from drs_provider.ui.security import RunAccess

log = logging.getLogger(__name__)

#: The ``drs_failover`` runs the plans page shows.
RECENT_FAILOVERS = 5
#: A plan the failover picked but has not triggered (yet), as ``summary`` says it.
NOT_STARTED = "not started"


@dataclass(frozen=True)
class FailoverPlanRun:
    """One plan of a failover: its recovery run, as far as the user may read the plan's runs."""

    plan: str
    dag_id: str
    #: False: the user may not read this plan's runs; run, state and RTO are not shown
    run_readable: bool
    #: None: not started (yet), or not readable
    run_id: str | None = None
    #: the run's state, :data:`NOT_STARTED` for a plan the failover has not triggered (yet)
    state: str | None = None
    #: only for a user who may read the plan's task instances and XComs (its report)
    rto_seconds: float | None = None


@dataclass(frozen=True)
class FailoverSummary:
    """One run of ``drs_failover`` as the plans page shows it: one row that opens to its plans."""

    run_id: str
    state: str
    started: datetime | None
    ended: datetime | None
    triggered_by: str | None
    run_type: str | None
    #: the plans the user may read, in the failover's order
    plans: tuple[FailoverPlanRun, ...]
    #: the failover's RTO (trigger to the last plan's last wave), once ``summary`` returned it
    rto_seconds: float | None
    #: whether the plans come from ``summary`` (else from the plan runs as they stand)
    summarized: bool
    #: plans of the failover whose DAG the user may not read: counted, not named
    hidden_plans: int = 0

    @property
    def triggered_by_text(self) -> str:
        return triggered_by(self.triggered_by, self.run_type)


def _failover_xcoms(session: Session, run_ids: Sequence[str]) -> dict[tuple[str, str], Any]:
    """``{(run_id, task_id): value}``: the plans ``select`` picked and what ``summary`` returned."""
    from airflow.models.xcom import XComModel

    query = select(XComModel).where(
        XComModel.dag_id == FAILOVER_DAG_ID,
        XComModel.run_id.in_(run_ids),
        XComModel.map_index == -1,
        tuple_(XComModel.task_id, XComModel.key).in_(
            [(SELECT_TASK_ID, PICKED_XCOM_KEY), (SUMMARY_TASK_ID, RETURN_VALUE)]
        ),
    )
    found: dict[tuple[str, str], Any] = {}
    for row in session.scalars(query):
        try:
            found[(row.run_id, row.task_id)] = XComModel.deserialize_value(row)
        except Exception:  # a value Airflow cannot decode must not take the page down
            log.warning("skipped the %s XCom of failover %s", row.task_id, row.run_id, exc_info=True)
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def failover_summaries(
    session: Session,
    readable_dag_ids: Collection[str],
    run_access: Callable[[Collection[str]], Mapping[str, RunAccess]],
    *,
    details: bool,
    limit: int = RECENT_FAILOVERS,
) -> list[FailoverSummary]:
    """The last ``limit`` runs of ``drs_failover``, newest first, for a user who may read its runs.

    With ``details`` (the user may also read its task instances and XComs), the plans are those
    ``select`` picked and, once ``summary`` returned, its per-plan runs, states and RTOs and the
    failover's RTO; without, or while no summary exists, each plan's state comes from the plan runs
    named ``failover__<run id>``. A plan's run is shown only as far as ``run_access`` (asked once,
    with the plan DAGs among ``readable_dag_ids``) lets the user read it; a plan whose DAG they
    may not read is only counted."""
    from airflow.models.dagrun import DagRun

    runs = list(
        session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == FAILOVER_DAG_ID)
            .order_by(DagRun.run_after.desc())
            .limit(limit)
        )
    )
    if not runs:
        return []
    xcoms = _failover_xcoms(session, [run.run_id for run in runs]) if details else {}
    plan_run_ids = {failover_plan_run_id(run.run_id): run.run_id for run in runs}
    plan_runs: dict[tuple[str, str], DagRun] = {
        (plan_run.run_id, plan_run.dag_id): plan_run
        for plan_run in session.scalars(
            select(DagRun).where(
                DagRun.run_id.in_(list(plan_run_ids)), DagRun.dag_id.startswith(DAG_ID_PREFIX)
            )
        )
    }
    names: dict[str, list[str]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    for run in runs:
        summary = xcoms.get((run.run_id, SUMMARY_TASK_ID))
        picked = xcoms.get((run.run_id, SELECT_TASK_ID))
        if isinstance(summary, dict) and isinstance(summary.get("plans"), dict):
            summaries[run.run_id] = summary
            names[run.run_id] = [str(plan) for plan in summary["plans"]]
        elif isinstance(picked, list):
            names[run.run_id] = [str(plan) for plan in picked]
        else:  # no XCom to read, or none yet: the plan runs the failover started
            own = failover_plan_run_id(run.run_id)
            names[run.run_id] = sorted(
                dag_id.removeprefix(DAG_ID_PREFIX) for run_id, dag_id in plan_runs if run_id == own
            )
    readable = set(readable_dag_ids)
    plan_dag_ids = {dag_id_of(plan) for plans in names.values() for plan in plans} & readable
    access = run_access(sorted(plan_dag_ids)) if plan_dag_ids else {}
    waves: dict[str, tuple[WaveShape, ...]] = {}

    def live(dag_id: str, plan_run: DagRun, with_details: bool) -> RunSummary:
        if dag_id not in waves:
            dag = dag_bag().get_latest_version_of_dag(dag_id, session=session)
            waves[dag_id] = dag_waves(dag) if dag is not None else ()
        return summaries_of(session, dag_id, waves[dag_id], [plan_run], details=with_details)[0]

    result = []
    for run in runs:
        summary = summaries.get(run.run_id)
        plans, hidden = [], 0
        for plan in names[run.run_id]:
            dag_id = dag_id_of(plan)
            if dag_id not in readable:
                hidden += 1
                continue
            may_read = access[dag_id]
            if not may_read.runs:
                plans.append(FailoverPlanRun(plan, dag_id, run_readable=False))
                continue
            if summary is not None:
                entry = summary["plans"][plan] if isinstance(summary["plans"][plan], dict) else {}
                run_id = entry.get("run_id")
                plans.append(
                    FailoverPlanRun(
                        plan,
                        dag_id,
                        run_readable=True,
                        run_id=str(run_id) if run_id else None,
                        state=str(entry.get("state") or NOT_STARTED),
                        rto_seconds=_number(entry.get("rto_seconds")) if may_read.details else None,
                    )
                )
                continue
            plan_run = plan_runs.get((failover_plan_run_id(run.run_id), dag_id))
            if plan_run is None:
                plans.append(FailoverPlanRun(plan, dag_id, run_readable=True, state=NOT_STARTED))
                continue
            found = live(dag_id, plan_run, may_read.details)
            plans.append(
                FailoverPlanRun(
                    plan,
                    dag_id,
                    run_readable=True,
                    run_id=found.run_id,
                    state=found.state,
                    rto_seconds=found.rto_seconds,
                )
            )
        result.append(
            FailoverSummary(
                run_id=run.run_id,
                state=state_value(run.state) or "queued",
                started=run.start_date,
                ended=run.end_date,
                triggered_by=run.triggering_user_name,
                run_type=state_value(run.run_type),
                plans=tuple(plans),
                rto_seconds=_number(summary.get("rto_seconds")) if summary is not None else None,
                summarized=summary is not None,
                hidden_plans=hidden,
            )
        )
    return result
