"""drs_provider.readiness.staging: which staging servers a selector means, and what the finding says."""

from __future__ import annotations

from drs_provider.readiness.findings import ERROR, STAGING_SERVER_NOT_EXTENDED, WARNING
from drs_provider.readiness.staging import StagingServer, extended_as, matching, not_extended, with_id

ARN = "arn:aws:drs:us-east-1:444455556666:source-server/s-0d000000000000001"
ERP = StagingServer.from_item(
    "444455556666", {"hostname": "erp-1", "arn": ARN, "tags": {"App": "erp", "Tier": "1"}}
)
BARE = StagingServer.from_item(
    "444455556666", {"arn": "arn:aws:drs:us-east-1:444455556666:source-server/s-0d000000000000002"}
)


def test_a_listed_item_becomes_a_staging_server_with_its_id_from_the_arn() -> None:
    assert (ERP.server_id, ERP.hostname, dict(ERP.tags)) == (
        "s-0d000000000000001",
        "erp-1",
        {"App": "erp", "Tier": "1"},
    )
    assert ERP.describe() == f"erp-1 ({ARN})"
    assert (BARE.hostname, dict(BARE.tags), BARE.describe()) == (None, {}, BARE.arn)


def test_tags_match_as_a_tag_selector_does_every_tag_with_its_value() -> None:
    assert matching([ERP, BARE], {"App": "erp"}) == [ERP]
    assert matching([ERP, BARE], {"App": "erp", "Tier": "1"}) == [ERP]
    assert matching([ERP, BARE], {"App": "erp", "Tier": "2"}) == []
    assert matching([ERP, BARE], {"Other": "erp"}) == []


def test_a_staging_id_is_found_by_the_arn_it_ends() -> None:
    assert with_id([BARE, ERP], "s-0d000000000000001") is ERP
    assert with_id([BARE, ERP], "s-0d000000000000009") is None


def test_a_server_extended_from_a_staging_id_is_named() -> None:
    servers = {
        "s-0a000000000000001": {"stagingArea": {"status": "NOT_EXTENDED"}},
        "s-0e000000000000001": {
            "stagingArea": {"status": "EXTENDED", "stagingSourceServerArn": ARN},
            "sourceProperties": {"identificationHints": {"hostname": "erp-1"}},
        },
    }
    assert extended_as(servers, "s-0d000000000000001") == "s-0e000000000000001 (erp-1)"
    assert extended_as(servers, "s-0d000000000000002") is None


def test_the_finding_names_wave_account_arn_hostname_and_how_to_extend() -> None:
    by_tags = not_extended(ERROR, "servers", ERP, "aws_default, us-east-1", "db", {"App": "erp"}, by_id=False)
    assert (by_tags.severity, by_tags.code, by_tags.wave, by_tags.server) == (
        ERROR,
        STAGING_SERVER_NOT_EXTENDED,
        "db",
        ARN,
    )
    assert by_tags.message == (
        f"servers.tags {{App=erp}} match erp-1 ({ARN}) of staging account 444455556666, which is not "
        "extended into aws_default, us-east-1: the wave would not recover it. Extend it "
        f"(CreateExtendedSourceServer in aws_default, us-east-1 with sourceServerArn {ARN} "
        "and tags {App=erp})"
    )
    by_id = not_extended(WARNING, "optional_servers", ERP, "aws_default, us-east-1", "db", None, by_id=True)
    assert by_id.severity == WARNING
    assert by_id.message.startswith(f"optional_servers.ids: s-0d000000000000001 is erp-1 ({ARN})")
    assert "and tags" not in by_id.message
    assert by_id.message.endswith("the extended server gets an ID of its own: name that one in the plan")
