"""The run page of a failback: where each server came from and how far it is on its way home.

A failback run's per-server state is mostly in DRS, not in Airflow: ``preflight`` recorded each
server's origin and recovery instance (:class:`~drs_provider.recovery.run.ResolvedWave`), the
wave's results say what was launched, and the rest is read live
(:mod:`~drs_provider.ui.failback_source`, bounded and cached):

* EC2 origin, before its launch: the FAILBACK source server in the wave's home region (found by
  the recovery instance's EC2 instance, or by ``start_recovery``'s ``failback_servers`` XCom),
  its copy's state, share copied, lag and ETA (:func:`~drs_provider.recovery.failback.sync_progress`);
  then ``launched`` (the results), then ``reprotected`` once the plan's source server in the
  recovery region replicates from the new instance (the rule ``wait_for_recovery`` re-protects by);
* on premises: the recovery instance's ``failback.state`` (waiting for the Failback Client,
  in progress, ready, completed, error), then ``launched`` and ``completed``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from drs_provider.constants import FAILBACK_SERVERS_XCOM_KEY, HOME_REGION_XCOM_KEY, MODE_FAILBACK
from drs_provider.operators.failback_finish import NOT_REPLICATING
from drs_provider.recovery.failback import (
    FAILBACK_COMPLETED,
    FAILBACK_DIRECTION,
    FAILBACK_ERROR,
    READY_FOR_LAUNCH,
    failback_server_for,
    recovery_instance_readiness,
    source_server_readiness,
    sync_progress,
)
from drs_provider.recovery.run import ResolvedRun
from drs_provider.recovery.run_record import ACTIVE_STATES, FINISHED_STATES, PREFLIGHT_TASK, START_TASK
from drs_provider.ui.failback_source import READER, DrsReader, RegionAnswers, RegionReads

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from drs_provider.recovery.failback import FailbackServer
    from drs_provider.recovery.run_record import RunRecord
    from drs_provider.ui.failback_source import Answer
    from drs_provider.ui.run_rows import RunView

#: Each failback state (:attr:`FailbackRow.state`): how it reads, and its badge.
STATES: dict[str, tuple[str, str]] = {
    "not_reversed": ("not reversed yet", "none"),
    "syncing": ("syncing", "run"),
    "stalled": ("stalled", "ask"),
    "lost": ("lost", "bad"),
    "ready": ("ready", "ok"),
    "launching": ("launching", "run"),
    "waiting_for_client": ("waiting for the Failback Client", "ask"),
    "in_progress": ("in progress", "run"),
    "launched": ("launched", "ok"),
    "reprotected": ("re-protected", "ok"),
    "completed": ("completed", "ok"),
    "error": ("error", "bad"),
    "failed": ("launch failed", "bad"),
    "unknown": ("unknown", "none"),
}


@dataclass(frozen=True)
class FailbackRow:
    """One server of a failback run on its way home (the servers table's failback columns)."""

    state: str
    state_text: str
    badge: str
    #: for people: the copy, the instance, or why the state is unknown
    detail: str
    #: ``us-east-1`` (an EC2 origin's region) or ``on premises``
    origin: str
    origin_environment: str
    origin_region: str | None
    #: where it launches: an EC2 origin's region, else the recovery region
    home_region: str | None
    #: the recovery instance it leaves
    failed_back_from: str
    failback_source_server_id: str | None = None
    #: the copy home: the FAILBACK source server's (EC2 origin) or the recovery instance's
    replication_state: str | None = None
    copied_percent: float | None = None
    lag_seconds: float | None = None
    eta: datetime | None = None
    #: an on-premises recovery instance's ``failback.state``
    failback_client_state: str | None = None


@dataclass(frozen=True)
class FailbackView:
    """The run's failback as a whole: a rehearsal or not, and what DRS said when."""

    drill: bool
    recovery_region: str | None
    #: when the oldest DRS answer shown was read (None: DRS was not asked)
    checked_at: datetime | None
    #: regions DRS could not be read in, and why
    errors: tuple[str, ...] = ()


def resolved_failback(run: RunRecord) -> ResolvedRun | None:
    resolved = run.xcom(PREFLIGHT_TASK)
    if not isinstance(resolved, dict) or resolved.get("mode") != MODE_FAILBACK:
        return None
    return ResolvedRun.from_json(resolved)


def mode_text(mode: str, run: RunRecord) -> str:
    """``failback drill`` for a rehearsed failback (by preflight, else by the run's params)."""
    if mode != MODE_FAILBACK:
        return mode
    resolved = resolved_failback(run)
    drill = resolved.failback_drill if resolved else run.conf.get("failback_drill") is True
    return "failback drill" if drill else mode


@dataclass(frozen=True)
class _Server:
    """A server of the run as the rows need it: what preflight found, what the wave did."""

    wave: str
    server: FailbackServer
    home_region: str | None
    #: the wave's result for it (None: not judged yet)
    result: Mapping[str, Any] | None
    #: its FAILBACK source server, when ``start_recovery`` recorded it
    failback_id: str | None
    #: the state of the wave's ``start_recovery``
    start_state: str | None

    @property
    def wave_started(self) -> bool:
        return self.start_state in ACTIVE_STATES or self.start_state in FINISHED_STATES

    @property
    def launching(self) -> bool:
        """Its launch home started, and is not judged yet."""
        return self.start_state == "success" and not self.result

    @property
    def launched(self) -> bool:
        return (self.result or {}).get("launchStatus") == "LAUNCHED"

    @property
    def failed(self) -> bool:
        return (self.result or {}).get("launchStatus") not in (None, "LAUNCHED")


def _servers(resolved: ResolvedRun, run: RunRecord, report: Mapping[str, Any]) -> list[_Server]:
    results = {
        (str(wave.get("name")), str(server.get("sourceServerID"))): server
        for wave in report.get("waves") or ()
        for server in wave.get("servers") or ()
        if server.get("launchStatus")
    }
    found = []
    start_tasks = {shape.name: shape.start_task for shape in run.waves}
    for name, wave in resolved.waves.items():
        if not wave.run:
            continue
        start_task = start_tasks.get(name, f"{name}.{START_TASK}")
        pushed = run.xcom(start_task, FAILBACK_SERVERS_XCOM_KEY)
        failback_of = {str(v): str(k) for k, v in pushed.items()} if isinstance(pushed, dict) else {}
        home = run.xcom(start_task, HOME_REGION_XCOM_KEY) or wave.home_region
        for server_id in (*wave.source_server_ids, *wave.optional_source_server_ids):
            server = wave.failback.get(server_id)
            if server is None:
                continue
            found.append(
                _Server(
                    wave=name,
                    server=server,
                    home_region=str(home) if home else resolved.region,
                    result=results.get((name, server_id)),
                    failback_id=failback_of.get(server_id),
                    start_state=run.state_of(start_task),
                )
            )
    return found


def _reads(resolved: ResolvedRun, servers: list[_Server]) -> dict[str, RegionReads]:
    """Everything the rows ask DRS, one :class:`RegionReads` per region."""
    reads: dict[str, RegionReads] = {}
    recovery = resolved.region
    for entry in servers:
        if entry.server.origin.is_aws:
            if entry.launched and not resolved.failback_drill and recovery:
                reads.setdefault(recovery, RegionReads()).source_server_ids.add(entry.server.source_server_id)
            elif not entry.result and entry.home_region:
                home = reads.setdefault(entry.home_region, RegionReads())
                if entry.failback_id:
                    home.source_server_ids.add(entry.failback_id)
                else:  # found by its EC2 instance only: DRS filters no source server by that
                    home.every_source_server = True
        elif recovery and not entry.failed:
            reads.setdefault(recovery, RegionReads()).recovery_instance_ids.add(
                entry.server.recovery_instance_id
            )
    return reads


def _row(entry: _Server, state: str, detail: str, **fields: Any) -> FailbackRow:
    origin = entry.server.origin
    text, badge = STATES[state]
    return FailbackRow(
        state=state,
        state_text=text,
        badge=badge,
        detail=detail,
        origin=(origin.region or "EC2") if origin.is_aws else "on premises",
        origin_environment=origin.environment,
        origin_region=origin.region,
        home_region=entry.home_region,
        failed_back_from=entry.server.recovery_instance_id,
        **fields,
    )


def _unread(answer: Answer | None, region: str | None) -> str | None:
    """Why DRS's answer is missing (None: there is one)."""
    if answer is None:
        return f"DRS in {region or 'the recovery region'} was not asked"
    return f"DRS in {region} could not be read: {answer.error}" if answer.error else None


def _copy_fields(item: Mapping[str, Any], server_id: str | None = None) -> dict[str, Any]:
    progress = sync_progress(item, server_id=server_id)
    return {
        "replication_state": progress.state,
        "copied_percent": progress.copied_percent,
        "lag_seconds": progress.lag_seconds,
        "eta": progress.eta,
    }


def _ec2_row(entry: _Server, resolved: ResolvedRun, answers: Mapping[str, RegionAnswers]) -> FailbackRow:
    result = entry.result or {}
    if entry.failed:
        return _row(
            entry, "failed", f"the launch home failed: {result.get('rawError') or result.get('launchStatus')}"
        )
    if entry.launched:
        instance = str(result.get("ec2InstanceID") or result.get("recoveryInstanceID") or "?")
        launched = f"on {instance} in {entry.home_region}"
        if resolved.failback_drill:
            return _row(entry, "launched", f"drill instance {launched}: a rehearsal re-protects nothing")
        answer = answers.get(resolved.region or "", RegionAnswers()).source_servers
        why = _unread(answer, resolved.region)
        if why or answer is None:
            return _row(entry, "launched", f"{launched}; re-protection unknown: {why}")
        server_id = entry.server.source_server_id
        for server in answer.items:
            if server.get("sourceServerID") == server_id and _protects(server, result.get("ec2InstanceID")):
                detail = f"{server_id} replicates again in {resolved.region}, from {instance}"
                return _row(entry, "reprotected", detail, **_copy_fields(server))
        return _row(entry, "launched", f"{launched}; not re-protected yet")
    answer = answers.get(entry.home_region or "", RegionAnswers()).source_servers
    why = _unread(answer, entry.home_region)
    if why or answer is None:
        return _row(entry, "unknown", str(why))
    try:
        if entry.failback_id:
            found = next((s for s in answer.items if s.get("sourceServerID") == entry.failback_id), None)
        else:
            found = failback_server_for(entry.server.ec2_instance_id, answer.items)
    except ValueError as error:  # two FAILBACK servers for one instance: a person's call
        return _row(entry, "unknown", str(error))
    if found is None:
        waits = "" if entry.wave_started else ": its wave has not started"
        return _row(entry, "not_reversed", f"no FAILBACK source server in {entry.home_region} yet{waits}")
    readiness = source_server_readiness(found)
    progress = sync_progress(found)
    fields = {"failback_source_server_id": progress.server_id, **_copy_fields(found)}
    if readiness.lost:
        return _row(entry, "lost", readiness.lost, **fields)
    if readiness.trouble:
        return _row(entry, "stalled", readiness.trouble, **fields)
    if not readiness.ready:
        return _row(entry, "syncing", progress.details(), **fields)
    if entry.launching:
        return _row(entry, "launching", f"launching in {entry.home_region} ({progress.details()})", **fields)
    return _row(entry, "ready", f"{progress.details()}: ready to launch", **fields)


def _protects(server: Mapping[str, Any], ec2_instance_id: Any) -> bool:
    """Whether the plan's source server replicates from ``ec2_instance_id``: re-protected, by the
    rule ``wait_for_recovery`` re-protects by (:mod:`drs_provider.operators.failback_finish`)."""
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return (
        bool(ec2_instance_id)
        and server.get("replicationDirection") != FAILBACK_DIRECTION
        and hints.get("awsInstanceID") == ec2_instance_id
        and (server.get("dataReplicationInfo") or {}).get("dataReplicationState") not in NOT_REPLICATING
    )


def _on_premises_row(
    entry: _Server, resolved: ResolvedRun, answers: Mapping[str, RegionAnswers]
) -> FailbackRow:
    result = entry.result or {}
    if entry.failed:
        return _row(
            entry,
            "failed",
            f"the failback launch failed: {result.get('rawError') or result.get('launchStatus')}",
        )
    instance_id = entry.server.recovery_instance_id
    answer = answers.get(resolved.region or "", RegionAnswers()).recovery_instances
    why = _unread(answer, resolved.region)
    item = (
        None
        if why or answer is None
        else next((i for i in answer.items if i.get("recoveryInstanceID") == instance_id), None)
    )
    if item is None:
        if entry.launched:
            return _row(entry, "launched", "launched at home" + (f"; {why}" if why else ""))
        return _row(entry, "unknown", why or f"DRS in {resolved.region} does not list {instance_id}")
    readiness = recovery_instance_readiness(item)
    fields = {**_copy_fields(item, instance_id), "failback_client_state": readiness.state}
    if readiness.state == FAILBACK_COMPLETED:
        return _row(entry, "completed", "failed back: the machine at home runs", **fields)
    if entry.launched:
        return _row(entry, "launched", f"launched at home ({readiness.state})", **fields)
    if entry.launching:
        return _row(entry, "launching", f"the failback launch is under way ({readiness.state})", **fields)
    if readiness.state == READY_FOR_LAUNCH:
        return _row(
            entry, "ready", f"the Failback Client is connected and ready ({readiness.state})", **fields
        )
    if readiness.lost:
        return _row(entry, "lost", readiness.lost, **fields)
    if readiness.state == FAILBACK_ERROR:
        return _row(entry, "error", str(readiness.trouble), **fields)
    if readiness.state in ("FAILBACK_NOT_STARTED", "UNKNOWN"):
        return _row(entry, "waiting_for_client", "boot the Failback Client on the machine at home", **fields)
    return _row(entry, "in_progress", readiness.description.split(": ", 1)[-1], **fields)


def with_failback(
    view: RunView, run: RunRecord, report: Mapping[str, Any], reader: DrsReader = READER
) -> RunView:
    """``view`` with each server's failback row, for a failback run (another run as it is)."""
    resolved = resolved_failback(run)
    if resolved is None:
        return view
    servers = _servers(resolved, run, report)
    reads = _reads(resolved, servers)
    answers = reader.read(resolved.aws_conn_id, reads) if reads else {}
    rows = {
        (entry.wave, entry.server.source_server_id): (
            _ec2_row if entry.server.origin.is_aws else _on_premises_row
        )(entry, resolved, answers)
        for entry in servers
    }
    asked = [
        a for region in answers.values() for a in (region.source_servers, region.recovery_instances) if a
    ]
    errors = tuple(
        dict.fromkeys(
            f"{region}: {a.error}"
            for region, got in answers.items()
            for a in (got.source_servers, got.recovery_instances)
            if a and a.error
        )
    )
    waves = tuple(
        replace(
            wave,
            servers=tuple(
                replace(server, failback=rows.get((wave.name, server.source_server_id)))
                for server in wave.servers
            ),
        )
        for wave in view.waves
    )
    failback = FailbackView(
        drill=resolved.failback_drill,
        recovery_region=resolved.region,
        checked_at=min((a.read_at for a in asked if a.read_at), default=None),
        errors=errors,
    )
    return replace(view, waves=waves, failback=failback)
