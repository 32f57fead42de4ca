"""Failback as DRS shows it, read without Airflow: where a recovered server came from, which
FAILBACK source server brings it home, and how far that server's copy has got.

What the way home (``mode: failback``, still to come: docs/how-to/failback.md says what exists)
stands on:

* A recovery instance's ``originEnvironment`` says how it goes home: ``AWS`` (an EC2 origin, in
  the region of its ``originAvailabilityZone``) by reversed replication and a launch in that
  region; ``ON_PREMISES`` through the Failback Client and ``StartFailbackLaunch``.
* ReverseReplication creates one FAILBACK-direction source server in the origin region, whose
  ``identificationHints.awsInstanceID`` is the recovery instance's EC2 instance. That instance ID
  is how a retry finds what an earlier try already reversed: it is never reversed twice.
* The FAILBACK server is ready to launch once its ``dataReplicationState`` is CONTINUOUS; an
  on-premises recovery instance once its ``failback.state`` is FAILBACK_READY_FOR_LAUNCH (its
  Failback Client connected and copied). :func:`source_server_readiness` and
  :func:`recovery_instance_readiness` judge one answer of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.times import format_duration, parse_duration, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

#: ``originEnvironment`` values (botocore's ``OriginEnvironment``).
AWS_ORIGIN = "AWS"
ON_PREMISES_ORIGIN = "ON_PREMISES"
#: ``replicationDirection`` of the source server ReverseReplication creates.
FAILBACK_DIRECTION = "FAILBACK"
#: The replication state in which a FAILBACK source server may be launched.
SYNCED_STATE = "CONTINUOUS"
#: Replication states from which a copy does not go on by itself.
STUCK_STATES = frozenset({"STALLED", "PAUSED", "DISCONNECTED", "STOPPED"})
#: ``failback.state`` values of an on-premises recovery instance.
READY_FOR_LAUNCH = "FAILBACK_READY_FOR_LAUNCH"
FAILBACK_COMPLETED = "FAILBACK_COMPLETED"
FAILBACK_ERROR = "FAILBACK_ERROR"

# An availability zone is its region and a letter (us-east-1a); a Local Zone or Wavelength zone
# names its region first too (us-east-1-bos-1a).
_ZONE = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)")


@dataclass(frozen=True)
class Origin:
    """Where a recovered server came from."""

    environment: str
    #: the origin region of an EC2 origin, else None
    region: str | None

    @property
    def is_aws(self) -> bool:
        return self.environment == AWS_ORIGIN


@dataclass(frozen=True)
class FailbackServer:
    """A really recovered server as a failback takes it home (what preflight found)."""

    #: the plan's source server, in the recovery region
    source_server_id: str
    #: its live recovery instance (not a drill), and that instance's EC2 instance
    recovery_instance_id: str
    ec2_instance_id: str
    origin: Origin

    def home_region(self, recovery_region: str) -> str:
        """Where the failback launches: an EC2 origin's region; on premises, the recovery region,
        whose DRS runs the Failback Client's launch."""
        return self.origin.region if self.origin.is_aws and self.origin.region else recovery_region

    def to_json(self) -> dict[str, Any]:
        return {
            "source_server_id": self.source_server_id,
            "recovery_instance_id": self.recovery_instance_id,
            "ec2_instance_id": self.ec2_instance_id,
            "origin_environment": self.origin.environment,
            "origin_region": self.origin.region,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FailbackServer:
        region = data.get("origin_region")
        return cls(
            source_server_id=str(data["source_server_id"]),
            recovery_instance_id=str(data["recovery_instance_id"]),
            ec2_instance_id=str(data.get("ec2_instance_id") or ""),
            origin=Origin(str(data["origin_environment"]), str(region) if region else None),
        )


def origin_of(recovery_instance: Mapping[str, Any]) -> Origin:
    """The origin of a recovery instance (DescribeRecoveryInstances item).

    :raises ValueError: naming the instance when DRS gives no ``originEnvironment``, or an EC2
        origin without an availability zone to read its region from
    """
    instance_id = recovery_instance.get("recoveryInstanceID", "?")
    environment = recovery_instance.get("originEnvironment")
    if environment not in (AWS_ORIGIN, ON_PREMISES_ORIGIN):
        raise ValueError(
            f"recovery instance {instance_id}: DRS gives no origin environment ({environment!r})"
        )
    if environment == ON_PREMISES_ORIGIN:
        return Origin(environment, None)
    zone = str(recovery_instance.get("originAvailabilityZone") or "")
    match = _ZONE.match(zone)
    if match is None:
        raise ValueError(
            f"recovery instance {instance_id}: an EC2 origin, but its originAvailabilityZone "
            f"{zone!r} names no region"
        )
    return Origin(environment, match[1])


def failback_server_for(
    ec2_instance_id: str, source_servers: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The FAILBACK source server reversed from the recovery instance on ``ec2_instance_id``, if any.

    :raises ValueError: when several claim it (DRS makes one; two mean someone reversed by hand
        after a disconnect, and which to launch is a person's call)
    """
    found = [
        server
        for server in source_servers
        if server.get("replicationDirection") == FAILBACK_DIRECTION
        and (server.get("sourceProperties", {}).get("identificationHints") or {}).get("awsInstanceID")
        == ec2_instance_id
        and (server.get("dataReplicationInfo") or {}).get("dataReplicationState") != "DISCONNECTED"
    ]
    if len(found) > 1:
        ids = ", ".join(sorted(str(server.get("sourceServerID")) for server in found))
        raise ValueError(f"EC2 instance {ec2_instance_id} has several FAILBACK source servers: {ids}")
    return found[0] if found else None


@dataclass(frozen=True)
class SyncProgress:
    """How far a FAILBACK source server's copy has got (its ``dataReplicationInfo``)."""

    server_id: str
    state: str
    lag_seconds: float | None
    eta: datetime | None
    replicated_bytes: int
    total_bytes: int
    error: str | None

    @property
    def synced(self) -> bool:
        return self.state == SYNCED_STATE

    @property
    def stuck(self) -> bool:
        return self.state in STUCK_STATES

    @property
    def copied_percent(self) -> float | None:
        """How much of the disks is copied, 0 to 100; None when DRS gives no disk sizes."""
        return 100 * self.replicated_bytes / self.total_bytes if self.total_bytes else None

    def describe(self) -> str:
        """``s-1: INITIAL_SYNC, 42% of 10.0 GiB copied, lag 3m05s, ETA 2026-12-06 10:00:00 UTC``."""
        return f"{self.server_id}: {self.details()}"

    def details(self) -> str:
        """:meth:`describe` without the server: ``INITIAL_SYNC, 42% of 10.0 GiB copied, ...``."""
        parts = [self.state]
        if self.copied_percent is not None:
            parts.append(f"{self.copied_percent:.0f}% of {self.total_bytes / 2**30:.1f} GiB copied")
        if self.lag_seconds is not None:
            parts.append(f"lag {format_duration(self.lag_seconds)}")
        if self.eta is not None:
            parts.append(f"ETA {self.eta:%Y-%m-%d %H:%M:%S} UTC")
        if self.error:
            parts.append(f"error {self.error}")
        return ", ".join(parts)


def sync_progress(source_server: Mapping[str, Any], *, server_id: str | None = None) -> SyncProgress:
    """The copy's progress of a source server (DescribeSourceServers item).

    A recovery instance's ``dataReplicationInfo`` has the same shape (its copy back home): pass
    a DescribeRecoveryInstances item and its ``recoveryInstanceID`` as ``server_id``.
    """
    info = source_server.get("dataReplicationInfo") or {}
    disks = info.get("replicatedDisks") or []
    lag = info.get("lagDuration")
    eta = info.get("etaDateTime")
    error = info.get("dataReplicationError") or {}
    return SyncProgress(
        server_id=server_id or str(source_server.get("sourceServerID", "?")),
        state=str(info.get("dataReplicationState") or "UNKNOWN"),
        lag_seconds=parse_duration(lag) if lag else None,
        eta=parse_time(eta) if eta else None,
        replicated_bytes=sum(int(disk.get("replicatedStorageBytes") or 0) for disk in disks),
        total_bytes=sum(int(disk.get("totalStorageBytes") or 0) for disk in disks),
        error=str(error.get("error")) if error.get("error") else None,
    )


@dataclass(frozen=True)
class Readiness:
    """Whether one server of a failback wave may be launched, as one Describe answer shows it."""

    server_id: str
    #: the replication state (a FAILBACK source server) or the failback state (a recovery instance)
    state: str
    #: for people: the state and how far the copy got (:meth:`SyncProgress.describe`)
    description: str
    ready: bool = False
    #: how much of its disks is copied, 0 to 100 (:attr:`SyncProgress.copied_percent`)
    copied_percent: float | None = None
    #: why it can never get ready by waiting (a wait for it ends), else None
    lost: str | None = None
    #: why it may not get ready by itself (a stalled copy, a failback error), else None
    trouble: str | None = None


def source_server_readiness(source_server: Mapping[str, Any]) -> Readiness:
    """A FAILBACK source server (DescribeSourceServers item) is ready once CONTINUOUS.

    DISCONNECTED is lost: it replicates again only after someone reinstalls its agent. The
    other :data:`STUCK_STATES` are trouble, not lost: a stalled copy may recover, a paused or
    stopped one may be resumed by a person.
    """
    progress = sync_progress(source_server)
    base = Readiness(
        progress.server_id,
        progress.state,
        progress.describe(),
        ready=progress.synced,
        copied_percent=progress.copied_percent,
    )
    if progress.state == "DISCONNECTED":
        return replace(base, lost="disconnected from DRS: its replication does not resume by itself")
    if progress.stuck:
        why = f" ({progress.error})" if progress.error else ""
        return replace(base, trouble=f"replication {progress.state}{why}: the copy is not going on")
    return base


def recovery_instance_readiness(recovery_instance: Mapping[str, Any]) -> Readiness:
    """An on-premises recovery instance (DescribeRecoveryInstances item) is ready at
    FAILBACK_READY_FOR_LAUNCH, and already past it at FAILBACK_COMPLETED (failed back: nothing
    left to wait for; the caller reads the state to skip its launch).

    FAILBACK_ERROR is trouble, not lost: reconnecting the Failback Client retries. A recovery
    instance disconnected from DRS is lost.
    """
    instance_id = str(recovery_instance.get("recoveryInstanceID", "?"))
    state = str((recovery_instance.get("failback") or {}).get("state") or "UNKNOWN")
    progress = sync_progress(recovery_instance, server_id=instance_id)
    base = Readiness(
        instance_id,
        state,
        f"{instance_id}: {state} (replication {progress.details()})",
        ready=state in (READY_FOR_LAUNCH, FAILBACK_COMPLETED),
        copied_percent=progress.copied_percent,
    )
    if base.ready:
        return base
    if progress.state == "DISCONNECTED":
        return replace(base, lost="disconnected from DRS: no Failback Client can reach it")
    if state == FAILBACK_ERROR:
        return replace(base, trouble="FAILBACK_ERROR: reconnecting the Failback Client retries it")
    return base
