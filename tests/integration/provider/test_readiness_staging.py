"""Readiness of plans meaning servers a staging account replicates (issue 22): a server not yet
extended into the target account is ``staging_server_not_extended``, once, whether a wave means it
by tags or by its staging ID; extended with the wave's tags, the plan is ready.

Real boto3 against the in-process simulator through :func:`check_plans`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from botocore.exceptions import ClientError

from drs_provider.hooks.drs import DrsHook
from drs_provider.operators.readiness import check_plans
from drs_provider.plans.loader import load_plans
from tests.integration.provider.test_readiness import drs_now, server, summary

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.testing.plugin import DrsSimulatorHandle

pytestmark = pytest.mark.integration

TARGET = "123456789012"
STAGING = "444455556666"
EMPTY_STAGING = "777788889999"
OWN = server(30, "own-db", tags={"App": "mixed"})
ERP = server(31, "erp-1", tags={"App": "erp"})
MIXED = server(32, "mixed-2", tags={"App": "mixed"})
BY_ID = server(33, "by-id-1")
WEST = server(34, "west-erp", tags={"App": "west"}, region="us-west-2")
FLEET = {
    "account_id": TARGET,
    "region": "us-east-1",
    "source_servers": [OWN],
    "staging_accounts": [
        {"account_id": STAGING, "source_servers": [ERP, MIXED, BY_ID, WEST]},
        {"account_id": EMPTY_STAGING, "source_servers": []},
    ],
}


def arn(entry: dict[str, Any], region: str = "us-east-1") -> str:
    return f"arn:aws:drs:{region}:{STAGING}:source-server/{entry['id']}"


def wave(name: str, **keys: Any) -> dict[str, Any]:
    return {"name": name, **keys}


PLANS = {
    # only a staging server carries the tags: not "selects nothing", but "extend it"
    "erp": {"plan": "erp", "waves": [wave("db", servers={"tags": {"App": "erp"}})]},
    # one server of the account and one of the staging account carry the tags
    "mixed": {"plan": "mixed", "waves": [wave("db", servers={"tags": {"App": "mixed"}})]},
    # a staging server's own ID: not a bare server_missing
    "by_id": {"plan": "by_id", "waves": [wave("db", servers={"ids": [BY_ID["id"]]})]},
    "optional": {
        "plan": "optional",
        "waves": [wave("db", servers={"ids": [OWN["id"]]}, optional_servers={"tags": {"App": "erp"}})],
    },
    # a wave in another region: its staging servers are listed there
    "west": {
        "plan": "west",
        "waves": [
            wave("app", servers={"ids": [OWN["id"]]}),
            wave("db", region="us-west-2", servers={"tags": {"App": "west"}}),
        ],
    },
}


@pytest.fixture
def plans_dir(tmp_path: Path) -> Path:
    for name, document in PLANS.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


@pytest.fixture
def fleet(drs_simulator: DrsSimulatorHandle, aws_conn: str) -> DrsSimulatorHandle:
    drs_simulator.reset(FLEET, speed=0)
    return drs_simulator


def findings_of(result: dict[str, Any], plan: str) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = result["plans"][plan]["findings"]
    return findings


def test_a_staging_server_a_wave_means_is_reported_once_with_what_to_do(
    fleet: DrsSimulatorHandle, plans_dir: Path
) -> None:
    before = len(fleet.calls())
    result = check_plans(load_plans(plans_dir).plans, now=drs_now(fleet))

    code = "staging_server_not_extended"
    assert summary(result) == {
        "erp": ("not_ready", [("error", code, arn(ERP))]),
        "mixed": ("not_ready", [("error", code, arn(MIXED))]),
        "by_id": ("not_ready", [("error", code, arn(BY_ID))]),
        "optional": ("at_risk", [("warning", code, arn(ERP))]),
        "west": ("not_ready", [("error", code, arn(WEST, "us-west-2"))]),
    }
    [erp] = findings_of(result, "erp")
    assert erp["wave"] == "db"
    message = erp["message"]
    assert f"servers.tags {{App=erp}} match erp-1 ({arn(ERP)}) of staging account {STAGING}" in message
    assert "not extended into aws_default, us-east-1: the wave would not recover it" in message
    assert f"CreateExtendedSourceServer in aws_default, us-east-1 with sourceServerArn {arn(ERP)}" in message
    assert "and tags {App=erp}" in message
    [by_id] = findings_of(result, "by_id")
    assert f"servers.ids: {BY_ID['id']} is by-id-1" in by_id["message"]
    assert "gets an ID of its own" in by_id["message"]
    # one ListStagingAccounts per account and region, one listing per staging account there
    calls = [call for call in fleet.calls()[before:] if call["operation"].startswith("List")]
    assert sorted((call["operation"], call["region"]) for call in calls) == [
        ("ListExtensibleSourceServers", "us-east-1"),
        ("ListExtensibleSourceServers", "us-east-1"),
        ("ListExtensibleSourceServers", "us-west-2"),
        ("ListExtensibleSourceServers", "us-west-2"),
        ("ListStagingAccounts", "us-east-1"),
        ("ListStagingAccounts", "us-west-2"),
    ]


def test_extended_with_the_waves_tags_the_plan_is_ready_and_a_staging_id_names_the_new_one(
    fleet: DrsSimulatorHandle, plans_dir: Path
) -> None:
    drs = fleet.client()
    for entry in (ERP, BY_ID):
        tags = entry.get("tags") or {}
        drs.create_extended_source_server(sourceServerArn=arn(entry), tags=tags)
    [extended] = [
        item["sourceServerID"]
        for item in drs.describe_source_servers(filters={})["items"]
        if item["stagingArea"].get("stagingSourceServerArn") == arn(BY_ID)
    ]

    result = check_plans(load_plans(plans_dir).plans, now=drs_now(fleet))

    assert summary(result)["erp"] == ("ready", [])
    assert summary(result)["optional"] == ("ready", [])
    [missing] = findings_of(result, "by_id")
    assert (missing["code"], missing["server"]) == ("server_missing", BY_ID["id"])
    assert f"extended into it as {extended} (by-id-1): name that ID" in missing["message"]


def test_staging_accounts_the_role_may_not_list_leave_the_plans_as_without_them(
    fleet: DrsSimulatorHandle,
    plans_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(self: DrsHook) -> list[str]:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        raise ClientError(error, "ListStagingAccounts")

    monkeypatch.setattr(DrsHook, "staging_account_ids", refused)

    with caplog.at_level(logging.WARNING):
        result = check_plans(load_plans(plans_dir).plans, now=drs_now(fleet))

    # what readiness reported before staging accounts: no finding of its own, no failed check
    assert summary(result)["erp"] == ("not_ready", [("error", "tags_select_none", None)])
    assert summary(result)["mixed"] == ("ready", [])
    assert summary(result)["by_id"] == ("not_ready", [("error", "server_missing", BY_ID["id"])])
    assert "could not list the staging accounts of aws_default, us-east-1" in caplog.text
    assert "AccessDeniedException" in caplog.text
