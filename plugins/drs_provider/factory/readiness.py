"""The DAG ``drs_readiness``, on a schedule: its task ``check`` reads whether every plan of the folder
would recover right now (:mod:`drs_provider.operators.readiness`); its task ``native_plans``
keeps the DRS native recovery plans of the plans with ``native_plan: true`` in step with them
(:mod:`drs_provider.operators.native_plans`). The two are independent: each runs every time,
whatever the other does.

The schedule is hourly unless ``$DRS_READINESS_SCHEDULE`` says otherwise (a cron expression or
preset; ``none`` for manual checks only). The DAG starts unpaused: it launches and changes
nothing, and a check nobody runs warns nobody.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from drs_provider.readiness import NATIVE_PLANS_TASK_ID, READINESS_DAG_ID, READINESS_TASK_ID

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk import DAG

#: The schedule when ``$DRS_READINESS_SCHEDULE`` is not set.
DEFAULT_READINESS_SCHEDULE = "@hourly"


def readiness_schedule() -> str | None:
    """``$DRS_READINESS_SCHEDULE``, else hourly; ``none`` (any case) for no schedule."""
    value = os.environ.get("DRS_READINESS_SCHEDULE", "").strip() or DEFAULT_READINESS_SCHEDULE
    return None if value.lower() == "none" else value


def readiness_dag(plans_dir: str | Path) -> DAG:
    from airflow.sdk import DAG, Param

    from drs_provider.operators.native_plans import DrsNativePlansOperator
    from drs_provider.operators.readiness import DrsReadinessOperator

    with DAG(
        READINESS_DAG_ID,
        schedule=readiness_schedule(),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=False,
        dagrun_timeout=timedelta(minutes=30),
        tags=["drs", "readiness"],
        params={
            "plans": Param(
                None,
                type=["null", "array"],
                items={"type": "string"},
                title="Plans",
                description=(
                    "Check (and mirror, with native_plan: true) only these plans "
                    "(default: every plan of the folder)."
                ),
            )
        },
        doc_md=(
            "# Readiness\n\nChecks every recovery plan without launching or changing anything: "
            "servers, tags, replication and lag, snapshots, live recovered instances, quotas, "
            "step targets, overdue drills. The task `check` returns each plan's status "
            "(ready, at_risk, not_ready) and findings; the Recovery plans page shows them. "
            "The task `native_plans` keeps a DRS native recovery plan in step with each plan "
            "that has `native_plan: true`, for launching from the DRS console when Airflow is down."
        ),
    ) as dag:
        DrsReadinessOperator(task_id=READINESS_TASK_ID, plans_dir=str(plans_dir), retries=1)
        # No edge: a failed check must not keep the mirror stale, nor a failed mirror the check.
        DrsNativePlansOperator(task_id=NATIVE_PLANS_TASK_ID, plans_dir=str(plans_dir), retries=1)
    return dag
