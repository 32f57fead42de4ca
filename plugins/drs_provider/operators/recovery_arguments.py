"""The arguments of :class:`~drs_provider.operators.drs.DrsStartRecoveryOperator` once read, the
reading of those that need more than a type check, and the servers they select."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drs_provider.constants import MAX_SERVERS_PER_START_RECOVERY
from drs_provider.exceptions import DrsInputError, DrsServerSelectionError
from drs_provider.recovery.times import parse_time
from drs_provider.template_values import as_int

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.hooks.drs import DrsHook


@dataclass(frozen=True)
class RecoveryArguments:
    """The operator's arguments once read from whatever the templates rendered."""

    source_server_ids: list[str]
    tags: dict[str, str]
    optional_source_server_ids: list[str]
    optional_tags: dict[str, str]
    is_drill: bool
    point_in_time: datetime | None
    max_servers_per_job: int
    job_tags: dict[str, str]
    #: source server ID -> the recovery snapshot to launch it from, chosen already (a plan run:
    #: preflight's choice); None: chosen at launch from ``point_in_time``
    snapshot_ids: Mapping[str, str] | None = None


def read_point_in_time(value: Any, *, field: str) -> datetime | None:
    """``point_in_time`` as a time: None when empty; a text must be ISO-8601."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value
    try:
        return parse_time(str(value))
    except ValueError:
        raise DrsInputError(
            f"{field}: {value!r} is not an ISO-8601 time (for example 2024-05-01T12:00:00Z)"
        ) from None


def read_max_servers_per_job(value: object, *, field: str) -> int:
    """``max_servers_per_job`` as a number of servers one StartRecovery takes."""
    size = as_int(value, field=field)
    if not 1 <= size <= MAX_SERVERS_PER_START_RECOVERY:
        raise DrsInputError(f"{field}: must be 1 to {MAX_SERVERS_PER_START_RECOVERY}, got {size}")
    return size


def resolve_servers(hook: DrsHook, args: RecoveryArguments, *, task_id: str) -> tuple[list[str], list[str]]:
    """The required and optional source servers ``args`` select (a server named both ways is
    required); errors name the task ``task_id``."""
    ids, tags = args.source_server_ids, args.tags
    optional_ids, optional_tags = args.optional_source_server_ids, args.optional_tags
    required: list[str] = []
    optional: list[str] = []
    try:
        if ids or tags:
            required = [s["sourceServerID"] for s in hook.resolve_source_servers(ids, tags)]
    except DrsServerSelectionError as error:
        raise type(error)(
            f"{task_id}: servers: {error}", unknown_ids=error.unknown_ids, tags=error.tags
        ) from error
    try:
        if optional_ids or optional_tags:
            optional = [s["sourceServerID"] for s in hook.resolve_source_servers(optional_ids, optional_tags)]
    except DrsServerSelectionError as error:
        raise type(error)(
            f"{task_id}: optional servers: {error}", unknown_ids=error.unknown_ids, tags=error.tags
        ) from error
    # A server named both ways is required: its failure must not pass unnoticed.
    optional = [server_id for server_id in optional if server_id not in set(required)]
    if not required and not optional:
        raise DrsServerSelectionError(
            f"{task_id}: no servers selected; give source_server_ids, tags, "
            "optional_source_server_ids or optional_tags"
        )
    return required, optional
