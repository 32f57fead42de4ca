"""DrsStartRecoveryOperator without a server: template fields, argument reading, tag rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from airflow.sdk import DAG

from drs_provider.constants import TAG_VALUE_LENGTH
from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.operators.recovery_arguments import RecoveryArguments
from drs_provider.recovery.job_tags import tag_value, validate_job_tags
from drs_provider.sensors.drs import DrsJobSensor

TEMPLATED = {
    "source_server_ids": "{{ params.ids }}",
    "tags": "{{ params.tags }}",
    "optional_source_server_ids": "{{ params.optional }}",
    "optional_tags": "{{ params.optional_tags }}",
    "is_drill": "{{ params.mode == 'drill' }}",
    "point_in_time": "{{ params.point_in_time }}",
    "max_servers_per_job": "{{ params.size }}",
    "job_tags": "{{ params.job_tags }}",
}
PARAMS = {
    "ids": ["s-0a000000000000001"],
    "tags": {"Role": "db"},
    "optional": ["s-0a000000000000007"],
    "optional_tags": {"Role": "db-replica"},
    "mode": "recovery",
    "point_in_time": "2026-01-01T00:00:00Z",
    "size": 50,
    "job_tags": {"team": "dr"},
}


@pytest.mark.parametrize("operator_class", [DrsStartRecoveryOperator, DrsJobSensor])
def test_every_template_field_is_an_attribute_of_the_same_name(operator_class):
    kwargs = {"job_ids": ["drsjob-0a000000000000001"]} if operator_class is DrsJobSensor else {}
    task = operator_class(task_id="t", **kwargs)

    for name in task.template_fields:
        assert hasattr(task, name), f"{operator_class.__name__}.{name} is templated but never set"
    assert {"aws_conn_id", "region_name", "verify"} <= set(task.template_fields)


def test_operator_declares_the_documented_template_fields():
    assert set(TEMPLATED) <= set(DrsStartRecoveryOperator.template_fields)
    assert {"job_ids", "optional_source_server_ids"} <= set(DrsJobSensor.template_fields)


@pytest.mark.parametrize("native", [True, False], ids=["native", "strings"])
def test_rendered_fields_read_the_same_native_or_as_strings(native):
    with DAG("templating", schedule=None, render_template_as_native_obj=native, params=PARAMS):
        task = DrsStartRecoveryOperator(task_id="start", **TEMPLATED)

    task.render_template_fields({"params": PARAMS})

    if not native:
        assert isinstance(task.source_server_ids, str)
    assert task.read_arguments() == RecoveryArguments(
        source_server_ids=["s-0a000000000000001"],
        tags={"Role": "db"},
        optional_source_server_ids=["s-0a000000000000007"],
        optional_tags={"Role": "db-replica"},
        is_drill=False,
        point_in_time=datetime(2026, 1, 1, tzinfo=UTC),
        max_servers_per_job=50,
        job_tags={"team": "dr"},
    )


@pytest.mark.parametrize("size", [0, 201, "many"])
def test_max_servers_per_job_out_of_range_is_named(size):
    task = DrsStartRecoveryOperator(task_id="start", max_servers_per_job=size)
    with pytest.raises(ValueError, match=r"start\.max_servers_per_job"):
        task.read_arguments()


def test_tag_value_keeps_valid_values_and_fixes_others_stably():
    assert tag_value("manual__2026-01-01T00:00:00+00:00") == "manual__2026-01-01T00:00:00+00:00"
    odd = "api run #7 <from ci>"
    assert tag_value(odd) == tag_value(odd)
    assert "#" not in tag_value(odd) and "<" not in tag_value(odd)
    assert tag_value(odd) != tag_value("api run #8 <from ci>")
    long = "x" * 400
    assert len(tag_value(long)) == TAG_VALUE_LENGTH[1]
    assert tag_value(long) != tag_value("x" * 401)


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"aws:owner": "x"}, "reserved prefix"),
        ({"airflow:run_id": "x"}, "reserved prefix"),
        ({"k" * 129: "x"}, "not a valid AWS tag key"),
        ({"team": "v" * 257}, "not a valid AWS tag value"),
        ({"team": "a;b"}, "not a valid AWS tag value"),
    ],
)
def test_invalid_job_tags_are_named(tags, problem):
    with pytest.raises(ValueError, match=problem):
        validate_job_tags(tags, field="start.job_tags")
