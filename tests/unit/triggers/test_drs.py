"""DrsJobCompleteTrigger: what it serialises reaches the rebuilt trigger and its hook intact."""

from __future__ import annotations

import importlib
import json

from drs_provider.hooks.drs import DrsHook
from drs_provider.triggers.drs import DrsJobCompleteTrigger, retry_after_seconds

JOB_IDS = ["drsjob-0a000000000000001", "drsjob-0a000000000000002"]


def make_trigger(**overrides) -> DrsJobCompleteTrigger:
    kwargs = {
        "job_ids": JOB_IDS,
        "optional_source_server_ids": ["s-0a000000000000007"],
        "waiter_delay": 15,
        "waiter_max_attempts": 40,
        "max_transient_errors": 3,
        "error_timeout": 120,
        "aws_conn_id": "drs_conn",
        "region_name": "eu-west-1",
        "verify": "/etc/ssl/ca.pem",
        "botocore_config": {"retries": {"mode": "standard", "max_attempts": 7}, "read_timeout": 42},
    }
    return DrsJobCompleteTrigger(**{**kwargs, **overrides})


def import_string(classpath: str):
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_serialize_round_trip_keeps_every_argument():
    classpath, kwargs = make_trigger().serialize()

    rebuilt = import_string(classpath)(**json.loads(json.dumps(kwargs)))

    assert classpath == "drs_provider.triggers.drs.DrsJobCompleteTrigger"
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["job_ids"] == JOB_IDS
    assert kwargs["optional_source_server_ids"] == ["s-0a000000000000007"]
    assert (kwargs["waiter_delay"], kwargs["waiter_max_attempts"], kwargs["error_timeout"]) == (15, 40, 120)
    assert kwargs["max_transient_errors"] == 3  # no longer used, but an old trigger still loads


def test_triggers_serialised_before_error_timeout_still_load():
    # The kwargs an earlier version stored for a deferred task, still in the database after an upgrade.
    stored = {"job_ids": JOB_IDS, "waiter_delay": 30, "waiter_max_attempts": 120, "max_transient_errors": 5}

    rebuilt = DrsJobCompleteTrigger(**stored)

    assert rebuilt.error_timeout == 300
    assert rebuilt.timeout_seconds == 30 * 120


def test_new_triggers_serialise_error_timeout_and_not_the_retired_count():
    _, kwargs = DrsJobCompleteTrigger(job_ids=JOB_IDS).serialize()

    assert kwargs["error_timeout"] == 300
    assert "max_transient_errors" not in kwargs


def test_region_verify_and_botocore_config_reach_the_hook():
    _, kwargs = make_trigger().serialize()

    hook = DrsJobCompleteTrigger(**kwargs).hook()

    assert isinstance(hook, DrsHook)
    assert hook.aws_conn_id == "drs_conn"
    assert hook.region_name == "eu-west-1"
    assert hook.verify == "/etc/ssl/ca.pem"
    assert hook.config.retries == {"mode": "standard", "max_attempts": 7}
    assert hook.config.read_timeout == 42


def test_template_strings_survive_serialisation_for_start_from_trigger():
    # With start_from_trigger the values arrive rendered as strings; run() parses them.
    trigger = make_trigger(job_ids=json.dumps(JOB_IDS), optional_source_server_ids="['s-0a000000000000007']")

    _, kwargs = trigger.serialize()

    assert kwargs["job_ids"] == json.dumps(JOB_IDS)


def test_unset_connection_fields_are_left_out():
    _, kwargs = DrsJobCompleteTrigger(job_ids=JOB_IDS).serialize()

    assert "region_name" not in kwargs
    assert "botocore_config" not in kwargs


def test_retry_after_seconds_reads_the_header_and_caps_it():
    throttled = {"ResponseMetadata": {"HTTPHeaders": {"retry-after": "3"}}}

    assert retry_after_seconds(throttled, default=30) == 3
    assert retry_after_seconds({"retryAfterSeconds": "2"}, default=30) == 2
    assert retry_after_seconds({}, default=30) == 30
    assert retry_after_seconds({"ResponseMetadata": {"HTTPHeaders": {"retry-after": "soon"}}}, default=5) == 5
    assert retry_after_seconds({"retryAfterSeconds": "86400"}, default=5) == 60
