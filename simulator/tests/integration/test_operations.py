"""Every implemented operation through boto3, with filters and pagination, checked against the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integration.helpers import wait_job

pytestmark = pytest.mark.integration

SHOP = [f"s-0a00000000000000{n}" for n in range(1, 8)]
PORTAL = [f"s-0b00000000000000{n}" for n in range(1, 6)]


def test_describe_source_servers_lists_the_sample_fleet(drs, checker):
    items = drs.describe_source_servers()["items"]
    by_id = {item["sourceServerID"]: item for item in items}
    for server_id in SHOP + PORTAL:
        assert server_id in by_id
    db1 = by_id["s-0a000000000000001"]
    assert db1["tags"] == {"App": "shop", "Role": "db"}
    assert db1["sourceProperties"]["identificationHints"]["hostname"] == "db-1"
    assert db1["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert db1["lastLaunchResult"] == "NOT_STARTED"
    assert db1["arn"] == "arn:aws:drs:us-east-1:123456789012:source-server/s-0a000000000000001"
    assert checker.checked == 1


def test_describe_source_servers_filters(drs):
    items = drs.describe_source_servers(filters={"sourceServerIDs": PORTAL[:2]})["items"]
    assert [i["sourceServerID"] for i in items] == PORTAL[:2]
    assert drs.describe_source_servers(filters={"sourceServerIDs": ["s-99999999999999999"]})["items"] == []
    assert len(drs.describe_source_servers(filters={"stagingAccountIDs": ["123456789012"]})["items"]) >= 12
    assert drs.describe_source_servers(filters={"stagingAccountIDs": ["999999999999"]})["items"] == []
    assert drs.describe_source_servers(filters={"hardwareId": "no-such-hardware"})["items"] == []


def test_describe_source_servers_paginates(drs):
    everything = drs.describe_source_servers()["items"]
    first = drs.describe_source_servers(maxResults=5)
    assert len(first["items"]) == 5 and first["nextToken"]
    second = drs.describe_source_servers(maxResults=5, nextToken=first["nextToken"])
    assert [i["sourceServerID"] for i in second["items"]] == [i["sourceServerID"] for i in everything[5:10]]
    pages = list(drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 3}))
    assert all(len(p["items"]) <= 3 for p in pages)
    assert "nextToken" not in pages[-1]
    assert [i["sourceServerID"] for p in pages for i in p["items"]] == [
        i["sourceServerID"] for i in everything
    ]


def test_bad_next_token_is_a_validation_error(drs):
    with pytest.raises(drs.exceptions.ValidationException) as caught:
        drs.describe_source_servers(nextToken="not-a-token")
    assert caught.value.response["fieldList"][0]["name"] == "nextToken"


def test_start_recovery_returns_the_job(drs):
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": s} for s in SHOP[:3]], isDrill=True, tags={"plan": "shop"}
    )["job"]
    assert [p["sourceServerID"] for p in job["participatingServers"]] == SHOP[:3]
    assert all(p["launchStatus"] == "PENDING" for p in job["participatingServers"])
    assert job["tags"] == {"plan": "shop"}
    assert job["arn"] == f"arn:aws:drs:us-east-1:123456789012:job/{job['jobID']}"
    meta = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200


def test_start_recovery_answers_202(drs):
    response = drs.start_recovery(sourceServers=[{"sourceServerID": SHOP[0]}])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202


def test_describe_jobs_filters_and_pagination(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    ids = []
    for server_id in SHOP[:5]:
        ids.append(drs.start_recovery(sourceServers=[{"sourceServerID": server_id}])["job"]["jobID"])
        drs_simulator.advance(3600)
    everything = drs.describe_jobs()["items"]
    assert [j["jobID"] for j in everything] == ids
    assert [j["jobID"] for j in drs.describe_jobs(filters={"jobIDs": ids[1:3]})["items"]] == ids[1:3]
    created = [
        datetime.strptime(j["creationDateTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        for j in everything
    ]

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    window = drs.describe_jobs(
        filters={
            "fromDate": stamp(created[1] - timedelta(seconds=1)),
            "toDate": stamp(created[3] - timedelta(seconds=1)),
        }
    )["items"]
    assert [j["jobID"] for j in window] == ids[1:3]
    pages = list(drs.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [j["jobID"] for p in pages for j in p["items"]] == ids


def test_describe_job_log_items_paginates(drs):
    job = drs.start_recovery(sourceServers=[{"sourceServerID": s} for s in SHOP[:3]])["job"]
    wait_job(drs, job["jobID"])
    everything = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    assert len(everything) == 2 + 3 * 5
    pages = list(
        drs.get_paginator("describe_job_log_items").paginate(
            jobID=job["jobID"], PaginationConfig={"PageSize": 4}
        )
    )
    assert len(pages) == 5
    assert [i for p in pages for i in p["items"]] == everything


def test_describe_job_log_items_of_unknown_job_is_empty(drs):
    assert drs.describe_job_log_items(jobID="drsjob-00000000000000000")["items"] == []


def test_describe_recovery_snapshots_order_dates_pagination(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    drs_simulator.advance(1800)
    server = SHOP[0]
    ascending = drs.describe_recovery_snapshots(sourceServerID=server)["items"]
    assert len(ascending) >= 8
    assert [s["expectedTimestamp"] for s in ascending] == sorted(s["expectedTimestamp"] for s in ascending)
    descending = drs.describe_recovery_snapshots(sourceServerID=server, order="DESC")["items"]
    assert descending == list(reversed(ascending))
    assert all(s["snapshotID"].startswith("pit-") and len(s["snapshotID"]) == 21 for s in ascending)
    low, high = ascending[2]["expectedTimestamp"], ascending[5]["expectedTimestamp"]
    window = drs.describe_recovery_snapshots(
        sourceServerID=server, filters={"fromDateTime": low[:19] + "Z", "toDateTime": high}
    )["items"]
    assert [s["snapshotID"] for s in window] == [s["snapshotID"] for s in ascending[2:6]]
    pages = list(
        drs.get_paginator("describe_recovery_snapshots").paginate(
            sourceServerID=server, order="ASC", PaginationConfig={"PageSize": 3}
        )
    )
    assert [s for p in pages for s in p["items"]] == ascending


def test_describe_recovery_snapshots_of_unknown_server_is_empty(drs):
    assert drs.describe_recovery_snapshots(sourceServerID="s-99999999999999999")["items"] == []


def test_describe_recovery_instances_filters_and_pagination(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    drs.start_recovery(sourceServers=[{"sourceServerID": s} for s in SHOP], isDrill=True)
    drs_simulator.advance(200)
    everything = drs.describe_recovery_instances()["items"]
    assert sorted(i["sourceServerID"] for i in everything) == SHOP
    some = drs.describe_recovery_instances(filters={"sourceServerIDs": SHOP[:2]})["items"]
    assert sorted(i["sourceServerID"] for i in some) == SHOP[:2]
    one = everything[3]["recoveryInstanceID"]
    assert [
        i["recoveryInstanceID"]
        for i in drs.describe_recovery_instances(filters={"recoveryInstanceIDs": [one]})["items"]
    ] == [one]
    pages = list(drs.get_paginator("describe_recovery_instances").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["items"]) for p in pages] == [3, 3, 1]


def test_tags_on_jobs_source_servers_and_recovery_instances(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": SHOP[4]}], tags={"a": "1"})["job"]
    drs_simulator.advance(100)
    (instance,) = drs.describe_recovery_instances()["items"]
    (server,) = drs.describe_source_servers(filters={"sourceServerIDs": [SHOP[4]]})["items"]
    for arn, before in (
        (job["arn"], {"a": "1"}),
        (server["arn"], {"App": "shop", "Role": "web"}),
        (instance["arn"], {"a": "1"}),
    ):
        assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == before
        drs.tag_resource(resourceArn=arn, tags={"owner": "dr-team", "env": "drill"})
        assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == {
            **before,
            "owner": "dr-team",
            "env": "drill",
        }
        drs.untag_resource(resourceArn=arn, tagKeys=["owner", "env"])
        assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == before
    drs.tag_resource(resourceArn=server["arn"], tags={"Tier": "1"})
    (server,) = drs.describe_source_servers(filters={"sourceServerIDs": [SHOP[4]]})["items"]
    assert server["tags"]["Tier"] == "1"


def test_tags_on_unknown_resource_are_not_found(drs):
    arn = "arn:aws:drs:us-east-1:123456789012:job/drsjob-00000000000000000"
    with pytest.raises(drs.exceptions.ResourceNotFoundException) as caught:
        drs.list_tags_for_resource(resourceArn=arn)
    assert caught.value.response["resourceId"] == arn
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(drs.exceptions.ResourceNotFoundException):
        drs.tag_resource(
            resourceArn="arn:aws:drs:us-west-2:123456789012:source-server/s-0a000000000000001",
            tags={"a": "b"},
        )


def test_start_recovery_with_unknown_server_is_not_found(drs):
    with pytest.raises(drs.exceptions.ResourceNotFoundException) as caught:
        drs.start_recovery(
            sourceServers=[{"sourceServerID": SHOP[0]}, {"sourceServerID": "s-99999999999999999"}]
        )
    assert caught.value.response["resourceId"] == "s-99999999999999999"
    assert caught.value.response["resourceType"] == "SOURCE_SERVER"
    assert drs.describe_jobs()["items"] == []
