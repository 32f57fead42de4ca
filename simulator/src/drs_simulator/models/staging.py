"""Staging accounts and extended source servers: ListStagingAccounts, ListExtensibleSourceServers
and CreateExtendedSourceServer.

A fleet's ``staging_accounts`` replicate servers on behalf of the fleet's (target) account. Each
staging account has a backend of its own per region, reached only through the target account's
backend (no call is ever made as a staging account). CreateExtendedSourceServer copies a staging
server into the target account as an *extended source server* (``stagingArea.status`` EXTENDED),
which StartRecovery then launches like any other server.

Errors, as the model lists them per operation: ListExtensibleSourceServers has no
ResourceNotFoundException, so an account that is not a staging account is a ValidationException;
CreateExtendedSourceServer has no ConflictException, so extending a server twice is a
ValidationException too, and a server it cannot see is a ResourceNotFoundException.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.launch_settings import LaunchSpec
from drs_simulator.models.source_servers import SourceServer, SourceServersBackend
from drs_simulator.models.wire import MAX_PAGE, page_answer, paginate, stable_hex

if TYPE_CHECKING:
    from drs_simulator.models.backend import DrsBackend

#: The model's largest ``maxResults``: ListStagingAccounts 50, ListExtensibleSourceServers 300.
MAX_ACCOUNTS_PAGE = 50
MAX_EXTENSIBLE_PAGE = 300
SOURCE_SERVER_ARN = re.compile(
    r"arn:aws:drs:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):source-server/(?P<id>s-[0-9a-zA-Z]{17})"
)


def _invalid(message: str, field: str) -> errors.ValidationException:
    return errors.ValidationException(
        message, reason="other", field_list=[{"name": field, "message": message}]
    )


class StagingBackend(SourceServersBackend):
    def _largest_page(self, model_max: int) -> int:
        # The ``page_size`` fault answers fewer items than asked for, as for every paged call.
        return min(model_max, self._faults().page_size or MAX_PAGE)

    def _staging_backend(self, account_id: str) -> DrsBackend:
        staging = self._staging().get(account_id)
        if staging is None:
            raise _invalid(
                f"Account {account_id} is not a staging account of account {self.account_id}",
                "stagingAccountID",
            )
        staging.tick()
        return staging

    def _extended_arns(self) -> dict[str, SourceServer]:
        """The staging servers already extended into this account -> their extended servers."""
        return {s.staging_arn: s for s in self.servers.values() if s.staging_arn is not None}

    def list_staging_accounts(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        accounts = [{"accountID": account_id} for account_id in self._staging()]
        page, token = paginate(accounts, params, self._largest_page(MAX_ACCOUNTS_PAGE))
        return {"accounts": page, **({"nextToken": token} if token else {})}

    def list_extensible_source_servers(self, params: dict[str, Any]) -> dict[str, Any]:
        """The staging account's servers in this region not yet extended into this account."""
        self.tick()
        staging = self._staging_backend(params["stagingAccountID"])
        extended = self._extended_arns()
        items = [s for s in staging.servers.values() if s.arn not in extended and s.staging_arn is None]
        return page_answer(
            items,
            params,
            lambda s: {"hostname": s.spec.hostname, "arn": s.arn, "tags": dict(s.tags)},
            self._largest_page(MAX_EXTENSIBLE_PAGE),
        )

    def create_extended_source_server(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        arn = params["sourceServerArn"]
        found = SOURCE_SERVER_ARN.fullmatch(arn)
        if found is None:
            raise _invalid(f"{arn} is not the ARN of a DRS source server", "sourceServerArn")
        account_id, region = found["account"], found["region"]
        if account_id == self.account_id:
            raise _invalid(
                f"Source server {arn} is in account {self.account_id} itself: only a staging account's "
                "server can be extended into it",
                "sourceServerArn",
            )
        if region != self.region:
            raise _invalid(
                f"Source server {arn} is in region {region}: extend it through DRS in {region}",
                "sourceServerArn",
            )
        staging = self._staging().get(account_id)
        original = staging.servers.get(found["id"]) if staging is not None else None
        if original is None:
            raise errors.ResourceNotFoundException(
                f"Source server {arn} not found: no server of staging account {account_id} in region "
                f"{self.region} has that ARN",
                resource_id=arn,
                resource_type="SOURCE_SERVER",
            )
        earlier = self._extended_arns().get(arn)
        if earlier is not None:
            raise _invalid(
                f"Source server {arn} is already extended into account {self.account_id} as {earlier.id}",
                "sourceServerArn",
            )
        server = self._add_extended_server(original, account_id, params.get("tags") or {}, now)
        return {"sourceServer": self._server_json(server)}

    def _add_extended_server(
        self, original: SourceServer, account_id: str, tags: dict[str, str], now: float
    ) -> SourceServer:
        # The time in the seed: a server deleted and extended again gets a new ID, as in DRS.
        server_id = "s-" + stable_hex(f"{self.account_id}/{self.region}/{original.arn}/extended/{now}")
        # The machine and its replication are the staging server's; the launch settings and tags
        # are the target account's own.
        spec = dataclasses.replace(
            original.spec, id=server_id, region=self.region, tags=dict(tags), launch=LaunchSpec()
        )
        server = SourceServer(
            spec=spec,
            arn=self.arn("source-server", server_id),
            tags=dict(tags),
            replication_state=original.replication_state,
            added=now,
            origin_region=original.origin_region,
            aws_instance_id=original.aws_instance_id,
            staging_account_id=account_id,
            staging_arn=original.arn,
        )
        self.servers[server_id] = server
        return server
