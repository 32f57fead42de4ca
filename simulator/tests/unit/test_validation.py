"""Request validation driven by the botocore model's shapes."""

from __future__ import annotations

from drs_simulator.service import operation, service_model
from drs_simulator.validation import summary, validate


def problems(op, params):
    return validate(operation(op).input_shape, params)


def test_valid_request_has_no_problems():
    assert problems("StartRecovery", {"sourceServers": [{"sourceServerID": "s-0a000000000000001"}]}) == []


def test_required_type_length_pattern_enum_range():
    assert problems("StartRecovery", {}) == [("sourceServers", "Member must not be null")]
    assert problems("StartRecovery", {"sourceServers": "x"}) == [
        ("sourceServers", "Member must be a list, got 'x'")
    ]
    ((name, message),) = problems(
        "StartRecovery", {"sourceServers": [{"sourceServerID": "s-0a00000000000000_"}]}
    )
    assert name == "sourceServers[0].sourceServerID" and "pattern: s-[0-9a-zA-Z]{17}" in message
    ((name, message),) = problems(
        "DescribeRecoverySnapshots", {"sourceServerID": "s-0a000000000000001", "order": "UP"}
    )
    assert name == "order" and "enum" in message
    ((name, message),) = problems("DescribeJobs", {"maxResults": 0})
    assert name == "maxResults" and "greater than or equal to 1" in message
    ((name, message),) = problems("DescribeJobs", {"maxResults": True})
    assert "integer" in message
    ((name, _),) = problems(
        "StartRecovery", {"sourceServers": [{"sourceServerID": "s-0a000000000000001"}], "tags": {"k": 5}}
    )
    assert name == "tags['k']"


def test_unknown_members_are_ignored():
    assert problems("DescribeJobs", {"whatever": 1}) == []


def test_summary_reads_like_aws():
    assert summary([("a", "bad")]) == "1 validation error detected: a: bad"
    assert summary([("a", "x"), ("b", "y")]).startswith("2 validation errors detected")


def test_every_operation_input_shape_can_be_walked():
    model = service_model()
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is not None:
            validate(shape, {})
