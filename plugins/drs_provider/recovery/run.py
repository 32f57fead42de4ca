"""The run that ``preflight`` resolved: what each wave launches, as one typed value.

``preflight`` returns it (XCom ``return_value``, as :meth:`ResolvedRun.to_json`) and every
wave's ``start_recovery`` reads it back with :meth:`ResolvedRun.from_json`, so what is launched
is exactly what was checked, even when tag selectors would match other servers later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from drs_provider.constants import MODE_DRILL, MODE_RECOVERY

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

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "source_server_ids": list(self.source_server_ids),
            "optional_source_server_ids": list(self.optional_source_server_ids),
            "hostnames": dict(self.hostnames),
            "recovery_snapshot_ids": dict(self.snapshot_ids),
        }

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

    @property
    def is_drill(self) -> bool:
        return self.mode != MODE_RECOVERY

    def wave(self, name: str) -> ResolvedWave | None:
        return self.waves.get(name)

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
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResolvedRun:
        """Read the XCom back. Either sign of a recovery (``mode`` or ``is_drill: false``) makes
        it one, so that the launch-time confirmation check applies; anything else is a drill."""
        recovery = data.get("mode") == MODE_RECOVERY or data.get("is_drill") is False
        return cls(
            plan=str(data.get("plan") or ""),
            mode=MODE_RECOVERY if recovery else MODE_DRILL,
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
        )
