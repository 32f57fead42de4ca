"""A fleet server's keys for several regions and failback: region, origin, reverse_sync_seconds."""

from __future__ import annotations

import pytest

from drs_simulator.fleet import FleetValidationError, parse_fleet
from drs_simulator.fleet_servers import DEFAULT_REVERSE_SYNC_SECONDS, Origin


def fleet(**server):
    return {
        "account_id": "123456789012",
        "region": "us-east-1",
        "source_servers": [{"id": "s-0a000000000000001", "hostname": "db-1", **server}],
    }


def problems(**server):
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet(fleet(**server), "fleet.yaml")
    return caught.value.problems


def test_a_server_without_the_keys_is_in_the_fleet_region_on_premises_with_the_default_sync():
    parsed = parse_fleet(fleet(), "fleet.yaml")
    (server,) = parsed.source_servers
    assert server.region is None
    assert parsed.servers_in("us-east-1") == (server,)
    assert server.origin == Origin() and server.origin.environment == "ON_PREMISES"
    assert server.reverse_sync_seconds == DEFAULT_REVERSE_SYNC_SECONDS
    assert set(parsed.to_dict()["source_servers"][0]) >= {"id", "hostname"}
    assert "origin" not in parsed.to_dict()["source_servers"][0]


def test_region_origin_and_reverse_sync_are_read_and_round_trip():
    parsed = parse_fleet(
        fleet(region="us-west-2", origin={"region": "us-east-1"}, reverse_sync_seconds=90), "fleet.yaml"
    )
    (server,) = parsed.source_servers
    assert server.region == "us-west-2"
    assert parsed.servers_in("us-west-2") == (server,) and parsed.servers_in("us-east-1") == ()
    assert server.origin == Origin("us-east-1") and server.origin.environment == "AWS"
    assert server.reverse_sync_seconds == 90
    assert parse_fleet(parsed.to_dict(), "again").source_servers == parsed.source_servers


def test_origin_on_premises_is_spelled_out():
    (server,) = parse_fleet(fleet(origin="on_premises"), "fleet.yaml").source_servers
    assert server.origin.region is None


@pytest.mark.parametrize(
    ("server", "path"),
    [
        ({"region": "moon-1"}, "source_servers[0].region"),
        ({"region": 5}, "source_servers[0].region"),
        ({"origin": "ec2"}, "source_servers[0].origin"),
        ({"origin": {"region": "nowhere"}}, "source_servers[0].origin.region"),
        ({"origin": {}}, "source_servers[0].origin.region"),
        ({"origin": {"region": "us-east-1", "zone": "a"}}, "source_servers[0].origin.zone"),
        ({"reverse_sync_seconds": 0}, "source_servers[0].reverse_sync_seconds"),
        ({"reverse_sync_seconds": True}, "source_servers[0].reverse_sync_seconds"),
        ({"reverse_sync_seconds": 8 * 86400}, "source_servers[0].reverse_sync_seconds"),
    ],
)
def test_each_bad_value_is_named_by_server_and_key(server, path):
    assert [found for found, _ in problems(**server)] == [path]
