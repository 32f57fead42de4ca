"""Staging accounts in :class:`~drs_provider.hooks.drs.DrsHook`: the accounts replicating servers on
behalf of this (target) account, and their servers not yet extended into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase
else:
    _HookBase = object


class DrsStagingMixin(_HookBase):
    """ListStagingAccounts and ListExtensibleSourceServers, every page."""

    def staging_account_ids(self) -> list[str]:
        """The staging accounts of this account (DRS's answer is per account, the same in every region)."""
        pages = self.conn.get_paginator("list_staging_accounts").paginate()
        return [str(account["accountID"]) for page in pages for account in page.get("accounts", [])]

    def extensible_source_servers(self, staging_account_id: str) -> list[dict[str, Any]]:
        """The staging account's servers in this region not yet extended into this account: each
        ``{"hostname", "arn", "tags"}`` as DRS lists them."""
        pages = self.conn.get_paginator("list_extensible_source_servers").paginate(
            stagingAccountID=staging_account_id
        )
        return [item for page in pages for item in page.get("items", [])]
