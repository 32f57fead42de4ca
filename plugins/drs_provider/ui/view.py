"""What the run page shows: one view model, built from a run report and the DAG's shape.

The report is the run's stored ``report`` XCom when there is one, else the same document
derived live (:func:`drs_provider.ui.live_report.run_report`); either way this module turns it
into rows, badges, the timeline and links, so both kinds of run look the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from drs_provider.recovery.report import (
    ACTIVE_STATES,
    AWAITING_INPUT,
    CLEANUP_TASK,
    FINISHED_STATES,
    PREFLIGHT_TASK,
    WaveShape,
    step_kind,
    wave_depths,
)
from drs_provider.ui.addresses import run_tab_path
from drs_provider.ui.timeline import Timeline, TimelineRow, Trend, TrendPoint, draw_timeline, draw_trend

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.recovery.report import RunRecord
    from drs_provider.ui.airflow_source import PlanSummary, RunSummary

#: Badge (CSS class) of each task state and DRS launch status.
BADGES: dict[str, str] = {
    "success": "ok",
    "LAUNCHED": "ok",
    "failed": "bad",
    "upstream_failed": "bad",
    "FAILED": "bad",
    "TERMINATED": "bad",
    AWAITING_INPUT: "ask",
    "skipped": "skip",
    "removed": "skip",
    "PENDING": "run",
    "IN_PROGRESS": "run",
    **dict.fromkeys(ACTIVE_STATES, "run"),
}
#: How a state reads on the page where Airflow's word is not what a person expects.
STATE_WORDS: dict[str, str] = {
    "success": "succeeded",
    "upstream_failed": "not run (upstream failed)",
    AWAITING_INPUT: "awaiting approval",
    "skipped": "skipped",
    "pending": "waiting",
    "queued": "queued",
}
#: Where a task-level error comes from in a failed wave whose servers do not explain it.
DRS_TASKS = ("start_recovery", "wait_for_recovery")


def badge(state: str | None) -> str:
    return BADGES.get(state or "", "none")


def state_word(state: str | None) -> str:
    return STATE_WORDS.get(state or "pending", (state or "waiting").replace("_", " "))


def format_duration(seconds: float | None) -> str:
    """``45.2s``, ``3m05s``, ``1h02m``; ``-`` for none."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m{rest:02d}s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _path(value: str) -> str:
    return quote(value, safe="")


class ConsoleLinks:
    """AWS console pages of DRS (jobs, source servers), in the region the run's jobs ran in.

    The region and domain are what the wave's ``start_recovery`` kept for its extra link
    (XCom ``drs_job``); the URL formats are the provider's own links'.
    """

    def __init__(self, region_name: str, aws_domain: str | None) -> None:
        self.region_name = region_name
        self.aws_domain = aws_domain or "aws.amazon.com"

    def _format(self, link: Any, **kwargs: str) -> str:
        return str(link.format_link(region_name=self.region_name, aws_domain=self.aws_domain, **kwargs))

    def job(self, job_id: str) -> str:
        from drs_provider.links.drs import DrsJobLink

        return self._format(DrsJobLink(), job_id=job_id)

    def source_server(self, source_server_id: str = "") -> str:
        from drs_provider.links.drs import DrsSourceServerLink

        return self._format(DrsSourceServerLink(), source_server_id=source_server_id)

    @classmethod
    def from_run(cls, run: RunRecord, waves: Sequence[WaveShape]) -> ConsoleLinks | None:
        for shape in waves:
            stored = run.xcom(shape.start_task, "drs_job")
            if isinstance(stored, dict) and stored.get("region_name"):
                return cls(str(stored["region_name"]), stored.get("aws_domain"))
        return None


@dataclass(frozen=True)
class ServerRow:
    wave: str
    source_server_id: str
    hostname: str | None
    recovery_instance_id: str | None
    ec2_instance_id: str | None
    status: str
    badge: str
    optional: bool
    error: str | None
    job_id: str | None
    console_url: str | None


@dataclass(frozen=True)
class StepRow:
    name: str
    task_id: str
    kind: str
    state: str
    state_text: str
    badge: str
    started: datetime | None
    ended: datetime | None
    message: str | None


@dataclass(frozen=True)
class JobLink:
    job_id: str
    url: str | None


@dataclass(frozen=True)
class WaveRow:
    name: str
    step: int
    depends_on: tuple[str, ...]
    state: str
    state_text: str
    badge: str
    started: datetime | None
    ended: datetime | None
    duration: str
    jobs: tuple[JobLink, ...]
    servers: tuple[ServerRow, ...]
    steps: tuple[StepRow, ...]

    @property
    def launched(self) -> int:
        return sum(1 for server in self.servers if server.status == "LAUNCHED")


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


@dataclass(frozen=True)
class RtoView:
    seconds: float | None
    target: float | None
    met: bool | None
    #: seconds since the run started, while it is going
    elapsed: float | None
    text: str
    badge: str


@dataclass(frozen=True)
class CleanupView:
    state: str
    state_text: str
    badge: str
    terminated: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class RunView:
    dag_id: str
    run_id: str
    plan: str
    mode: str
    state: str
    state_text: str
    badge: str
    finished: bool
    #: ``report``: the run's stored report; ``live``: derived from its tasks and XComs
    source: str
    started: datetime | None
    ended: datetime | None
    rto: RtoView
    waves: tuple[WaveRow, ...]
    approvals: tuple[ApprovalRow, ...]
    failures: tuple[Failure, ...]
    cleanup: CleanupView | None
    preflight: StepRow | None
    timeline: Timeline
    console_url: str | None
    airflow_run_url: str
    refreshed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def servers(self) -> tuple[ServerRow, ...]:
        return tuple(server for wave in self.waves for server in wave.servers)

    @property
    def steps(self) -> tuple[StepRow, ...]:
        return tuple(step for wave in self.waves for step in wave.steps)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO-8601), without the drawing."""
        data = jsonable(self)
        data.pop("timeline", None)
        return data


def jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _server_row(
    wave: str, wave_finished: bool, server: Mapping[str, Any], console: ConsoleLinks | None
) -> ServerRow:
    server_id = str(server.get("sourceServerID") or "")
    status = server.get("launchStatus")
    no_status = "not launched" if wave_finished else "not launched yet"
    return ServerRow(
        wave=wave,
        source_server_id=server_id,
        hostname=server.get("hostname"),
        recovery_instance_id=server.get("recoveryInstanceID"),
        ec2_instance_id=server.get("ec2InstanceID"),
        status=str(status) if status else no_status,
        badge=badge(status),
        optional=bool(server.get("optional")),
        error=server.get("rawError"),
        job_id=server.get("jobID"),
        console_url=console.source_server(server_id) if console and server_id else None,
    )


def _step_row(step: Mapping[str, Any]) -> StepRow:
    state = str(step.get("state") or "pending")
    return StepRow(
        name=str(step.get("name")),
        task_id=str(step.get("task_id") or step.get("name")),
        kind=str(step.get("kind") or "task"),
        state=state,
        state_text=state_word(state),
        badge=badge(state),
        started=parse_time(step.get("started")),
        ended=parse_time(step.get("ended")),
        message=step.get("message"),
    )


def _wave_rows(
    report: Mapping[str, Any],
    shapes: Sequence[WaveShape],
    depths: Mapping[str, int],
    console: ConsoleLinks | None,
) -> list[WaveRow]:
    by_name = {shape.name: shape for shape in shapes}
    rows = []
    for wave in report.get("waves") or []:
        name = str(wave.get("name"))
        state = str(wave.get("state") or "pending")
        started, ended = parse_time(wave.get("started")), parse_time(wave.get("ended"))
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
                    _server_row(name, state in FINISHED_STATES, server, console)
                    for server in wave.get("servers") or ()
                ),
                steps=tuple(_step_row(step) for step in wave.get("steps") or ()),
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


def _failures(run: RunRecord, report: Mapping[str, Any], waves: Sequence[WaveRow]) -> list[Failure]:
    found: list[Failure] = []
    if run.state_of(PREFLIGHT_TASK) == "failed":
        found.append(Failure("preflight", run.errors.get(PREFLIGHT_TASK) or "preflight failed (see its log)"))
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
            for task in DRS_TASKS:
                task_id = f"{wave.name}.{task}"
                if run.state_of(task_id) == "failed":
                    found.append(
                        Failure(
                            f"wave {wave.name}, {task}", run.errors.get(task_id) or "failed (see its log)"
                        )
                    )
    cleanup = report.get("cleanup") or {}
    if cleanup.get("state") == "failed":
        detail = run.errors.get(CLEANUP_TASK) or ", ".join(cleanup.get("failed") or ()) or "see its log"
        found.append(Failure("cleanup", detail))
    return found


def _approvals(run: RunRecord, shapes: Sequence[WaveShape], airflow_root: str) -> list[ApprovalRow]:
    wave_of = {task_id: shape.name for shape in shapes for task_id in shape.task_ids}
    rows = []
    for task_id, approval in sorted(run.approvals.items()):
        if approval.answered or run.state_of(task_id) not in (AWAITING_INPUT, "deferred"):
            continue
        wave = wave_of.get(task_id)
        rows.append(
            ApprovalRow(
                task_id=task_id,
                wave=wave,
                step=task_id.removeprefix(f"{wave}.") if wave else task_id,
                subject=approval.subject,
                body=approval.body,
                options=approval.options,
                multiple=approval.multiple,
                map_index=approval.map_index,
                answer_url=(
                    f"{airflow_root}/api/v2/dags/{_path(run.dag_id)}/dagRuns/{_path(run.run_id)}"
                    f"/taskInstances/{_path(task_id)}/{approval.map_index}/hitlDetails"
                ),
            )
        )
    return rows


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
            "message": run.errors.get(task_id),
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


def build_run_view(
    run: RunRecord,
    report: Mapping[str, Any],
    *,
    source: str,
    airflow_root: str = "",
    now: datetime | None = None,
) -> RunView:
    """The run page's content for ``run`` from its ``report`` (stored or derived live)."""
    now = now or datetime.now(UTC)
    state = str(report.get("state") or run.state or "queued")
    finished = state in ("success", "failed")
    console = ConsoleLinks.from_run(run, run.waves)
    depths = wave_depths(run.waves, run.dag_id)
    waves = _wave_rows(report, run.waves, depths, console)
    started = parse_time(report.get("started")) or run.start_date
    preflight = _task_step(run, PREFLIGHT_TASK)
    origin = preflight.started if preflight and preflight.started else started
    cleanup = report.get("cleanup")
    target = report.get("rto_target")
    return RunView(
        dag_id=run.dag_id,
        run_id=run.run_id,
        plan=str(report.get("plan") or run.dag_id),
        mode=str(report.get("mode") or "drill"),
        state=state,
        state_text=state_word(state),
        badge=badge(state),
        finished=finished,
        source=source,
        started=started,
        ended=parse_time(report.get("ended")),
        rto=_rto(report, waves, origin, finished, now),
        waves=tuple(waves),
        approvals=tuple(_approvals(run, run.waves, airflow_root)),
        failures=tuple(_failures(run, report, waves)),
        cleanup=None
        if not cleanup
        else CleanupView(
            state=str(cleanup.get("state")),
            state_text=state_word(cleanup.get("state")),
            badge=badge(cleanup.get("state")),
            terminated=tuple(cleanup.get("terminated") or ()),
            failed=tuple(cleanup.get("failed") or ()),
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
        airflow_run_url=f"{airflow_root}/dags/{_path(run.dag_id)}/runs/{_path(run.run_id)}",
        refreshed_at=now,
    )


# -- the plans page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    """One plan on the plans page: its waves by step, its last run and the trend of its runs."""

    plan: PlanSummary
    #: ``(step, wave names)``, step 1 first
    steps: tuple[tuple[int, tuple[str, ...]], ...]
    last: RunSummary | None
    last_url: str | None
    trend: Trend
    rto_target: float | None
    dag_url: str


def plan_rows(plans: Sequence[PlanSummary], airflow_root: str = "", slots: int = 10) -> list[PlanRow]:
    rows = []
    for plan in plans:
        target = next((run.rto_target for run in plan.runs if run.rto_target is not None), None)
        points = [
            TrendPoint(
                state=run.state,
                rto_seconds=run.rto_seconds,
                title=f"{run.run_id}: {state_word(run.state)}, RTO {format_duration(run.rto_seconds)}",
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
                dag_url=f"{airflow_root}/dags/{_path(plan.dag_id)}",
            )
        )
    return rows
