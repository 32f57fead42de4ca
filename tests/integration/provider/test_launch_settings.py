"""Launch settings as code (docs/how-to/readiness.md): drift found by readiness, ``drs-plan apply-launch``.

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

from drs_provider.cli import main
from drs_provider.operators.readiness import check_plans
from drs_provider.plans.loader import load_plans

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.testing.plugin import DrsSimulatorHandle
    from tests.fixtures.moto import LocalAws

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


def test_apply_launch_dry_run_prints_each_difference_and_changes_nothing(
    shop: Path,
    drs_simulator_ec2: DrsSimulatorHandle,
    local_aws_services: LocalAws,
    aws_calls: list[tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = default_template(local_aws_services, drs_simulator_ec2, DB_1)

    assert main(["apply-launch", "shop", "--plans-dir", str(shop), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("plan shop (aws_default, us-east-1): launch settings of 3 server(s)\n")
    assert (
        f"{DB_1} (db-1), wave db:\n  instance_type: m5.large -> r5.xlarge\n"
        f"  subnet_id: {OLD_SUBNET} -> {SUBNET}\n" in out
    )
    assert (
        f"{APP_1} (app-1), wave app:\n  launch_disposition: STARTED -> STOPPED\n  os_byol: false -> true\n"
        in out
    )
    assert f"{GONE}: not selected by its wave's tags, left alone" in out
    assert out.endswith("dry run: nothing changed (3 server(s) differ)\n")
    assert not WRITES & {operation for _, operation in aws_calls}
    assert drs_simulator_ec2.calls("UpdateLaunchConfiguration") == []
    after = default_template(local_aws_services, drs_simulator_ec2, DB_1)
    assert (after["VersionNumber"], after["LaunchTemplateData"]) == (
        before["VersionNumber"],
        before["LaunchTemplateData"],
    )


def test_apply_launch_then_readiness_finds_no_drift(
    shop: Path,
    drs_simulator_ec2: DrsSimulatorHandle,
    local_aws_services: LocalAws,
    aws_calls: list[tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["apply-launch", "shop", "--plans-dir", str(shop)]) == 0

    applied = list(aws_calls)
    out = capsys.readouterr().out
    assert f"{APP_1} (app-1): launch configuration updated (UpdateLaunchConfiguration)\n" in out
    assert (
        f"{DB_1} (db-1): launch configuration updated (UpdateLaunchConfiguration); launch template lt-" in out
    )
    result = check_plans(load_plans(shop).plans)
    assert [f["code"] for f in launch_findings(result)] == ["launch_server_unselected"]
    assert result["plans"]["shop"]["status"] == "at_risk"  # only that warning is left
    data = default_template(local_aws_services, drs_simulator_ec2, DB_1)["LaunchTemplateData"]
    assert data["InstanceType"] == "r5.xlarge"
    assert data["NetworkInterfaces"][0] | {"AssociatePublicIpAddress": False} == {
        "DeviceIndex": 0,
        "AssociatePublicIpAddress": False,
        "SubnetId": SUBNET,
        "Groups": GROUPS,
        "PrivateIpAddress": "10.1.0.10",
    }
    # Per changed server: UpdateLaunchConfiguration, and for a template change one look at its
    # default version, CreateLaunchTemplateVersion and ModifyLaunchTemplate.
    writes = sorted(call for call in applied if call[1] in WRITES | {"DescribeLaunchTemplateVersions"})
    assert writes == sorted(
        [("drs", "UpdateLaunchConfiguration")] * 3
        + [("ec2", "DescribeLaunchTemplateVersions")] * 3  # the listing, then one per db server
        + [("ec2", "CreateLaunchTemplateVersion")] * 2
        + [("ec2", "ModifyLaunchTemplate")] * 2
    )

    assert main(["apply-launch", "shop", "--plans-dir", str(shop)]) == 0
    assert capsys.readouterr().out.endswith(
        "nothing to change: DRS holds the plan's settings (0 server(s) differ)\n"
    )


def test_apply_launch_brings_back_a_deleted_template_with_the_plans_settings(
    shop: Path,
    drs_simulator_ec2: DrsSimulatorHandle,
    local_aws_services: LocalAws,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = drs_simulator_ec2.client().get_launch_configuration(sourceServerID=DB_1)["ec2LaunchTemplateID"]
    local_aws_services.client("ec2").delete_launch_template(LaunchTemplateId=old)

    assert main(["apply-launch", "shop", "--plans-dir", str(shop), "--dry-run"]) == 0
    assert (
        f"  launch template: missing ({old}) -> a new one, by UpdateLaunchConfiguration\n"
        in capsys.readouterr().out
    )
    assert main(["apply-launch", "shop", "--plans-dir", str(shop)]) == 0

    assert launch_findings(check_plans(load_plans(shop).plans))[0]["code"] == "launch_server_unselected"
    assert (
        default_template(local_aws_services, drs_simulator_ec2, DB_1)["LaunchTemplateData"]["InstanceType"]
        == "r5.xlarge"
    )


def test_apply_launch_names_a_server_it_cannot_bring_in_line_and_exits_1(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {
        **SHOP,
        "waves": [{"name": "db", "servers": {"ids": [DB_1, GONE]}, "launch": {"copy_tags": True}}],
    }
    (shop / "shop.yaml").write_text(yaml.safe_dump(broken))

    assert main(["apply-launch", "shop", "--plans-dir", str(shop)]) == 1

    captured = capsys.readouterr()
    assert f"{DB_1} (db-1): launch configuration updated (UpdateLaunchConfiguration)" in captured.out
    assert f"failed: {GONE}: DRS in aws_default, us-east-1 has no such source server" in captured.err


def test_apply_launch_of_a_plan_without_launch_has_nothing_to_do(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply-launch", "other", "--plans-dir", str(shop)]) == 0
    assert capsys.readouterr().out == "plan other gives no launch settings: nothing to apply\n"


def test_apply_launch_of_an_unknown_plan_exits_1(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply-launch", "shopp", "--plans-dir", str(shop)]) == 1
    assert "no plan named 'shopp'" in capsys.readouterr().err


def test_more_templates_than_one_listing_page_holds_are_all_found(
    drs_simulator_ec2: DrsSimulatorHandle, aws_conn: str, tmp_path: Path, aws_calls: list[tuple[str, str]]
) -> None:
    count = 220  # moto answers one page of 200 (no NextToken): the rest are looked up by ID
    servers = [
        {
            "id": f"s-0f{n:015d}",
            "hostname": f"web-{n}",
            "tags": {"Role": "web"},
            "launch": {"copy_tags": True, "subnet_id": OLD_SUBNET},
        }
        for n in range(count)
    ]
    drs_simulator_ec2.reset({**FLEET, "source_servers": servers})
    plan = {
        "plan": "web",
        "waves": [
            {
                "name": "web",
                "servers": {"tags": {"Role": "web"}},
                "launch": {"subnet_id": OLD_SUBNET, "copy_tags": True},
            }
        ],
    }
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(plan))

    result = check_plans(load_plans(tmp_path).plans)

    assert result["plans"]["web"] == {"status": "ready", "findings": []}
    counts = {
        op: sum(1 for _, name in aws_calls if name == op)
        for op in ("GetLaunchConfiguration", "DescribeLaunchTemplateVersions")
    }
    assert counts == {"GetLaunchConfiguration": count, "DescribeLaunchTemplateVersions": 1 + count - 200}
