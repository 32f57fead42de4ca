"""EC2 launch templates, where DRS keeps each source server's instance settings.

DRS launches a server from the default version of the EC2 launch template its launch
configuration names (``ec2LaunchTemplateID``). This hook reads those default versions and writes
new ones; what the settings mean is :mod:`drs_provider.recovery.launch`'s business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from drs_provider.hooks.lean_clients import LeanClientsMixin

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from botocore.model import Shape

#: EC2's error codes for a launch template that does not exist (any more).
MISSING_TEMPLATE_CODES = frozenset(
    {
        "InvalidLaunchTemplateId.NotFound",
        "InvalidLaunchTemplateId.Malformed",
        "InvalidLaunchTemplateName.NotFoundException",
    }
)
#: DescribeLaunchTemplateVersions answers at most this many versions per call.
VERSIONS_PER_PAGE = 200
#: What a version written by ``drs-plan apply-launch`` says it is.
VERSION_DESCRIPTION = "drs-plan apply-launch: the recovery plan's launch settings"


class LaunchTemplateHook(LeanClientsMixin, AwsBaseHook):
    """Read and version the EC2 launch templates DRS launches source servers from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "ec2"
        super().__init__(*args, **kwargs)

    def default_versions(self, template_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The default version of each of these templates, by template ID; absent: no such template.

        EC2 describes one named template per call, or every template's default version at once
        (no ID, ``$Default``): that listing, in pages of 200, is read instead, so a check of
        hundreds of servers costs a few calls, not one per server. A template the listing lacks is
        looked up by ID before it counts as missing: a listing may lag behind a template just
        made, and moto answers one page only.
        """
        wanted = set(template_ids)
        if not wanted:
            return {}
        paginator = self.conn.get_paginator("describe_launch_template_versions")
        pages = paginator.paginate(Versions=["$Default"], PaginationConfig={"PageSize": VERSIONS_PER_PAGE})
        found = {
            version["LaunchTemplateId"]: version
            for page in pages
            for version in page.get("LaunchTemplateVersions", [])
            if version.get("LaunchTemplateId") in wanted
        }
        for template_id in sorted(wanted - set(found)):
            version = self.default_version(template_id)
            if version is not None:
                found[template_id] = version
        return found

    def default_version(self, template_id: str) -> dict[str, Any] | None:
        """One template's default version (None: EC2 has no such template)."""
        try:
            answer = self.conn.describe_launch_template_versions(
                LaunchTemplateId=template_id, Versions=["$Default"]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_TEMPLATE_CODES:
                return None
            raise
        versions = answer.get("LaunchTemplateVersions") or []
        return dict(versions[0]) if versions else None

    def new_default_version(self, base: Mapping[str, Any], data: Mapping[str, Any]) -> int:
        """Write ``data`` as a new version of ``base``'s template (based on ``base``), make it the
        default, and return its number.

        ``data`` is read from a described version: members EC2 only ever answers (such as
        ``MetadataOptions.State``) are left out, since CreateLaunchTemplateVersion refuses them.
        """
        template_id = str(base["LaunchTemplateId"])
        shape = self.conn.meta.service_model.shape_for("RequestLaunchTemplateData")
        created = self.conn.create_launch_template_version(
            LaunchTemplateId=template_id,
            SourceVersion=str(base["VersionNumber"]),
            VersionDescription=VERSION_DESCRIPTION,
            LaunchTemplateData=request_shaped(data, shape),
        )
        number = int(created["LaunchTemplateVersion"]["VersionNumber"])
        self.conn.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=str(number))
        return number


def request_shaped(value: Any, shape: Shape) -> Any:
    """``value`` with only the members ``shape`` (a request shape of botocore's model) accepts."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {key: request_shaped(item, members[key]) for key, item in value.items() if key in members}
    if shape.type_name == "list" and isinstance(value, list):
        return [request_shaped(item, shape.member) for item in value]  # type: ignore[attr-defined]
    return value
