"""Where each launch setting lives in DRS, what a server would launch with, and the changes that
make DRS match a plan (no AWS: answers as DRS and EC2 give them)."""

from __future__ import annotations

from typing import Any

import pytest

from drs_provider.plans.model import LAUNCH_SETTING_NAMES, LaunchSettings, Plan, ServerSelector, Wave
from drs_provider.recovery.launch import (
    CONFIGURATION_MEMBERS,
    TEMPLATE_SETTINGS,
    Difference,
    LaunchState,
    configuration_update,
    differences,
    needs_template,
    planned_launch,
    shown,
    template_settings,
    template_update,
)

CONFIGURATION = {
    "sourceServerID": "s-0d000000000000001",
    "ec2LaunchTemplateID": "lt-0123456789abcdef0",
    "launchDisposition": "STARTED",
    "targetInstanceTypeRightSizingMethod": "BASIC",
    "copyPrivateIp": False,
    "copyTags": False,
    "licensing": {"osByol": False},
}
DATA = {
    "InstanceType": "m5.large",
    "KeyName": "ops",
    "NetworkInterfaces": [
        {"DeviceIndex": 1, "SubnetId": "subnet-0000000f"},
        {"DeviceIndex": 0, "SubnetId": "subnet-0000000a", "Groups": ["sg-0000000b", "sg-0000000a"]},
    ],
}
STATE = LaunchState(CONFIGURATION, {"LaunchTemplateId": "lt-0123456789abcdef0", "LaunchTemplateData": DATA})


def test_every_plan_setting_has_exactly_one_home_in_drs() -> None:
    assert not set(TEMPLATE_SETTINGS) & set(CONFIGURATION_MEMBERS)
    assert set(TEMPLATE_SETTINGS) | set(CONFIGURATION_MEMBERS) == set(LAUNCH_SETTING_NAMES)


def test_what_a_server_would_launch_with_is_read_from_both_places() -> None:
    assert [STATE.value(name) for name in LAUNCH_SETTING_NAMES] == [
        "m5.large",
        "subnet-0000000a",  # the primary interface's, not device 1's
        ("sg-0000000b", "sg-0000000a"),
        None,
        False,
        False,
        "STARTED",
        "BASIC",
        False,
    ]
    assert STATE.template_id == "lt-0123456789abcdef0"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, {"instance_type": None, "subnet_id": None, "security_group_ids": None, "private_ip": None}),
        (
            {"SecurityGroupIds": ["sg-0000000c"], "NetworkInterfaces": [{"DeviceIndex": 0}]},
            {
                "instance_type": None,
                "subnet_id": None,
                "security_group_ids": ("sg-0000000c",),
                "private_ip": None,
            },
        ),
        (
            {
                "NetworkInterfaces": [
                    {
                        "PrivateIpAddresses": [
                            {"PrivateIpAddress": "10.0.0.9", "Primary": False},
                            {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                        ]
                    }
                ]
            },
            {"instance_type": None, "subnet_id": None, "security_group_ids": None, "private_ip": "10.0.0.5"},
        ),
    ],
    ids=["empty", "groups at the top level", "primary of several addresses"],
)
def test_template_settings_are_found_where_ec2_may_keep_them(
    data: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert template_settings(data) == expected


def test_differences_follow_the_plans_order_and_compare_security_groups_as_a_set() -> None:
    settings = LaunchSettings(
        instance_type="r5.xlarge",
        security_group_ids=("sg-0000000a", "sg-0000000b"),
        right_sizing="NONE",
        os_byol=False,
    )
    assert differences(settings, STATE) == [
        Difference("instance_type", "m5.large", "r5.xlarge"),
        Difference("right_sizing", "BASIC", "NONE"),
    ]
    assert str(differences(settings, STATE)[0]) == "instance_type: m5.large -> r5.xlarge"


def test_without_its_template_only_what_drs_itself_holds_is_compared() -> None:
    settings = LaunchSettings(instance_type="r5.xlarge", copy_tags=True)
    assert needs_template(settings) and not needs_template(LaunchSettings(copy_tags=True))
    assert differences(settings, LaunchState(CONFIGURATION)) == [Difference("copy_tags", False, True)]


def test_the_configuration_update_sets_only_the_plans_configuration_settings() -> None:
    settings = LaunchSettings(
        instance_type="r5.xlarge", copy_private_ip=True, os_byol=True, right_sizing="NONE"
    )
    assert configuration_update("s-0d000000000000001", settings) == {
        "sourceServerID": "s-0d000000000000001",
        "copyPrivateIp": True,
        "targetInstanceTypeRightSizingMethod": "NONE",
        "licensing": {"osByol": True},
    }


def test_a_template_update_changes_the_primary_interface_and_keeps_the_rest() -> None:
    settings = LaunchSettings(instance_type="c5.large", subnet_id="subnet-0000000e", private_ip="10.0.0.7")
    updated = template_update(DATA, settings)

    assert updated == {
        "InstanceType": "c5.large",
        "KeyName": "ops",
        "NetworkInterfaces": [
            {"DeviceIndex": 1, "SubnetId": "subnet-0000000f"},
            {
                "DeviceIndex": 0,
                "SubnetId": "subnet-0000000e",
                "Groups": ["sg-0000000b", "sg-0000000a"],
                "PrivateIpAddress": "10.0.0.7",
            },
        ],
    }
    assert DATA["InstanceType"] == "m5.large"  # a copy
    assert differences(settings, LaunchState(CONFIGURATION, {"LaunchTemplateData": updated})) == []


def test_a_template_without_interfaces_gets_one_and_its_groups_move_onto_it() -> None:
    data = {"InstanceType": "m5.large", "SecurityGroupIds": ["sg-0000000c"], "SecurityGroups": ["default"]}
    updated = template_update(data, LaunchSettings(subnet_id="subnet-0000000e"))
    assert updated == {
        "InstanceType": "m5.large",
        "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": ["sg-0000000c"], "SubnetId": "subnet-0000000e"}],
    }
    # groups alone stay where EC2 takes them without an interface
    only_groups = template_update(
        {"InstanceType": "m5.large"}, LaunchSettings(security_group_ids=("sg-0000000d",))
    )
    assert only_groups == {"InstanceType": "m5.large", "SecurityGroupIds": ["sg-0000000d"]}


def test_a_new_private_ip_replaces_the_primary_address_and_keeps_the_secondary_ones() -> None:
    data = {
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "PrivateIpAddresses": [
                    {"PrivateIpAddress": "10.0.0.5", "Primary": True},
                    {"PrivateIpAddress": "10.0.0.9", "Primary": False},
                ],
            }
        ]
    }
    [interface] = template_update(data, LaunchSettings(private_ip="10.0.0.7"))["NetworkInterfaces"]
    assert interface["PrivateIpAddress"] == "10.0.0.7"
    assert interface["PrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.0.9", "Primary": False}]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "none"), (True, "true"), (("sg-1", "sg-2"), "[sg-1, sg-2]"), ("STOPPED", "STOPPED")],
)
def test_values_are_shown_as_plans_write_them(value: Any, text: str) -> None:
    assert shown(value) == text


def test_the_planned_servers_are_those_a_run_would_select() -> None:
    servers = {
        "s-0d000000000000001": {"sourceServerID": "s-0d000000000000001", "tags": {"Role": "db"}},
        "s-0d000000000000002": {"sourceServerID": "s-0d000000000000002", "tags": {"Role": "db"}},
        "s-0d000000000000003": {"sourceServerID": "s-0d000000000000003", "tags": {"Role": "app"}},
    }
    db = Wave(
        name="db",
        servers=ServerSelector(tags={"Role": "db"}),
        depends_on=(),
        launch=LaunchSettings(copy_tags=True),
        launch_per_server={
            "s-0d000000000000002": LaunchSettings(copy_tags=False),
            "s-0d000000000000008": LaunchSettings(os_byol=True),
        },
    )
    app = Wave(
        name="app",
        servers=ServerSelector(ids=("s-0d000000000000003", "s-0d000000000000009")),
        depends_on=("db",),
        launch_per_server={"s-0d000000000000003": LaunchSettings(launch_disposition="STOPPED")},
    )
    plan = Plan(name="shop", waves=(db, app), source="shop.yaml")

    planned = planned_launch(plan, servers)

    assert dict(planned.servers) == {
        "s-0d000000000000001": ("db", LaunchSettings(copy_tags=True)),
        "s-0d000000000000002": ("db", LaunchSettings(copy_tags=False)),
        "s-0d000000000000003": ("app", LaunchSettings(launch_disposition="STOPPED")),
    }
    assert planned.unknown == ("s-0d000000000000009",)
    assert planned.unselected == ("s-0d000000000000008",)
