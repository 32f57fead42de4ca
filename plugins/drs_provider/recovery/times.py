"""Times as DRS writes them and as people give them: one parser, one formatter."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str) -> datetime:
    """An ISO-8601 date and time as an aware datetime; no zone means UTC.

    Reads DRS timestamps (``2026-05-04T03:00:00.123456+00:00``) and times people type
    (``2026-05-04 03:00``, ``...Z``) alike.

    :raises ValueError: if ``text`` is not an ISO-8601 date and time
    """
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_drs_time(moment: datetime) -> str:
    """``moment`` as the ISO-8601 UTC string DRS filters expect (``...Z``); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
