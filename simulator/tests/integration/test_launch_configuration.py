"""Launch settings where DRS keeps them: GetLaunchConfiguration and UpdateLaunchConfiguration through
boto3, the servers' launch templates in moto's EC2 (read with a boto3 ``ec2`` client), and
GetReplicationConfiguration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from drs_simulator.models.source_servers import source_ip
from integration.helpers import raw_call

if TYPE_CHECKING:
    from drs_simulator.testing.plugin import DrsSimulatorHandle

pytestmark = pytest.mark.integration

DB = "s-0e000000000000001"
APP = "s-0e000000000000002"
SETTINGS = {
    "instance_type": "r5.xlarge",
    "subnet_id": "subnet-0123abcd",
    "security_group_ids": ["sg-0123abcd"],
    "private_ip": "10.0.1.25",
    "copy_tags": True,
    "launch_disposition": "STOPPED",
    "right_sizing": "NONE",
    "os_byol": True,
}


def fleet(**db_launch: Any) -> dict[str, Any]:
    return {
        "account_id": "123456789012",
        "region": "us-east-1",
        "source_servers": [
            {"id": DB, "hostname": "db-1", "launch": db_launch},
            {"id": APP, "hostname": "app-1"},
        ],
    }


@pytest.fixture
def ec2(drs_simulator_ec2: DrsSimulatorHandle, ec2_endpoint: str) -> Any:
    import boto3

    return boto3.client("ec2", endpoint_url=ec2_endpoint, region_name=drs_simulator_ec2.region)


def default_version(ec2: Any, template_id: str) -> dict[str, Any]:
    [version] = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=["$Default"])[
        "LaunchTemplateVersions"
    ]
    return dict(version)


def test_a_servers_launch_configuration_names_the_ec2_template_holding_its_instance_settings(
    drs_simulator_ec2: DrsSimulatorHandle, drs: Any, ec2: Any
) -> None:
    drs_simulator_ec2.reset(fleet(**SETTINGS))

    config = drs.get_launch_configuration(sourceServerID=DB)

    assert {key: config[key] for key in config if key not in ("ResponseMetadata", "ec2LaunchTemplateID")} == {
        "sourceServerID": DB,
        "name": "db-1",
        "launchDisposition": "STOPPED",
        "targetInstanceTypeRightSizingMethod": "NONE",
        "copyPrivateIp": False,
        "copyTags": True,
        "licensing": {"osByol": True},
        "postLaunchEnabled": False,
    }
    version = default_version(ec2, config["ec2LaunchTemplateID"])
    assert version["VersionNumber"] == 1
    assert version["LaunchTemplateData"] == {
        "InstanceType": "r5.xlarge",
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "AssociatePublicIpAddress": False,
                "SubnetId": "subnet-0123abcd",
                "Groups": ["sg-0123abcd"],
                "PrivateIpAddress": "10.0.1.25",
            }
        ],
    }
    # one template per server, the same one on every read
    assert (
        drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"]
        == config["ec2LaunchTemplateID"]
    )
    other = drs.get_launch_configuration(sourceServerID=APP)
    assert other["ec2LaunchTemplateID"] != config["ec2LaunchTemplateID"]
    # DRS's defaults: started, right-sized, nothing copied, licence included
    assert (other["launchDisposition"], other["targetInstanceTypeRightSizingMethod"], other["copyTags"]) == (
        "STARTED",
        "BASIC",
        False,
    )
    assert (
        default_version(ec2, other["ec2LaunchTemplateID"])["LaunchTemplateData"]["InstanceType"] == "m5.large"
    )


def test_an_update_writes_a_new_default_template_version_with_what_drs_puts_there(
    drs_simulator_ec2: DrsSimulatorHandle, drs: Any, ec2: Any
) -> None:
    drs_simulator_ec2.reset(fleet(instance_type="t3.micro", right_sizing="NONE"))
    template = drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"]

    answer = drs.update_launch_configuration(
        sourceServerID=DB, copyPrivateIp=True, licensing={"osByol": True}, launchDisposition="STOPPED"
    )

    assert (answer["copyPrivateIp"], answer["licensing"], answer["launchDisposition"]) == (
        True,
        {"osByol": True},
        "STOPPED",
    )
    assert drs.get_launch_configuration(sourceServerID=DB)["licensing"] == {"osByol": True}
    version = default_version(ec2, template)
    assert version["VersionNumber"] == 2
    assert version["LaunchTemplateData"]["InstanceType"] == "t3.micro"  # right-sizing is off
    assert version["LaunchTemplateData"]["NetworkInterfaces"][0]["PrivateIpAddress"] == source_ip(DB)

    drs.update_launch_configuration(sourceServerID=DB, targetInstanceTypeRightSizingMethod="BASIC")

    version = default_version(ec2, template)
    assert (version["VersionNumber"], version["LaunchTemplateData"]["InstanceType"]) == (3, "m5.large")


def test_a_deleted_template_stays_missing_until_an_update_creates_a_new_one(
    drs_simulator_ec2: DrsSimulatorHandle, drs: Any, ec2: Any
) -> None:
    drs_simulator_ec2.reset(fleet(instance_type="t3.micro", right_sizing="NONE"))
    old = drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"]
    ec2.delete_launch_template(LaunchTemplateId=old)

    assert drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"] == old

    new = drs.update_launch_configuration(sourceServerID=DB, copyTags=True)["ec2LaunchTemplateID"]

    assert new != old
    assert default_version(ec2, new)["LaunchTemplateData"]["InstanceType"] == "m5.large"  # default values


def test_a_simulator_reset_leaves_no_stale_template_in_the_way(
    drs_simulator_ec2: DrsSimulatorHandle, drs: Any, ec2: Any
) -> None:
    drs_simulator_ec2.reset(fleet(instance_type="t3.micro", right_sizing="NONE"))
    first = drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"]
    drs_simulator_ec2.reset(fleet(instance_type="c5.large", right_sizing="NONE"))

    second = drs.get_launch_configuration(sourceServerID=DB)["ec2LaunchTemplateID"]

    assert default_version(ec2, second)["LaunchTemplateData"]["InstanceType"] == "c5.large"
    assert first not in {t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]}


def test_without_ec2_a_configuration_names_no_template_and_template_settings_are_refused(
    drs_simulator: DrsSimulatorHandle, drs: Any
) -> None:
    drs_simulator.reset(fleet(copy_tags=True))

    config = drs.get_launch_configuration(sourceServerID=DB)
    assert "ec2LaunchTemplateID" not in config and config["copyTags"] is True
    assert drs.update_launch_configuration(sourceServerID=DB, copyTags=False)["copyTags"] is False

    status, _, body = raw_call(
        drs_simulator.url, "POST", "/_simulator/reset", {"fleet": fleet(instance_type="m5.large")}, auth=False
    )
    assert status == 400
    assert (
        "source_servers[0].launch.instance_type: lives in the server's EC2 launch template" in body["error"]
    )
    assert drs.get_launch_configuration(sourceServerID=DB)["copyTags"] is False  # nothing changed


@pytest.mark.parametrize(
    ("operation", "extra"),
    [
        ("get_launch_configuration", {}),
        ("update_launch_configuration", {"copyTags": True}),
        ("get_replication_configuration", {}),
    ],
)
def test_an_unknown_server_is_not_found(drs: Any, operation: str, extra: dict[str, Any]) -> None:
    with pytest.raises(drs.exceptions.ResourceNotFoundException) as caught:
        getattr(drs, operation)(sourceServerID="s-0e999999999999999", **extra)
    assert caught.value.response["resourceType"] == "SOURCE_SERVER"


def test_the_replication_configuration_matches_the_snapshots_the_simulator_takes(drs: Any) -> None:
    config = drs.get_replication_configuration(sourceServerID="s-0a000000000000001")

    assert config["name"] == "db-1"
    assert config["pitPolicy"][0] == {
        "ruleID": 1,
        "units": "MINUTE",
        "interval": 10,
        "retentionDuration": 1440,
        "enabled": True,
    }
    assert [disk["deviceName"] for disk in config["replicatedDisks"]] == ["/dev/sda"]
