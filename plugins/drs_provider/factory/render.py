"""Render one validated plan as one Airflow DAG (docs/explanation/dag-and-waves.md).

Shape: ``preflight`` first, upstream of every wave; one task group per wave (``group_id`` =
wave name) holding, in a chain, its ``pre`` steps, ``start_recovery``, ``wait_for_recovery``
and its ``post`` steps; the last task of every upstream wave precedes the first task of the
dependent wave. Steps render through :mod:`drs_provider.factory.steps`; this module only builds
the DRS tasks and wires everything in one pass.

Wave subsets: a wave left out of the run's ``waves`` skips its first task, and so the rest of
its chain. A wave's first task uses the ``none_failed`` trigger rule, so a skipped upstream
wave lets a chosen downstream wave go on, while a failed (or upstream-failed) wave still stops
everything downstream of it. Independent branches are unaffected either way.

Failbacks in reverse: a DAG's edges are fixed, so a plan with ``failback_order: reverse`` (and an
edge between waves) holds its waves twice: the wave groups in the plan's order, and the group
``failback-reverse`` with the same waves and every edge reversed. The branch task ``wave-order``
after ``preflight`` takes a failback into the second and every other run into the first; the
other path is skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.constants import (
    DEFAULT_MAX_SERVERS_PER_JOB,
    FAILBACK_REVERSE_GROUP,
    HOME_REGION_XCOM_KEY,
    MODE_FAILBACK,
    MODE_PARAM,
    OPTIONAL_SERVERS_XCOM_KEY,
    PREFLIGHT_TASK_ID,
    RETURN_VALUE_XCOM_KEY,
    START_RECOVERY_TASK,
    WAIT_FOR_RECOVERY_TASK,
    WAVE_ORDER_TASK_ID,
)
from drs_provider.factory.docs import plan_doc_md
from drs_provider.factory.lifecycle import event_callbacks, plan_events, render_lifecycle, rto_deadline
from drs_provider.factory.params import plan_params
from drs_provider.factory.retries import retry_default_args
from drs_provider.factory.steps import StepPlace, render_step
from drs_provider.plans.model import FAILBACK_ORDER_REVERSE, ServerSelector

if TYPE_CHECKING:
    from airflow.sdk import DAG, BaseOperator

    from drs_provider.notifications.sns import PlanEvents
    from drs_provider.plans.model import Plan, Step, Wave

#: A fixed date in the past: with ``catchup=False`` only the latest schedule interval runs.
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_OWNER = "airflow"
DAG_TAG = "drs"
#: Whether each wave's ``wait_for_recovery`` starts in the triggerer (``start_from_trigger``)
#: instead of in a worker that only defers it: the same hand-off, one worker run per wave fewer
#: (docs/explanation/dag-and-waves.md has the measurements).
WAVE_SENSOR_START_FROM_TRIGGER = True
#: With ``start_from_trigger`` the trigger gets templates, not ``XComArg``s
#: (docs/reference/operator-and-sensor.md "Waiting"):
#: ``map_indexes=-1`` keeps the pull from hanging; ``or []`` renders a missing value as no job
#: (the trigger's "no DRS job IDs" error) rather than as the string "None", read as one ID.
_PULL = "{{{{ ti.xcom_pull(task_ids='{task_id}', key='{key}', map_indexes=-1) or [] }}}}"
#: Only a failback's ``start_recovery`` pushes its home region: other runs do not ask for it (a
#: missing XCom is logged as an error by the triggerer and the worker, at every wave).
_HOME_REGION_PULL = (
    "{{{{ (ti.xcom_pull(task_ids='{task_id}', key='{key}', map_indexes=-1) "
    "if params.get('{mode_param}') == '{failback}' else '') or '{default}' }}}}"
)


def _selector_json(selector: ServerSelector | None) -> dict[str, Any] | None:
    return None if selector is None else selector.to_dict()


def _step_json(phase: str, step: Step) -> dict[str, Any]:
    body = step.to_dict()[step.kind]
    assert isinstance(body, dict)
    # optional and modes spelled out even at their defaults: preflight reads them without the model
    return {"phase": phase, "kind": step.kind, "optional": step.optional, "modes": list(step.modes), **body}


def wave_json(wave: Wave) -> dict[str, Any]:
    """A wave as the preflight operator takes it (JSON-ready)."""
    return {
        "name": wave.name,
        "servers": _selector_json(wave.servers),
        "optional_servers": _selector_json(wave.optional_servers),
        "depends_on": list(wave.depends_on),
        "steps": [_step_json(phase, step) for phase, step in wave.steps],
        "aws_conn_id": wave.aws_conn_id,
        "region": wave.region,
    }


def _drs_tasks(
    plan: Plan,
    wave: Wave,
    aws: dict[str, Any],
    callbacks: dict[str, Any],
    *,
    first_in_wave: bool,
    start_from_trigger: bool,
) -> list[BaseOperator]:
    """The wave's ``start_recovery`` and ``wait_for_recovery``."""
    from airflow.sdk import XComArg

    from drs_provider.operators.plan_run import DrsPlanWaveSensor, DrsPlanWaveStartOperator

    optional = wave.optional_servers or ServerSelector()
    start = DrsPlanWaveStartOperator(
        task_id=START_RECOVERY_TASK,
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
        # Over the account's DRS capacity a wave waits in the triggerer, in turn, never fails.
        wait_for_capacity=True,
        priority=plan.priority,
        trigger_rule="none_failed" if first_in_wave else "all_success",
        **callbacks,
        **aws,
    )
    sensor_timing: dict[str, Any] = {}
    if wave.poll_interval is not None:
        sensor_timing["poke_interval"] = wave.poll_interval
    if wave.timeout is not None:
        sensor_timing["timeout"] = wave.timeout
    if start_from_trigger:
        job_ids: Any = _PULL.format(task_id=start.task_id, key=RETURN_VALUE_XCOM_KEY)
        optional_ids: Any = _PULL.format(task_id=start.task_id, key=OPTIONAL_SERVERS_XCOM_KEY)
    else:  # resolved to the job IDs at run time; also makes start an upstream of the sensor
        job_ids = XComArg(start)
        optional_ids = XComArg(start, key=OPTIONAL_SERVERS_XCOM_KEY)
    # A failback's jobs run where the wave goes home; other runs' in the plan's region (a plan
    # region is a validated name, never template text).
    home_region = _HOME_REGION_PULL.format(
        task_id=start.task_id,
        key=HOME_REGION_XCOM_KEY,
        mode_param=MODE_PARAM,
        failback=MODE_FAILBACK,
        default=aws.get("region_name") or "",
    )
    wait = DrsPlanWaveSensor(
        task_id=WAIT_FOR_RECOVERY_TASK,
        job_ids=job_ids,
        optional_source_server_ids=optional_ids,
        deferrable=True,
        start_from_trigger=start_from_trigger,
        **sensor_timing,
        **callbacks,
        **{**aws, "region_name": home_region},
    )
    return [start, wait]


def render_wave(
    plan: Plan,
    wave: Wave,
    events: PlanEvents | None = None,
    *,
    start_from_trigger: bool = WAVE_SENSOR_START_FROM_TRIGGER,
) -> list[BaseOperator]:
    """Every task of a wave in the order they run, created in the current task group, on the
    wave's own connection and region (:func:`wave_aws`)."""
    aws = wave_aws(plan, wave)
    callbacks = event_callbacks(events, "wave_failed", "on_failure_callback")
    tasks: list[BaseOperator] = []
    for step in wave.pre:
        place = StepPlace(plan, wave, "pre", aws, first_in_wave=not tasks, events=events, callbacks=callbacks)
        tasks.append(render_step(step, place))
    tasks += _drs_tasks(
        plan, wave, aws, callbacks, first_in_wave=not tasks, start_from_trigger=start_from_trigger
    )
    for step in wave.post:
        place = StepPlace(plan, wave, "post", aws, first_in_wave=False, events=events, callbacks=callbacks)
        tasks.append(render_step(step, place))
    return tasks


def plan_aws(plan: Plan) -> dict[str, Any]:
    """The connection arguments of the plan's own tasks (preflight, cleanup, report)."""
    aws: dict[str, Any] = {"aws_conn_id": plan.aws_conn_id or "aws_default"}
    if plan.region:
        aws["region_name"] = plan.region
    return aws


def wave_aws(plan: Plan, wave: Wave) -> dict[str, Any]:
    """The connection arguments of a wave's tasks: its own account and region, else the plan's."""
    aws = plan_aws(plan)
    if wave.aws_conn_id:
        aws["aws_conn_id"] = wave.aws_conn_id
    if wave.region:
        aws["region_name"] = wave.region
    return aws


def has_reversed_failback(plan: Plan) -> bool:
    """Whether the DAG holds the waves a second time for failbacks in reverse: the plan asks for
    it and reversing changes something (an edge between waves)."""
    return plan.failback_order == FAILBACK_ORDER_REVERSE and any(wave.depends_on for wave in plan.waves)


def _render_waves(
    plan: Plan, events: PlanEvents | None, *, start_from_trigger: bool
) -> tuple[dict[str, BaseOperator], dict[str, BaseOperator]]:
    """A task group per wave in the current group, its tasks chained; each wave's first and last task."""
    from airflow.sdk import TaskGroup, chain

    first: dict[str, BaseOperator] = {}
    last: dict[str, BaseOperator] = {}
    for wave in plan.waves:
        with TaskGroup(group_id=wave.name, tooltip=f"wave {wave.name}"):
            tasks = render_wave(plan, wave, events, start_from_trigger=start_from_trigger)
        chain(*tasks)
        first[wave.name], last[wave.name] = tasks[0], tasks[-1]
    return first, last


def render_plan(plan: Plan, *, start_from_trigger: bool = WAVE_SENSOR_START_FROM_TRIGGER) -> DAG:
    """Build the DAG of ``plan``; it is not registered anywhere (the caller decides).

    :param start_from_trigger: start each wave's ``wait_for_recovery`` in the triggerer
        (``start_from_trigger``) rather than defer it from a worker.
    """
    from airflow.sdk import DAG, TaskGroup

    from drs_provider.operators.preflight import DrsPlanPreflightOperator

    aws = plan_aws(plan)
    events = plan_events(plan, aws)
    deadline = rto_deadline(plan, events)
    dag = DAG(
        dag_id=plan.dag_id,
        description=plan.description or f"DRS recovery plan {plan.name}",
        schedule=plan.schedule,
        start_date=START_DATE,
        catchup=False,
        # Runs start side by side and agree through the plan lease (one launches at a time, a
        # recovery preempts a drill: drs_provider.recovery.lease); with Airflow's limit of one,
        # a recovery would queue behind a drill waiting on an approval.
        max_active_runs=None,
        tags=[DAG_TAG, plan.name],
        default_args={"owner": plan.owner or DEFAULT_OWNER, **retry_default_args()},
        doc_md=plan_doc_md(plan),
        auto_register=False,
        deadline=deadline,
    )
    with dag:
        preflight = DrsPlanPreflightOperator(
            task_id=PREFLIGHT_TASK_ID,
            plan_name=plan.name,
            waves=[wave_json(wave) for wave in plan.waves],
            max_servers_per_job=plan.max_servers_per_job,
            sns_topic_arn=plan.notify.sns_topic_arn if plan.notify else None,
            report_s3_uri=plan.report_s3_uri,
            rto_target=plan.rto_target,
            recovery_allowed=plan.recovery_allowed,
            failback_cleanup=plan.failback_cleanup,
            failback_sync_timeout=plan.failback_sync_timeout,
            doc_md="Checks every server, step and parameter of this run before anything is launched.",
            **event_callbacks(events, "started", "on_execute_callback"),
            **aws,
        )
        first, last = _render_waves(plan, events, start_from_trigger=start_from_trigger)
        for wave in plan.waves:
            for upstream in wave.depends_on:
                last[upstream] >> first[wave.name]
        ends = list(last.values())
        if has_reversed_failback(plan):
            from drs_provider.operators.wave_order import DrsWaveOrderOperator

            with TaskGroup(group_id=FAILBACK_REVERSE_GROUP, tooltip="the waves of a failback, in reverse"):
                back_first, back_last = _render_waves(plan, events, start_from_trigger=start_from_trigger)
            for wave in plan.waves:
                for upstream in wave.depends_on:
                    back_last[wave.name] >> back_first[upstream]
            order = DrsWaveOrderOperator(
                task_id=WAVE_ORDER_TASK_ID,
                plan_name=plan.name,
                forward=[task.task_id for task in first.values()],
                reverse=[task.task_id for task in back_first.values()],
                doc_md="Takes a failback through the waves in reverse (failback_order: reverse), "
                "every other run through the waves in the plan's order.",
            )
            preflight >> order
            order >> [*first.values(), *back_first.values()]
            ends += back_last.values()
        else:
            preflight >> list(first.values())
        render_lifecycle(plan, aws, events, after=ends)
    # Params join the DAG after its tasks: every operator's constructor deep-copies the DAG's
    # params into its own (half of the parse time, measured with cProfile), while a task run
    # reads the DAG's params anyway (DAG params, then task params, then the run's conf).
    dag.params.update(plan_params(plan))
    return dag
