"""The resolved run round-trips through its XCom form, and an unreadable mode is a drill."""

from __future__ import annotations

from types import MappingProxyType

from drs_provider.recovery.failback import FailbackServer, Origin
from drs_provider.recovery.run import ResolvedRun, ResolvedWave


def test_round_trip_through_json() -> None:
    run = ResolvedRun(
        plan="shop",
        mode="recovery",
        point_in_time="2026-05-04T03:00:00+00:00",
        waves=MappingProxyType(
            {
                "database": ResolvedWave(
                    True,
                    ("s-0a000000000000001",),
                    ("s-0a000000000000007",),
                    snapshot_ids=MappingProxyType({"s-0a000000000000001": "pit-0a0000000000000001"}),
                ),
                "web": ResolvedWave(False),
            }
        ),
        warnings=("wave 'database': optional server left out",),
        aws_conn_id="aws_dr",
        region="us-west-2",
        simulator_speed=10.0,
    )

    data = run.to_json()

    assert data["is_drill"] is False
    assert data["waves"]["database"]["source_server_ids"] == ["s-0a000000000000001"]
    assert (data["aws_conn_id"], data["region"]) == ("aws_dr", "us-west-2")
    assert ResolvedRun.from_json(data) == run
    # a run resolved before the connection and region were recorded reads back without them
    assert ResolvedRun.from_json({"plan": "shop", "mode": "drill"}).aws_conn_id is None
    assert ResolvedRun.from_json({"plan": "shop", "mode": "drill"}).simulator_speed is None


def test_either_sign_of_a_recovery_reads_back_as_a_recovery() -> None:
    for mode in (None, "", "Recovery", "drill", "something"):
        assert ResolvedRun.from_json({"plan": "shop", "mode": mode}).is_drill
    assert not ResolvedRun.from_json({"plan": "shop", "mode": "recovery"}).is_drill
    # is_drill false without a mode still counts as a recovery, so its confirmation is checked
    assert not ResolvedRun.from_json({"plan": "shop", "is_drill": False}).is_drill


def test_a_failback_round_trips_with_each_servers_way_home() -> None:
    home = FailbackServer(
        "s-0a000000000000001", "i-0000000000000000a", "i-0000000000000000a", Origin("AWS", "us-east-1")
    )
    run = ResolvedRun(
        plan="shop",
        mode="failback",
        waves=MappingProxyType(
            {
                "database": ResolvedWave(
                    True,
                    ("s-0a000000000000001",),
                    failback=MappingProxyType({"s-0a000000000000001": home}),
                    home_region="us-east-1",
                )
            }
        ),
        region="us-west-2",
        failback_drill=True,
        failback_cleanup="terminate",
        failback_sync_timeout=3600,
    )

    data = run.to_json()
    back = ResolvedRun.from_json(data)

    assert back == run
    assert data["waves"]["database"]["failback"]["s-0a000000000000001"]["origin_region"] == "us-east-1"
    assert (back.is_failback, back.is_drill, back.launches_drills) == (True, False, True)
    assert back.wave("database").failback["s-0a000000000000001"].home_region("us-west-2") == "us-east-1"  # type: ignore[union-attr]
    # a failback is not a drill: its launch is confirmed like a recovery's
    assert not ResolvedRun.from_json({"plan": "shop", "mode": "failback"}).is_drill


def test_an_on_premises_server_goes_home_through_the_recovery_region() -> None:
    server = FailbackServer("s-1", "i-1", "i-1", Origin("ON_PREMISES", None))

    assert server.home_region("us-west-2") == "us-west-2"
    assert FailbackServer.from_json(server.to_json()) == server
