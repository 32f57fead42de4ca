"""Where the account's DRS quotas come from: the operator, Airflow config, Service Quotas, DRS's defaults."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.service_quotas import account_quota

pytestmark = pytest.mark.integration


def stubbed_quotas(
    hook: DrsHook, answers: dict[str, float | None], monkeypatch: pytest.MonkeyPatch
) -> Stubber:
    """Service Quotas as an account that knows DRS's quotas (moto knows only the VPC's)."""
    client = boto3.client(
        "service-quotas", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    for code, value in answers.items():
        if value is None:
            stubber.add_client_error(
                "get_service_quota",
                "AccessDeniedException",
                expected_params={"ServiceCode": "drs", "QuotaCode": code},
            )
        else:
            stubber.add_response(
                "get_service_quota",
                {"Quota": {"ServiceCode": "drs", "QuotaCode": code, "Value": value}},
                {"ServiceCode": "drs", "QuotaCode": code},
            )
    stubber.activate()
    monkeypatch.setattr(hook, "service_quotas_client", lambda: client)
    return stubber


def test_an_account_whose_service_quotas_say_so_waits_at_its_own_limits(
    aws_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = DrsHook(aws_conn_id=aws_conn)
    stubber = stubbed_quotas(hook, {"L-D88FAC3A": 50.0, "L-05AFA8C6": None}, monkeypatch)

    assert account_quota("max_concurrent_jobs", None, 20, hook) == 50
    assert account_quota("max_servers_in_active_jobs", None, 500, hook) == 500  # may not read it
    assert account_quota("max_concurrent_jobs", None, 20, hook) == 50  # asked once per hook
    stubber.assert_no_pending_responses()


def test_the_operator_and_airflow_config_override_service_quotas(
    aws_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = DrsHook(aws_conn_id=aws_conn)
    stubbed_quotas(hook, {}, monkeypatch)  # any call would fail: nothing is asked

    assert account_quota("max_concurrent_jobs", 7, 20, hook) == 7
    monkeypatch.setenv("AIRFLOW__DRS__MAX_CONCURRENT_JOBS", "12")
    assert account_quota("max_concurrent_jobs", None, 20, hook) == 12


def test_where_service_quotas_does_not_know_drs_the_documented_defaults_apply(
    aws_conn: str, local_aws_services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto's Service Quotas answers NoSuchResourceException for DRS, as for any unknown service."""
    hook = DrsHook(aws_conn_id=aws_conn)

    assert hook.service_quota("L-D88FAC3A") is None
    output = capsys.readouterr()
    assert "NoSuchResourceException" in output.out + output.err  # moto answered: no connection trouble
    assert account_quota("max_concurrent_jobs", None, 20, hook) == 20
