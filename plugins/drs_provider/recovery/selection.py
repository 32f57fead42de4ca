"""Which source servers a selector picks: IDs and/or tags (a server must carry ALL the tags)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.constants import SOURCE_SERVER_ID_PATTERN

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_SOURCE_SERVER_ID = re.compile(SOURCE_SERVER_ID_PATTERN)


def is_source_server_id(value: object) -> bool:
    """Whether ``value`` has the shape of a DRS source server ID."""
    return isinstance(value, str) and _SOURCE_SERVER_ID.match(value) is not None


def carries_tags(resource: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    """Whether a DRS resource (source server, job) carries ALL of ``tags`` with these values."""
    own = resource.get("tags") or {}
    return all(own.get(key) == value for key, value in tags.items())


def source_server_hostname(server: Mapping[str, Any]) -> str | None:
    """The hostname DRS recorded for a source server (its fqdn when there is no hostname)."""
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    name = hints.get("hostname") or hints.get("fqdn")
    return str(name) if name else None


def tags_text(tags: Mapping[str, str]) -> str:
    """``{App=shop, Role=db}``: a tag selector in messages, keys sorted."""
    return "{" + ", ".join(f"{key}={value}" for key, value in sorted(tags.items())) + "}"


@dataclass(frozen=True)
class Selection:
    """What one selector picked from the servers DRS knows, and what it could not find."""

    #: picked source server IDs: the named IDs first (in the given order), then tag matches
    server_ids: tuple[str, ...] = ()
    #: named IDs that DRS does not know
    unknown_ids: tuple[str, ...] = ()
    #: the tag selector, when it matched no server
    unmatched_tags: Mapping[str, str] = field(default_factory=dict)


def select_servers(
    known: Mapping[str, Mapping[str, Any]],
    *,
    ids: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    candidates: Iterable[Mapping[str, Any]] = (),
) -> Selection:
    """Apply a selector to described source servers.

    :param known: source server ID -> server, for every server described so far
    :param ids: the selector's IDs; each must be in ``known``
    :param tags: the selector's tags, matched against ``candidates``
    :param candidates: every source server of the account and region (needed for ``tags``)
    """
    picked = [server_id for server_id in dict.fromkeys(ids) if server_id in known]
    unknown = tuple(server_id for server_id in dict.fromkeys(ids) if server_id not in known)
    unmatched: Mapping[str, str] = {}
    if tags:
        matching = [server["sourceServerID"] for server in candidates if carries_tags(server, tags)]
        if not matching:
            unmatched = dict(tags)
        picked.extend(matching)
    return Selection(tuple(dict.fromkeys(picked)), unknown, unmatched)
