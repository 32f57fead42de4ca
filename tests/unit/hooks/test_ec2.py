"""The launch template hook's one piece of logic without AWS: data described is made fit to send."""

from __future__ import annotations

import botocore.session

from drs_provider.hooks.ec2 import request_shaped


def test_members_ec2_only_answers_are_left_out_of_a_new_version() -> None:
    shape = botocore.session.get_session().get_service_model("ec2").shape_for("RequestLaunchTemplateData")
    described = {
        "InstanceType": "m5.large",
        "MetadataOptions": {"State": "applied", "HttpTokens": "required"},
        "NetworkInterfaces": [
            {"DeviceIndex": 0, "Ipv6Addresses": [{"Ipv6Address": "2001:db8::1", "IsPrimaryIpv6": True}]}
        ],
        "Operator": {"Managed": False},
    }

    assert request_shaped(described, shape) == {
        "InstanceType": "m5.large",
        "MetadataOptions": {"HttpTokens": "required"},
        "NetworkInterfaces": [{"DeviceIndex": 0, "Ipv6Addresses": [{"Ipv6Address": "2001:db8::1"}]}],
        "Operator": {},
    }
