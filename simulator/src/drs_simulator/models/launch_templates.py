"""The EC2 launch templates DRS keeps each source server's instance settings in.

DRS creates one launch template per source server in the account's EC2 and launches from its
default version. The simulator does the same on the EC2 endpoint it was given
(``--ec2-endpoint``; moto in tests, the demo and docker compose), through an ordinary boto3
``ec2`` client: whatever a plan or a person later does to a template there is what the simulator
reads back.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors

if TYPE_CHECKING:
    from drs_simulator.launch_settings import LaunchSpec

#: EC2's answers for a template that does not exist (any more).
MISSING_TEMPLATE_CODES = frozenset(
    {
        "InvalidLaunchTemplateId.NotFound",
        "InvalidLaunchTemplateId.Malformed",
        "InvalidLaunchTemplateName.NotFoundException",
    }
)
_NAME_TAKEN = "InvalidLaunchTemplateName.AlreadyExistsException"


def template_data(spec: LaunchSpec, instance_type: str) -> dict[str, Any]:
    """The first version's data: the instance type and the primary network interface."""
    interface: dict[str, Any] = {"DeviceIndex": 0, "AssociatePublicIpAddress": False}
    if spec.subnet_id is not None:
        interface["SubnetId"] = spec.subnet_id
    if spec.security_group_ids is not None:
        interface["Groups"] = list(spec.security_group_ids)
    if spec.private_ip is not None:
        interface["PrivateIpAddress"] = spec.private_ip
    return {"InstanceType": spec.instance_type or instance_type, "NetworkInterfaces": [interface]}


def primary_interface(data: dict[str, Any]) -> dict[str, Any]:
    """The network interface of device index 0 in ``data`` (added when there is none)."""
    interfaces = data.setdefault("NetworkInterfaces", [])
    for interface in interfaces:
        if interface.get("DeviceIndex", 0) == 0:
            return interface
    interfaces.insert(0, {"DeviceIndex": 0})
    return interfaces[0]


class Ec2LaunchTemplates:
    """Launch templates on one EC2 endpoint, a boto3 client per region (any credentials sign)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                import boto3
                from botocore.config import Config

                self._clients[region] = boto3.client(
                    "ec2",
                    endpoint_url=self.url,
                    region_name=region,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
                )
            return self._clients[region]

    def _call(self, region: str, operation: str, **request: Any) -> dict[str, Any]:
        """One EC2 call; anything but an answer is DRS's own internal error, naming the endpoint."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer: dict[str, Any] = getattr(self._client(region), operation)(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in MISSING_TEMPLATE_CODES or code == _NAME_TAKEN:
                raise
            raise errors.InternalServerException(
                f"EC2 at {self.url} refused {operation}: {code}: {error}"
            ) from error
        except BotoCoreError as error:
            raise errors.InternalServerException(f"EC2 at {self.url} cannot be reached: {error}") from error
        return answer

    def create(self, region: str, name: str, data: dict[str, Any]) -> str:
        """A new template holding ``data`` as version 1; one left with that name (from before a
        reset of the simulator, not of EC2) is replaced."""
        from botocore.exceptions import ClientError

        try:
            created = self._call(
                region, "create_launch_template", LaunchTemplateName=name, LaunchTemplateData=data
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _NAME_TAKEN:
                raise
            self._call(region, "delete_launch_template", LaunchTemplateName=name)
            created = self._call(
                region, "create_launch_template", LaunchTemplateName=name, LaunchTemplateData=data
            )
        return str(created["LaunchTemplate"]["LaunchTemplateId"])

    def default_data(self, region: str, template_id: str) -> dict[str, Any] | None:
        """A copy of the default version's data, None when the template does not exist."""
        from botocore.exceptions import ClientError

        try:
            answer = self._call(
                region,
                "describe_launch_template_versions",
                LaunchTemplateId=template_id,
                Versions=["$Default"],
            )
        except ClientError:
            return None
        versions = answer.get("LaunchTemplateVersions") or []
        return copy.deepcopy(versions[0].get("LaunchTemplateData") or {}) if versions else None

    def new_default_version(
        self, region: str, template_id: str, data: dict[str, Any], description: str
    ) -> int:
        """Write ``data`` as a new version and make it the default, as DRS does on every update."""
        created = self._call(
            region,
            "create_launch_template_version",
            LaunchTemplateId=template_id,
            LaunchTemplateData=data,
            VersionDescription=description,
        )
        number = int(created["LaunchTemplateVersion"]["VersionNumber"])
        self._call(region, "modify_launch_template", LaunchTemplateId=template_id, DefaultVersion=str(number))
        return number
