"""What the run page shows: one view model, built from a run report and the DAG's shape.

The report is the run's stored ``report`` XCom when there is one, else the same document
derived live (:func:`drs_provider.ui.live_report.run_report`); either way this module turns it
into rows, badges, the timeline and links, so both kinds of run look the same. What asks for a
person (failures, approvals) is in :mod:`~drs_provider.ui.attention`, the plans page in
:mod:`~drs_provider.ui.plans_view`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.report import error_of, triggered_by
from drs_provider.recovery.run_record import (
    CLEANUP_TASK,
    FINISHED_STATES,
    PREFLIGHT_TASK,
    REPORT_TASK,
    WaveShape,
    step_kind,
)
from drs_provider.recovery.times import format_duration, parse_time
from drs_provider.recovery.wave_shapes import wave_depths
from drs_provider.ui.addresses import report_page_path
from drs_provider.ui.attention import approvals, failures, report_failure
from drs_provider.ui.console import ConsoleLinks
from drs_provider.ui.failback_rows import mode_text
from drs_provider.ui.format import (
    badge,
    path_segment,
    state_word,
)
from drs_provider.ui.run_rows import (
    CleanupView,
    JobLink,
    ReportView,
    RtoView,
    RunView,
    ServerRow,
    StepRow,
    TerminateView,
    WaveRow,
)
from drs_provider.ui.timeline import Timeline, TimelineRow, draw_timeline

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from drs_provider.recovery.run_record import ApprovalRecord, RunRecord


def _server_row(
    wave: str,
    wave_finished: bool,
    server: Mapping[str, Any],
    console: ConsoleLinks | None,
    hostnames: Mapping[str, str] | None = None,
) -> ServerRow:
    server_id = str(server.get("sourceServerID") or "")
    status = server.get("launchStatus")
    no_status = "not launched" if wave_finished else "not launched yet"
    return ServerRow(
        wave=wave,
        source_server_id=server_id,
        # a result without one (a job log's entry) still gets the hostname preflight resolved
        hostname=server.get("hostname") or (hostnames or {}).get(server_id),
        recovery_instance_id=server.get("recoveryInstanceID"),
        ec2_instance_id=server.get("ec2InstanceID"),
        status=str(status) if status else no_status,
        badge=badge(status),
        optional=bool(server.get("optional")),
        error=server.get("rawError"),
        job_id=server.get("jobID"),
        console_url=console.source_server(server_id) if console and server_id else None,
    )


def _report_time(value: Any) -> datetime | None:
    """A time of the report (ISO-8601 text, as the report writes it) as an aware datetime, read by
    :func:`drs_provider.recovery.times.parse_time` (no zone means UTC); a datetime as it is; None for
    none."""
    if isinstance(value, datetime):
        return value
    return parse_time(str(value)) if value else None


def _step_row(step: Mapping[str, Any]) -> StepRow:
    state = str(step.get("state") or "pending")
    return StepRow(
        name=str(step.get("name")),
        task_id=str(step.get("task_id") or step.get("name")),
        kind=str(step.get("kind") or "task"),
        state=state,
        state_text=state_word(state),
        badge=badge(state),
        started=_report_time(step.get("started")),
        ended=_report_time(step.get("ended")),
        message=step.get("message"),
    )


def _wave_rows(
    report: Mapping[str, Any],
    shapes: Sequence[WaveShape],
    depths: Mapping[str, int],
    consoles: Mapping[str, ConsoleLinks],
    hostnames: Mapping[str, str] | None = None,
) -> list[WaveRow]:
    by_name = {shape.name: shape for shape in shapes}
    rows = []
    for wave in report.get("waves") or []:
        name = str(wave.get("name"))
        console = consoles.get(name)
        state = str(wave.get("state") or "pending")
        started, ended = _report_time(wave.get("started")), _report_time(wave.get("ended"))
        duration = wave.get("duration_seconds")
        shape = by_name.get(name)
        rows.append(
            WaveRow(
                name=name,
                step=depths.get(name, 1),
                depends_on=shape.depends_on if shape else (),
                state=state,
                state_text=state_word(state),
                badge=badge(state),
                started=started,
                ended=ended,
                duration=format_duration(duration),
                jobs=tuple(
                    JobLink(str(job_id), console.job(str(job_id)) if console else None)
                    for job_id in wave.get("job_ids") or ()
                ),
                servers=tuple(
                    _server_row(name, state in FINISHED_STATES, server, console, hostnames)
                    for server in wave.get("servers") or ()
                ),
                steps=tuple(_step_row(step) for step in wave.get("steps") or ()),
                waiting_for=wave.get("waiting_for"),
            )
        )
    return sorted(rows, key=lambda row: row.step)


def _rto(
    report: Mapping[str, Any],
    waves: Sequence[WaveRow],
    started: datetime | None,
    finished: bool,
    now: datetime,
) -> RtoView:
    seconds = report.get("rto_seconds")
    target = report.get("rto_target")
    met = report.get("rto_met")
    target_text = f" (target {format_duration(float(target))})" if target is not None else " (no target set)"
    elapsed = None
    if not finished:
        elapsed = (now - started).total_seconds() if started else None
        over = target is not None and elapsed is not None and elapsed > float(target)
        text = f"running for {format_duration(elapsed)}{target_text}"
        return RtoView(
            None,
            target,
            False if over else None,
            elapsed,
            text + (": target exceeded" if over else ""),
            "bad" if over else "run",
        )
    if seconds is None:
        failed = [wave.name for wave in waves if wave.state == "failed"]
        reason = f"wave {', '.join(failed)} failed" if failed else "no wave recovered"
        return RtoView(
            None, target, False if target is not None else None, None, f"no RTO: {reason}{target_text}", "bad"
        )
    verdict = "" if met is None else (": target met" if met else ": target missed")
    return RtoView(
        float(seconds),
        target,
        met,
        None,
        f"{format_duration(float(seconds))}{target_text}{verdict}",
        "bad" if met is False else "ok",
    )


def _report(run: RunRecord, report: Mapping[str, Any]) -> ReportView:
    location = report.get("location")
    if location:
        return ReportView(True, "stored", "ok", location=str(location))
    unkept = report_failure(run, report)
    if unkept:
        note = "the report is still the report task's XCom and in its log"
        return ReportView(False, "NOT stored", "bad", error=unkept, note=note)
    if run.state_of(REPORT_TASK) == "success":
        return ReportView(
            None, "in Airflow only", "none", note="the report task's XCom: the plan names no S3"
        )
    return ReportView(None, "at the end of the run", "none")


def _task_step(run: RunRecord, task_id: str) -> StepRow | None:
    task = run.tasks.get(task_id)
    if task is None:
        return None
    return _step_row(
        {
            "name": task_id,
            "task_id": task_id,
            "kind": step_kind(task_id, task.operator),
            "state": task.state,
            "started": task.start_date,
            "ended": task.end_date,
            "message": error_of(run, task_id),
        }
    )


def _timeline(
    view_waves: Sequence[WaveRow],
    preflight: StepRow | None,
    cleanup: StepRow | None,
    origin: datetime | None,
    target: float | None,
    now: datetime,
) -> Timeline:
    rows = []
    if preflight is not None:
        rows.append(TimelineRow("preflight", "checks", preflight.state, preflight.started, preflight.ended))
    for wave in view_waves:
        servers = f"{wave.launched}/{len(wave.servers)} launched" if wave.servers else ""
        rows.append(
            TimelineRow(wave.name, f"step {wave.step}", wave.state, wave.started, wave.ended, servers)
        )
    if cleanup is not None:
        rows.append(TimelineRow("cleanup", "lifecycle", cleanup.state, cleanup.started, cleanup.ended))
    return draw_timeline(rows, origin=origin, now=now, target_seconds=target)


def resolved_hostnames(run: RunRecord) -> dict[str, str]:
    """Source server ID -> hostname, as preflight resolved them for every wave of the run."""
    resolved = run.xcom(PREFLIGHT_TASK)
    waves = resolved.get("waves") if isinstance(resolved, dict) else None
    found: dict[str, str] = {}
    for wave in (waves or {}).values():
        if isinstance(wave, dict):
            found.update({str(k): str(v) for k, v in (wave.get("hostnames") or {}).items() if v})
    return found


def _instance_hostnames(waves: Sequence[WaveRow]) -> dict[str, str]:
    """Recovery and EC2 instance ID -> the hostname of the server it recovered."""
    found: dict[str, str] = {}
    for server in (server for wave in waves for server in wave.servers):
        if server.hostname:
            for instance in (server.recovery_instance_id, server.ec2_instance_id):
                if instance:
                    found[instance] = server.hostname
    return found


def build_run_view(
    run: RunRecord,
    report: Mapping[str, Any],
    *,
    source: str,
    may_answer: Callable[[ApprovalRecord], bool],
    airflow_root: str = "",
    now: datetime | None = None,
    terminate_url: str | None = None,
) -> RunView:
    """The run page's content for ``run`` from its ``report`` (stored or derived live); the
    approvals waiting are those the user ``may_answer``; the terminate action only with
    ``terminate_url`` (the user may act on the run)."""
    now = now or datetime.now(UTC)
    state = str(report.get("state") or run.state or "queued")
    finished = state in ("success", "failed")
    consoles = ConsoleLinks.per_wave(run, run.waves)
    console = next(iter(consoles.values()), None)
    depths = wave_depths(run.waves, run.dag_id)
    waves = _wave_rows(report, run.waves, depths, consoles, resolved_hostnames(run))
    started = _report_time(report.get("started")) or run.start_date
    preflight = _task_step(run, PREFLIGHT_TASK)
    origin = preflight.started if preflight and preflight.started else started
    cleanup = report.get("cleanup")
    target = report.get("rto_target")
    mode = str(report.get("mode") or "drill")
    return RunView(
        dag_id=run.dag_id,
        run_id=run.run_id,
        plan=str(report.get("plan") or run.dag_id),
        mode=mode,
        mode_text=mode_text(mode, run),
        state=state,
        state_text=state_word(state),
        badge=badge(state),
        finished=finished,
        source=source,
        started=started,
        ended=_report_time(report.get("ended")),
        rto=_rto(report, waves, origin, finished, now),
        waves=tuple(waves),
        approvals=tuple(approvals(run, run.waves, airflow_root, may_answer)),
        failures=tuple(failures(run, report, waves)),
        cleanup=None
        if not cleanup
        else CleanupView(
            state=str(cleanup.get("state")),
            state_text=state_word(cleanup.get("state")),
            badge=badge(cleanup.get("state")),
            terminated=tuple(cleanup.get("terminated") or ()),
            failed=tuple(cleanup.get("failed") or ()),
            hostnames={
                instance: hostname
                for instance, hostname in _instance_hostnames(waves).items()
                if instance in (*(cleanup.get("terminated") or ()), *(cleanup.get("failed") or ()))
            },
            terminating=tuple(cleanup.get("terminating") or ()),
            requested_by=cleanup.get("requested_by"),
            requested_at=_report_time(cleanup.get("requested_at")),
        ),
        report=replace(
            _report(run, report), page_url=f"{airflow_root}{report_page_path(run.dag_id, run.run_id)}"
        ),
        preflight=preflight,
        timeline=_timeline(
            waves,
            preflight,
            _task_step(run, CLEANUP_TASK),
            origin,
            float(target) if target is not None else None,
            now,
        ),
        console_url=console.source_server() if console else None,
        airflow_run_url=f"{airflow_root}/dags/{path_segment(run.dag_id)}/runs/{path_segment(run.run_id)}",
        triggered_by=run.triggered_by,
        triggered_by_text=triggered_by(run.triggered_by, run.run_type),
        refreshed_at=now,
        terminate=_terminate(run, report, finished, terminate_url),
    )


def _terminate(
    run: RunRecord, report: Mapping[str, Any], finished: bool, url: str | None
) -> TerminateView | None:
    """The terminate action for a finished drill whose report does not list every instance it
    launched as terminated (DRS decides, when the action runs, which of them may go)."""
    if url is None or not finished or report.get("mode", "drill") != "drill":
        return None
    if run.xcom(PREFLIGHT_TASK) is None:
        return None  # preflight did not pass: nothing was launched
    cleanup = report.get("cleanup") or {}
    terminated = set(cleanup.get("terminated") or ())
    launched = [
        str(server["recoveryInstanceID"])
        for wave in report.get("waves") or ()
        for server in wave.get("servers") or ()
        if server.get("recoveryInstanceID")
    ]
    instances = tuple(dict.fromkeys(i for i in launched if i not in terminated))
    return TerminateView(url=url, confirm=run.run_id, instances=instances) if instances else None
