"""Staging accounts of a fleet: the ``staging_accounts`` list and how it is read.

A staging account is an AWS account whose DRS replicates machines on behalf of the fleet's account
(the *target* account). The target account lists its staging accounts (ListStagingAccounts), finds
their servers (ListExtensibleSourceServers) and recovers one after CreateExtendedSourceServer has
made an *extended source server* of it in the target account. The keys are listed in
:mod:`.fleet`'s module docstring; a staging server entry takes a ``source_servers`` entry's keys
except ``launch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drs_simulator.fleet_servers import (
    ACCOUNT_ID,
    ServerSpec,
    key_path,
    parse_server_list,
    server_to_dict,
    shown,
)

STAGING_KEYS = ("account_id", "source_servers")


@dataclass(frozen=True)
class StagingAccount:
    account_id: str
    source_servers: tuple[ServerSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "source_servers": [server_to_dict(spec) for spec in self.source_servers],
        }


def parse_staging_accounts(
    raw: Any, target_account: Any, problems: list[tuple[str, str]], seen: dict[str, str]
) -> tuple[StagingAccount, ...]:
    """The staging accounts ``raw`` (the ``staging_accounts`` value) declares that parse.

    ``seen`` is :func:`.parse_server_list`'s: server IDs are unique across the whole fleet.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(("staging_accounts", "must be a list of {account_id, source_servers} mappings"))
        return ()
    accounts: list[StagingAccount] = []
    first_at: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where = f"staging_accounts[{index}]"
        if not isinstance(entry, dict):
            problems.append((where, "must be a mapping with account_id and source_servers"))
            continue
        before = len(problems)
        for key in entry:
            if key not in STAGING_KEYS:
                problems.append(
                    (f"{where}.{key_path(key)}", f"unknown key (allowed: {', '.join(STAGING_KEYS)})")
                )
        account_id = entry.get("account_id")
        if isinstance(account_id, int) and not isinstance(account_id, bool):
            account_id = str(account_id)
        if account_id is None:
            problems.append((f"{where}.account_id", "required"))
        elif not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
            problems.append((f"{where}.account_id", f"{shown(account_id)} is not a 12-digit AWS account ID"))
        elif account_id == target_account:
            problems.append((f"{where}.account_id", f"{account_id} is the fleet's own account_id"))
        elif account_id in first_at:
            problems.append(
                (f"{where}.account_id", f"{account_id} repeats staging_accounts[{first_at[account_id]}]")
            )
        else:
            first_at[account_id] = index
        servers = parse_server_list(entry.get("source_servers"), f"{where}.source_servers", problems, seen)
        raw_servers = entry.get("source_servers")
        for position, server in enumerate(raw_servers if isinstance(raw_servers, list) else []):
            # The extended server has launch settings of its own in the target account: a staging
            # server's would never be used.
            if isinstance(server, dict) and "launch" in server:
                problems.append(
                    (
                        f"{where}.source_servers[{position}].launch",
                        "not for a staging server: its extended server in the target account has "
                        "launch settings of its own (UpdateLaunchConfiguration)",
                    )
                )
        if len(problems) == before and isinstance(account_id, str):
            accounts.append(StagingAccount(account_id, tuple(servers)))
    return tuple(accounts)
