"""Server errors (500/503, before or after the call) and outages (connections refused), through boto3."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from integration.helpers import raw_call, refuses_connections, wait_for

pytestmark = pytest.mark.integration

WEB_1 = "s-0a000000000000005"
NO_RETRY = {"retries": {"total_max_attempts": 1}}
#: botocore's connection errors: what a client meets while the endpoint is down.
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError)


def jobs(drs_simulator) -> list[dict]:
    return drs_simulator.client().describe_jobs()["items"]


# --- 500 / 503 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(500, "InternalServerException"), (503, "ServiceUnavailable")])
def test_botocore_retries_server_errors_and_the_call_log_shows_each_attempt(
    drs_simulator, make_drs, status, code
):
    drs_simulator.set_faults(error_count=2, error_status=status, error_operations=["DescribeJobs"])
    drs = make_drs(retries={"mode": "standard", "total_max_attempts": 3})

    answer = drs.describe_jobs()

    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    calls = drs_simulator.calls("DescribeJobs")
    assert [c["status"] for c in calls] == [status, status, 200]
    assert [c["error"] for c in calls] == [code, code, None]
    assert [c["error_injected"] for c in calls] == [True, True, False]


def test_a_500_is_the_modelled_internal_server_exception(drs_simulator, make_drs):
    drs_simulator.set_faults(error_count=1)
    drs = make_drs(**NO_RETRY)
    with pytest.raises(drs.exceptions.InternalServerException) as caught:
        drs.describe_source_servers()
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "fault injection" in response["Error"]["Message"]


def test_a_503_is_the_front_end_service_unavailable(drs_simulator):
    drs_simulator.set_faults(error_count=1, error_status=503)
    status, headers, body = raw_call(drs_simulator.url, "POST", "/DescribeJobs", {})
    assert status == 503
    assert headers["x-amzn-errortype"] == "ServiceUnavailable"
    assert body == {"message": "The request has failed due to a temporary failure of the server."}


def test_a_500_before_the_call_changes_nothing_and_the_retry_starts_the_job(drs_simulator, make_drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(error_count=1, error_operations=["StartRecovery"])
    drs = make_drs(retries={"mode": "standard", "total_max_attempts": 3})

    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])["job"]

    assert [j["jobID"] for j in jobs(drs_simulator)] == [job["jobID"]]
    calls = drs_simulator.calls("StartRecovery")
    assert [(c["status"], c["job_ids"]) for c in calls] == [(500, []), (202, [job["jobID"]])]


def test_a_500_after_the_call_leaves_the_job_and_the_retry_conflicts_with_it(drs_simulator, make_drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(error_count=1, error_operations=["StartRecovery"], error_when="after")
    drs = make_drs(retries={"mode": "standard", "total_max_attempts": 3})

    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])

    [job] = jobs(drs_simulator)
    calls = drs_simulator.calls("StartRecovery")
    assert [(c["status"], c["error"]) for c in calls] == [
        (500, "InternalServerException"),
        (409, "ConflictException"),
    ]
    assert calls[0]["job_ids"] == [job["jobID"]], "the call log names the job the failed call created"


def test_an_error_rate_hits_about_that_fraction(drs_simulator, make_drs):
    drs_simulator.set_faults(error_rate=0.5, seed=3, error_status=503)
    drs = make_drs(**NO_RETRY)
    failed = 0
    for _ in range(40):
        try:
            drs.describe_jobs()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ServiceUnavailable"
            failed += 1
    assert 8 <= failed <= 32
    assert sum(c["error_injected"] for c in drs_simulator.calls()) == failed


def test_errors_only_hit_the_operations_named(drs_simulator, make_drs):
    drs_simulator.set_faults(error_rate=1, error_operations=["StartRecovery"])
    drs = make_drs(**NO_RETRY)
    assert drs.describe_source_servers()["items"]
    with pytest.raises(drs.exceptions.InternalServerException):
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])
    assert jobs(drs_simulator) == []


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        ({"error_operations": ["StartRecover"]}, "unknown operation(s) StartRecover"),
        ({"outage_on": "DescribeJob"}, "unknown operation(s) DescribeJob"),
        ({"error_status": 502}, "error_status must be 500 or 503"),
        ({"error_when": "during"}, "error_when must be 'before' or 'after'"),
        ({"outage_seconds": -1}, "outage_seconds must be a number from 0 to 3600"),
        ({"outage_seconds": 7200}, "outage_seconds must be a number from 0 to 3600"),
    ],
)
def test_bad_fault_settings_are_refused_by_name(drs_simulator, faults, named):
    status, _, body = raw_call(drs_simulator.url, "POST", "/_simulator/faults", faults, auth=False)
    assert status == 400 and named in body["error"], body


def test_the_faults_get_describes_every_new_key(drs_simulator):
    status, _, body = raw_call(drs_simulator.url, "GET", "/_simulator/faults", auth=False)
    assert status == 200
    for key in ("error_rate", "error_count", "error_operations", "error_status", "error_when"):
        assert key in body["keys"] and key in body["faults"]
    for key in ("outage_seconds", "outage_on", "outage_when"):
        assert key in body["keys"] and key in body["faults"]


# --- outages ---------------------------------------------------------------------------------------


def test_an_outage_refuses_connections_then_the_same_endpoint_comes_back_with_its_state(
    drs_simulator, make_drs
):
    drs = make_drs(**NO_RETRY)
    job = drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])["job"]
    calls_before = drs_simulator.calls()

    drs_simulator.set_faults(outage_seconds=600)  # answered, then down

    assert refuses_connections(drs_simulator.url), "the listening socket is closed"
    with pytest.raises(CONNECTION_ERRORS):
        drs.describe_jobs()  # its pooled keep-alive connection was shut down too
    with pytest.raises(EndpointConnectionError):
        make_drs(**NO_RETRY).describe_source_servers()
    drs_simulator.end_outage()

    assert [j["jobID"] for j in drs.describe_jobs()["items"]] == [job["jobID"]]
    assert drs_simulator.calls()[: len(calls_before)] == calls_before
    assert [c["operation"] for c in drs_simulator.calls()[len(calls_before) :]] == ["DescribeJobs"]
    [outage] = drs_simulator.health()["outages"]
    assert outage["trigger"] == "POST /_simulator/faults"
    assert outage["seconds"] == 600 and outage["started"] <= outage["ended"]
    assert drs_simulator.set_faults()["faults"]["outage_seconds"] == 0


def test_an_outage_ends_by_itself_after_its_seconds(drs_simulator, make_drs):
    drs_simulator.set_faults(outage_seconds=0.5)
    assert refuses_connections(drs_simulator.url)

    drs = make_drs(**NO_RETRY)
    wait_for(lambda: not refuses_connections(drs_simulator.url), timeout=30)

    assert len(drs.describe_source_servers()["items"]) >= 12
    [outage] = drs_simulator.health()["outages"]
    assert outage["ended"] is not None and outage["ended"] - outage["started"] >= 0.5
    assert drs_simulator.health()["jobs"] == 0


def test_an_outage_that_starts_after_start_recovery_leaves_its_job(drs_simulator, make_drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(outage_seconds=600, outage_on=["StartRecovery"], outage_when="after")
    drs = make_drs(**NO_RETRY)
    assert drs.describe_source_servers()["items"], "other operations are served until it starts"

    with pytest.raises(CONNECTION_ERRORS):
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])

    assert refuses_connections(drs_simulator.url)
    drs_simulator.end_outage()
    [job] = jobs(drs_simulator)
    [call] = drs_simulator.calls("StartRecovery")
    assert call["outage"] is True and call["status"] is None and call["job_ids"] == [job["jobID"]]
    [outage] = drs_simulator.health()["outages"]
    assert outage["trigger"] == "StartRecovery"


def test_an_outage_that_starts_before_start_recovery_starts_no_job(drs_simulator, make_drs):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(outage_seconds=600, outage_on="StartRecovery")
    drs = make_drs(**NO_RETRY)

    with pytest.raises(CONNECTION_ERRORS):
        drs.start_recovery(sourceServers=[{"sourceServerID": WEB_1}])

    drs_simulator.end_outage()
    assert jobs(drs_simulator) == []
    [call] = drs_simulator.calls("StartRecovery")
    assert call["outage"] is True and call["status"] is None and call["job_ids"] == []


def test_botocore_retries_ride_out_a_short_outage(drs_simulator, make_drs):
    drs_simulator.set_faults(outage_seconds=600, outage_on="DescribeJobs")
    drs = make_drs(retries={"mode": "standard", "total_max_attempts": 10})
    ended = []

    def end_once_refused(**kwargs) -> None:
        # The first retry has met the outage: end it, so a later retry gets through.
        if kwargs.get("attempts") == 2 and not ended:
            drs_simulator.end_outage()
            ended.append(True)

    drs.meta.events.register("needs-retry.drs.DescribeJobs", end_once_refused)
    answer = drs.describe_jobs()

    assert answer["items"] == [] and answer["ResponseMetadata"]["RetryAttempts"] >= 2
    assert ended
    calls = drs_simulator.calls("DescribeJobs")
    assert calls[0]["outage"] is True and calls[-1]["status"] == 200
