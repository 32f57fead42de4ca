"""Errors as DRS gives them: validation, authentication, bad input, unknown and unimplemented operations."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from drs_simulator.models import OPERATIONS
from integration.helpers import raw_call

pytestmark = pytest.mark.integration


@pytest.fixture
def loose(make_drs):
    """A client that skips botocore's own parameter validation, so bad requests reach the server."""
    return make_drs(parameter_validation=False)


def test_bad_source_server_id_fails_field_validation(loose):
    with pytest.raises(ClientError) as caught:
        loose.start_recovery(sourceServers=[{"sourceServerID": "s-bad"}])
    response = caught.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["reason"] == "fieldValidationFailed"
    assert response["fieldList"] == [
        {
            "name": "sourceServers[0].sourceServerID",
            "message": "Member must have length greater than or equal to 19",
        }
    ]
    assert "sourceServers[0].sourceServerID" in response["Error"]["Message"]


def test_pattern_is_checked(loose):
    with pytest.raises(ClientError) as caught:
        loose.start_recovery(sourceServers=[{"sourceServerID": "s-0a00000000000000!"}])
    (field,) = caught.value.response["fieldList"]
    assert field["name"] == "sourceServers[0].sourceServerID"
    assert "s-[0-9a-zA-Z]{17}" in field["message"]


def test_every_problem_is_listed(loose):
    with pytest.raises(ClientError) as caught:
        loose.start_recovery(
            sourceServers=[{"sourceServerID": "s-bad"}, {"recoverySnapshotID": "pit-x"}], isDrill="yes"
        )
    names = sorted(f["name"] for f in caught.value.response["fieldList"])
    assert names == [
        "isDrill",
        "sourceServers[0].sourceServerID",
        "sourceServers[1].recoverySnapshotID",
        "sourceServers[1].sourceServerID",
    ]
    assert caught.value.response["Error"]["Message"].startswith("4 validation errors detected")


def test_required_members_list_lengths_enums_and_ranges(loose):
    cases = [
        (lambda: loose.start_recovery(), "sourceServers", "Member must not be null"),
        (
            lambda: loose.start_recovery(sourceServers=[]),
            "sourceServers",
            "length greater than or equal to 1",
        ),
        (
            lambda: loose.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}] * 201),
            "sourceServers",
            "length less than or equal to 200",
        ),
        (lambda: loose.describe_jobs(maxResults=0), "maxResults", "greater than or equal to 1"),
        (
            lambda: loose.describe_recovery_snapshots(sourceServerID="s-0a000000000000001", order="SIDEWAYS"),
            "order",
            "enum value set: [ASC, DESC]",
        ),
        (lambda: loose.describe_job_log_items(jobID="job-1"), "jobID", "length"),
        (lambda: loose.describe_jobs(filters={"fromDate": "yesterday"}), "filters.fromDate", "length"),
        (lambda: loose.terminate_recovery_instances(recoveryInstanceIDs=[]), "recoveryInstanceIDs", "length"),
    ]
    for call, name, message in cases:
        with pytest.raises(ClientError) as caught:
            call()
        response = caught.value.response
        assert response["Error"]["Code"] == "ValidationException", name
        assert response["reason"] == "fieldValidationFailed"
        fields = {f["name"]: f["message"] for f in response["fieldList"]}
        assert name in fields, (name, fields)
        assert message in fields[name], (message, fields[name])


def test_missing_sigv4_is_refused(drs_simulator):
    status, headers, body = raw_call(drs_simulator.url, "POST", "/DescribeJobs", {}, auth=False)
    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert body == {"message": "Missing Authentication Token"}


def test_unsigned_boto3_client_gets_missing_authentication_token(drs_simulator):
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.get_session()
    client = session.create_client(
        "drs",
        region_name="us-east-1",
        endpoint_url=drs_simulator.url,
        config=Config(signature_version=UNSIGNED),
    )
    with pytest.raises(ClientError) as caught:
        client.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_non_sigv4_authorization_is_refused(drs_simulator):
    status, headers, _ = raw_call(
        drs_simulator.url,
        "POST",
        "/DescribeJobs",
        {},
        auth=False,
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    )
    assert status == 403
    assert headers["x-amzn-errortype"] == "IncompleteSignatureException"


def test_malformed_json_cannot_be_parsed(drs_simulator):
    for body in ("{not json", "[1, 2]", b"\xff\xfe"):
        status, headers, answer = raw_call(drs_simulator.url, "POST", "/StartRecovery", body)
        assert status == 400
        assert headers["x-amzn-errortype"] == "ValidationException"
        assert answer["reason"] == "cannotParse"
        assert answer["code"] == "ValidationException"
    assert raw_call(drs_simulator.url, "GET", "/_simulator/health")[2]["jobs"] == 0


def test_wrong_json_type_is_field_validation(drs_simulator):
    status, _, answer = raw_call(
        drs_simulator.url, "POST", "/StartRecovery", {"sourceServers": "s-0a000000000000001"}
    )
    assert status == 400
    assert answer["reason"] == "fieldValidationFailed"
    assert answer["fieldList"][0]["name"] == "sourceServers"


def test_unknown_path_and_bad_method(drs_simulator):
    status, headers, body = raw_call(drs_simulator.url, "POST", "/NoSuchOperation", {})
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "POST /NoSuchOperation" in body["message"]
    status, headers, body = raw_call(drs_simulator.url, "GET", "/StartRecovery")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "another HTTP method" in body["message"]
    status, headers, _ = raw_call(
        drs_simulator.url, "PUT", "/tags/arn%3Aaws%3Adrs%3Aus-east-1%3A1%3Ajob%2Fx", {}
    )
    assert status == 404 and headers["x-amzn-errortype"] == "UnknownOperationException"
    calls = drs_simulator.calls()
    assert [c["status"] for c in calls] == [404, 404, 404]
    assert calls[1]["operation"] is None


def test_not_implemented_operations_name_themselves(loose, drs_simulator):
    with pytest.raises(ClientError) as caught:
        loose.delete_job(jobID="drsjob-00000000000000000")
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "NotImplementedException"
    assert "DeleteJob" in response["Error"]["Message"]


def test_every_unimplemented_operation_answers_501(drs_simulator):
    from drs_simulator.service import routes

    for route in routes():
        if route.operation in OPERATIONS:
            continue
        path = route.template.split("?")[0].replace("{", "").replace("}", "")
        status, headers, body = raw_call(drs_simulator.url, route.method, path, {})
        assert status == 501, route.operation
        assert headers["x-amzn-errortype"] == "NotImplementedException"
        assert route.operation in body["message"]


def test_huge_and_odd_requests_never_break_the_server(drs_simulator, drs):
    odd = [
        ("POST", "/StartRecovery", json.dumps({"sourceServers": [{"sourceServerID": None}]})),
        ("POST", "/StartRecovery", json.dumps({"sourceServers": [[]]})),
        ("POST", "/DescribeJobs", json.dumps({"maxResults": 1e400})),
        ("POST", "/DescribeJobs", json.dumps({"maxResults": True})),
        ("POST", "/DescribeJobs", json.dumps({"filters": {"fromDate": "2024-13-45T99:99:99Z"}})),
        ("POST", "/DescribeJobs", json.dumps({"nextToken": "%%%"})),
        ("POST", "/DescribeJobs", "x" * 100_000),
        ("GET", "/tags/", ""),
        ("DELETE", "/tags/arn%3Aaws%3Adrs%3Aus-east-1%3A123456789012%3Ajob%2Fdrsjob-00000000000000000", ""),
        ("POST", "/", ""),
    ]
    for method, path, body in odd:
        status, _, answer = raw_call(drs_simulator.url, method, path, body)
        assert 400 <= status < 500, (method, path, status, answer)
    assert drs.describe_source_servers()["items"]
