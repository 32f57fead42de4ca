"""The hooks' clients cost less to make and are the amazon provider's clients all the same."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

from drs_provider.hooks import lean_clients
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.ec2 import LaunchTemplateHook
from drs_provider.hooks.lean_clients import lean_hook, preload
from drs_provider.hooks.ssm import SsmRunbookHook

pytestmark = pytest.mark.unit


def loader_of(session: Any) -> Any:
    return getattr(session, "_session", session).get_component("data_loader")


def test_every_session_of_every_hook_reads_botocore_data_through_one_loader() -> None:
    hooks = [
        DrsHook(aws_conn_id=None, region_name="us-east-1"),
        DrsHook(aws_conn_id=None, region_name="eu-west-1"),
        LaunchTemplateHook(aws_conn_id=None, region_name="us-east-1"),
        SsmRunbookHook(aws_conn_id=None, region_name="us-east-1"),
        lean_hook(S3Hook)(aws_conn_id=None, region_name="us-east-1"),
        lean_hook(AwsBaseHook)(aws_conn_id=None, region_name="us-east-1", client_type="service-quotas"),
    ]
    loaders = {id(loader_of(hook.get_session())) for hook in hooks}
    loaders.add(id(loader_of(hooks[0].get_session(deferrable=True))))  # aiobotocore, for triggers

    assert len(loaders) == 1
    # the loader keeps what it parsed: a second hook's client finds the endpoints already read
    hooks[0].conn.meta.region_name  # noqa: B018 - makes the first client
    cached = dict(loader_of(hooks[1].get_session())._cache)
    assert hooks[1].conn.meta.region_name == "eu-west-1"
    assert any("endpoints" in str(key) for key in cached)


class Operator:
    """Makes its hook's client in ``execute``, as an operator does."""

    def __init__(self, hook: AwsBaseHook) -> None:
        self.hook = hook

    def execute(self) -> tuple[str, str]:
        return self.hook._get_caller(), AwsBaseHook._get_caller(self.hook)


class Sensor(Operator):
    def poke(self) -> tuple[str, str]:
        return self.execute()


def test_the_user_agent_names_the_same_caller_as_the_amazon_providers() -> None:
    hook = DrsHook(aws_conn_id=None, region_name="us-east-1")

    assert Operator(hook).execute() == ("Operator", "Operator")
    assert Sensor(hook).poke() == ("Sensor", "Sensor")
    ours, theirs = hook._get_caller(), AwsBaseHook._get_caller(hook)  # no operator on the stack
    assert ours == theirs


def test_the_caller_is_found_without_reading_source_files(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = DrsHook(aws_conn_id=None, region_name="us-east-1")

    def no_stack(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("inspect.stack() reads every frame's source file")

    monkeypatch.setattr(inspect, "stack", no_stack)

    assert Operator(hook).execute() == ("Operator", "Unknown")


def test_a_lean_amazon_hook_is_that_hook_and_made_once_per_class() -> None:
    lean = lean_hook(S3Hook)

    assert lean is lean_hook(S3Hook) and lean is not lean_hook(AwsBaseHook)
    assert issubclass(lean, S3Hook) and lean.__name__ == "S3Hook"
    assert lean(aws_conn_id=None).conn_type == S3Hook.conn_type


def test_preload_parses_the_endpoints_and_models_that_later_sessions_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lean_clients, "_shared_loader", None)  # as in a process that made no client yet

    preload(("drs",))

    cache = loader_of(DrsHook(aws_conn_id=None, region_name="ap-south-1").get_session())._cache
    assert any("endpoints" in str(key) for key in cache)
    assert any("'drs'" in str(key) and "service-2" in str(key) for key in cache)
