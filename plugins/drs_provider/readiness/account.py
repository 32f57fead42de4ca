"""What readiness reads: an account and region as DRS shows it, gathered once for every plan that
recovers there, and the servers one plan's waves select in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.selection import source_server_hostname

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from drs_provider.readiness.staging import StagingServer
    from drs_provider.recovery.launch import LaunchState


@dataclass
class AccountState:
    """What DRS shows in one account and region, read once for every plan that recovers there."""

    #: "aws_default, us-east-1": where, as messages say it
    where: str
    #: every source server, by ID
    servers: Mapping[str, Mapping[str, Any]]
    #: every recovery instance, by source server ID (DRS keeps at most one per server)
    instances: Mapping[str, Mapping[str, Any]]
    #: the jobs that launched the recovery instances, by job ID
    jobs: Mapping[str, Mapping[str, Any]]
    #: DRS's servers-per-job and replicating-servers quotas of the account
    servers_per_job: int
    max_replicating_servers: int
    #: replication states a launch accepts
    recoverable_states: frozenset[str]
    #: newest completed snapshot per server, read only for plans with ``rpo_target``
    snapshot_times: dict[str, datetime | None] = field(default_factory=dict)
    #: what each server would launch with, read only for servers of plans giving ``launch``
    launch: dict[str, LaunchState] = field(default_factory=dict)
    #: the staging accounts' servers not yet extended into this account (none when they could not
    #: be listed)
    staging: tuple[StagingServer, ...] = ()

    def name(self, server_id: str) -> str:
        hostname = source_server_hostname(self.servers.get(server_id) or {})
        return f"{server_id} ({hostname})" if hostname else server_id

    @property
    def replicating(self) -> list[str]:
        """Servers DRS replicates now (any state but stopped or disconnected)."""
        return [
            server_id
            for server_id, server in self.servers.items()
            if replication(server).get("dataReplicationState") not in (None, "STOPPED", "DISCONNECTED")
        ]


def replication(server: Mapping[str, Any]) -> Mapping[str, Any]:
    return server.get("dataReplicationInfo") or {}


@dataclass
class Selected:
    """The servers a plan's waves select: wave -> [(server, optional)]."""

    by_wave: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def add(self, wave: str, server_id: str, optional: bool) -> None:
        entries = self.by_wave.setdefault(wave, [])
        if all(existing != server_id for existing, _ in entries):
            entries.append((server_id, optional))

    def each(self) -> list[tuple[str, str, bool]]:
        return [
            (wave, server_id, optional)
            for wave, entries in self.by_wave.items()
            for server_id, optional in entries
        ]
