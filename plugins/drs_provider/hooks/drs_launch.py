"""Launch settings in :class:`~drs_provider.hooks.drs.DrsHook`: a launch configuration in DRS and a
launch template in EC2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from drs_provider.exceptions import DrsProviderError
from drs_provider.hooks.ec2 import LaunchTemplateHook
from drs_provider.recovery.launch import (
    CONFIGURATION_MEMBERS,
    TEMPLATE_SETTINGS,
    LaunchState,
    configuration_update,
    differences,
    needs_template,
    template_update,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase

    from drs_provider.plans.model import LaunchSettings
else:
    _HookBase = object


class DrsLaunchSettingsMixin(_HookBase):
    """What a server would launch with, and making DRS launch it with a plan's settings."""

    def launch_template_hook(self) -> LaunchTemplateHook:
        """EC2 launch templates on this hook's connection, region and settings."""
        return LaunchTemplateHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config
        )

    def launch_configuration(self, server_id: str) -> dict[str, Any]:
        """GetLaunchConfiguration of one server (DRS has no batch form)."""
        answer = dict(self.conn.get_launch_configuration(sourceServerID=server_id))
        answer.pop("ResponseMetadata", None)
        return answer

    def read_launch_states(
        self, server_ids: Sequence[str], *, templates: bool = True
    ) -> dict[str, LaunchState]:
        """What each server would launch with now: one GetLaunchConfiguration per server, and (with
        ``templates``) the default versions of their launch templates in one EC2 listing.

        A server DRS does not know is left out; any other error is raised.
        """
        configurations: dict[str, dict[str, Any]] = {}
        for server_id in dict.fromkeys(server_ids):
            try:
                configurations[server_id] = self.launch_configuration(server_id)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                self.log.info("no launch configuration of %s: DRS does not know it", server_id)
        versions: dict[str, dict[str, Any]] = {}
        if templates:
            ids = {
                str(c["ec2LaunchTemplateID"]) for c in configurations.values() if c.get("ec2LaunchTemplateID")
            }
            versions = self.launch_template_hook().default_versions(ids)
        return {
            server_id: LaunchState(configuration, versions.get(str(configuration.get("ec2LaunchTemplateID"))))
            for server_id, configuration in configurations.items()
        }

    def apply_launch_settings(
        self, server_id: str, settings: LaunchSettings, state: LaunchState
    ) -> list[str]:
        """Make DRS launch ``server_id`` with the plan's ``settings``; return what was changed.

        The launch configuration first (UpdateLaunchConfiguration, also when the template is
        missing, since DRS then creates one), as DRS writes a new default template version of its
        own on every update; then, read again, the template: a new default version based on the
        default, holding the plan's instance type, subnet, security groups and private IP.

        :raises DrsProviderError: DRS names no launch template, or EC2 has none by that ID.
        """
        changes = differences(settings, state)
        done: list[str] = []
        configuration: Mapping[str, Any] = state.configuration
        missing = needs_template(settings) and state.template is None
        if missing or any(change.setting in CONFIGURATION_MEMBERS for change in changes):
            configuration = self.conn.update_launch_configuration(**configuration_update(server_id, settings))
            done.append("launch configuration updated (UpdateLaunchConfiguration)")
        if not (missing or any(change.setting in TEMPLATE_SETTINGS for change in changes)):
            return done
        template_id = configuration.get("ec2LaunchTemplateID")
        if not template_id:
            raise DrsProviderError(f"DRS names no EC2 launch template for {server_id}")
        templates = self.launch_template_hook()
        base = templates.default_version(str(template_id))
        if base is None:
            raise DrsProviderError(
                f"the EC2 launch template {template_id} DRS names for {server_id} does not exist"
            )
        if any(
            change.setting in TEMPLATE_SETTINGS
            for change in differences(settings, LaunchState(configuration, base))
        ):
            number = templates.new_default_version(
                base, template_update(base.get("LaunchTemplateData") or {}, settings)
            )
            done.append(f"launch template {template_id}: version {number} is the default")
        return done
