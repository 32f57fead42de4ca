"""The final report of one run of ``make demo`` or ``make demo-failback``, from plain data.

What the run was (drill, recovery, failback: its ``conf``), its waves, its servers (for a failback,
where each came home and from which recovery instance), its run report and failed tasks. Like
:mod:`tools.demo_view`, nothing here talks to a server (``tests/unit/tools/test_demo*.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.constants import MODE_DRILL, MODE_FAILBACK
from drs_provider.recovery.failback import ON_PREMISES_ORIGIN
from tools.demo_view import WaveProgress, format_clock, format_seconds, parse_time, table

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: What a failback's server entry says where ``originRegion`` is empty.
ON_PREMISES_HOME = "on premises"


def is_failback(conf: Mapping[str, Any] | None) -> bool:
    return (conf or {}).get("mode") == MODE_FAILBACK


def run_label(conf: Mapping[str, Any] | None) -> str:
    """What the run was, from its ``conf``: ``Drill``, ``Recovery``, ``Failback`` or ``Failback drill``."""
    conf = conf or {}
    mode = str(conf.get("mode") or MODE_DRILL)  # the DAG's mode param defaults to a drill
    if is_failback(conf) and conf.get("failback_drill"):
        return "Failback drill"
    return mode.capitalize()


@dataclass
class DrillResult:
    """Everything the final report needs, collected after the run finished."""

    plan: str
    dag_id: str
    run: dict[str, Any]
    waves: list[WaveProgress]
    #: wave -> per-server results (the ``wait_for_recovery`` XCom shape, see DrsJobSensor).
    servers: dict[str, list[dict[str, Any]]]
    failed_tasks: list[str] = field(default_factory=list)
    #: failed task -> the exception its log ends with (see :func:`failure_reason`).
    failure_reasons: dict[str, str] = field(default_factory=dict)
    startup_seconds: float | None = None
    total_seconds: float | None = None
    #: the run report the ``report`` task returned (docs/reference/run-report.md), if it left one
    report: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.run.get("state") == "success"


def failure_reason(log_content: Sequence[Any]) -> str | None:
    """The exception a task log ends with (REST API v2 structured log entries), else its last error."""
    entries = [entry for entry in log_content if isinstance(entry, dict)]
    for entry in reversed(entries):
        for detail in reversed(entry.get("error_detail") or []):
            return f"{detail.get('exc_type')}: {detail.get('exc_value')}"
    for entry in reversed(entries):
        if entry.get("level") == "error":
            return str(entry.get("event"))
    return None


def instance_text(recovery_instance_id: str | None, ec2_instance_id: str | None) -> str:
    """A recovery instance, with its EC2 instance only where DRS reports a different ID."""
    if not recovery_instance_id:
        return "-"
    if ec2_instance_id and ec2_instance_id != recovery_instance_id:
        return f"{recovery_instance_id} (EC2 {ec2_instance_id})"
    return recovery_instance_id


def format_report(result: DrillResult) -> str:
    verdict = "SUCCEEDED" if result.succeeded else "FAILED"
    label = run_label(result.run.get("conf"))
    run_start = parse_time(result.run.get("start_date"))
    run_end = parse_time(result.run.get("end_date"))
    run_seconds = (run_end - run_start).total_seconds() if run_start and run_end else None
    lines = [
        f"{label} of plan '{result.plan}' {verdict}  ({result.dag_id}, run {result.run['dag_run_id']})",
        "",
        "Waves (times UTC):",
    ]
    wave_rows = [["wave", "state", "start", "end", "duration", "servers"]]
    for wave in result.waves:
        duration = (wave.ended - wave.started).total_seconds() if wave.started and wave.ended else None
        wave_rows.append(
            [
                wave.name,
                wave.state,
                format_clock(wave.started),
                format_clock(wave.ended),
                format_seconds(duration),
                wave.servers.describe(),
            ]
        )
    lines += table(wave_rows)
    lines += _server_lines(result, failback=is_failback(result.run.get("conf")))
    lines += _report_lines(result.report)
    if result.failed_tasks:
        lines += ["", "Failed tasks:"]
        for task_id in result.failed_tasks:
            reason = result.failure_reasons.get(task_id, "see its log")
            lines.append(f"  {task_id}: " + reason.replace("\n", "\n    "))
    timing = [f"{label.lower()} {format_seconds(run_seconds)} (run start to end)"]
    if result.startup_seconds is not None:
        timing.append(f"Airflow and simulator start-up {format_seconds(result.startup_seconds)}")
    if result.total_seconds is not None:
        timing.append(f"demo total {format_seconds(result.total_seconds)}")
    lines += ["", "Time: " + "; ".join(timing)]
    return "\n".join(lines)


def _server_lines(result: DrillResult, *, failback: bool) -> list[str]:
    """Each wave's servers as launched; a failback's with where each came home and from what."""
    header = ["wave", "server", "source server"]
    header += ["home", "home instance", "failed back from"] if failback else ["recovery instance"]
    rows = [[*header, "status"]]
    errors = []
    for wave in result.waves:
        for server in result.servers.get(wave.name, []):
            status = str(server.get("launchStatus") or "-")
            if server.get("optional"):
                status += " (optional)"
            row = [wave.name, str(server.get("hostname") or "-"), str(server["sourceServerID"])]
            if failback:
                row.append(home_text(server))
            row.append(instance_text(server.get("recoveryInstanceID"), server.get("ec2InstanceID")))
            if failback:
                row.append(str(server.get("failedBackFrom") or "-"))
            rows.append([*row, status])
            if server.get("rawError"):
                errors.append(f"  {server.get('hostname') or server['sourceServerID']}: {server['rawError']}")
    lines = ["", "Servers:", *table(rows)] if len(rows) > 1 else []
    return lines + (["", "Launch errors:", *errors] if errors else [])


def home_text(server: Mapping[str, Any]) -> str:
    """Where a failback entry came home: its origin region, on premises, or ``-`` (not judged)."""
    if server.get("originRegion"):
        return str(server["originRegion"])
    return ON_PREMISES_HOME if server.get("originEnvironment") == ON_PREMISES_ORIGIN else "-"


def _report_lines(report: Mapping[str, Any] | None) -> list[str]:
    """What the run report adds: each runbook step, the RTO against its target, the cleanup."""
    if not report:
        return []
    lines: list[str] = []
    step_rows = [["wave", "step", "kind", "state", "note"]]
    for wave in report.get("waves") or ():
        for step in wave.get("steps") or ():
            note = str(step.get("message") or "")
            step_rows.append([wave["name"], step["name"], step["kind"], step["state"], note[:70]])
    if len(step_rows) > 1:
        lines += ["", "Runbook steps:", *table(step_rows)]
    rto, target = report.get("rto_seconds"), report.get("rto_target")
    if rto is None:
        verdict = "not measured: a wave did not recover"
    elif target is None:
        verdict = f"{format_seconds(rto)} (no target set)"
    else:
        verdict = f"{format_seconds(rto)} against a target of {format_seconds(float(target))}: " + (
            "met" if report.get("rto_met") else "MISSED"
        )
    lines += ["", f"RTO (preflight start to the last wave's last task): {verdict}"]
    cleanup = report.get("cleanup")
    if cleanup:
        if cleanup.get("state") == "skipped":
            lines.append(f"Cleanup: skipped: {cleanup.get('reason') or 'see its log'}")
        else:
            terminated = len(cleanup.get("terminated") or ())
            failed = cleanup.get("failed") or ()
            text = f"Cleanup: {cleanup.get('state')}, terminated {terminated} recovery instance(s)"
            lines.append(text + (f"; still there: {', '.join(failed)}" if failed else ""))
    if report.get("location"):
        lines.append(f"Report stored at {report['location']}")
    return lines
