"""A fleet's ``lag_seconds`` through boto3: the lag DRS reports, and snapshots no newer than it allows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from drs_simulator.models.recovery_snapshots import (
    SNAPSHOT_HISTORY,
    SNAPSHOT_INTERVAL,
    SNAPSHOT_SECONDS,
)

pytestmark = pytest.mark.integration

#: Snapshot timestamps are written to the microsecond.
MICROSECOND = 1e-6

DB_1 = "s-0a000000000000001"  # no lag_seconds
APP_1 = "s-0a000000000000003"
WEB_1 = "s-0a000000000000005"
STALLED = "s-0c000000000000001"
INITIAL_SYNC = "s-0c000000000000002"  # no lag_seconds, a state a recovery cannot start from


def reset_with_lags(drs_simulator: Any, fleet: dict[str, Any], lags: dict[str, float]) -> float:
    """The sample fleet with these servers' ``lag_seconds``, on a stopped clock; returns its start."""
    for server in fleet["source_servers"]:
        if server["id"] in lags:
            server["lag_seconds"] = lags[server["id"]]
    drs_simulator.reset(fleet=fleet, speed=0)
    return float(drs_simulator.advance(0)["epoch"])


def lag_duration(drs: Any, server_id: str) -> str:
    (item,) = drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"]
    return str(item["dataReplicationInfo"]["lagDuration"])


def completed_snapshot_times(drs: Any, server_id: str) -> list[float]:
    """When each completed snapshot of the server was taken, newest first."""
    snapshots = drs.describe_recovery_snapshots(sourceServerID=server_id, order="DESC")["items"]
    completed = [item["timestamp"] for item in snapshots if "timestamp" in item]
    return [datetime.fromisoformat(stamp).timestamp() for stamp in completed]


def newest_possible_snapshot(start: float, now: float, lag: float) -> float:
    """When the newest periodic snapshot whose data the server had sent by ``now`` completed."""
    index = (now - lag - SNAPSHOT_SECONDS - start) // SNAPSHOT_INTERVAL
    return start + index * SNAPSHOT_INTERVAL + SNAPSHOT_SECONDS


def test_lag_duration_is_the_fleets_lag_as_an_iso_duration(
    drs_simulator: Any, drs: Any, sample_fleet_dict: dict[str, Any]
) -> None:
    reset_with_lags(drs_simulator, sample_fleet_dict, {APP_1: 3725, WEB_1: 0, STALLED: 90000})

    assert lag_duration(drs, APP_1) == "PT1H2M5S"
    assert lag_duration(drs, WEB_1) == "PT0S"
    assert lag_duration(drs, STALLED) == "P1DT1H"  # a given lag wins over the state's usual answer
    assert lag_duration(drs, DB_1) == "PT0S"
    assert lag_duration(drs, INITIAL_SYNC) == "PT6H"


def test_a_lagging_servers_newest_snapshot_is_at_least_its_lag_old(
    drs_simulator: Any, drs: Any, sample_fleet_dict: dict[str, Any]
) -> None:
    lag = 3725.0
    start = reset_with_lags(drs_simulator, sample_fleet_dict, {APP_1: lag})

    for step in (0, 1800, 7200):
        now = float(drs_simulator.advance(step)["epoch"])
        lagging, current = completed_snapshot_times(drs, APP_1), completed_snapshot_times(drs, DB_1)

        assert lagging[0] == pytest.approx(newest_possible_snapshot(start, now, lag), abs=MICROSECOND)
        assert lag <= now - lagging[0] < lag + SNAPSHOT_INTERVAL + SNAPSHOT_SECONDS
        assert current[0] == pytest.approx(newest_possible_snapshot(start, now, 0), abs=MICROSECOND)
        assert now - current[0] < SNAPSHOT_INTERVAL + SNAPSHOT_SECONDS


def test_a_lag_longer_than_the_loaded_history_still_leaves_snapshots(
    drs_simulator: Any, drs: Any, sample_fleet_dict: dict[str, Any]
) -> None:
    lag = 2 * 86400.0 + 125
    start = reset_with_lags(drs_simulator, sample_fleet_dict, {APP_1: lag})

    taken = completed_snapshot_times(drs, APP_1)

    assert len(taken) >= SNAPSHOT_HISTORY
    assert taken[0] == pytest.approx(newest_possible_snapshot(start, start, lag), abs=MICROSECOND)
