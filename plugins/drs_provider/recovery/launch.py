"""Launch settings as DRS holds them: where each plan setting lives, what a server would launch
with now, how that differs from the plan, and the changes that make DRS match.

DRS keeps a source server's launch settings in two places: its launch configuration
(GetLaunchConfiguration: launch disposition, right-sizing, copy private IP, copy tags, licensing)
and the default version of its EC2 launch template (instance type, subnet, security groups and
private IP, on the primary network interface). One home for that mapping, read by readiness
(``launch_config_drift``, ``launch_template_missing``) and ``drs-plan apply-launch`` alike. No
Airflow and no boto3: the hooks make the calls.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.selection import select_servers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.plans.model import LaunchSettings, Plan

#: Settings that live in the EC2 launch template's default version.
TEMPLATE_SETTINGS = ("instance_type", "subnet_id", "security_group_ids", "private_ip")
#: Settings of the DRS launch configuration -> their member path in Get/UpdateLaunchConfiguration.
CONFIGURATION_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "copy_private_ip": ("copyPrivateIp",),
    "copy_tags": ("copyTags",),
    "launch_disposition": ("launchDisposition",),
    "right_sizing": ("targetInstanceTypeRightSizingMethod",),
    "os_byol": ("licensing", "osByol"),
}


def needs_template(settings: LaunchSettings) -> bool:
    """Whether the plan gives a setting that only an existing launch template can hold."""
    return any(getattr(settings, name) is not None for name in TEMPLATE_SETTINGS)


def primary_interface(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The launch template's network interface of device index 0 (the one DRS manages), if any."""
    for interface in data.get("NetworkInterfaces") or ():
        if interface.get("DeviceIndex", 0) == 0:
            return interface  # type: ignore[no-any-return]
    return None


def template_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """The template settings a version's ``LaunchTemplateData`` holds (None: not set)."""
    interface = primary_interface(data) or {}
    groups = interface.get("Groups") or data.get("SecurityGroupIds")
    address = interface.get("PrivateIpAddress") or next(
        (
            item.get("PrivateIpAddress")
            for item in interface.get("PrivateIpAddresses") or ()
            if item.get("Primary")
        ),
        None,
    )
    return {
        "instance_type": data.get("InstanceType"),
        "subnet_id": interface.get("SubnetId"),
        "security_group_ids": tuple(groups) if groups else None,
        "private_ip": address,
    }


@dataclass(frozen=True)
class LaunchState:
    """What DRS would launch a server with now."""

    #: GetLaunchConfiguration's answer
    configuration: Mapping[str, Any]
    #: the DescribeLaunchTemplateVersions item of the template's default version; None: DRS names
    #: no template, or EC2 has no such template (any more), or it was not read
    template: Mapping[str, Any] | None = None

    @property
    def template_id(self) -> str | None:
        value = self.configuration.get("ec2LaunchTemplateID")
        return str(value) if value else None

    def value(self, setting: str) -> Any:
        """The setting's value in DRS (None: DRS holds none)."""
        if setting in CONFIGURATION_MEMBERS:
            node: Any = self.configuration
            for member in CONFIGURATION_MEMBERS[setting]:
                node = node.get(member) if isinstance(node, dict) else None
            return node
        return template_settings((self.template or {}).get("LaunchTemplateData") or {})[setting]


@dataclass(frozen=True)
class Difference:
    """One setting whose value in DRS is not the plan's."""

    setting: str
    drs: Any
    plan: Any

    def __str__(self) -> str:
        return f"{self.setting}: {shown(self.drs)} -> {shown(self.plan)}"


def shown(value: Any) -> str:
    """A setting's value as plans write it: ``true``, ``m5.large``, ``[sg-1, sg-2]``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def differences(settings: LaunchSettings, state: LaunchState) -> list[Difference]:
    """The plan's settings DRS holds otherwise, in the plan's order; template settings only when
    the template was found (a missing one is reported as such)."""
    found = []
    for setting, wanted in settings.declared().items():
        if setting in TEMPLATE_SETTINGS and state.template is None:
            continue
        current = state.value(setting)
        if setting == "security_group_ids":  # a set: EC2 keeps them in any order
            same = current is not None and sorted(current) == sorted(wanted)
        else:
            same = current == wanted
        if not same:
            found.append(Difference(setting, current, wanted))
    return found


def configuration_update(server_id: str, settings: LaunchSettings) -> dict[str, Any]:
    """UpdateLaunchConfiguration's request setting the plan's launch configuration settings."""
    request: dict[str, Any] = {"sourceServerID": server_id}
    for setting, value in settings.declared().items():
        path = CONFIGURATION_MEMBERS.get(setting)
        if path is None:
            continue
        node = request
        for member in path[:-1]:
            node = node.setdefault(member, {})
        node[path[-1]] = value
    return request


def template_update(data: Mapping[str, Any], settings: LaunchSettings) -> dict[str, Any]:
    """A copy of a version's ``LaunchTemplateData`` holding the plan's template settings.

    Subnet, security groups and private IP go on the primary network interface, which is added
    when the template has none; security groups given at the template's top level move onto it,
    since EC2 refuses both at once. Only security groups on a template without interfaces stay at
    the top level.
    """
    updated = copy.deepcopy(dict(data))
    if settings.instance_type is not None:
        updated["InstanceType"] = settings.instance_type
    network = {
        name: getattr(settings, name)
        for name in ("subnet_id", "security_group_ids", "private_ip")
        if getattr(settings, name) is not None
    }
    if not network:
        return updated
    interface = primary_interface(updated)
    if interface is None and set(network) == {"security_group_ids"}:
        updated["SecurityGroupIds"] = list(network["security_group_ids"])
        return updated
    if interface is None:
        interface = {"DeviceIndex": 0}
        updated["NetworkInterfaces"] = [interface, *(updated.get("NetworkInterfaces") or ())]
    assert isinstance(interface, dict)
    top_level = updated.pop("SecurityGroupIds", None)
    updated.pop("SecurityGroups", None)  # names, default VPC only: an interface takes IDs
    if top_level and "Groups" not in interface:
        interface["Groups"] = list(top_level)
    if "subnet_id" in network:
        interface["SubnetId"] = network["subnet_id"]
    if "security_group_ids" in network:
        interface["Groups"] = list(network["security_group_ids"])
    if "private_ip" in network:
        interface["PrivateIpAddress"] = network["private_ip"]
        secondary = [item for item in interface.get("PrivateIpAddresses") or () if not item.get("Primary")]
        if secondary:
            interface["PrivateIpAddresses"] = secondary
        else:
            interface.pop("PrivateIpAddresses", None)
    return updated


@dataclass(frozen=True)
class PlannedLaunch:
    """Which servers a plan gives launch settings, as DRS's servers are now."""

    #: source server -> (its wave, the settings the plan gives it), in wave order
    servers: Mapping[str, tuple[str, LaunchSettings]]
    #: servers a wave giving launch settings names by ID that DRS does not have
    unknown: tuple[str, ...] = ()
    #: servers of ``launch_per_server`` their wave's tags do not select
    unselected: tuple[str, ...] = ()


def planned_launch(plan: Plan, servers: Mapping[str, Mapping[str, Any]]) -> PlannedLaunch:
    """The servers (DescribeSourceServers items by ID) each wave giving ``launch`` selects, with
    the settings the plan gives each, as a run would select them."""
    chosen: dict[str, tuple[str, LaunchSettings]] = {}
    unknown: list[str] = []
    for wave in plan.waves:
        if not wave.declares_launch:
            continue
        for selector in (wave.servers, wave.optional_servers):
            if selector is None or selector.is_empty:
                continue
            picked = select_servers(
                servers, ids=selector.ids, tags=selector.tags, candidates=servers.values()
            )
            unknown += picked.unknown_ids
            for server_id in picked.server_ids:
                settings = wave.launch_for(server_id)
                if settings is not None and settings.declared():
                    chosen.setdefault(server_id, (wave.name, settings))
    unselected = [
        server_id
        for wave in plan.waves
        for server_id in wave.launch_per_server
        if server_id not in chosen and server_id not in unknown
    ]
    return PlannedLaunch(chosen, tuple(dict.fromkeys(unknown)), tuple(unselected))
