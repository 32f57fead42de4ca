"""The run page's view model: its rows and cards as plain data, built by :mod:`drs_provider.ui.view`.

The templates and the JSON endpoint read these; nothing here reads Airflow or a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.ui.format import jsonable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.ui.attention import ApprovalRow, Failure
    from drs_provider.ui.failback_rows import FailbackRow, FailbackView
    from drs_provider.ui.timeline import Timeline


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
    #: a failback run's: where the server came from and how far it is on its way home
    failback: FailbackRow | None = None


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
    #: why the wave's launch waits (``waiting for DRS capacity: ...``), while it does
    waiting_for: str | None = None

    @property
    def launched(self) -> int:
        return sum(1 for server in self.servers if server.status == "LAUNCHED")


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
    #: recovery instance ID -> the hostname of the source server it recovered (where known)
    hostnames: Mapping[str, str] = field(default_factory=dict)
    #: still terminating when the Recovery view's action stopped waiting for DRS
    terminating: tuple[str, ...] = ()
    #: who terminated the instances from the Recovery view, and when (None: the cleanup task did)
    requested_by: str | None = None
    requested_at: datetime | None = None


@dataclass(frozen=True)
class TerminateView:
    """The "Terminate this drill's instances" action, offered on a finished drill to a user who may
    act on its runs, while instances it launched may still run."""

    #: where the page posts ``{"confirm": run_id}``
    url: str
    #: what the page asks the user to confirm with: the run's id
    confirm: str
    #: the recovery instances the run launched that its report does not list as terminated
    instances: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    """Where the run's report is kept: its S3 object, or why it is not there."""

    #: None while the run goes on, and for a plan that keeps its reports in Airflow only
    stored: bool | None
    text: str
    badge: str
    location: str | None = None
    error: str | None = None
    note: str | None = None
    #: the report as a self-contained HTML page, to download
    page_url: str | None = None


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
    report: ReportView
    preflight: StepRow | None
    timeline: Timeline
    console_url: str | None
    airflow_run_url: str
    #: the user who triggered the run, as Airflow recorded it (None: nobody, e.g. the schedule)
    triggered_by: str | None = None
    #: who started the run, for people ("alice", "the schedule")
    triggered_by_text: str = "nobody recorded"
    refreshed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: the terminate action, when the page offers it
    terminate: TerminateView | None = None
    #: the mode for people: ``failback drill`` for a rehearsed failback
    mode_text: str = ""
    #: a failback run's: a rehearsal or not, and when DRS was read
    failback: FailbackView | None = None

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
