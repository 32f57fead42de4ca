"""Render one validated plan as one Airflow DAG (DESIGN.md contract 2).

Shape: ``preflight`` first, upstream of every wave; one task group per wave (``group_id`` =
wave name) holding ``start_recovery`` then ``wait_for_recovery``; every upstream wave's
``wait_for_recovery`` precedes the dependent wave's ``start_recovery``.

Wave subsets: a wave left out of the run's ``waves`` skips its ``start_recovery`` (and so its
``wait_for_recovery``). ``start_recovery`` uses the ``none_failed`` trigger rule, so a skipped
upstream wave lets a chosen downstream wave go on, while a failed (or upstream-failed) wave
still stops everything downstream of it. Independent branches are unaffected either way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from drs_provider.factory.docs import plan_doc_md
from drs_provider.factory.params import plan_params
from drs_provider.factory.retries import retry_default_args
from drs_provider.plans.model import ServerSelector

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from drs_provider.plans.model import Plan, Wave

#: A fixed date in the past: with ``catchup=False`` only the latest schedule interval runs.
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_OWNER = "airflow"
DAG_TAG = "drs"


def _selector_json(selector: ServerSelector | None) -> dict[str, Any] | None:
    return None if selector is None else selector.to_dict()


def wave_json(wave: Wave) -> dict[str, Any]:
    """A wave as the preflight operator takes it (JSON-ready)."""
    return {
        "name": wave.name,
        "servers": _selector_json(wave.servers),
        "optional_servers": _selector_json(wave.optional_servers),
        "depends_on": list(wave.depends_on),
    }


def render_plan(plan: Plan) -> DAG:
    """Build the DAG of ``plan``; it is not registered anywhere (the caller decides)."""
    from airflow.sdk import DAG, TaskGroup, XComArg

    from drs_provider.operators.preflight import (
        DEFAULT_MAX_SERVERS_PER_JOB,
        PREFLIGHT_TASK_ID,
        DrsPlanPreflightOperator,
        DrsPlanWaveStartOperator,
    )
    from drs_provider.sensors.drs import DrsJobSensor

    aws: dict[str, Any] = {"aws_conn_id": plan.aws_conn_id or "aws_default"}
    if plan.region:
        aws["region_name"] = plan.region
    dag = DAG(
        dag_id=plan.dag_id,
        description=plan.description or f"DRS recovery plan {plan.name}",
        schedule=plan.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=[DAG_TAG, plan.name],
        default_args={"owner": plan.owner or DEFAULT_OWNER, **retry_default_args()},
        doc_md=plan_doc_md(plan),
        auto_register=False,
    )
    with dag:
        preflight = DrsPlanPreflightOperator(
            task_id=PREFLIGHT_TASK_ID,
            plan_name=plan.name,
            waves=[wave_json(wave) for wave in plan.waves],
            max_servers_per_job=plan.max_servers_per_job,
            doc_md="Checks every server and parameter of this run before anything is launched.",
            **aws,
        )
        starts = {}
        waits = {}
        for wave in plan.waves:
            optional = wave.optional_servers or ServerSelector()
            with TaskGroup(group_id=wave.name, tooltip=f"wave {wave.name}"):
                start = DrsPlanWaveStartOperator(
                    task_id="start_recovery",
                    plan_name=plan.name,
                    wave_name=wave.name,
                    # The selector shows in the UI; at run time preflight's resolved IDs replace it.
                    source_server_ids=list(wave.servers.ids) or None,
                    tags=dict(wave.servers.tags) or None,
                    optional_source_server_ids=list(optional.ids) or None,
                    optional_tags=dict(optional.tags) or None,
                    max_servers_per_job=plan.max_servers_per_job or DEFAULT_MAX_SERVERS_PER_JOB,
                    job_tags={"drs:plan": plan.name, "drs:wave": wave.name},
                    wait_for_completion=False,
                    deferrable=False,
                    trigger_rule="none_failed",
                    **aws,
                )
                sensor_timing: dict[str, Any] = {}
                if wave.poll_interval is not None:
                    sensor_timing["poke_interval"] = wave.poll_interval
                if wave.timeout is not None:
                    sensor_timing["timeout"] = wave.timeout
                waits[wave.name] = DrsJobSensor(
                    task_id="wait_for_recovery",
                    job_ids=cast("Any", XComArg(start)),  # resolved to the job IDs at run time
                    optional_source_server_ids=cast("Any", XComArg(start, key="optional_source_server_ids")),
                    deferrable=True,
                    **sensor_timing,
                    **aws,
                )
            starts[wave.name] = start
            preflight >> start
        for wave in plan.waves:
            for upstream in wave.depends_on:
                waits[upstream] >> starts[wave.name]
    # Params join the DAG after its tasks: every operator's constructor deep-copies the DAG's
    # params into its own (half of the parse time, measured with cProfile), while a task run
    # reads the DAG's params anyway (DAG params, then task params, then the run's conf).
    dag.params.update(plan_params(plan))
    return dag
