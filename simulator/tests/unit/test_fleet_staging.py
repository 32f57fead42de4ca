"""A fleet's ``staging_accounts``: how they are read, what is refused, and the round trip."""

from __future__ import annotations

from typing import Any

import pytest

from drs_simulator.fleet import FleetValidationError, parse_fleet

TARGET = "123456789012"
STAGING = "444455556666"


def fleet(*staging: Any) -> dict[str, Any]:
    return {
        "account_id": TARGET,
        "region": "us-east-1",
        "source_servers": [{"id": "s-0a000000000000001", "hostname": "db-1"}],
        "staging_accounts": list(staging),
    }


def problems(*staging: Any) -> list[tuple[str, str]]:
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet(fleet(*staging), "fleet.yaml")
    return list(caught.value.problems)


def test_staging_accounts_and_their_servers_are_read_and_round_trip():
    parsed = parse_fleet(
        fleet(
            {
                "account_id": int(STAGING),  # YAML reads an unquoted account ID as a number
                "source_servers": [
                    {"id": "s-0d000000000000001", "hostname": "erp-1", "tags": {"App": "erp"}},
                    {"id": "s-0d000000000000002", "hostname": "erp-2", "region": "us-west-2"},
                ],
            }
        ),
        "fleet.yaml",
    )
    (account,) = parsed.staging_accounts
    assert account.account_id == STAGING
    assert [s.id for s in parsed.servers_in("us-east-1", STAGING)] == ["s-0d000000000000001"]
    assert [s.id for s in parsed.servers_in("us-west-2", STAGING)] == ["s-0d000000000000002"]
    assert [s.id for s in parsed.servers_in("us-east-1")] == ["s-0a000000000000001"]
    assert parsed.servers_in("us-east-1", "999999999999") == ()
    assert parsed.regions() == {"us-east-1", "us-west-2"}
    again = parse_fleet(parsed.to_dict(), "again")
    assert again.staging_accounts == parsed.staging_accounts


def test_a_fleet_without_staging_accounts_writes_none():
    parsed = parse_fleet({"account_id": TARGET, "region": "us-east-1", "source_servers": []}, "fleet.yaml")
    assert parsed.staging_accounts == ()
    assert "staging_accounts" not in parsed.to_dict()


def test_every_problem_is_named_by_its_path():
    found = problems(
        {"account_id": TARGET, "source_servers": []},
        {"account_id": STAGING, "source_servers": [], "role": "x"},
        {"account_id": STAGING, "source_servers": []},
        {"account_id": "12345", "source_servers": "erp"},
        {
            "account_id": "777788889999",
            "source_servers": [
                {"id": "s-0a000000000000001", "hostname": "again"},
                {"id": "s-0d000000000000009", "hostname": "erp", "launch": {"instance_type": "m5.large"}},
            ],
        },
        "not a mapping",
    )
    paths = [path for path, _ in found]
    assert paths == [
        "staging_accounts[0].account_id",
        "staging_accounts[1].role",
        "staging_accounts[2].account_id",
        "staging_accounts[3].account_id",
        "staging_accounts[3].source_servers",
        "staging_accounts[4].source_servers[0].id",
        "staging_accounts[4].source_servers[1].launch",
        "staging_accounts[5]",
    ]
    messages = dict(found)
    assert "the fleet's own account_id" in messages["staging_accounts[0].account_id"]
    assert "repeats staging_accounts[1]" in messages["staging_accounts[2].account_id"]
    assert "repeats source_servers[0].id" in messages["staging_accounts[4].source_servers[0].id"]


def test_staging_accounts_must_be_a_list():
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet({**fleet(), "staging_accounts": {"account_id": STAGING}}, "fleet.yaml")
    assert [path for path, _ in caught.value.problems] == ["staging_accounts"]
