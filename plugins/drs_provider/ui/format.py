"""How the Recovery view's pages write states, durations and times, shared by the run and plans pages."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from drs_provider.recovery.run_record import ACTIVE_STATES, AWAITING_INPUT

#: Badge (CSS class) of each task state and DRS launch status.
BADGES: dict[str, str] = {
    "success": "ok",
    "LAUNCHED": "ok",
    "failed": "bad",
    "upstream_failed": "bad",
    "FAILED": "bad",
    "TERMINATED": "bad",
    AWAITING_INPUT: "ask",
    "skipped": "skip",
    "removed": "skip",
    "PENDING": "run",
    "IN_PROGRESS": "run",
    **dict.fromkeys(ACTIVE_STATES, "run"),
}
#: How a state reads on the page where Airflow's word is not what a person expects.
STATE_WORDS: dict[str, str] = {
    "success": "succeeded",
    "upstream_failed": "not run (upstream failed)",
    AWAITING_INPUT: "awaiting approval",
    "skipped": "skipped",
    "pending": "waiting",
    "queued": "queued",
}

#: Badge of each readiness status (the readiness contract's three), coloured as run states are.
READINESS_BADGES: dict[str, str] = {"ready": "ok", "at_risk": "ask", "not_ready": "bad"}
#: Badge of each severity of a readiness finding.
SEVERITY_BADGES: dict[str, str] = {"error": "bad", "warning": "ask"}


def badge(state: str | None) -> str:
    return BADGES.get(state or "", "none")


def state_word(state: str | None) -> str:
    return STATE_WORDS.get(state or "pending", (state or "waiting").replace("_", " "))


def readiness_badge(status: str | None) -> str:
    return READINESS_BADGES.get(status or "", "none")


def severity_badge(severity: str | None) -> str:
    return SEVERITY_BADGES.get(severity or "", "none")


def readiness_word(status: str | None) -> str:
    """``ready``, ``at risk``, ``not ready``; ``not checked yet`` for a plan no check has covered."""
    return status.replace("_", " ") if status else "not checked yet"


def path_segment(value: str) -> str:
    """``value`` as one segment of a URL path."""
    return quote(value, safe="")


def jsonable(value: Any) -> Any:
    """A view model as JSON-ready data (times as ISO-8601)."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
