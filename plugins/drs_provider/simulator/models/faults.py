"""Fault injection: the fault set ``POST /_simulator/faults`` replaces, and how it is validated.

The simulator draws from it per call (:meth:`.Simulator.draw_throttle` and friends); a launch reads
``fail_servers`` when its job is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAULT_KEYS = {
    "throttle_rate": "fraction (0..1) of matching DRS calls answered 429 ThrottlingException",
    "throttle_count": "the next N matching DRS calls are answered 429 ThrottlingException",
    "throttle_operations": "operation names the throttle applies to (null: all)",
    "retry_after_seconds": "the Retry-After header of a throttled answer (default 1)",
    "latency_seconds": "real seconds added before answering each matching call",
    "latency_operations": "operation names the latency applies to (null: all)",
    "fail_servers": "source server IDs whose next launches end FAILED: a list, or {id: rawError}",
    "drop_response_count": "the next N matching calls are carried out but get no answer (connection closed)",
    "drop_response_rate": "fraction (0..1) of matching calls carried out but left without an answer",
    "drop_response_operations": "operation names the drop applies to (default [StartRecovery])",
    "seed": "seed for the random draws of the *_rate faults",
}
DEFAULT_FAIL_ERROR = "Simulated launch failure (fault injection): the EC2 instance failed its status checks"


@dataclass
class Faults:
    throttle_rate: float = 0.0
    throttle_count: int = 0
    throttle_operations: list[str] | None = None
    retry_after_seconds: int = 1
    latency_seconds: float = 0.0
    latency_operations: list[str] | None = None
    fail_servers: dict[str, str] = field(default_factory=dict)
    drop_response_count: int = 0
    drop_response_rate: float = 0.0
    drop_response_operations: list[str] | None = field(default_factory=lambda: ["StartRecovery"])
    seed: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> Faults:
        if not isinstance(body, dict):
            raise ValueError("the faults body must be a JSON object")
        unknown = sorted(set(body) - set(FAULT_KEYS))
        if unknown:
            raise ValueError(f"unknown fault key(s): {', '.join(unknown)} (known: {', '.join(FAULT_KEYS)})")
        faults = cls()
        for key in ("throttle_rate", "drop_response_rate"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise ValueError(f"{key} must be a number from 0 to 1, got {value!r}")
                setattr(faults, key, float(value))
        for key in ("throttle_count", "drop_response_count", "retry_after_seconds"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{key} must be a non-negative integer, got {value!r}")
                setattr(faults, key, value)
        if "latency_seconds" in body:
            value = body["latency_seconds"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 60:
                raise ValueError(f"latency_seconds must be a number from 0 to 60, got {value!r}")
            faults.latency_seconds = float(value)
        for key in ("throttle_operations", "latency_operations", "drop_response_operations"):
            if key in body:
                value = body[key]
                if isinstance(value, str):
                    value = [value]
                if value is not None and (
                    not isinstance(value, list) or not all(isinstance(v, str) for v in value)
                ):
                    raise ValueError(f"{key} must be a list of operation names or null, got {value!r}")
                setattr(faults, key, value)
        if "fail_servers" in body:
            value = body["fail_servers"]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                faults.fail_servers = dict.fromkeys(value, DEFAULT_FAIL_ERROR)
            elif isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
            ):
                faults.fail_servers = dict(value)
            else:
                raise ValueError("fail_servers must be a list of source server IDs or {id: rawError}")
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
            "latency_seconds": self.latency_seconds,
            "latency_operations": self.latency_operations,
            "fail_servers": dict(self.fail_servers),
            "drop_response_count": self.drop_response_count,
            "drop_response_rate": self.drop_response_rate,
            "drop_response_operations": self.drop_response_operations,
            "seed": self.seed,
        }


def applies_to(operations: list[str] | None, operation: str) -> bool:
    """Whether a fault limited to ``operations`` (None: every operation) applies to ``operation``."""
    return operations is None or operation in operations
