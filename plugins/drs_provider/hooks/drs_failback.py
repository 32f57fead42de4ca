"""Failback calls in :class:`~drs_provider.hooks.drs.DrsHook`: reversing replication, finding what
was reversed, and the on-premises failback launch (rules in :mod:`drs_provider.recovery.failback`).

Reversing happens in the recovery region, the reversed server lives in the origin region: a hook
is one region, so a caller holds one hook per region (:meth:`DrsFailbackMixin.in_region`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from botocore.exceptions import ClientError

from drs_provider.constants import RECOVERY_INSTANCES_PER_REQUEST
from drs_provider.exceptions import DrsAgentStartingError, DrsProviderError
from drs_provider.hooks.chunking import chunked
from drs_provider.recovery.failback import (
    failback_server_for,
    recovery_instance_readiness,
    source_server_readiness,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase

    from drs_provider.recovery.failback import Readiness
else:
    _HookBase = object


class DrsFailbackMixin(_HookBase):
    """ReverseReplication, the FAILBACK source servers, StartFailbackLaunch and StopFailback, and
    whether a wave's servers are ready to fail back."""

    def in_region(self, region_name: str) -> Self:
        """A hook like this one (connection, settings) for ``region_name``."""
        return self.at(self.aws_conn_id, region_name)

    def at(self, aws_conn_id: str | None, region_name: str | None) -> Self:
        """A hook like this one on another connection (account) and region; itself when neither
        differs. Either left None keeps this hook's."""
        conn_id = aws_conn_id or self.aws_conn_id
        region = region_name or self.region_name
        if (conn_id, region) == (self.aws_conn_id, self.region_name):
            return self
        return type(self)(aws_conn_id=conn_id, region_name=region, verify=self.verify, config=self.config)

    def reverse_replication(self, recovery_instance_id: str) -> str:
        """Reverse the replication of a live recovery instance; the ARN of the FAILBACK source server.

        Raises :class:`DrsAgentStartingError` on DRS's ConflictException (the instance's agent is
        still starting, or the instance cannot be reversed yet): a caller waits and asks again.
        Other errors are botocore's ``ClientError``.
        """
        try:
            answer = self.conn.reverse_replication(recoveryInstanceID=recovery_instance_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConflictException":
                raise DrsAgentStartingError(
                    recovery_instance_id, str(error.response["Error"].get("Message") or error)
                ) from error
            raise
        return str(answer["reversedDirectionSourceServerArn"])

    def find_failback_servers(self, ec2_instance_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The FAILBACK source server of each EC2 instance already reversed (of ``ec2_instance_ids``).

        This is how a retry finds what an earlier try reversed, and reverses it not again. DRS
        cannot filter source servers on their direction: every one of the region is read, once.
        """
        servers = self.describe_source_servers()  # type: ignore[attr-defined]
        found = {}
        for instance_id in dict.fromkeys(ec2_instance_ids):
            try:
                server = failback_server_for(instance_id, servers)
            except ValueError as error:
                raise DrsProviderError(str(error)) from None
            if server is not None:
                found[instance_id] = server
        return found

    def start_failback_launch(
        self, recovery_instance_ids: Sequence[str], *, tags: Mapping[str, str] | None = None
    ) -> list[dict]:
        """StartFailbackLaunch (on-premises origins), 200 instances per request; the jobs DRS started."""
        jobs = []
        for chunk in chunked(list(dict.fromkeys(recovery_instance_ids)), RECOVERY_INSTANCES_PER_REQUEST):
            request: dict[str, Any] = {"recoveryInstanceIDs": list(chunk)}
            if tags:
                request["tags"] = dict(tags)
            jobs.append(self.conn.start_failback_launch(**request)["job"])
        return jobs

    def stop_replication(self, source_server_id: str) -> None:
        """StopReplication of a source server (a FAILBACK one before its recovery instance goes)."""
        self.conn.stop_replication(sourceServerID=source_server_id)

    def stop_failback(self, recovery_instance_id: str) -> None:
        """StopFailback: the on-premises instance's failback state goes back to FAILBACK_NOT_STARTED."""
        self.conn.stop_failback(recoveryInstanceID=recovery_instance_id)

    def failback_states(self, recovery_instance_ids: Sequence[str]) -> dict[str, str]:
        """Each recovery instance's ``failback.state`` (instances DRS does not know are left out)."""
        return {
            item["recoveryInstanceID"]: (item.get("failback") or {}).get("state", "")
            for item in self.describe_recovery_instances(recovery_instance_ids)  # type: ignore[attr-defined]
        }

    def failback_readiness(
        self, source_server_ids: Sequence[str] = (), recovery_instance_ids: Sequence[str] = ()
    ) -> dict[str, Readiness]:
        """Whether each FAILBACK source server and on-premises recovery instance may be launched now,
        by ID (IDs DRS does not know are left out): what
        :class:`~drs_provider.triggers.failback.DrsFailbackReadyTrigger` waits for, read once, so a
        task need not defer when all are ready already."""
        servers = self.describe_source_servers(source_server_ids) if source_server_ids else []  # type: ignore[attr-defined]
        instances = (
            self.describe_recovery_instances(recovery_instance_ids)  # type: ignore[attr-defined]
            if recovery_instance_ids
            else []
        )
        found = {server["sourceServerID"]: source_server_readiness(server) for server in servers}
        found.update((item["recoveryInstanceID"], recovery_instance_readiness(item)) for item in instances)
        return found
