"""Routes. DRS operations are routed from the botocore model (see :mod:`.service`); the control API
for tests and demos lives under ``/_simulator/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drs_simulator import control
from drs_simulator.models import Simulator

CONTROL_PREFIX = "/_simulator/"
#: Every DRS answer carries the simulator's speed (simulated seconds per real second) in this
#: header, so that a client can tell its times are simulated ones; AWS never sends it.
SPEED_HEADER = "X-Drs-Simulator-Speed"

ControlHandler = Callable[[Simulator, dict[str, list[str]], bytes], Any]

CONTROL_ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("GET", "/_simulator/health"): control.control_health,
    ("GET", "/_simulator/calls"): control.control_calls,
    ("POST", "/_simulator/reset"): control.control_reset,
    ("GET", "/_simulator/faults"): control.control_get_faults,
    ("POST", "/_simulator/faults"): control.control_set_faults,
    ("GET", "/_simulator/clock"): control.control_get_clock,
    ("POST", "/_simulator/clock"): control.control_set_clock,
    ("GET", "/_simulator/quotas"): control.control_get_quotas,
    ("POST", "/_simulator/quotas"): control.control_set_quotas,
    ("GET", "/_simulator/operations"): control.control_operations,
    ("POST", "/_simulator/failback-client"): control.control_failback_client,
}
