"""Selectors against described source servers: IDs first, then every server carrying ALL tags."""

from __future__ import annotations

from drs_provider.recovery.selection import (
    carries_tags,
    is_source_server_id,
    select_servers,
    source_server_hostname,
    tags_text,
)


def server(server_id: str, hostname: str | None = None, fqdn: str | None = None, **tags: str) -> dict:
    hints = {key: value for key, value in (("hostname", hostname), ("fqdn", fqdn)) if value}
    return {"sourceServerID": server_id, "tags": tags, "sourceProperties": {"identificationHints": hints}}


DB1 = server("s-0a000000000000001", "db-1", App="shop", Role="db")
DB2 = server("s-0a000000000000002", None, "db-2.shop.internal", App="shop", Role="db")
APP = server("s-0a000000000000003", "app-1", App="shop", Role="app")
EVERYONE = [DB1, DB2, APP]
KNOWN = {s["sourceServerID"]: s for s in EVERYONE}


def test_tags_must_all_match() -> None:
    assert carries_tags(DB1, {"App": "shop", "Role": "db"})
    assert not carries_tags(DB1, {"App": "shop", "Role": "app"})
    assert carries_tags(DB1, {})
    assert not carries_tags({"jobID": "drsjob-1"}, {"App": "shop"})  # untagged resources match nothing


def test_ids_come_first_then_tag_matches_without_duplicates() -> None:
    picked = select_servers(
        KNOWN, ids=[APP["sourceServerID"], DB1["sourceServerID"]], tags={"Role": "db"}, candidates=EVERYONE
    )

    assert picked.server_ids == (APP["sourceServerID"], DB1["sourceServerID"], DB2["sourceServerID"])
    assert picked.unknown_ids == ()
    assert picked.unmatched_tags == {}


def test_unknown_ids_and_tags_matching_nothing_are_reported_not_raised() -> None:
    picked = select_servers(
        KNOWN, ids=["s-0ffffffffffffffff", DB1["sourceServerID"]], tags={"Role": "cache"}, candidates=EVERYONE
    )

    assert picked.server_ids == (DB1["sourceServerID"],)
    assert picked.unknown_ids == ("s-0ffffffffffffffff",)
    assert picked.unmatched_tags == {"Role": "cache"}


def test_hostname_falls_back_to_the_fqdn() -> None:
    assert source_server_hostname(DB1) == "db-1"
    assert source_server_hostname(DB2) == "db-2.shop.internal"
    assert source_server_hostname({"sourceServerID": "s-0a000000000000009"}) is None


def test_id_shape_and_tag_text() -> None:
    assert is_source_server_id("s-0a000000000000001")
    assert not is_source_server_id("i-0a000000000000001")
    assert not is_source_server_id(None)
    assert tags_text({"Role": "db", "App": "shop"}) == "{App=shop, Role=db}"
