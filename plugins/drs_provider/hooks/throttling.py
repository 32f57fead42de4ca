"""How a throttled DRS call is retried: after the ``Retry-After`` DRS asks for.

:class:`~drs_provider.hooks.drs.DrsHook` registers :func:`retry_after_throttling` on its
sessions, so every call of the hook (boto3 and aiobotocore alike) waits as DRS asks.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

#: Throttled calls are retried inside botocore up to this many attempts, each after the
#: ``Retry-After`` the service asked for (botocore itself only reads ``x-amz-retry-after``).
THROTTLE_MAX_ATTEMPTS = 30
#: Longest single wait honoured from a ``Retry-After`` header, in seconds.
THROTTLE_MAX_DELAY = 60.0


def retry_after_throttling(
    response: tuple[Any, Mapping[str, Any]] | None = None, attempts: int = 1, **_: Any
) -> float | None:
    """
    botocore ``needs-retry`` handler: wait as long as DRS asks before retrying a throttled call.

    DRS answers throttling with HTTP 429 and a ``Retry-After`` header in seconds. Returning a
    delay makes botocore (and aiobotocore) sleep and resend; returning ``None`` leaves the
    decision to the client's configured retry mode.
    """
    if response is None:
        return None
    http_response, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, Mapping) else None
    if getattr(http_response, "status_code", None) != 429 and code != "ThrottlingException":
        return None
    if attempts >= THROTTLE_MAX_ATTEMPTS:
        return None
    header = None
    headers = getattr(http_response, "headers", None)
    if headers is not None:
        header = headers.get("Retry-After") or headers.get("retry-after")
    try:
        delay = float(header) if header is not None else None
    except ValueError:
        delay = None
    if delay is None or delay < 0:
        # No usable hint: capped exponential backoff with jitter.
        delay = random.uniform(0.5, 1.0) * min(2.0 ** (attempts - 1), 20.0)
    return min(delay, THROTTLE_MAX_DELAY)
