"""A fleet server's keys for several regions: region."""

from __future__ import annotations

import pytest

from drs_provider.simulator.fleet import FleetValidationError, parse_fleet


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


def test_a_server_without_a_region_is_in_the_fleet_region():
    parsed = parse_fleet(fleet(), "fleet.yaml")
    (server,) = parsed.source_servers
    assert server.region is None
    assert parsed.servers_in("us-east-1") == (server,)
    assert "region" not in parsed.to_dict()["source_servers"][0]


def test_region_is_read_and_round_trips():
    parsed = parse_fleet(fleet(region="us-west-2"), "fleet.yaml")
    (server,) = parsed.source_servers
    assert server.region == "us-west-2"
    assert parsed.servers_in("us-west-2") == (server,) and parsed.servers_in("us-east-1") == ()
    assert parse_fleet(parsed.to_dict(), "again").source_servers == parsed.source_servers


@pytest.mark.parametrize(
    ("server", "path"),
    [
        ({"region": "moon-1"}, "source_servers[0].region"),
        ({"region": 5}, "source_servers[0].region"),
    ],
)
def test_each_bad_value_is_named_by_server_and_key(server, path):
    assert [found for found, _ in problems(**server)] == [path]
