"""The run that ``preflight`` resolved: what each wave launches, as one typed value.

``preflight`` returns it (XCom ``return_value``, as :meth:`ResolvedRun.to_json`) and every
wave's ``start_recovery`` reads it back with :meth:`ResolvedRun.from_json`, so what is launched
is exactly what was checked, even when tag selectors would match other servers later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from drs_provider.constants import MODE_DRILL, MODE_FAILBACK, MODE_RECOVERY
from drs_provider.recovery.failback import FailbackServer

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class ResolvedWave:
    """One wave of a resolved run."""

    #: whether this run launches the wave (a subset run leaves the others out)
    run: bool
    source_server_ids: tuple[str, ...] = ()
    optional_source_server_ids: tuple[str, ...] = ()
    #: source server ID -> the hostname DRS recorded, for people (reports, the Recovery view)
    hostnames: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: source server ID -> the recovery snapshot preflight chose for ``point_in_time`` (launched as is)
    snapshot_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: failback runs: source server ID -> its live recovery instance and origin, as preflight found them
    failback: Mapping[str, FailbackServer] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: failback runs: the one region the wave launches in (an EC2 origin's region, else the recovery region)
    home_region: str | None = None
    #: the wave's own Airflow connection and DRS region when the plan gives it one (else the run's)
    aws_conn_id: str | None = None
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "run": self.run,
            "source_server_ids": list(self.source_server_ids),
            "optional_source_server_ids": list(self.optional_source_server_ids),
            "hostnames": dict(self.hostnames),
            "recovery_snapshot_ids": dict(self.snapshot_ids),
        }
        if self.aws_conn_id or self.region:
            data["aws_conn_id"], data["region"] = self.aws_conn_id, self.region
        if self.failback:
            data["failback"] = {server_id: server.to_json() for server_id, server in self.failback.items()}
            data["home_region"] = self.home_region
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResolvedWave:
        return cls(
            run=bool(data.get("run")),
            source_server_ids=tuple(str(i) for i in data.get("source_server_ids") or ()),
            optional_source_server_ids=tuple(str(i) for i in data.get("optional_source_server_ids") or ()),
            hostnames=MappingProxyType({str(k): str(v) for k, v in (data.get("hostnames") or {}).items()}),
            snapshot_ids=MappingProxyType(
                {str(k): str(v) for k, v in (data.get("recovery_snapshot_ids") or {}).items()}
            ),
            failback=MappingProxyType(
                {str(k): FailbackServer.from_json(v) for k, v in (data.get("failback") or {}).items()}
            ),
            home_region=str(data["home_region"]) if data.get("home_region") else None,
            aws_conn_id=str(data["aws_conn_id"]) if data.get("aws_conn_id") else None,
            region=str(data["region"]) if data.get("region") else None,
        )


@dataclass(frozen=True)
class ResolvedRun:
    """A plan run as preflight checked it: drill or recovery, and each wave's exact servers."""

    plan: str
    mode: str
    point_in_time: str | None = None
    #: the plan's ``rto_target`` (seconds), for reports and the Recovery view
    rto_target: int | None = None
    waves: Mapping[str, ResolvedWave] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()
    #: the Airflow connection and the DRS region the run launches with, so that whoever acts on
    #: the run afterwards (the Recovery view's terminate action) reaches the same DRS
    aws_conn_id: str | None = None
    region: str | None = None
    #: DRS was the local simulator at this speed (simulated seconds per real second): the DRS
    #: times of the run (its jobs, its launches) are simulated ones; None on AWS
    simulator_speed: float | None = None
    #: failback runs: a rehearsal (drill launches in the origin regions, the recovery region untouched)
    failback_drill: bool = False
    #: failback runs: the plan's ``failback_cleanup`` and ``failback_sync_timeout`` as preflight read them
    failback_cleanup: str | None = None
    failback_sync_timeout: int | None = None

    @property
    def is_drill(self) -> bool:
        """A drill run (a failback is not one, even rehearsed: :attr:`launches_drills` says that)."""
        return self.mode == MODE_DRILL

    @property
    def is_failback(self) -> bool:
        return self.mode == MODE_FAILBACK

    @property
    def launches_drills(self) -> bool:
        """Whether the run's launches are drill instances (a drill, or a rehearsed failback)."""
        return self.is_drill or (self.is_failback and self.failback_drill)

    def wave(self, name: str) -> ResolvedWave | None:
        return self.waves.get(name)

    def places(self) -> list[tuple[str | None, str | None]]:
        """Each (connection, region) the run's waves launch in; None for the run's own."""
        found = {(wave.aws_conn_id, wave.region) for wave in self.waves.values() if wave.run}
        return sorted(found, key=str) or [(None, None)]

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "mode": self.mode,
            "is_drill": self.is_drill,
            "point_in_time": self.point_in_time,
            "rto_target": self.rto_target,
            "waves": {name: wave.to_json() for name, wave in self.waves.items()},
            "warnings": list(self.warnings),
            "aws_conn_id": self.aws_conn_id,
            "region": self.region,
            "simulator_speed": self.simulator_speed,
            "failback_drill": self.failback_drill,
            "failback_cleanup": self.failback_cleanup,
            "failback_sync_timeout": self.failback_sync_timeout,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResolvedRun:
        """Read the XCom back. A failback says so in ``mode``; otherwise either sign of a recovery
        (``mode`` or ``is_drill: false``) makes it one, so that the launch-time confirmation check
        applies; anything else is a drill."""
        if data.get("mode") == MODE_FAILBACK:
            mode = MODE_FAILBACK
        elif data.get("mode") == MODE_RECOVERY or data.get("is_drill") is False:
            mode = MODE_RECOVERY
        else:
            mode = MODE_DRILL
        timeout = data.get("failback_sync_timeout")
        return cls(
            plan=str(data.get("plan") or ""),
            mode=mode,
            point_in_time=data.get("point_in_time") or None,
            rto_target=int(data["rto_target"]) if data.get("rto_target") is not None else None,
            waves=MappingProxyType(
                {str(name): ResolvedWave.from_json(wave) for name, wave in (data.get("waves") or {}).items()}
            ),
            warnings=tuple(str(w) for w in data.get("warnings") or ()),
            aws_conn_id=str(data["aws_conn_id"]) if data.get("aws_conn_id") else None,
            region=str(data["region"]) if data.get("region") else None,
            simulator_speed=float(data["simulator_speed"])
            if data.get("simulator_speed") is not None
            else None,
            failback_drill=data.get("failback_drill") is True,
            failback_cleanup=str(data["failback_cleanup"]) if data.get("failback_cleanup") else None,
            failback_sync_timeout=int(timeout) if timeout is not None else None,
        )
