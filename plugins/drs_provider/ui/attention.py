"""What on a run page asks for a person: what failed, and the approvals waiting for an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.report import error_of
from drs_provider.recovery.run_record import AWAITING_INPUT, CLEANUP_TASK, PREFLIGHT_TASK, REPORT_TASK
from drs_provider.ui.format import path_segment

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from drs_provider.recovery.run_record import ApprovalRecord, RunRecord, WaveShape
    from drs_provider.ui.run_rows import WaveRow

#: Where a task-level error comes from in a failed wave whose servers do not explain it.
DRS_TASKS = ("start_recovery", "wait_for_recovery")


@dataclass(frozen=True)
class ApprovalRow:
    """An approval waiting for an answer, and where the REST API takes the answer."""

    task_id: str
    wave: str | None
    step: str
    subject: str
    body: str | None
    options: tuple[str, ...]
    multiple: bool
    map_index: int
    answer_url: str


@dataclass(frozen=True)
class Failure:
    """What broke, where: the failed server, step or task and its error."""

    where: str
    message: str


def report_failure(run: RunRecord, report: Mapping[str, Any]) -> str | None:
    """Why the run's report is not where the plan keeps it: S3's answer, else the report task's error."""
    store_error = report.get("store_error")
    if isinstance(store_error, dict):
        return (
            f"not stored in S3: bucket {store_error.get('bucket')}, key {store_error.get('key')}: "
            f"{store_error.get('error')}"
        )
    if run.state_of(REPORT_TASK) == "failed":
        return error_of(run, REPORT_TASK) or "the report task failed (see its log)"
    return None


def failures(run: RunRecord, report: Mapping[str, Any], waves: Sequence[WaveRow]) -> list[Failure]:
    found: list[Failure] = []
    groups = {shape.name: shape.group_id for shape in run.waves}
    if run.state_of(PREFLIGHT_TASK) == "failed":
        found.append(Failure("preflight", error_of(run, PREFLIGHT_TASK) or "preflight failed (see its log)"))
    for wave in waves:
        for server in wave.servers:
            if server.badge == "bad":
                label = (
                    f"{server.hostname} ({server.source_server_id})"
                    if server.hostname
                    else server.source_server_id
                )
                kind = "optional server" if server.optional else "server"
                found.append(
                    Failure(
                        f"wave {wave.name}, {kind} {label}",
                        f"{server.status}: {server.error or 'no error reported'}",
                    )
                )
        for step in wave.steps:
            if step.state == "failed":
                found.append(
                    Failure(f"wave {wave.name}, step {step.name}", step.message or "failed (see its log)")
                )
        if wave.state == "failed" and not any(
            failure.where.startswith(f"wave {wave.name},") for failure in found
        ):
            group = groups.get(wave.name, wave.name)
            for task in DRS_TASKS:
                task_id = f"{group}.{task}"
                if run.state_of(task_id) == "failed":
                    found.append(
                        Failure(f"wave {wave.name}, {task}", error_of(run, task_id) or "failed (see its log)")
                    )
    cleanup = report.get("cleanup") or {}
    if cleanup.get("state") == "failed":
        detail = error_of(run, CLEANUP_TASK) or ", ".join(cleanup.get("failed") or ()) or "see its log"
        found.append(Failure("cleanup", detail))
    unkept = report_failure(run, report)
    if unkept:
        found.append(Failure("report", unkept))
    return found


def approvals(
    run: RunRecord,
    shapes: Sequence[WaveShape],
    airflow_root: str,
    may_answer: Callable[[ApprovalRecord], bool],
) -> list[ApprovalRow]:
    """The approvals waiting for an answer that the user may give (``may_answer``)."""
    wave_of = {task_id: shape for shape in shapes for task_id in shape.task_ids}
    rows = []
    for task_id, approval in sorted(run.approvals.items()):
        if approval.answered or run.state_of(task_id) not in (AWAITING_INPUT, "deferred"):
            continue
        if not may_answer(approval):
            continue
        wave = wave_of.get(task_id)
        rows.append(
            ApprovalRow(
                task_id=task_id,
                wave=wave.name if wave else None,
                step=wave.step_name(task_id) if wave else task_id,
                subject=approval.subject,
                body=approval.body,
                options=approval.options,
                multiple=approval.multiple,
                map_index=approval.map_index,
                answer_url=(
                    f"{airflow_root}/api/v2/dags/{path_segment(run.dag_id)}/dagRuns/{path_segment(run.run_id)}"
                    f"/taskInstances/{path_segment(task_id)}/{approval.map_index}/hitlDetails"
                ),
            )
        )
    return rows
