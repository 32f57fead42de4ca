"""Which servers a plan's waves select in an account, as preflight resolves them, and what they fail
to select (a staging account's server not yet extended into the account: :mod:`.staging`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.readiness.account import AccountState, Selected
from drs_provider.readiness.findings import (
    ERROR,
    SERVER_IN_TWO_WAVES,
    SERVER_MISSING,
    TAGS_COUNT_CHANGED,
    TAGS_SELECT_NONE,
    WARNING,
    Finding,
)
from drs_provider.readiness.staging import extended_as, matching, not_extended, with_id
from drs_provider.recovery.selection import select_servers, tags_text

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan, ServerSelector


def selected_servers(plan: Plan, account: AccountState, findings: list[Finding]) -> Selected:
    """Resolve every wave's selectors as preflight does, finding what they do not select."""
    selected = Selected()
    for wave in plan.waves:
        selectors: list[tuple[bool, ServerSelector | None]] = [
            (False, wave.servers),
            (True, wave.optional_servers),
        ]
        for optional, selector in selectors:
            if selector is None or selector.is_empty:
                continue
            key = "optional_servers" if optional else "servers"
            severity = WARNING if optional else ERROR
            picked = select_servers(
                account.servers, ids=selector.ids, tags=selector.tags, candidates=account.servers.values()
            )
            # A staging server the selector means is reported once, as what to do about it.
            reported: set[str] = set()
            for server_id in picked.unknown_ids:
                staged = with_id(account.staging, server_id)
                if staged is not None:
                    reported.add(staged.arn)
                    findings.append(
                        not_extended(
                            severity, key, staged, account.where, wave.name, selector.tags, by_id=True
                        )
                    )
                    continue
                extended = extended_as(account.servers, server_id)
                hint = (
                    f" (a staging server, extended into it as {extended}: name that ID)" if extended else ""
                )
                findings.append(
                    Finding(
                        severity,
                        SERVER_MISSING,
                        f"{key}.ids: DRS in {account.where} has no source server {server_id}{hint}",
                        wave.name,
                        server_id,
                    )
                )
            staged_tagged = matching(account.staging, selector.tags) if selector.tags else []
            for staged in staged_tagged:
                if staged.arn not in reported:
                    findings.append(
                        not_extended(
                            severity, key, staged, account.where, wave.name, selector.tags, by_id=False
                        )
                    )
            # tags matching only staging servers do select something: that finding says what to do
            if picked.unmatched_tags and not staged_tagged:
                findings.append(
                    Finding(
                        severity,
                        TAGS_SELECT_NONE,
                        f"{key}.tags {tags_text(picked.unmatched_tags)} select no source server "
                        f"in {account.where}",
                        wave.name,
                    )
                )
            expected = wave.expect_servers
            if not optional and expected is not None and selector.tags and not picked.unmatched_tags:
                tagged = select_servers(
                    account.servers, tags=selector.tags, candidates=account.servers.values()
                )
                if len(tagged.server_ids) != expected:
                    findings.append(
                        Finding(
                            ERROR,
                            TAGS_COUNT_CHANGED,
                            f"servers.tags {tags_text(selector.tags)} select {len(tagged.server_ids)} "
                            f"source server(s), expect_servers is {expected}: "
                            + ", ".join(map(account.name, tagged.server_ids)),
                            wave.name,
                        )
                    )
            for server_id in picked.server_ids:
                selected.add(wave.name, server_id, optional)
    owners: dict[str, list[str]] = {}
    for wave_name, server_id, _ in selected.each():
        owners.setdefault(server_id, []).append(wave_name)
    for server_id, waves in owners.items():
        if len(waves) > 1:
            findings.append(
                Finding(
                    ERROR,
                    SERVER_IN_TWO_WAVES,
                    f"{account.name(server_id)} is selected by waves {', '.join(map(repr, waves))}; "
                    "a run recovers a server once",
                    waves[0],
                    server_id,
                )
            )
    return selected
