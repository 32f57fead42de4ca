"""Recovery snapshots: the periodic point-in-time snapshots of a replicating source server, the
ones a launch takes, and DescribeRecoverySnapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_simulator.models.base import BackendBase
from drs_simulator.models.source_servers import RECOVERABLE_STATES
from drs_simulator.models.wire import date_filter, iso, parse_iso, stable_hex

if TYPE_CHECKING:
    from drs_simulator.models.source_servers import SourceServer

SNAPSHOT_INTERVAL = 600.0  # a periodic point-in-time snapshot every 10 simulated minutes
SNAPSHOT_SECONDS = 20.0  # a periodic snapshot is in progress (no timestamp) for this long
SNAPSHOT_HISTORY = 6  # completed snapshots each replicating server has when the fleet loads
SNAPSHOT_RETENTION = 144  # periodic snapshots kept (a day's worth)


@dataclass
class Snapshot:
    """A snapshot a launch took (periodic ones are computed, not stored)."""

    id: str
    source_server_id: str
    expected: float
    done: float | None  # when it completes; None: never (failed)


class RecoverySnapshotsBackend(BackendBase):
    def _periodic_snapshots(self, server: SourceServer, now: float) -> list[dict[str, Any]]:
        """Every snapshot of ``server`` at ``now``, periodic and launch-taken, oldest first."""
        if server.replication_state not in RECOVERABLE_STATES:
            return []
        # Periodic snapshots follow from the simulated time alone, so their IDs are derived, not stored.
        # DRS cannot snapshot data it has not received: a server lagging L seconds has only the
        # snapshots taken by now - L. At load it had SNAPSHOT_HISTORY before the newest of those.
        horizon = now - server.lag_seconds
        last = int((horizon - self.epoch) // SNAPSHOT_INTERVAL)
        newest_at_load = int(-server.lag_seconds // SNAPSHOT_INTERVAL)
        first = max(newest_at_load - SNAPSHOT_HISTORY, last - SNAPSHOT_RETENTION + 1)
        found = []
        for index in range(first, last + 1):
            expected = self.epoch + index * SNAPSHOT_INTERVAL
            item: dict[str, Any] = {
                "snapshotID": "pit-" + stable_hex(f"{self.account_id}/{self.region}/{server.id}/{index}"),
                "sourceServerID": server.id,
                "expectedTimestamp": iso(expected),
            }
            if expected + SNAPSHOT_SECONDS <= horizon:
                item["timestamp"] = iso(expected + SNAPSHOT_SECONDS)
                item["ebsSnapshots"] = ["snap-" + stable_hex(f"{item['snapshotID']}/ebs")]
            found.append((expected, item))
        for snap in self.job_snapshots.get(server.id, []):
            item = {
                "snapshotID": snap.id,
                "sourceServerID": server.id,
                "expectedTimestamp": iso(snap.expected),
            }
            if snap.done is not None and snap.done <= now:
                item["timestamp"] = iso(snap.done)
                item["ebsSnapshots"] = ["snap-" + stable_hex(f"{snap.id}/ebs")]
            found.append((snap.expected, item))
        found.sort(key=lambda pair: pair[0])
        return [item for _, item in found]

    def _find_snapshot(self, server: SourceServer, snapshot_id: str, now: float) -> dict[str, Any] | None:
        for item in self._periodic_snapshots(server, now):
            if item["snapshotID"] == snapshot_id:
                return item
        return None

    def describe_recovery_snapshots(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        server = self.servers.get(params["sourceServerID"])
        items = self._periodic_snapshots(server, now) if server is not None else []
        filters = params.get("filters") or {}
        low = date_filter(filters, "fromDateTime", prefix="filters")
        high = date_filter(filters, "toDateTime", prefix="filters")
        items = [
            item
            for item in items
            if (low is None or parse_iso(item["expectedTimestamp"]) >= low)
            and (high is None or parse_iso(item["expectedTimestamp"]) <= high)
        ]
        if params.get("order") == "DESC":
            items.reverse()
        return self.page(items, params)
