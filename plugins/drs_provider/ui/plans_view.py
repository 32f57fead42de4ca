"""What the plans page shows: one row per plan, its waves by step, its last run, the trend of its runs
and its readiness with the marks of its last checks; and one row per recent region failover that
opens to its plans' recovery runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drs_provider.operators.failover import FAILOVER_DAG_ID
from drs_provider.recovery.times import format_duration, format_when
from drs_provider.recovery.wave_shapes import wave_depths
from drs_provider.ui.addresses import run_tab_path
from drs_provider.ui.format import (
    path_segment,
    readiness_badge,
    readiness_word,
    state_word,
)
from drs_provider.ui.timeline import Trend, TrendPoint, draw_trend

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.ui.airflow_source import PlanSummary, RunSummary
    from drs_provider.ui.failover_source import FailoverPlanRun, FailoverSummary
    from drs_provider.ui.readiness_source import PlanReadiness


@dataclass(frozen=True)
class StatusMark:
    """One past readiness check of a plan, a small mark coloured by its status."""

    #: the badge (CSS class) of its status
    badge: str
    #: when it was checked and what it said, the mark's tooltip
    title: str


@dataclass(frozen=True)
class PlanRow:
    """One plan on the plans page: its waves by step, its last run, the trend of its runs and the
    marks of its readiness checks."""

    plan: PlanSummary
    #: ``(step, wave names)``, step 1 first
    steps: tuple[tuple[int, tuple[str, ...]], ...]
    last: RunSummary | None
    last_url: str | None
    trend: Trend
    rto_target: float | None
    dag_url: str
    #: oldest first, as the trend reads; empty also when readiness is not shown (``plan.readiness``)
    readiness_marks: tuple[StatusMark, ...] = ()


def readiness_marks(readiness: PlanReadiness | None) -> tuple[StatusMark, ...]:
    """The plan's checks as marks, oldest first, each titled with its time and status."""
    if readiness is None:
        return ()
    return tuple(
        StatusMark(
            readiness_badge(mark.status), f"{format_when(mark.checked_at)}: {readiness_word(mark.status)}"
        )
        for mark in reversed(readiness.history)
    )


def plan_rows(plans: Sequence[PlanSummary], airflow_root: str = "", slots: int = 10) -> list[PlanRow]:
    rows = []
    for plan in plans:
        target = next((run.rto_target for run in plan.runs if run.rto_target is not None), None)
        points = [
            TrendPoint(
                state=run.state,
                rto_seconds=run.rto_seconds,
                title=(
                    f"{run.run_id}: {state_word(run.state)}, RTO {format_duration(run.rto_seconds)}, "
                    f"triggered by {run.triggered_by_text}"
                ),
                href=airflow_root + run_tab_path(plan.dag_id, run.run_id),
            )
            for run in reversed(plan.runs)
        ]
        depths = wave_depths(plan.waves, plan.dag_id)
        steps: dict[int, list[str]] = {}
        for wave in plan.waves:
            steps.setdefault(depths.get(wave.name, 1), []).append(wave.name)
        last = plan.runs[0] if plan.runs else None
        rows.append(
            PlanRow(
                plan=plan,
                steps=tuple((step, tuple(names)) for step, names in sorted(steps.items())),
                last=last,
                last_url=airflow_root + run_tab_path(plan.dag_id, last.run_id) if last else None,
                trend=draw_trend(points, target_seconds=target, slots=slots),
                rto_target=target,
                dag_url=f"{airflow_root}/dags/{path_segment(plan.dag_id)}",
                readiness_marks=readiness_marks(plan.readiness),
            )
        )
    return rows


@dataclass(frozen=True)
class FailoverPlanRow:
    """One plan inside a failover's row, with the address of its run's Recovery tab."""

    run: FailoverPlanRun
    #: None: no run to open (not started, or not readable)
    url: str | None


@dataclass(frozen=True)
class FailoverRow:
    """One ``drs_failover`` run: a row that opens to its plans."""

    failover: FailoverSummary
    #: the failover run in the Airflow UI
    url: str
    plans: tuple[FailoverPlanRow, ...]


def failover_rows(failovers: Sequence[FailoverSummary], airflow_root: str = "") -> list[FailoverRow]:
    return [
        FailoverRow(
            failover=failover,
            url=f"{airflow_root}/dags/{path_segment(FAILOVER_DAG_ID)}/runs/{path_segment(failover.run_id)}",
            plans=tuple(
                FailoverPlanRow(
                    run=plan,
                    url=airflow_root + run_tab_path(plan.dag_id, plan.run_id) if plan.run_id else None,
                )
                for plan in failover.plans
            ),
        )
        for failover in failovers
    ]
