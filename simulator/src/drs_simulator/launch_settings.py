"""A fleet server's launch settings now (fleet key ``launch``), and DRS's defaults for the rest.

The keys are the plan's (``instance_type``, ``copy_private_ip``, ...): a fleet says what DRS holds,
a plan what it should hold. As in DRS, ``instance_type``, ``subnet_id``, ``security_group_ids`` and
``private_ip`` live in the server's EC2 launch template (:data:`TEMPLATE_KEYS`), the rest in its
DRS launch configuration.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from drs_simulator import service

#: Settings that live in the EC2 launch template, so they need ``--ec2-endpoint``.
TEMPLATE_KEYS = ("instance_type", "subnet_id", "security_group_ids", "private_ip")
LAUNCH_KEYS = (
    *TEMPLATE_KEYS,
    "copy_private_ip",
    "copy_tags",
    "launch_disposition",
    "right_sizing",
    "os_byol",
)

# What a server added to DRS starts with (DRS's default launch settings; the licence default is
# this simulator's choice). The instance type is the one DescribeSourceServers recommends.
DEFAULT_INSTANCE_TYPE = "m5.large"
DEFAULT_LAUNCH_DISPOSITION = "STARTED"
DEFAULT_RIGHT_SIZING = "BASIC"
RIGHT_SIZING_OFF = "NONE"

# The model's patterns (SubnetID, SecurityGroupID); an instance type is family.size.
_SUBNET = re.compile(r"subnet-[0-9a-fA-F]{8,}")
_SECURITY_GROUP = re.compile(r"sg-[0-9a-fA-F]{8,}")
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")


@dataclass(frozen=True)
class LaunchSpec:
    """A server's launch settings as the fleet gives them (None: DRS's default)."""

    instance_type: str | None = None
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] | None = None
    private_ip: str | None = None
    copy_private_ip: bool | None = None
    copy_tags: bool | None = None
    launch_disposition: str | None = None
    right_sizing: str | None = None
    os_byol: bool | None = None

    def given(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in LAUNCH_KEYS if getattr(self, key) is not None}

    @property
    def template_keys(self) -> tuple[str, ...]:
        """The settings given that live in the EC2 launch template."""
        return tuple(key for key in TEMPLATE_KEYS if getattr(self, key) is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in self.given().items()
        }


def parse_launch(raw: Any, where: str, problems: list[tuple[str, str]]) -> LaunchSpec | None:
    """The ``launch`` mapping of one fleet server, or None after adding its problems."""
    if not isinstance(raw, dict):
        problems.append((where, f"must be a mapping of launch settings ({', '.join(LAUNCH_KEYS)})"))
        return None
    before = len(problems)
    for key in raw:
        if key not in LAUNCH_KEYS:
            shown = key if isinstance(key, str) and len(key) <= 100 else repr(key)[:100]
            problems.append((f"{where}.{shown}", f"unknown key (allowed: {', '.join(LAUNCH_KEYS)})"))
    choices = {
        "launch_disposition": service.enum_values("LaunchDisposition"),
        "right_sizing": service.enum_values("TargetInstanceTypeRightSizingMethod"),
    }
    for key, allowed in choices.items():
        if key in raw and raw[key] not in allowed:
            problems.append((f"{where}.{key}", f"must be one of {', '.join(allowed)}"))
    for key in ("copy_private_ip", "copy_tags", "os_byol"):
        if key in raw and not isinstance(raw[key], bool):
            problems.append((f"{where}.{key}", "must be true or false"))
    patterns = {"instance_type": _INSTANCE_TYPE, "subnet_id": _SUBNET}
    for key, pattern in patterns.items():
        if key in raw and not (isinstance(raw[key], str) and pattern.fullmatch(raw[key])):
            problems.append((f"{where}.{key}", f"must match {pattern.pattern}"))
    groups = raw.get("security_group_ids")
    if "security_group_ids" in raw and not (
        isinstance(groups, list)
        and groups
        and all(isinstance(group, str) and _SECURITY_GROUP.fullmatch(group) for group in groups)
    ):
        problems.append(
            (
                f"{where}.security_group_ids",
                f"must be a non-empty list of IDs matching {_SECURITY_GROUP.pattern}",
            )
        )
    if "private_ip" in raw and not _is_ipv4(raw["private_ip"]):
        problems.append((f"{where}.private_ip", "must be an IPv4 address"))
    if len(problems) != before:
        return None
    return LaunchSpec(
        instance_type=raw.get("instance_type"),
        subnet_id=raw.get("subnet_id"),
        security_group_ids=tuple(groups) if groups is not None else None,
        private_ip=raw.get("private_ip"),
        copy_private_ip=raw.get("copy_private_ip"),
        copy_tags=raw.get("copy_tags"),
        launch_disposition=raw.get("launch_disposition"),
        right_sizing=raw.get("right_sizing"),
        os_byol=raw.get("os_byol"),
    )


def _is_ipv4(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True
