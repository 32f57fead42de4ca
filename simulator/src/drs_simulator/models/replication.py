"""Replication that changes over simulated time, and the calls that start, stop or end it:
StartReplication, StopReplication, DisconnectSourceServer, DeleteSourceServer.

A :class:`Sync` is replication on its way to CONTINUOUS: a new FAILBACK server's first copy
(INITIATING, then INITIAL_SYNC), a re-protected server catching up (STALLED while its agent
reconnects, then RESCAN, as DRS shows it), or a StartReplication (INITIATING, then RESCAN). Its
state follows from the simulated time alone, so :meth:`ReplicationBackend._progress` brings it up
to date on every call; the ``stall_reverse_sync`` fault holds it STALLED, its copy waiting, for
as long as the fault names the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.models.jobs import JobsBackend
from drs_simulator.models.source_servers import SourceServersBackend

if TYPE_CHECKING:
    from collections.abc import Collection

    from drs_simulator.models.source_servers import SourceServer

#: The longest a sync stays in its opening state (INITIATING, or STALLED when re-protecting).
OPENING_SECONDS = 60.0


@dataclass
class Sync:
    """Replication started at ``started`` that is CONTINUOUS ``seconds`` of copying later."""

    started: float
    seconds: float
    opening: str
    copying: str
    #: simulated seconds it spent held STALLED by the ``stall_reverse_sync`` fault
    stalled_for: float = 0.0
    stalled_since: float | None = None

    @property
    def eta(self) -> float:
        return self.started + self.stalled_for + self.seconds

    def copied_for(self, now: float) -> float:
        held = self.stalled_for + (now - self.stalled_since if self.stalled_since is not None else 0.0)
        return max(0.0, now - self.started - held)

    def share_done(self, now: float) -> float:
        return min(1.0, self.copied_for(now) / self.seconds)

    def state(self, now: float) -> str:
        copied = self.copied_for(now)
        if copied >= self.seconds:
            return "CONTINUOUS"
        return self.opening if copied < min(OPENING_SECONDS, self.seconds / 10) else self.copying


def resource_id(arn: str | None) -> str | None:
    """The ID at the end of a DRS ARN (``.../source-server/s-...`` -> ``s-...``)."""
    return arn.rsplit("/", 1)[-1] if arn else None


class ReplicationBackend(JobsBackend, SourceServersBackend):
    def _start_sync(self, server: SourceServer, now: float, *, opening: str, copying: str) -> None:
        server.sync = Sync(now, server.spec.reverse_sync_seconds, opening, copying)
        server.replication_state = opening
        server.disconnected = False
        self.syncing[server.id] = server

    def _end_sync(self, server: SourceServer) -> None:
        server.sync = None
        self.syncing.pop(server.id, None)

    def _progress(self, now: float) -> None:
        stalled = self._faults().stall_reverse_sync
        for server in list(self.syncing.values()):
            sync = server.sync
            assert sync is not None
            if self._held_by(server, stalled):
                if sync.stalled_since is None:
                    sync.stalled_since = now
                server.replication_state = "STALLED"
                continue
            if sync.stalled_since is not None:
                sync.stalled_for += now - sync.stalled_since
                sync.stalled_since = None
            server.replication_state = sync.state(now)
            if server.replication_state == "CONTINUOUS":
                self._end_sync(server)

    @staticmethod
    def _held_by(server: SourceServer, stalled: Collection[str]) -> bool:
        """Whether the fault names this server or the one it replicates the other way for."""
        return server.id in stalled or resource_id(server.reversed_arn) in stalled

    def _refuse_busy(self, server: SourceServer, doing: str) -> None:
        self._refuse_if_in_job(
            server.id,
            f"{doing} source server {server.id}: it",
            resource_id=server.id,
            resource_type="SOURCE_SERVER",
        )

    def start_replication(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        server = self.source_server(params["sourceServerID"])
        if server.replication_state != "STOPPED":
            raise errors.ConflictException(
                f"Source server {server.id} is {server.replication_state}: only a STOPPED server "
                "can start replicating",
                resource_id=server.id,
                resource_type="SOURCE_SERVER",
            )
        self._start_sync(server, now, opening="INITIATING", copying="RESCAN")
        return {"sourceServer": self._server_json(server)}

    def stop_replication(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        server = self.source_server(params["sourceServerID"])
        if server.replication_state in ("STOPPED", "DISCONNECTED"):
            raise errors.ConflictException(
                f"Source server {server.id} is {server.replication_state}: it is not replicating",
                resource_id=server.id,
                resource_type="SOURCE_SERVER",
            )
        self._refuse_busy(server, "stop replicating")
        self._end_sync(server)
        server.replication_state = "STOPPED"
        return {"sourceServer": self._server_json(server)}

    def disconnect_source_server(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        server = self.source_server(params["sourceServerID"])
        if server.recovery_instance_id is not None and server.recovery_instance_id in self.instances:
            raise errors.ConflictException(
                f"Source server {server.id} has recovery instance {server.recovery_instance_id}: "
                "terminate or delete it first",
                resource_id=server.id,
                resource_type="SOURCE_SERVER",
            )
        self._refuse_busy(server, "disconnect")
        self._end_sync(server)
        server.replication_state = "DISCONNECTED"
        server.disconnected = True
        return self._server_json(server)

    def delete_source_server(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        server = self.source_server(params["sourceServerID"])
        if server.replication_state != "DISCONNECTED":
            raise errors.ConflictException(
                f"Source server {server.id} is {server.replication_state}: disconnect it first "
                "(DisconnectSourceServer)",
                resource_id=server.id,
                resource_type="SOURCE_SERVER",
            )
        self._refuse_busy(server, "delete")
        del self.servers[server.id]
        self.launch_configurations.pop(server.id, None)
        self.job_snapshots.pop(server.id, None)
        return {}
