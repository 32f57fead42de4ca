"""The run report (docs/reference/run-report.md), built from what a run's tasks left behind.

The ``report`` task builds it at the end of a run, and the Recovery view builds it live while a
run goes on, both with :func:`build_report` from the same facts: the run's task instances and
the XComs its tasks left behind:

* ``preflight`` (``return_value``): the resolved run: plan, mode, per wave whether it runs and
  its source server IDs;
* ``<wave>.start_recovery`` (``return_value``): the wave's DRS job IDs;
* ``<wave>.wait_for_recovery`` (XCom ``servers``, pushed also when the wave fails): one dict per
  server with its hostname, recovery and EC2 instances, launch status and ``rawError``;
* every other task of a wave's group is one of its runbook steps; ``cleanup`` and its
  ``return_value`` (``terminated``, ``failed``) give the clean-up.

This is the one place that turns those facts into a report: :func:`build_report` takes plain
records (:class:`~drs_provider.recovery.run_record.RunRecord`; the view fills them from the
metadata database in :mod:`drs_provider.ui.airflow_source`, the ``report`` task from the Task SDK
in :mod:`drs_provider.operators.lifecycle`) and imports no Airflow. Wave and run states go beyond
the finished run's while a run is going: ``running``, ``awaiting_input``, ``pending``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.constants import (
    CAPACITY_WAIT_XCOM_KEY,
    DAG_ID_PREFIX,
    STEP_OUTCOME_XCOM_KEY,
    TASK_ERROR_XCOM_KEY,
)
from drs_provider.recovery.run_record import (
    ACTIVE_STATES,
    AWAITING_INPUT,
    CLEANUP_TASK,
    FINISHED_STATES,
    NOT_RUN_STATES,
    PREFLIGHT_TASK,
    REPORT_TASK,
    SERVERS_XCOM,
    ApprovalRecord,
    RunRecord,
    TaskRecord,
    WaveShape,
    step_kind,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def plan_name(dag_id: str) -> str:
    """The plan a DAG id names (``drs_plan_shop`` -> ``shop``)."""
    return dag_id.removeprefix(DAG_ID_PREFIX)


def combined_state(states: Sequence[str | None], *, succeeded: bool) -> str:
    """One state for a group of task states (a wave's tasks, or the run's).

    Failure wins, then a failed upstream, then what is still going; a group whose tasks all
    finished is ``success`` when ``succeeded`` (its decisive task succeeded), else ``skipped``.
    """
    if not states:
        return "pending"
    if "failed" in states:
        return "failed"
    if "upstream_failed" in states:
        return "upstream_failed"
    if all(state in FINISHED_STATES for state in states):
        return "success" if succeeded else "skipped"
    if AWAITING_INPUT in states:
        return AWAITING_INPUT
    if any(state in ACTIVE_STATES or state in FINISHED_STATES for state in states):
        return "running"
    return "pending"


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    return min((moment for moment in moments if moment), default=None)


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((moment for moment in moments if moment), default=None)


def _approval_message(approval: ApprovalRecord) -> str:
    if not approval.answered:
        return f"waiting for an answer: {approval.subject}"
    chosen = ", ".join(approval.chosen_options or ()) or "no option"
    who = f" by {approval.responded_by}" if approval.responded_by else ""
    when = (
        f" at {approval.responded_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if approval.responded_at else ""
    )
    return f"answered {chosen}{who}{when}"


def error_of(run: RunRecord, task_id: str) -> str | None:
    """Why a task failed: what its log ends with (the view reads logs), else what it recorded."""
    recorded = run.xcom(task_id, TASK_ERROR_XCOM_KEY)
    return run.errors.get(task_id) or (str(recorded) if recorded else None)


def _step(run: RunRecord, task: TaskRecord, wave: WaveShape) -> dict[str, Any]:
    state = task.state or "pending"
    message = error_of(run, task.task_id) if state == "failed" else None
    approval = run.approvals.get(task.task_id)
    if approval is not None and message is None:
        message = _approval_message(approval)
    outcome = run.xcom(task.task_id, STEP_OUTCOME_XCOM_KEY)
    if isinstance(outcome, dict) and state == "success":
        # passed at once (a step outside its modes), or an optional step that failed
        message = str(outcome.get("message") or "")
        if outcome.get("state") == "failed":
            state = "failed"
            message = f"optional step failed, the wave went on: {message}"
    return {
        "name": wave.step_name(task.task_id),
        "task_id": task.task_id,
        "kind": step_kind(task.task_id, task.operator),
        "state": state,
        "started": iso(task.start_date),
        "ended": iso(task.end_date) if task.state in FINISHED_STATES else None,
        "message": message,
    }


def _planned_servers(run: RunRecord, wave: str) -> list[dict[str, Any]]:
    """The servers preflight resolved for ``wave``, before any result: status still unknown."""
    resolved = ((run.xcom(PREFLIGHT_TASK) or {}).get("waves") or {}).get(wave) or {}
    entries = [(server_id, False) for server_id in resolved.get("source_server_ids") or ()]
    entries += [(server_id, True) for server_id in resolved.get("optional_source_server_ids") or ()]
    hostnames = resolved.get("hostnames") or {}
    return [
        {
            "sourceServerID": server_id,
            "hostname": hostnames.get(server_id),
            "recoveryInstanceID": None,
            "ec2InstanceID": None,
            "launchStatus": None,
            "optional": optional,
            "rawError": None,
        }
        for server_id, optional in entries
    ]


def wave_servers(run: RunRecord, shape: WaveShape) -> list[dict[str, Any]]:
    """The wave's per-server results once its sensor judged them, else the servers it will launch."""
    results = run.xcom(shape.wait_task, SERVERS_XCOM)
    if results is None:
        results = run.xcom(shape.wait_task)
    if isinstance(results, list):
        return [
            dict(server, rawError=server.get("rawError")) for server in results if isinstance(server, dict)
        ]
    return _planned_servers(run, shape.name)


#: What a wave's report says of where it ran (from preflight's resolved run), when it has them.
WAVE_PLACE_KEYS = ("aws_conn_id", "region", "home_region")


def wave_report(run: RunRecord, shape: WaveShape) -> dict[str, Any]:
    tasks = [run.tasks[task_id] for task_id in shape.task_ids if task_id in run.tasks]
    decisive = run.state_of(shape.wait_task) if shape.wait_task in run.tasks else None
    succeeded = decisive == "success" if decisive is not None else any(t.state == "success" for t in tasks)
    state = combined_state([task.state for task in tasks], succeeded=succeeded)
    ran = [task for task in tasks if task.state not in NOT_RUN_STATES]
    started = _earliest(task.start_date for task in ran)
    ended = _latest(task.end_date for task in ran) if state in FINISHED_STATES else None
    job_ids = run.xcom(shape.start_task)
    resolved = run.xcom(PREFLIGHT_TASK)
    place = ((resolved.get("waves") or {}).get(shape.name) or {}) if isinstance(resolved, dict) else {}
    # Only while the launch waits: a finished run's report has no such key.
    waiting = (
        run.xcom(shape.start_task, CAPACITY_WAIT_XCOM_KEY)
        if run.state_of(shape.start_task) == "deferred"
        else None
    )
    return {
        "name": shape.name,
        "state": state,
        "started": iso(started),
        "ended": iso(ended),
        "duration_seconds": (ended - started).total_seconds() if started and ended else None,
        "job_ids": [str(job_id) for job_id in job_ids] if isinstance(job_ids, list) else [],
        "servers": wave_servers(run, shape),
        "steps": [
            _step(run, run.tasks[task_id], shape) for task_id in shape.step_task_ids if task_id in run.tasks
        ],
        **({"waiting_for": str(waiting)} if waiting else {}),
        # where the wave ran when not in the run's own account and region, and where a failback
        # wave went home
        **{key: place[key] for key in WAVE_PLACE_KEYS if place.get(key)},
    }


def rto_seconds(run: RunRecord, waves: Sequence[Mapping[str, Any]]) -> float | None:
    """From the start of ``preflight`` to the end of the last wave's last task that ran.

    None while a wave is unfinished, when a wave failed, or when no wave recovered anything.
    """
    preflight = run.tasks.get(PREFLIGHT_TASK)
    if preflight is None or preflight.start_date is None:
        return None
    states = {wave["state"] for wave in waves}
    if not states <= {"success", "skipped"} or "success" not in states:
        return None
    ended = _latest(
        run.tasks[task_id].end_date
        for shape in run.waves
        for task_id in shape.task_ids
        if task_id in run.tasks and run.tasks[task_id].state == "success"
    )
    return (ended - preflight.start_date).total_seconds() if ended else None


def cleanup_report(run: RunRecord) -> dict[str, Any] | None:
    """The clean-up task's outcome, or None when the DAG has no ``cleanup`` task."""
    task = run.tasks.get(CLEANUP_TASK)
    if task is None:
        return None
    result = run.xcom(CLEANUP_TASK)
    result = result if isinstance(result, dict) else {}
    state = task.state if task.state in ("success", "failed", "skipped") else (task.state or "pending")
    return {
        "state": "skipped" if state == "upstream_failed" else state,
        "terminated": list(result.get("terminated") or []),
        "failed": list(result.get("failed") or []),
        # why it was skipped, and what it left alone: beyond the documented report, for people
        "reason": result.get("reason"),
        "left_alone": list(result.get("left_alone") or []),
    }


def triggered_by(user: str | None, run_type: str | None) -> str:
    """Who started a run, for people: the user Airflow recorded, else how the run came about."""
    if user:
        return user
    if run_type == "scheduled":
        return "the schedule"
    if run_type:
        return f"nobody recorded ({run_type.replace('_', ' ')} run)"
    return "nobody recorded"


def run_state(run: RunRecord) -> str:
    """The run's state: Airflow's verdict once finished, else where its tasks are."""
    if run.state in ("success", "failed"):
        return run.state
    states = [task.state for task in run.tasks.values()]
    if AWAITING_INPUT in states:
        return AWAITING_INPUT
    return run.state or "queued"


def final_state(run: RunRecord) -> str:
    """The verdict on a run whose waves are over: failed when preflight or any wave task failed."""
    lifecycle = {CLEANUP_TASK, REPORT_TASK}
    states = [task.state for task_id, task in run.tasks.items() if task_id not in lifecycle]
    return "failed" if any(state in ("failed", "upstream_failed") for state in states) else "success"


def build_report(run: RunRecord) -> dict[str, Any]:
    """The run report of ``run`` from its task instances and XComs (see the module docstring)."""
    preflight = run.xcom(PREFLIGHT_TASK)
    preflight = preflight if isinstance(preflight, dict) else {}
    waves = [wave_report(run, shape) for shape in run.waves]
    rto = rto_seconds(run, waves)
    target = preflight.get("rto_target")
    return {
        "plan": preflight.get("plan") or plan_name(run.dag_id),
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "mode": preflight.get("mode") or run.conf.get("mode") or "drill",
        "state": run_state(run),
        "started": iso(run.start_date),
        "ended": iso(run.end_date) if run.state in ("success", "failed") else None,
        "rto_seconds": rto,
        "rto_target": target,
        "rto_met": None if rto is None or target is None else rto <= float(target),
        # who started it (the user Airflow recorded, else how it came about)
        "triggered_by": triggered_by(run.triggered_by, run.run_type),
        # the recovery that took over from this drill (it preempted the drill), else null
        "preempted_by": run.preempted_by,
        # DRS was the local simulator at this speed: the servers' DRS times are simulated ones
        # (RTO and every other time are Airflow's); null on AWS.
        "simulator_speed": preflight.get("simulator_speed"),
        "waves": waves,
        "cleanup": cleanup_report(run),
    }


def s3_location(uri: str, dag_id: str, run_id: str) -> tuple[str, str]:
    """``(bucket, key)`` of a run's report: ``<s3_uri><dag_id>/<run_id>.json`` (the one place that
    says where a report is kept: the report task, preflight's probe and the IAM policy read it)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, f"{prefix}{dag_id}/{run_id}.json"
