"""Launch configurations: GetLaunchConfiguration and UpdateLaunchConfiguration.

A server's launch configuration (launch disposition, right-sizing, copy private IP, copy tags,
licensing) lives here; its instance type, subnet, security groups and private IP live in its EC2
launch template (:mod:`.launch_templates`), created the first time its launch configuration is
read or changed (DRS creates it when the server is added; lazily here, so a reset costs EC2
nothing). Every UpdateLaunchConfiguration writes a new default version of the template, as DRS
does, carrying what DRS itself puts there: with right-sizing on, the instance type it picks; with
copy private IP on, the source server's address. A template deleted in EC2 stays missing until
the next update, which creates a new one with default values (the DRS User Guide: "If you delete
the EC2 launch template, the service creates a new one with default values").

Without an EC2 endpoint there is nowhere to keep a template: the configuration names none
(``ec2LaunchTemplateID`` is left out) and fleets giving template settings are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_simulator.launch_settings import (
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_LAUNCH_DISPOSITION,
    DEFAULT_RIGHT_SIZING,
    RIGHT_SIZING_OFF,
    LaunchSpec,
)
from drs_simulator.models.base import BackendBase
from drs_simulator.models.launch_templates import primary_interface, template_data
from drs_simulator.models.source_servers import source_ip

if TYPE_CHECKING:
    from drs_simulator.models.launch_templates import Ec2LaunchTemplates
    from drs_simulator.models.source_servers import SourceServer


@dataclass
class LaunchConfiguration:
    """What DRS itself holds of a server's launch settings."""

    name: str
    launch_disposition: str
    right_sizing: str
    copy_private_ip: bool
    copy_tags: bool
    os_byol: bool
    post_launch_enabled: bool = False
    launch_into_instance: str | None = None
    recovery_mode: str | None = None
    #: the server's EC2 launch template; None until one is created (never without EC2)
    template_id: str | None = None


class LaunchConfigurationsBackend(BackendBase):
    def _launch_configuration(self, server_id: str) -> tuple[SourceServer, LaunchConfiguration]:
        """The server and its launch configuration, its template created on first need."""
        server = self.source_server(server_id)
        config = self.launch_configurations.get(server_id)
        if config is None:
            spec = server.spec.launch
            config = LaunchConfiguration(
                name=server.spec.hostname,
                launch_disposition=spec.launch_disposition or DEFAULT_LAUNCH_DISPOSITION,
                right_sizing=spec.right_sizing or DEFAULT_RIGHT_SIZING,
                copy_private_ip=bool(spec.copy_private_ip),
                copy_tags=bool(spec.copy_tags),
                os_byol=bool(spec.os_byol),
            )
            self.launch_configurations[server_id] = config
        ec2 = self._ec2()
        if ec2 is not None and config.template_id is None:
            config.template_id = self._create_template(
                ec2, server, template_data(server.spec.launch, DEFAULT_INSTANCE_TYPE)
            )
        return server, config

    def _create_template(self, ec2: Ec2LaunchTemplates, server: SourceServer, data: dict[str, Any]) -> str:
        return ec2.create(self.region, f"drs-{self.account_id}-{server.id}", data)

    def get_launch_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        server, config = self._launch_configuration(params["sourceServerID"])
        return self._launch_json(server, config)

    def update_launch_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        server, config = self._launch_configuration(params["sourceServerID"])
        fields = {
            "name": "name",
            "launchDisposition": "launch_disposition",
            "targetInstanceTypeRightSizingMethod": "right_sizing",
            "copyPrivateIp": "copy_private_ip",
            "copyTags": "copy_tags",
            "postLaunchEnabled": "post_launch_enabled",
            "recoveryMode": "recovery_mode",
        }
        for member, attribute in fields.items():
            if member in params:
                setattr(config, attribute, params[member])
        if "osByol" in (params.get("licensing") or {}):
            config.os_byol = params["licensing"]["osByol"]
        if "launchIntoInstanceProperties" in params:
            config.launch_into_instance = params["launchIntoInstanceProperties"].get(
                "launchIntoEC2InstanceID"
            )
        ec2 = self._ec2()
        if ec2 is not None and config.template_id is not None:
            self._version_template(ec2, server, config)
        return self._launch_json(server, config)

    def _version_template(
        self, ec2: Ec2LaunchTemplates, server: SourceServer, config: LaunchConfiguration
    ) -> None:
        """A new default version of the server's template, with what DRS writes there itself."""
        assert config.template_id is not None
        data = ec2.default_data(self.region, config.template_id)
        if data is None:
            data = template_data(LaunchSpec(), DEFAULT_INSTANCE_TYPE)
            config.template_id = self._create_template(ec2, server, data)
        if config.right_sizing != RIGHT_SIZING_OFF:
            data["InstanceType"] = DEFAULT_INSTANCE_TYPE  # the type DRS recommends for the machine
        if config.copy_private_ip:
            primary_interface(data)["PrivateIpAddress"] = source_ip(server.id)
        ec2.new_default_version(self.region, config.template_id, data, "UpdateLaunchConfiguration")

    def _launch_json(self, server: SourceServer, config: LaunchConfiguration) -> dict[str, Any]:
        item: dict[str, Any] = {
            "sourceServerID": server.id,
            "name": config.name,
            "launchDisposition": config.launch_disposition,
            "targetInstanceTypeRightSizingMethod": config.right_sizing,
            "copyPrivateIp": config.copy_private_ip,
            "copyTags": config.copy_tags,
            "licensing": {"osByol": config.os_byol},
            "postLaunchEnabled": config.post_launch_enabled,
        }
        if config.template_id is not None:
            item["ec2LaunchTemplateID"] = config.template_id
        if config.launch_into_instance is not None:
            item["launchIntoInstanceProperties"] = {"launchIntoEC2InstanceID": config.launch_into_instance}
        if config.recovery_mode is not None:
            item["recoveryMode"] = config.recovery_mode
        return item
