"""What every resource writes the same way: timestamps, generated IDs, pages and date filters."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_PAGE = 1000  # page size when maxResults is not given (and the largest page)


def iso(t: float) -> str:
    """ISO 8601 as the model's ISO8601DatetimeString pattern wants it (UTC, ``Z``)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, as in DRS's ``lagDuration``: ``PT0S``, ``PT1H2M5S``, ``P1DT6H``, ``PT0.5S``."""
    days, millis = divmod(round(seconds * 1000), 86_400_000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".") if millis else ""
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value)
    if days:
        return f"P{days}D" + (f"T{clock}" if clock else "")
    return f"PT{clock or '0S'}"


def parse_iso(text: str) -> float:
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def random_alnum(length: int) -> str:
    """A fresh random ID body (job IDs, job snapshot IDs)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def stable_hex(seed: str, length: int = 17) -> str:
    """Hex derived from ``seed``: the same resource gets the same ID after every reset."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def paginate(
    items: list[Any], params: dict[str, Any], largest: int = MAX_PAGE
) -> tuple[list[Any], str | None]:
    """One page of ``items`` for ``maxResults``/``nextToken`` (at most ``largest``), and the token
    of the next page."""
    size = min(params.get("maxResults") or MAX_PAGE, MAX_PAGE, largest)
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            start = int(decoded["offset"])
            if start < 0:
                raise ValueError(start)
        except Exception as exc:
            raise errors.ValidationException(
                "1 validation error detected: nextToken: not a token this API returned",
                field_list=[{"name": "nextToken", "message": "not a token this API returned"}],
            ) from exc
    page = items[start : start + size]
    if start + size < len(items):
        following = base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
        return page, following
    return page, None


def page_answer(
    items: list[Any],
    params: dict[str, Any],
    render: Callable[[Any], Any] | None = None,
    largest: int = MAX_PAGE,
) -> dict[str, Any]:
    """The answer of a paginated Describe call: one page of ``items`` (each rendered) and ``nextToken``."""
    page, token = paginate(items, params, largest)
    rendered = page if render is None else [render(item) for item in page]
    return {"items": rendered, **({"nextToken": token} if token else {})}


def date_filter(filters: dict[str, Any], key: str, prefix: str = "filters") -> float | None:
    """The date-time ``filters[key]`` as epoch seconds, None if absent; a bad value is a 400."""
    value = filters.get(key)
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise errors.ValidationException(
            f"1 validation error detected: {prefix}.{key}: {value!r} is not an ISO 8601 date-time",
            field_list=[{"name": f"{prefix}.{key}", "message": f"{value!r} is not an ISO 8601 date-time"}],
        ) from exc
