"""Staging accounts in readiness: the servers a plan means to recover that a staging account
replicates and that are not yet extended into the target account.

DRS recovers a server replicated through a staging account only from its *extended source
server* in the target account (CreateExtendedSourceServer), which has an ID, tags and launch
settings of its own. Until then no wave selects it: a tag selector does not see it and an ID of
the staging account is unknown to the target account. :mod:`.selection` asks here whether such a
server explains what a selector missed, so that the finding says what to do, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.readiness.findings import STAGING_SERVER_NOT_EXTENDED, Finding, Severity
from drs_provider.recovery.selection import carries_tags, source_server_hostname, tags_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True)
class StagingServer:
    """A staging account's server not yet extended (a ListExtensibleSourceServers item)."""

    account_id: str
    arn: str
    hostname: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def server_id(self) -> str:
        """Its ID in the staging account: the ARN's last part (``...:source-server/s-...``)."""
        return self.arn.rpartition("/")[2]

    def describe(self) -> str:
        return f"{self.hostname} ({self.arn})" if self.hostname else self.arn

    @classmethod
    def from_item(cls, account_id: str, item: Mapping[str, Any]) -> StagingServer:
        hostname = item.get("hostname")
        tags = item.get("tags") or {}
        return cls(account_id, str(item["arn"]), str(hostname) if hostname else None, dict(tags))


def matching(staging: Iterable[StagingServer], tags: Mapping[str, str]) -> list[StagingServer]:
    """The staging servers a tag selector would select once extended with its tags (the matching
    preflight applies to source servers: every tag, same value)."""
    return [server for server in staging if carries_tags({"tags": server.tags}, tags)]


def with_id(staging: Iterable[StagingServer], server_id: str) -> StagingServer | None:
    return next((server for server in staging if server.server_id == server_id), None)


def extended_as(servers: Mapping[str, Mapping[str, Any]], staging_id: str) -> str | None:
    """The target account's server extended from the staging server ``staging_id``, named, if any:
    a plan naming the staging ID must name this one instead."""
    for server_id, server in servers.items():
        origin = str((server.get("stagingArea") or {}).get("stagingSourceServerArn") or "")
        if origin.rpartition("/")[2] == staging_id:
            hostname = source_server_hostname(server)
            return f"{server_id} ({hostname})" if hostname else server_id
    return None


def not_extended(
    severity: Severity,
    selector: str,
    server: StagingServer,
    where: str,
    wave: str,
    tags: Mapping[str, str] | None,
    *,
    by_id: bool,
) -> Finding:
    """The finding of one staging server a wave means to recover (by ID or by tags), saying how to
    make it recoverable: extend it into the target account with the tags the wave selects."""
    extend = f"CreateExtendedSourceServer in {where} with sourceServerArn {server.arn}"
    if tags:
        extend += f" and tags {tags_text(tags)}"
    of = f"{server.describe()} of staging account {server.account_id}"
    if by_id:
        what = f"{selector}.ids: {server.server_id} is {of}"
        then = "; the extended server gets an ID of its own: name that one in the plan"
    else:
        what = f"{selector}.tags {tags_text(tags or {})} match {of}"
        then = ""
    return Finding(
        severity,
        STAGING_SERVER_NOT_EXTENDED,
        f"{what}, which is not extended into {where}: the wave would not recover it. Extend it "
        f"({extend}){then}",
        wave,
        server.arn,
    )
