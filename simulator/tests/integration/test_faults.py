"""Fault injection through POST /_simulator/faults: throttling, failing servers, latency, dropped answers."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from integration.helpers import raw_call, wait_job

pytestmark = pytest.mark.integration

WEB_1 = "s-0a000000000000005"
WEB_2 = "s-0a000000000000006"


def test_throttle_a_fraction_of_calls_with_retry_after(drs_simulator, make_drs):
    drs_simulator.set_faults(throttle_rate=0.5, seed=7, retry_after_seconds=3)
    drs = make_drs(retries={"total_max_attempts": 1, "mode": "standard"})
    throttled = 0
    for _ in range(40):
        try:
            drs.describe_jobs()
        except ClientError as exc:
            response = exc.response
            assert response["Error"]["Code"] == "ThrottlingException"
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "3"
            assert response["serviceCode"] == "drs"
            assert response["retryAfterSeconds"] == "3"
            throttled += 1
    assert 8 <= throttled <= 32
    calls = drs_simulator.calls("DescribeJobs")
    assert len(calls) == 40
    assert sum(1 for c in calls if c["throttled"]) == throttled
    assert all(c["status"] == 429 for c in calls if c["throttled"])


def test_throttle_the_next_n_calls_of_one_operation(drs_simulator, make_drs):
    drs_simulator.set_faults(throttle_count=1, throttle_operations=["StartRecovery"])
    drs = make_drs(retries={"total_max_attempts": 3, "mode": "standard"})
    assert drs.describe_jobs()["items"] == []  # not a throttled operation
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])
    assert job["ResponseMetadata"]["RetryAttempts"] == 1
    assert [c["status"] for c in drs_simulator.calls("StartRecovery")] == [429, 202]


def test_throttled_answer_on_the_wire(drs_simulator):
    drs_simulator.set_faults(throttle_count=1)
    status, headers, body = raw_call(drs_simulator.url, "POST", "/DescribeJobs", {})
    assert status == 429
    assert headers["x-amzn-errortype"] == "ThrottlingException"
    assert headers["retry-after"] == "1"
    assert body["message"] == "Rate exceeded"


def test_fail_chosen_servers(drs_simulator, drs):
    drs_simulator.set_faults(fail_servers={WEB_1: "EC2 said no: InstanceLimitExceeded"})
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}, {"sourceServerID": WEB_2}])["job"]
    done = wait_job(drs, job["jobID"])
    assert {p["sourceServerID"]: p["launchStatus"] for p in done["participatingServers"]} == {
        WEB_1: "FAILED",
        WEB_2: "LAUNCHED",
    }
    (failed,) = [
        i for i in drs.describe_job_log_items(jobID=job["jobID"])["items"] if i["event"] == "LAUNCH_FAILED"
    ]
    assert failed["eventData"] == {"sourceServerID": WEB_1, "rawError": "EC2 said no: InstanceLimitExceeded"}


def test_fail_servers_as_a_list_uses_a_default_raw_error(drs_simulator, drs):
    drs_simulator.set_faults(fail_servers=[WEB_2])
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_2}])["job"]
    wait_job(drs, job["jobID"])
    (failed,) = [
        i for i in drs.describe_job_log_items(jobID=job["jobID"])["items"] if i["event"] == "LAUNCH_FAILED"
    ]
    assert "fault injection" in failed["eventData"]["rawError"]


def test_latency(drs_simulator, drs):
    drs_simulator.set_faults(latency_seconds=0.3, latency_operations=["DescribeJobs"])
    started = time.monotonic()
    drs.describe_jobs()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    drs.describe_source_servers()
    assert time.monotonic() - started < 0.3


def test_page_size_answers_fewer_than_asked_and_the_pages_hold_everything(drs_simulator, drs):
    everything = drs.describe_source_servers()["items"]
    assert len(everything) > 3
    drs_simulator.set_faults(page_size=2)

    first = drs.describe_source_servers(maxResults=10)
    paged = drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 10})

    assert len(first["items"]) == 2 and first["nextToken"]
    assert [item["sourceServerID"] for page in paged for item in page["items"]] == [
        item["sourceServerID"] for item in everything
    ]


def test_listing_lag_leaves_new_jobs_out_of_describe_jobs_for_a_while(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(listing_lag_seconds=10)
    job_id = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}], isDrill=True)["job"]["jobID"]

    assert drs.describe_jobs(filters={"jobIDs": [job_id]})["items"] == []
    drs_simulator.advance(10)
    assert [job["jobID"] for job in drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]] == [job_id]


def test_dropped_start_recovery_answer_and_boto3_retry_make_exactly_one_job(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(drop_response_count=1)
    with pytest.raises(drs.exceptions.ConflictException) as caught:
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}, {"sourceServerID": WEB_2}], isDrill=True)
    jobs = drs.describe_jobs()["items"]
    assert len(jobs) == 1
    assert jobs[0]["jobID"] in caught.value.response["Error"]["Message"]
    calls = drs_simulator.calls("StartRecovery")
    assert [(c["dropped"], c["status"]) for c in calls] == [(True, None), (False, 409)]
    assert calls[0]["job_ids"] == [jobs[0]["jobID"]]
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 1


def test_drop_count_is_spent_then_answers_come_back(drs_simulator, make_drs):
    drs_simulator.set_faults(drop_response_count=1, drop_response_operations=["DescribeJobs"])
    drs = make_drs(retries={"total_max_attempts": 1})
    with pytest.raises(Exception) as caught:
        drs.describe_jobs()
    assert "Connection" in type(caught.value).__name__ or "connection" in str(caught.value).lower()
    assert drs.describe_jobs()["items"] == []


def test_faults_are_replaced_and_reset(drs_simulator):
    drs_simulator.set_faults(throttle_rate=1.0)
    current = drs_simulator.set_faults(latency_seconds=0.01)["faults"]
    assert current["throttle_rate"] == 0.0 and current["latency_seconds"] == 0.01
    drs_simulator.reset()
    status, _, body = raw_call(drs_simulator.url, "GET", "/_simulator/faults")
    assert status == 200 and body["faults"]["latency_seconds"] == 0.0


def test_bad_fault_requests_are_refused(drs_simulator):
    for body in (
        {"throttle_rate": 2},
        {"no_such_fault": 1},
        {"fail_servers": 3},
        {"drop_response_count": -1},
    ):
        status, _, answer = raw_call(drs_simulator.url, "POST", "/_simulator/faults", body)
        assert status == 400, body
        assert answer["error"]
