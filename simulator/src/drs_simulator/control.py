"""The control API under ``/_simulator/``: what tests and demos use to steer the simulator.

Each handler takes the simulator, the parsed query string and the body bytes, and returns what is
answered as JSON (200); a :class:`ControlError` is answered with its status. :mod:`.urls` routes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drs_simulator.models import Simulator


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(f"the body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise ControlError("the body is not valid JSON: it nests too deeply") from None
    if not isinstance(parsed, dict):
        raise ControlError("the body must be a JSON object")
    return parsed


def control_health(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    return simulator.state()


def control_calls(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    operation = query.get("operation", [None])[0]
    return simulator.call_log(operation)


def control_reset(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    from drs_simulator.errors import FleetFileError
    from drs_simulator.fleet import fleet_file_in, load_fleet

    request = _json_body(body)
    unknown = sorted(set(request) - {"fleet", "fleet_path", "speed"})
    if unknown:
        raise ControlError(f"unknown key(s) {', '.join(unknown)} (known: fleet, fleet_path, speed)")
    fleet = None
    try:
        if request.get("fleet") is not None:
            if not isinstance(request["fleet"], dict):
                raise ControlError("fleet must be a JSON object (a parsed fleet file)")
            fleet = load_fleet(request["fleet"])
        elif request.get("fleet_path") is not None:
            fleet_path = request["fleet_path"]
            if not isinstance(fleet_path, str) or not fleet_path:
                raise ControlError("fleet_path must be the name of a fleet file in the fleet directory")
            if simulator.fleet_dir is None:
                raise ControlError(
                    "this simulator reads no fleet files over HTTP (it was started without a fleet file "
                    'or --fleet-dir); send the fleet inline as {"fleet": {...}}'
                )
            fleet = load_fleet(fleet_file_in(simulator.fleet_dir, fleet_path))
    except FleetFileError as exc:
        raise ControlError(str(exc)) from exc
    speed = request.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0):
        raise ControlError(f"speed must be a number >= 0, got {speed!r}")
    try:
        simulator.reset(fleet, None if speed is None else float(speed))
    except FleetFileError as exc:  # launch-template settings without an EC2 endpoint
        raise ControlError(str(exc)) from exc
    return simulator.state()


def control_get_faults(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    from drs_simulator.models import FAULT_KEYS

    with simulator.lock:
        return {"faults": simulator.faults.to_json(), "keys": FAULT_KEYS}


def control_set_faults(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    from drs_simulator.models import Faults

    try:
        faults = Faults.from_json(_json_body(body))
    except ValueError as exc:
        raise ControlError(str(exc)) from exc
    simulator.set_faults(faults)
    return {"faults": faults.to_json()}


def _clock_state(simulator: Simulator) -> dict[str, Any]:
    from drs_simulator.models import iso

    now = simulator.clock.now()
    return {"now": iso(now), "epoch": now, "speed": simulator.clock.speed}


def control_get_clock(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    return _clock_state(simulator)


def control_set_clock(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    request = _json_body(body)
    unknown = sorted(set(request) - {"advance_seconds", "speed"})
    if unknown:
        raise ControlError(f"unknown key(s) {', '.join(unknown)} (known: advance_seconds, speed)")
    with simulator.lock:
        speed = request.get("speed")
        if speed is not None:
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0:
                raise ControlError(f"speed must be a number >= 0, got {speed!r}")
            simulator.clock.set_speed(float(speed))
        advance = request.get("advance_seconds")
        if advance is not None:
            if isinstance(advance, bool) or not isinstance(advance, (int, float)) or advance < 0:
                raise ControlError(f"advance_seconds must be a number >= 0, got {advance!r}")
            simulator.clock.advance(float(advance))
        for backend in simulator.backends.values():
            backend.tick()
        return _clock_state(simulator)


def control_get_quotas(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    return simulator.fleet.quotas.to_dict()


def control_set_quotas(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    from drs_simulator.fleet import QUOTA_KEYS, Quotas

    request = _json_body(body)
    values = simulator.fleet.quotas.to_dict()
    for key, value in request.items():
        if key not in QUOTA_KEYS:
            raise ControlError(f"unknown quota {key!r} (known: {', '.join(QUOTA_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ControlError(f"{key} must be a positive integer, got {value!r}")
        values[key] = value
    quotas = Quotas(**values)
    simulator.set_quotas(quotas)
    return quotas.to_dict()


def control_operations(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    from drs_simulator.checklist import operations_status

    return operations_status()


def control_failback_client(simulator: Simulator, query: dict[str, list[str]], body: bytes) -> Any:
    """``{"recoveryInstanceID": "i-..."}``: the on-premises Failback Client for that recovery instance
    connects; it becomes FAILBACK_READY_FOR_LAUNCH. Answers the instance and its region."""
    from drs_simulator.models.failback import FailbackClientRefused

    request = _json_body(body)
    unknown = sorted(set(request) - {"recoveryInstanceID"})
    if unknown:
        raise ControlError(f"unknown key(s) {', '.join(unknown)} (known: recoveryInstanceID)")
    instance_id = request.get("recoveryInstanceID")
    if not isinstance(instance_id, str) or not instance_id:
        raise ControlError("recoveryInstanceID must be the ID of a recovery instance")
    try:
        return simulator.connect_failback_client(instance_id)
    except FailbackClientRefused as exc:
        raise ControlError(str(exc), exc.status) from exc
