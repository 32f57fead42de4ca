"""The SSM triggers serialise everything they need to be rebuilt in a triggerer."""

from __future__ import annotations

import importlib
import json

import pytest

from drs_provider.triggers.ssm import SsmAutomationCompleteTrigger, SsmCommandOnInstancesTrigger

CONNECTION = {
    "aws_conn_id": "dr_conn",
    "region_name": "eu-west-1",
    "verify": "/etc/ssl/ca.pem",
    "botocore_config": {"retries": {"mode": "standard"}},
}


def import_string(classpath: str):
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    "trigger",
    [
        SsmCommandOnInstancesTrigger(
            command_id="c-1",
            instance_ids=["i-0123456789abcdef0"],
            waiter_delay=5,
            waiter_max_attempts=9,
            **CONNECTION,
        ),
        SsmAutomationCompleteTrigger(
            execution_id="e-1", waiter_delay=15, waiter_max_attempts=4, **CONNECTION
        ),
    ],
    ids=["command", "automation"],
)
def test_serialize_round_trip_keeps_every_argument(trigger) -> None:
    classpath, kwargs = trigger.serialize()

    rebuilt = import_string(classpath)(**json.loads(json.dumps(kwargs)))

    assert rebuilt.serialize() == (classpath, kwargs)
    hook = rebuilt.hook()
    assert (hook.aws_conn_id, hook.region_name, hook.verify) == ("dr_conn", "eu-west-1", "/etc/ssl/ca.pem")
