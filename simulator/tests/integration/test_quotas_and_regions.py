"""Quotas (each one), one active job per server, and state kept per account + region."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def fleet_of(count, **quotas):
    servers = [
        {"id": f"s-{n:017d}", "hostname": f"host-{n}", "launch_seconds": 60} for n in range(1, count + 1)
    ]
    fleet = {"account_id": "111122223333", "region": "eu-west-1", "source_servers": servers}
    if quotas:
        fleet["quotas"] = quotas
    return fleet


def ids(first, last):
    return [{"sourceServerID": f"s-{n:017d}"} for n in range(first, last + 1)]


def test_servers_per_job_default_is_100(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(150), speed=0)
    drs = make_drs(region="eu-west-1")
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(sourceServers=ids(1, 101))
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert response["quotaCode"] == "max-source-servers-per-job"
    assert response["serviceCode"] == "drs"
    assert "100" in response["Error"]["Message"]
    assert len(drs.start_recovery(sourceServers=ids(1, 100))["job"]["participatingServers"]) == 100


def test_servers_per_job_from_the_fleet_quotas(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(10, max_servers_per_job=3), speed=0)
    drs = make_drs(region="eu-west-1")
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException):
        drs.start_recovery(sourceServers=ids(1, 4))
    drs.start_recovery(sourceServers=ids(1, 3))


def test_servers_across_active_jobs(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(12, max_servers_in_active_jobs=10), speed=0)
    drs = make_drs(region="eu-west-1")
    drs.start_recovery(sourceServers=ids(1, 6))
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(sourceServers=ids(7, 11))
    assert caught.value.response["quotaCode"] == "max-source-servers-in-all-active-jobs"
    drs.start_recovery(sourceServers=ids(7, 10))
    drs_simulator.advance(100)  # the jobs complete: their servers no longer count
    drs.start_recovery(sourceServers=ids(1, 10))


def test_servers_across_active_jobs_default_is_500(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(501), speed=0)
    drs = make_drs(region="eu-west-1")
    for first in range(1, 501, 100):
        drs.start_recovery(sourceServers=ids(first, first + 99))
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(sourceServers=ids(501, 501))
    assert caught.value.response["quotaCode"] == "max-source-servers-in-all-active-jobs"


def test_concurrent_jobs_default_is_20(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(21), speed=0)
    drs = make_drs(region="eu-west-1")
    for n in range(1, 21):
        drs.start_recovery(sourceServers=ids(n, n))
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as caught:
        drs.start_recovery(sourceServers=ids(21, 21))
    assert caught.value.response["quotaCode"] == "max-concurrent-jobs"
    assert "20" in caught.value.response["Error"]["Message"]


def test_quotas_can_be_changed_through_the_control_api(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(5), speed=0)
    assert drs_simulator.set_quotas(max_concurrent_jobs=1)["max_concurrent_jobs"] == 1
    drs = make_drs(region="eu-west-1")
    drs.start_recovery(sourceServers=ids(1, 1))
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException):
        drs.start_recovery(sourceServers=ids(2, 2))


def test_one_active_job_per_server_conflict_names_server_and_job(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])["job"]
    with pytest.raises(drs.exceptions.ConflictException) as caught:
        drs.start_recovery(
            sourceServers=[
                {"sourceServerID": "s-0a000000000000002"},
                {"sourceServerID": "s-0a000000000000001"},
            ]
        )
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert response["resourceId"] == "s-0a000000000000001"
    assert response["resourceType"] == "SOURCE_SERVER"
    assert "s-0a000000000000001" in response["Error"]["Message"]
    assert job["jobID"] in response["Error"]["Message"]
    assert len(drs.describe_jobs()["items"]) == 1
    drs_simulator.advance(200)  # once the job is COMPLETED the server is free again
    drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])


def test_duplicate_server_in_one_request_is_a_validation_error(drs):
    with pytest.raises(drs.exceptions.ValidationException) as caught:
        drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}] * 2)
    assert caught.value.response["fieldList"][0]["name"] == "sourceServers[1].sourceServerID"


def test_state_is_per_region(drs_simulator, make_drs):
    east = make_drs(region="us-east-1")
    west = make_drs(region="us-west-2")
    assert len(east.describe_source_servers()["items"]) >= 12
    assert west.describe_source_servers()["items"] == []
    job = east.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])["job"]
    assert west.describe_jobs()["items"] == []
    assert west.describe_job_log_items(jobID=job["jobID"])["items"] == []
    with pytest.raises(west.exceptions.ResourceNotFoundException):
        west.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
    with pytest.raises(west.exceptions.ResourceNotFoundException):
        west.list_tags_for_resource(resourceArn=job["arn"])
    assert [j["jobID"] for j in east.describe_jobs()["items"]] == [job["jobID"]]
    regions = {c["region"] for c in drs_simulator.calls()}
    assert regions == {"us-east-1", "us-west-2"}


def test_fleet_region_and_account_come_from_the_fleet(drs_simulator, make_drs):
    drs_simulator.reset(fleet=fleet_of(2), speed=0)
    assert drs_simulator.region == "eu-west-1"
    assert drs_simulator.account_id == "111122223333"
    drs = make_drs(region="eu-west-1")
    (first, _) = drs.describe_source_servers()["items"]
    assert first["arn"].startswith("arn:aws:drs:eu-west-1:111122223333:source-server/")
    assert make_drs(region="us-east-1").describe_source_servers()["items"] == []


def test_a_fleet_server_is_registered_in_its_own_region(drs_simulator, make_drs):
    fleet = fleet_of(3)
    fleet["source_servers"][1]["region"] = "eu-central-1"
    fleet["source_servers"][2]["region"] = "eu-central-1"
    drs_simulator.reset(fleet=fleet, speed=0)
    ireland, frankfurt = make_drs(region="eu-west-1"), make_drs(region="eu-central-1")
    assert [s["sourceServerID"] for s in ireland.describe_source_servers()["items"]] == [
        "s-00000000000000001"
    ]
    in_frankfurt = frankfurt.describe_source_servers()["items"]
    assert [s["sourceServerID"] for s in in_frankfurt] == ["s-00000000000000002", "s-00000000000000003"]
    assert in_frankfurt[0]["arn"] == "arn:aws:drs:eu-central-1:111122223333:source-server/s-00000000000000002"
    job = frankfurt.start_recovery(sourceServers=[{"sourceServerID": "s-00000000000000002"}])["job"]
    with pytest.raises(ireland.exceptions.ResourceNotFoundException):
        ireland.start_recovery(sourceServers=[{"sourceServerID": "s-00000000000000002"}])
    assert ireland.describe_jobs()["items"] == []
    drs_simulator.advance(100)
    (instance,) = frankfurt.describe_recovery_instances()["items"]
    assert instance["jobID"] == job["jobID"]
    assert ireland.describe_recovery_instances()["items"] == []
    logged = {(call["operation"], call["region"]) for call in drs_simulator.calls("StartRecovery")}
    assert logged == {("StartRecovery", "eu-central-1"), ("StartRecovery", "eu-west-1")}
