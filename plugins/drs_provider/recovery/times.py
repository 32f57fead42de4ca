"""Times as DRS writes them, as people give them and as people read them: one home for each."""

from __future__ import annotations

import re
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


_DURATION = re.compile(
    r"P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration as DRS writes them (``lagDuration``: ``PT1H2M5S``, ``P1D``).

    :raises ValueError: if ``text`` is not such a duration (years and months are not: their
        length in seconds is not fixed, and DRS does not use them)
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"not an ISO-8601 duration of days, hours, minutes and seconds: {text!r}")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return (
        parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def format_duration(seconds: float | None) -> str:
    """``45.2s``, ``3m05s``, ``1h02m``; ``-`` for none."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m{rest:02d}s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def format_when(moment: datetime | None) -> str:
    """``2026-12-01 10:00:00 UTC``; ``-`` for none."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"
