"""Staging accounts through real boto3 clients: ListStagingAccounts, ListExtensibleSourceServers,
CreateExtendedSourceServer, the recovery of an extended server, and DescribeSourceServers' filter
``stagingAccountIDs``. Every answer is checked against the service model (``make_drs``)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

TARGET = "123456789012"
STAGING = "444455556666"
OTHER_STAGING = "777788889999"
REGION = "us-east-1"
WEST = "us-west-2"
OWN_SERVER = "s-0e000000000000001"
ERP_1 = "s-0d000000000000001"
ERP_2 = "s-0d000000000000002"
ERP_WEST = "s-0d000000000000003"
LAUNCH_SECONDS = 60

FLEET: dict[str, Any] = {
    "account_id": TARGET,
    "region": REGION,
    "source_servers": [{"id": OWN_SERVER, "hostname": "ledger", "launch_seconds": LAUNCH_SECONDS}],
    "staging_accounts": [
        {
            "account_id": STAGING,
            "source_servers": [
                {"id": ERP_1, "hostname": "erp-1", "tags": {"App": "erp"}, "launch_seconds": LAUNCH_SECONDS},
                {"id": ERP_2, "hostname": "erp-2", "tags": {"App": "erp"}, "lag_seconds": 30},
                {"id": ERP_WEST, "hostname": "erp-west", "region": WEST},
            ],
        },
        {"account_id": OTHER_STAGING, "source_servers": []},
    ],
}


def staging_arn(server_id: str, region: str = REGION, account: str = STAGING) -> str:
    return f"arn:aws:drs:{region}:{account}:source-server/{server_id}"


@pytest.fixture
def drs(drs_simulator: Any, make_drs: Any) -> Any:
    """A model-checked client of the target account, on this fleet at speed 0."""
    drs_simulator.reset(fleet=FLEET, speed=0)
    return make_drs(region=REGION)


def test_the_target_account_lists_its_staging_accounts_page_by_page(drs):
    assert drs.list_staging_accounts()["accounts"] == [{"accountID": STAGING}, {"accountID": OTHER_STAGING}]
    first = drs.list_staging_accounts(maxResults=1)
    assert first["accounts"] == [{"accountID": STAGING}]
    second = drs.list_staging_accounts(maxResults=1, nextToken=first["nextToken"])
    assert second["accounts"] == [{"accountID": OTHER_STAGING}]
    assert "nextToken" not in second
    pages = drs.get_paginator("list_staging_accounts").paginate(PaginationConfig={"PageSize": 1})
    assert [a["accountID"] for page in pages for a in page["accounts"]] == [STAGING, OTHER_STAGING]


def test_a_fleet_without_staging_accounts_has_none(drs_simulator, make_drs):
    drs_simulator.reset(fleet={"account_id": TARGET, "region": REGION, "source_servers": []}, speed=0)
    assert make_drs(region=REGION).list_staging_accounts()["accounts"] == []


def test_extensible_servers_are_the_staging_accounts_servers_of_the_region(drs, make_drs):
    items = drs.list_extensible_source_servers(stagingAccountID=STAGING)["items"]
    assert items == [
        {"hostname": "erp-1", "arn": staging_arn(ERP_1), "tags": {"App": "erp"}},
        {"hostname": "erp-2", "arn": staging_arn(ERP_2), "tags": {"App": "erp"}},
    ]
    west = make_drs(region=WEST).list_extensible_source_servers(stagingAccountID=STAGING)["items"]
    assert [s["arn"] for s in west] == [staging_arn(ERP_WEST, WEST)]
    assert drs.list_extensible_source_servers(stagingAccountID=OTHER_STAGING)["items"] == []
    first = drs.list_extensible_source_servers(stagingAccountID=STAGING, maxResults=1)
    assert [s["hostname"] for s in first["items"]] == ["erp-1"]
    rest = drs.list_extensible_source_servers(
        stagingAccountID=STAGING, maxResults=1, nextToken=first["nextToken"]
    )
    assert [s["hostname"] for s in rest["items"]] == ["erp-2"]


def test_an_account_that_is_not_a_staging_account_is_refused(drs):
    for account in ("999999999999", TARGET):
        with pytest.raises(drs.exceptions.ValidationException) as raised:
            drs.list_extensible_source_servers(stagingAccountID=account)
        assert f"{account} is not a staging account" in raised.value.response["Error"]["Message"]


def test_an_extended_server_replicates_in_the_target_account_and_is_recovered(drs, drs_simulator):
    created = drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_1), tags={"Tier": "gold"})
    server = created["sourceServer"]
    server_id = server["sourceServerID"]
    assert server_id not in (ERP_1, ERP_2, OWN_SERVER)
    assert server["arn"] == f"arn:aws:drs:{REGION}:{TARGET}:source-server/{server_id}"
    assert server["stagingArea"] == {
        "status": "EXTENDED",
        "stagingAccountID": STAGING,
        "stagingSourceServerArn": staging_arn(ERP_1),
    }
    assert server["tags"] == {"Tier": "gold"}
    assert server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert server["sourceProperties"]["identificationHints"]["hostname"] == "erp-1"
    (described,) = drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"]
    assert described["stagingArea"]["status"] == "EXTENDED"
    # Once extended, the staging server is no longer offered.
    remaining = drs.list_extensible_source_servers(stagingAccountID=STAGING)["items"]
    assert [s["arn"] for s in remaining] == [staging_arn(ERP_2)]

    job = drs.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True)["job"]
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    (finished,) = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert finished["status"] == "COMPLETED"
    assert finished["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    (instance,) = drs.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"]
    assert instance["ec2InstanceState"] == "RUNNING"
    assert (
        drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"][0]["lastLaunchResult"]
        == "SUCCEEDED"
    )


def test_extending_a_server_twice_is_refused_with_a_validation_error(drs):
    first = drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_1))["sourceServer"]
    # The model gives CreateExtendedSourceServer no ConflictException: DRS answers ValidationException.
    with pytest.raises(drs.exceptions.ValidationException) as raised:
        drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_1))
    message = raised.value.response["Error"]["Message"]
    assert "already extended" in message and first["sourceServerID"] in message
    assert len(drs.describe_source_servers(filters={"stagingAccountIDs": [STAGING]})["items"]) == 1


def test_a_deleted_extended_server_can_be_extended_again(drs):
    first = drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_2))["sourceServer"]
    drs.disconnect_source_server(sourceServerID=first["sourceServerID"])
    drs.delete_source_server(sourceServerID=first["sourceServerID"])
    arns = [s["arn"] for s in drs.list_extensible_source_servers(stagingAccountID=STAGING)["items"]]
    assert staging_arn(ERP_2) in arns
    drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_2))


@pytest.mark.parametrize(
    ("arn", "error"),
    [
        (staging_arn("s-0d00000000000000f"), "ResourceNotFoundException"),
        (staging_arn(ERP_1, account="999999999999"), "ResourceNotFoundException"),
        (staging_arn(ERP_WEST, WEST), "ValidationException"),
        (staging_arn(OWN_SERVER, account=TARGET), "ValidationException"),
    ],
)
def test_a_server_that_cannot_be_extended_here_is_refused(drs, arn, error):
    with pytest.raises(drs.exceptions.ClientError) as raised:
        drs.create_extended_source_server(sourceServerArn=arn)
    assert raised.value.response["Error"]["Code"] == error


def test_describe_source_servers_filters_by_staging_account(drs):
    created = drs.create_extended_source_server(sourceServerArn=staging_arn(ERP_1))["sourceServer"]

    def ids(*accounts: str) -> list[str]:
        items = drs.describe_source_servers(filters={"stagingAccountIDs": list(accounts)})["items"]
        return sorted(s["sourceServerID"] for s in items)

    assert ids(STAGING) == [created["sourceServerID"]]
    assert ids(OTHER_STAGING) == []
    # A server replicated straight into the target account stages in the target account.
    assert ids(TARGET) == [OWN_SERVER]
    assert ids(TARGET, STAGING) == sorted([OWN_SERVER, created["sourceServerID"]])
    own = drs.describe_source_servers(filters={"sourceServerIDs": [OWN_SERVER]})["items"][0]
    assert own["stagingArea"] == {"status": "NOT_EXTENDED"}
