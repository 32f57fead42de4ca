"""Recovery snapshots in :class:`~drs_provider.hooks.drs.DrsHook`: the newest, and the one to recover a
point in time from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from drs_provider.exceptions import DrsServerSelectionError
from drs_provider.recovery.times import format_drs_time, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable

    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase
else:
    _HookBase = object


class DrsSnapshotsMixin(_HookBase):
    """DescribeRecoverySnapshots: the newest snapshot of a server, the latest before a moment."""

    def newest_snapshot_time(self, server_id: str) -> datetime | None:
        """When the newest completed recovery snapshot of a server was taken (None: it has none).

        DRS has no "last snapshot" field; the newest snapshots come first with ``order=DESC``, and
        one in progress (no ``timestamp`` yet) may lead, so a few are read, one call.
        """
        answer = self.conn.describe_recovery_snapshots(sourceServerID=server_id, order="DESC", maxResults=5)
        times = [parse_time(item["timestamp"]) for item in answer.get("items", []) if item.get("timestamp")]
        return max(times, default=None)

    def snapshots_before(
        self, server_ids: Iterable[str], point_in_time: datetime
    ) -> tuple[dict[str, str], list[str]]:
        """
        For each server, the latest completed recovery snapshot taken at or before a moment.

        :param server_ids: source server IDs.
        :param point_in_time: the moment to recover to (naive values are UTC).
        :return: ``(chosen, missing)``: source server ID -> ``recoverySnapshotID`` to pass to
            StartRecovery, and the servers with no such snapshot.
        """
        if point_in_time.tzinfo is None:
            point_in_time = point_in_time.replace(tzinfo=UTC)
        paginator = self.conn.get_paginator("describe_recovery_snapshots")
        # The filter's bound may be exclusive; widen it and decide on the exact times here.
        filters = {"toDateTime": format_drs_time(point_in_time + timedelta(seconds=1))}
        chosen: dict[str, str] = {}
        missing: list[str] = []
        for server_id in dict.fromkeys(server_ids):
            best: tuple[datetime, str] | None = None
            for page in paginator.paginate(sourceServerID=server_id, filters=filters, order="DESC"):
                for snapshot in page.get("items", []):
                    taken = snapshot.get("timestamp")  # absent until the snapshot is complete
                    if not taken:
                        continue
                    moment = parse_time(taken)
                    if moment <= point_in_time and (best is None or moment > best[0]):
                        best = (moment, snapshot["snapshotID"])
            if best is None:
                missing.append(server_id)
            else:
                chosen[server_id] = best[1]
        return chosen, missing

    def latest_snapshots_before(self, server_ids: Iterable[str], point_in_time: datetime) -> dict[str, str]:
        """
        :meth:`snapshots_before`, when every server has a snapshot.

        :return: source server ID -> ``recoverySnapshotID`` to pass to StartRecovery.
        :raises DrsServerSelectionError: naming every server with no such snapshot.
        """
        chosen, missing = self.snapshots_before(server_ids, point_in_time)
        if missing:
            raise DrsServerSelectionError(
                f"no completed recovery snapshot at or before {format_drs_time(point_in_time)} "
                f"for source servers: {', '.join(missing)}",
                unknown_ids=missing,
            )
        return chosen
