"""Launch settings as code (contract 10): drift found by readiness.

Real boto3 ``drs`` and ``ec2`` clients through the Airflow connection ``aws_default``: DRS on the
in-process simulator, each source server's EC2 launch template in moto (``drs_simulator_ec2``).
The AWS calls this process makes are recorded (:func:`aws_calls`), so a dry run is shown to call
no writing operation and a check's cost is counted; the simulator's own EC2 calls (another thread)
are not.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from drs_provider.operators.readiness import check_plans
from drs_provider.plans.loader import load_plans

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fixtures.moto import LocalAws
    from tests.fixtures.simulator import DrsSimulatorHandle

pytestmark = pytest.mark.integration

DB_1, DB_2, APP_1, OTHER, GONE = (f"s-0d{n:015d}" for n in (1, 2, 3, 4, 9))
OLD_SUBNET, SUBNET = "subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"
OLD_GROUP, GROUPS = "sg-0aaaaaaaaaaaaaaa1", ["sg-0bbbbbbbbbbbbbbb2", "sg-0ccccccccccccccc3"]
FLEET = {
    "account_id": "123456789012",
    "region": "us-east-1",
    "source_servers": [
        {
            "id": DB_1,
            "hostname": "db-1",
            "tags": {"App": "shop", "Role": "db"},
            "launch": {
                "instance_type": "m5.large",
                "right_sizing": "NONE",
                "subnet_id": OLD_SUBNET,
                "security_group_ids": [OLD_GROUP],
            },
        },
        {"id": DB_2, "hostname": "db-2", "tags": {"App": "shop", "Role": "db"}},  # DRS's defaults
        {"id": APP_1, "hostname": "app-1", "tags": {"App": "shop", "Role": "app"}},
        {"id": OTHER, "hostname": "other-1"},
    ],
}
SHOP = {
    "plan": "shop",
    "waves": [
        {
            "name": "db",
            "servers": {"tags": {"App": "shop", "Role": "db"}},
            "launch": {
                "instance_type": "r5.xlarge",
                "right_sizing": "NONE",
                "subnet_id": SUBNET,
                "security_group_ids": GROUPS,
                "copy_tags": True,
                "launch_disposition": "STARTED",
            },
            "launch_per_server": {DB_1: {"private_ip": "10.1.0.10"}, GONE: {"copy_tags": False}},
        },
        {
            "name": "app",
            "servers": {"ids": [APP_1]},
            "launch": {"os_byol": True, "launch_disposition": "STOPPED"},
        },
    ],
}
OTHER_PLAN = {"plan": "other", "waves": [{"name": "all", "servers": {"ids": [OTHER]}}]}
#: What DRS holds otherwise than the plan, server by server (setting, DRS's value, the plan's).
DRIFT = {
    DB_1: [
        ("instance_type", "m5.large", "r5.xlarge"),
        ("subnet_id", OLD_SUBNET, SUBNET),
        ("security_group_ids", "[sg-0aaaaaaaaaaaaaaa1]", "[sg-0bbbbbbbbbbbbbbb2, sg-0ccccccccccccccc3]"),
        ("private_ip", "none", "10.1.0.10"),
        ("copy_tags", "false", "true"),
    ],
    DB_2: [
        ("instance_type", "m5.large", "r5.xlarge"),
        ("subnet_id", "none", SUBNET),
        ("security_group_ids", "none", "[sg-0bbbbbbbbbbbbbbb2, sg-0ccccccccccccccc3]"),
        ("copy_tags", "false", "true"),
        ("right_sizing", "BASIC", "NONE"),
    ],
    APP_1: [("launch_disposition", "STARTED", "STOPPED"), ("os_byol", "false", "true")],
}
WRITES = {
    "UpdateLaunchConfiguration",
    "CreateLaunchTemplateVersion",
    "ModifyLaunchTemplate",
    "CreateLaunchTemplate",
}


@pytest.fixture
def shop(drs_simulator_ec2: DrsSimulatorHandle, aws_conn: str, tmp_path: Path) -> Path:
    """The fleet with launch settings other than the plans', and the plans folder."""
    drs_simulator_ec2.reset(FLEET)
    for document in (SHOP, OTHER_PLAN):
        (tmp_path / f"{document['plan']}.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(service, operation) of every AWS call this test's thread makes from now on."""
    from botocore.client import BaseClient

    calls: list[tuple[str, str]] = []
    original = BaseClient._make_api_call
    thread = threading.get_ident()

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if threading.get_ident() == thread:
            calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def launch_findings(result: dict[str, Any], plan: str = "shop") -> list[dict[str, Any]]:
    return [f for f in result["plans"][plan]["findings"] if f["code"].startswith("launch_")]


def drift(findings: list[dict[str, Any]]) -> dict[str, list[tuple[str, str, str]]]:
    """Server -> (setting, DRS's value, the plan's) from the findings' messages."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for finding in findings:
        if finding["code"] != "launch_config_drift":
            continue
        text = finding["message"].split(": ", 1)[1].split(" (drs-plan apply-launch", 1)[0]
        setting, rest = text.split(" is ", 1)
        drs, plan = rest.split(" in DRS, the plan says ")
        found.setdefault(finding["server"], []).append((setting, drs, plan))
    return found


def default_template(
    local_aws_services: LocalAws, drs_simulator: DrsSimulatorHandle, server: str
) -> dict[str, Any]:
    template = drs_simulator.client().get_launch_configuration(sourceServerID=server)["ec2LaunchTemplateID"]
    [version] = local_aws_services.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=template, Versions=["$Default"]
    )["LaunchTemplateVersions"]
    return dict(version)


def test_readiness_finds_each_setting_drs_holds_otherwise_naming_server_setting_and_both_values(
    shop: Path, drs_simulator_ec2: DrsSimulatorHandle, aws_calls: list[tuple[str, str]]
) -> None:
    result = check_plans(load_plans(shop).plans)

    findings = launch_findings(result)
    assert drift(findings) == DRIFT
    assert result["plans"]["shop"]["status"] == "not_ready"
    drifted = {f["severity"] for f in findings if f["code"] == "launch_config_drift"}
    assert drifted == {"error"}
    db_1 = next(f for f in findings if f["server"] == DB_1 and "instance_type" in f["message"])
    assert db_1["message"] == (
        f"{DB_1} (db-1): instance_type is m5.large in DRS, the plan says r5.xlarge "
        "(drs-plan apply-launch shop makes DRS match)"
    )
    assert db_1["wave"] == "db"
    [unselected] = [f for f in findings if f["code"] == "launch_server_unselected"]
    assert (unselected["severity"], unselected["server"]) == ("warning", GONE)
    assert result["plans"]["other"] == {"status": "ready", "findings": []}
    # One GetLaunchConfiguration per server of the plan giving launch, one listing of templates;
    # the plan without launch costs nothing more, and nothing is written.
    launch_calls = [
        call for call in aws_calls if call[1] in {"GetLaunchConfiguration", "DescribeLaunchTemplateVersions"}
    ]
    assert sorted(launch_calls) == [("drs", "GetLaunchConfiguration")] * 3 + [
        ("ec2", "DescribeLaunchTemplateVersions")
    ]
    assert not WRITES & {operation for _, operation in aws_calls}
    assert [
        call["request"]["sourceServerID"] for call in drs_simulator_ec2.calls("GetLaunchConfiguration")
    ] == [
        DB_1,
        DB_2,
        APP_1,
    ]


def test_a_plan_without_launch_costs_no_launch_call(shop: Path, aws_calls: list[tuple[str, str]]) -> None:
    check_plans([plan for plan in load_plans(shop).plans if plan.name == "other"])

    assert not {"GetLaunchConfiguration", "DescribeLaunchTemplateVersions"} & {op for _, op in aws_calls}


def test_launch_settings_that_cannot_be_read_make_the_plan_not_ready(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from drs_provider.hooks.ec2 import LaunchTemplateHook

    def refused(self: LaunchTemplateHook, template_ids: Any) -> None:
        error = {"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}}
        raise ClientError(error, "DescribeLaunchTemplateVersions")

    monkeypatch.setattr(LaunchTemplateHook, "default_versions", refused)

    result = check_plans(load_plans(shop).plans)

    [failed] = [f for f in result["plans"]["shop"]["findings"] if f["code"] == "connection_failed"]
    assert failed["message"] == (
        "launch settings in aws_default, us-east-1 cannot be read: UnauthorizedOperation: not allowed"
    )
    assert result["plans"]["other"]["status"] == "ready"


def test_a_template_deleted_in_ec2_is_launch_template_missing(
    shop: Path, drs_simulator_ec2: DrsSimulatorHandle, local_aws_services: LocalAws
) -> None:
    template = drs_simulator_ec2.client().get_launch_configuration(sourceServerID=DB_2)["ec2LaunchTemplateID"]
    local_aws_services.client("ec2").delete_launch_template(LaunchTemplateId=template)

    findings = launch_findings(check_plans(load_plans(shop).plans))

    [missing] = [f for f in findings if f["code"] == "launch_template_missing"]
    assert (missing["severity"], missing["server"], missing["wave"]) == ("error", DB_2, "db")
    assert missing["message"] == (
        f"{DB_2} (db-2): the EC2 launch template {template} DRS launches it from does not exist, so it would "
        "not launch with the plan's instance_type, subnet_id, security_group_ids"
    )
    # what DRS itself holds is still compared
    assert drift(findings)[DB_2] == [("copy_tags", "false", "true"), ("right_sizing", "BASIC", "NONE")]
