"""What ``make demo`` shows while a run goes: each wave's progress, from plain data.

Everything here takes what the REST API v2 and DRS return (dag runs, task instances, XComs,
DescribeJobs items) and turns it into lines of text; nothing here talks to a server, so the
view is tested on recorded data (``tests/unit/tools/test_demo.py``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from drs_provider.constants import (
    PREFLIGHT_TASK_ID,
    START_RECOVERY_TASK,
    WAIT_FOR_RECOVERY_TASK,
    wave_task_id,
)
from drs_provider.recovery.outcome import LAUNCH_FAILURE_STATES, LAUNCH_SUCCESS_STATES
from drs_provider.recovery.times import parse_time as parse_iso_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: Task instance states in which a task is on its way but not finished.
ACTIVE_TASK_STATES = frozenset(
    {"scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule", "restarting"}
)
AWAITING_INPUT = "awaiting_input"
#: States of a task that will not run because something upstream failed.
NOT_RUN_TASK_STATES = frozenset({"upstream_failed", "skipped", "removed"})


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time from the REST API (``...Z`` or ``+00:00``), aware; None when absent."""
    return parse_iso_time(value) if value else None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def format_clock(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S") if moment else "-"


def start_task(wave: str) -> str:
    return wave_task_id(wave, START_RECOVERY_TASK)


def wait_task(wave: str) -> str:
    return wave_task_id(wave, WAIT_FOR_RECOVERY_TASK)


def preflight_state(state: str | None) -> str:
    """One word for the preflight task (it checks every server before any wave starts)."""
    if state == "success":
        return "passed"
    if state == "failed":
        return "failed"
    if state in ACTIVE_TASK_STATES:
        return "checking"
    return "waiting"


def wave_state(
    start_state: str | None,
    wait_state: str | None,
    pre_states: Sequence[str | None] = (),
    post_states: Sequence[str | None] = (),
) -> str:
    """Where a wave is, from the states of its tasks: its steps before, its two DRS tasks, its steps after."""
    every = [*pre_states, start_state, wait_state, *post_states]
    if "failed" in every:
        return "failed"
    if wait_state == "success":
        return "recovered" if all(state == "success" for state in post_states) else "after steps"
    if start_state in NOT_RUN_TASK_STATES or wait_state in NOT_RUN_TASK_STATES:
        return "not run"
    if start_state == "success":
        return "recovering"
    if start_state in ACTIVE_TASK_STATES:
        return "starting"
    if AWAITING_INPUT in pre_states:
        return "awaiting approval"
    if any(state in ACTIVE_TASK_STATES or state == "success" for state in pre_states):
        return "before steps"
    return "waiting"


#: A failback wave's words where they differ: ``start_recovery`` waits (deferred) for each server's
#: copy back to its origin before it launches there, which is most of a failback's time.
FAILBACK_WORDS = {"recovering": "launching home", "recovered": "home"}
COPYING_BACK = "copying back"


def failback_wave_state(state: str, start_state: str | None) -> str:
    """``state`` (:func:`wave_state`) as a failback wave's: where its servers are on their way home."""
    if state == "starting" and start_state == "deferred":
        return COPYING_BACK
    return FAILBACK_WORDS.get(state, state)


def step_counts(states: Sequence[str | None]) -> str:
    """``1/2 done`` for a wave's runbook steps, ``-`` when it has none.

    A skipped step (a gate limited to the other mode, say) is left out of the count and named
    apart, so a drill's progress never waits for a recovery-only approval.
    """
    if not states:
        return "-"
    skipped = sum(state == "skipped" for state in states)
    done = sum(state == "success" for state in states)
    text = f"{done}/{len(states) - skipped} done"
    return f"{text}, {skipped} skipped" if skipped else text


@dataclass(frozen=True)
class ServerCounts:
    """Servers of a wave's DRS jobs by launch status."""

    launched: int = 0
    failed: int = 0
    total: int = 0

    def describe(self) -> str:
        if not self.total:
            return "-"
        text = f"{self.launched}/{self.total} launched"
        return f"{text}, {self.failed} failed" if self.failed else text


def server_counts(jobs: Iterable[Mapping[str, Any]]) -> ServerCounts:
    """Count the participating servers of DRS jobs (DescribeJobs items) by launch status."""
    statuses = [
        server.get("launchStatus", "PENDING")
        for job in jobs
        for server in job.get("participatingServers", [])
    ]
    return ServerCounts(
        launched=sum(status in LAUNCH_SUCCESS_STATES for status in statuses),
        failed=sum(status in LAUNCH_FAILURE_STATES for status in statuses),
        total=len(statuses),
    )


@dataclass(frozen=True)
class WaveProgress:
    """Where one wave stands at one moment."""

    name: str
    state: str
    servers: ServerCounts
    started: datetime | None
    ended: datetime | None
    #: the wave's runbook steps, ``1/2 done``
    steps: str = "-"

    def elapsed(self, now: datetime) -> float | None:
        if self.started is None:
            return None
        return ((self.ended or now) - self.started).total_seconds()


def wave_progress(
    waves: Sequence[str],
    task_instances: Sequence[Mapping[str, Any]],
    jobs_by_wave: Mapping[str, Sequence[Mapping[str, Any]]],
    steps: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
    *,
    failback: bool = False,
) -> list[WaveProgress]:
    """Preflight, then each wave: progress from the run's task instances (REST shape) and DRS jobs.

    :param steps: per wave, the task IDs of its steps before and after its recovery
    :param failback: name the waves' states as a failback's (:func:`failback_wave_state`)
    """
    by_task = {ti["task_id"]: ti for ti in task_instances}
    preflight = by_task.get(PREFLIGHT_TASK_ID, {})
    preflight_word = preflight_state(preflight.get("state"))
    progress = [
        WaveProgress(
            name=PREFLIGHT_TASK_ID,
            state=preflight_word,
            servers=ServerCounts(),
            started=parse_time(preflight.get("start_date")),
            ended=parse_time(preflight.get("end_date")) if preflight_word in ("passed", "failed") else None,
        )
    ]
    for wave in waves:
        start = by_task.get(start_task(wave), {})
        wait = by_task.get(wait_task(wave), {})
        pre_ids, post_ids = (steps or {}).get(wave, ((), ()))
        pre = [by_task.get(task_id, {"task_id": task_id, "state": None}) for task_id in pre_ids]
        post = [by_task.get(task_id, {"task_id": task_id, "state": None}) for task_id in post_ids]
        group = [*pre, start, wait, *post]
        state = wave_state(
            start.get("state"), wait.get("state"), [ti["state"] for ti in pre], [ti["state"] for ti in post]
        )
        ran = [ti for ti in group if ti.get("state") not in NOT_RUN_TASK_STATES]
        end_dates = [parse_time(ti.get("end_date")) for ti in ran]
        finished = state in ("recovered", "failed")
        ended = max((moment for moment in end_dates if moment), default=None) if finished else None
        started = min((moment for ti in ran if (moment := parse_time(ti.get("start_date")))), default=None)
        progress.append(
            WaveProgress(
                name=wave,
                state=failback_wave_state(state, start.get("state")) if failback else state,
                servers=server_counts(jobs_by_wave.get(wave, ())),
                # Airflow stamps a start on tasks it marks upstream_failed; they never ran.
                started=started if state != "not run" else None,
                ended=ended,
                steps=step_counts([ti["state"] for ti in (*pre, *post)]),
            )
        )
    return progress


def table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def format_progress(
    dag_id: str, run: Mapping[str, Any], progress: Sequence[WaveProgress], now: datetime
) -> list[str]:
    """The live view: a header line for the run, then one line per wave."""
    started = parse_time(run.get("start_date")) or parse_time(run.get("queued_at"))
    elapsed = (now - started).total_seconds() if started else None
    lines = [f"{dag_id}  {run['state']}  {format_seconds(elapsed)}  run {run['dag_run_id']}"]
    rows = [["wave", "state", "servers", "steps", "elapsed"]]
    rows += [
        [wave.name, wave.state, wave.servers.describe(), wave.steps, format_seconds(wave.elapsed(now))]
        for wave in progress
    ]
    return lines + table(rows)


def progress_line(wave: WaveProgress, since_trigger: float) -> str:
    """One line for logs and pipes, printed when a wave changes."""
    steps = f", steps {wave.steps}" if wave.steps != "-" else ""
    servers = wave.servers.describe()
    return f"[{format_seconds(since_trigger):>6}] {wave.name}: {wave.state}, servers {servers}{steps}"


# -- the live view -----------------------------------------------------------------------------


class ProgressView:
    """Redraws the progress block in place on a terminal; prints changed waves otherwise."""

    def __init__(self, out: TextIO, *, interactive: bool, width: int | None = None) -> None:
        self.out = out
        self.interactive = interactive
        # Lines wider than the terminal would wrap and throw off the redraw.
        self.width = width or shutil.get_terminal_size().columns
        self._drawn_lines = 0
        self._last: dict[str, tuple[str, ServerCounts, str]] = {}

    def show(
        self, dag_id: str, run: Mapping[str, Any], progress: Sequence[WaveProgress], since: float
    ) -> None:
        now = datetime.now(UTC)
        if self.interactive:
            lines = [line[: self.width - 1] for line in format_progress(dag_id, run, progress, now)]
            if self._drawn_lines:
                # Cursor up over the previous block, then clear to the end of the screen.
                self.out.write(f"\x1b[{self._drawn_lines}F\x1b[J")
            self.out.write("\n".join(lines) + "\n")
            self._drawn_lines = len(lines)
        else:
            for wave in progress:
                key = (wave.state, wave.servers, wave.steps)
                if self._last.get(wave.name) != key:
                    self._last[wave.name] = key
                    self.out.write(progress_line(wave, since) + "\n")
        self.out.flush()
