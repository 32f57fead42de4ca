"""Fault injection: the fault set ``POST /_simulator/faults`` replaces, and how it is validated.

The simulator draws from it per call (:meth:`.Simulator.draw_throttle` and friends); a launch reads
``fail_servers`` when its job is created. An outage is carried out by the HTTP server (it closes
its listening socket); the fault set only says when one starts and for how long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drs_simulator.models.backend import OPERATIONS

FAULT_KEYS = {
    "throttle_rate": "fraction (0..1) of matching DRS calls answered 429 ThrottlingException",
    "throttle_count": "the next N matching DRS calls are answered 429 ThrottlingException",
    "throttle_operations": "operation names the throttle applies to (null: all)",
    "retry_after_seconds": "the Retry-After header of a throttled answer (default 1)",
    "error_rate": "fraction (0..1) of matching DRS calls answered with a server error (error_status)",
    "error_count": "the next N matching DRS calls are answered with a server error (error_status)",
    "error_operations": "operation names the server errors apply to (null: all)",
    "error_status": "500: InternalServerException, as DRS answers (default); "
    "503: ServiceUnavailable, as the AWS front end answers when DRS is unavailable",
    "error_when": "before: the call is refused and changes nothing (default); "
    "after: the call is carried out (a StartRecovery creates its job), then answered with the error",
    "outage_seconds": "the endpoint refuses connections for N real seconds (listening socket closed, "
    "then reopened on the same port; state is kept)",
    "outage_on": "null: the outage starts once this POST is answered (default); operation names: "
    "it starts at the next call of one of them, which gets no answer",
    "outage_when": "with outage_on: before: the call that starts the outage is not carried out "
    "(default); after: it is carried out first",
    "latency_seconds": "real seconds added before answering each matching call",
    "latency_operations": "operation names the latency applies to (null: all)",
    "fail_servers": "source server IDs whose next launches end FAILED: a list, or {id: rawError}",
    "drop_response_count": "the next N matching calls are carried out but get no answer (connection closed)",
    "drop_response_rate": "fraction (0..1) of matching calls carried out but left without an answer",
    "drop_response_operations": "operation names the drop applies to (default [StartRecovery])",
    "listing_lag_seconds": "a new job is missing from DescribeJobs answers for this many simulated "
    "seconds after it was created (eventual consistency); StartRecovery still returns it",
    "page_size": "the most items any Describe call answers, whatever its maxResults (AWS may answer "
    "fewer than asked, with a nextToken); null: as many as maxResults",
    "seed": "seed for the random draws of the *_rate faults",
    "stall_reverse_sync": "source server IDs whose reversed or restarted replication is held STALLED "
    "(its copy waiting) while named: the server failed back, or the FAILBACK server itself",
    "agent_starting_count": "the next N ReverseReplication calls answer ConflictException: the "
    "recovery instance's agent is still starting",
    "agent_starting_seconds": "ReverseReplication on a recovery instance launched less than this many "
    "simulated seconds ago answers ConflictException (its agent is still starting)",
    "fail_failback_servers": "source server IDs whose next failback launches (StartFailbackLaunch) end "
    "FAILED, the recovery instance FAILBACK_ERROR: a list, or {id: rawError}",
    "uninitialized_regions": "regions where DRS is not initialized: every call signed for one, and a "
    "ReverseReplication whose origin is one, answer UninitializedAccountException",
}
DEFAULT_FAIL_ERROR = "Simulated launch failure (fault injection): the EC2 instance failed its status checks"
DEFAULT_FAILBACK_ERROR = (
    "Simulated failback launch failure (fault injection): conversion on the Failback Client failed"
)
#: The longest agent start the agent_starting_seconds fault may simulate (a day).
MAX_AGENT_STARTING_SECONDS = 86400.0
ERROR_STATUSES = (500, 503)
WHEN = ("before", "after")
MAX_OUTAGE_SECONDS = 3600.0

_RATES = ("throttle_rate", "error_rate", "drop_response_rate")
_COUNTS = (
    "throttle_count",
    "error_count",
    "drop_response_count",
    "retry_after_seconds",
    "agent_starting_count",
)
_OPERATION_LISTS = (
    "throttle_operations",
    "error_operations",
    "latency_operations",
    "drop_response_operations",
    "outage_on",
)


@dataclass
class Faults:
    throttle_rate: float = 0.0
    throttle_count: int = 0
    throttle_operations: list[str] | None = None
    retry_after_seconds: int = 1
    error_rate: float = 0.0
    error_count: int = 0
    error_operations: list[str] | None = None
    error_status: int = 500
    error_when: str = "before"
    #: Seconds of the outage still to start (0 once it started: an outage happens once per POST).
    outage_seconds: float = 0.0
    outage_on: list[str] | None = None
    outage_when: str = "before"
    latency_seconds: float = 0.0
    latency_operations: list[str] | None = None
    fail_servers: dict[str, str] = field(default_factory=dict)
    drop_response_count: int = 0
    drop_response_rate: float = 0.0
    drop_response_operations: list[str] | None = field(default_factory=lambda: ["StartRecovery"])
    listing_lag_seconds: float = 0.0
    page_size: int | None = None
    seed: int | None = None
    stall_reverse_sync: list[str] = field(default_factory=list)
    agent_starting_count: int = 0
    agent_starting_seconds: float = 0.0
    fail_failback_servers: dict[str, str] = field(default_factory=dict)
    uninitialized_regions: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, body: Any) -> Faults:
        if not isinstance(body, dict):
            raise ValueError("the faults body must be a JSON object")
        unknown = sorted(set(body) - set(FAULT_KEYS))
        if unknown:
            raise ValueError(f"unknown fault key(s): {', '.join(unknown)} (known: {', '.join(FAULT_KEYS)})")
        faults = cls()
        for key in _RATES:
            if key in body:
                setattr(faults, key, _number(key, body[key], 0, 1))
        for key in _COUNTS:
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{key} must be a non-negative integer, got {value!r}")
                setattr(faults, key, value)
        if "latency_seconds" in body:
            faults.latency_seconds = _number("latency_seconds", body["latency_seconds"], 0, 60)
        if "listing_lag_seconds" in body:
            faults.listing_lag_seconds = _number("listing_lag_seconds", body["listing_lag_seconds"], 0, 3600)
        if "outage_seconds" in body:
            faults.outage_seconds = _number("outage_seconds", body["outage_seconds"], 0, MAX_OUTAGE_SECONDS)
        for key in _OPERATION_LISTS:
            if key in body:
                setattr(faults, key, _operations(key, body[key]))
        if "error_status" in body:
            if body["error_status"] not in ERROR_STATUSES or isinstance(body["error_status"], bool):
                raise ValueError(f"error_status must be 500 or 503, got {body['error_status']!r}")
            faults.error_status = body["error_status"]
        for key in ("error_when", "outage_when"):
            if key in body:
                if body[key] not in WHEN:
                    raise ValueError(f"{key} must be 'before' or 'after', got {body[key]!r}")
                setattr(faults, key, body[key])
        if "fail_servers" in body:
            faults.fail_servers = _failures("fail_servers", body["fail_servers"], DEFAULT_FAIL_ERROR)
        if "fail_failback_servers" in body:
            faults.fail_failback_servers = _failures(
                "fail_failback_servers", body["fail_failback_servers"], DEFAULT_FAILBACK_ERROR
            )
        for key in ("stall_reverse_sync", "uninitialized_regions"):
            if key in body:
                setattr(faults, key, _names(key, body[key]))
        if "agent_starting_seconds" in body:
            faults.agent_starting_seconds = _number(
                "agent_starting_seconds", body["agent_starting_seconds"], 0, MAX_AGENT_STARTING_SECONDS
            )
        if "page_size" in body:
            value = body["page_size"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"page_size must be a positive integer or null, got {value!r}")
            faults.page_size = value
        if "seed" in body:
            if body["seed"] is not None and (
                isinstance(body["seed"], bool) or not isinstance(body["seed"], int)
            ):
                raise ValueError("seed must be an integer or null")
            faults.seed = body["seed"]
        return faults

    def to_json(self) -> dict[str, Any]:
        return {
            "throttle_rate": self.throttle_rate,
            "throttle_count": self.throttle_count,
            "throttle_operations": self.throttle_operations,
            "retry_after_seconds": self.retry_after_seconds,
            "error_rate": self.error_rate,
            "error_count": self.error_count,
            "error_operations": self.error_operations,
            "error_status": self.error_status,
            "error_when": self.error_when,
            "outage_seconds": self.outage_seconds,
            "outage_on": self.outage_on,
            "outage_when": self.outage_when,
            "latency_seconds": self.latency_seconds,
            "latency_operations": self.latency_operations,
            "fail_servers": dict(self.fail_servers),
            "drop_response_count": self.drop_response_count,
            "drop_response_rate": self.drop_response_rate,
            "drop_response_operations": self.drop_response_operations,
            "listing_lag_seconds": self.listing_lag_seconds,
            "page_size": self.page_size,
            "seed": self.seed,
            "stall_reverse_sync": list(self.stall_reverse_sync),
            "agent_starting_count": self.agent_starting_count,
            "agent_starting_seconds": self.agent_starting_seconds,
            "fail_failback_servers": dict(self.fail_failback_servers),
            "uninitialized_regions": list(self.uninitialized_regions),
        }


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{key} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _failures(key: str, value: Any, default: str) -> dict[str, str]:
    """Servers whose launches fail: a list of IDs (``default`` rawError), or {id: rawError}."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return dict.fromkeys(value, default)
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        return dict(value)
    raise ValueError(f"{key} must be a list of source server IDs or {{id: rawError}}")


def _names(key: str, value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise ValueError(f"{key} must be a list of names, got {value!r}")


def _operations(key: str, value: Any) -> list[str] | None:
    """An operation filter: null, one name or a list of names, each an implemented operation."""
    if isinstance(value, str):
        value = [value]
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise ValueError(f"{key} must be a list of operation names or null, got {value!r}")
    unknown = [name for name in value or [] if name not in OPERATIONS]
    if unknown:
        raise ValueError(
            f"{key}: unknown operation(s) {', '.join(unknown)} (implemented: {', '.join(sorted(OPERATIONS))})"
        )
    return value


def applies_to(operations: list[str] | None, operation: str) -> bool:
    """Whether a fault limited to ``operations`` (None: every operation) applies to ``operation``."""
    return operations is None or operation in operations
