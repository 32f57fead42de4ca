"""The whole simulator: the backends per (account, region), the clock, faults and the call log."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.clock import SimulatedClock
from drs_simulator.errors import FleetFileError
from drs_simulator.models.backend import OPERATIONS, DrsBackend
from drs_simulator.models.failback import FailbackClientRefused
from drs_simulator.models.faults import Faults, applies_to
from drs_simulator.models.launch_templates import Ec2LaunchTemplates
from drs_simulator.models.wire import iso

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.fleet import Fleet, Quotas


class Simulator:
    """The simulator's whole state: fleet, clock, backends per (account, region), faults, call log.

    Every public method is thread-safe (one lock guards all state).
    """

    def __init__(
        self,
        fleet: Fleet,
        speed: float = 1.0,
        *,
        strict: bool = False,
        fleet_dir: Path | None = None,
        ec2_endpoint: str | None = None,
    ) -> None:
        self.lock = threading.RLock()
        #: where the servers' EC2 launch templates live (None: nowhere; see launch_configurations)
        self.ec2 = Ec2LaunchTemplates(ec2_endpoint) if ec2_endpoint else None
        self.strict = strict
        #: The only directory ``POST /_simulator/reset {"fleet_path": ...}`` reads from (None: none).
        self.fleet_dir = fleet_dir
        self._initial_fleet = fleet
        self.fleet = fleet
        self.clock = SimulatedClock(speed)
        self.faults = Faults()
        self._random = random.Random()
        self.backends: dict[tuple[str, str], DrsBackend] = {}
        self.calls: list[dict[str, Any]] = []
        #: when the call log was last cleared (epoch seconds): calls that arrived earlier are not logged
        self.reset_at = 0.0
        #: Outages since the last reset, oldest first (the HTTP server carries them out).
        self.outages: list[dict[str, Any]] = []
        self._load(fleet)

    def _load(self, fleet: Fleet) -> None:
        self._check_launch_templates(fleet)
        self.fleet = fleet
        self.backends = {}
        # Every backend with servers starts now, so their servers have replicated equally long.
        for region in fleet.regions():
            self.backend(region)
            for staging in fleet.staging_accounts:
                self.backend(region, staging.account_id)

    def backend(self, region: str, account_id: str | None = None) -> DrsBackend:
        account = account_id or self.fleet.account_id
        with self.lock:
            key = (account, region)
            if key not in self.backends:
                self.backends[key] = DrsBackend(
                    account,
                    region,
                    self.fleet.servers_in(region, account),
                    self.fleet.quotas,
                    self.clock,
                    lambda: self.faults,
                    lambda: self.ec2,
                    lambda other: self.backend(other, account),
                    lambda: self._staging_backends(account, region),
                )
            return self.backends[key]

    def _staging_backends(self, account_id: str, region: str) -> dict[str, DrsBackend]:
        """The backends in ``region`` of the staging accounts of ``account_id``, by account ID; only
        the fleet's account has staging accounts."""
        with self.lock:
            if account_id != self.fleet.account_id:
                return {}
            return {s.account_id: self.backend(region, s.account_id) for s in self.fleet.staging_accounts}

    def _check_launch_templates(self, fleet: Fleet) -> None:
        """Without EC2 there is nowhere to keep a server's launch-template settings: refuse them."""
        if self.ec2 is not None:
            return
        for index, server in enumerate(fleet.source_servers):
            if server.launch.template_keys:
                raise FleetFileError(
                    fleet.source,
                    f"source_servers[{index}].launch.{server.launch.template_keys[0]}",
                    "lives in the server's EC2 launch template: start the simulator with --ec2-endpoint "
                    "(moto) to keep templates there",
                )

    def use_ec2(self, endpoint: str | None) -> None:
        """Keep launch templates on ``endpoint`` from now on (None: nowhere). In-process tests only:
        the templates created so far stay where they are."""
        with self.lock:
            self.ec2 = Ec2LaunchTemplates(endpoint) if endpoint else None

    def reset(self, fleet: Fleet | None = None, speed: float | None = None) -> None:
        """Back to the start: a fleet (default: the one the simulator started with), no jobs/faults/calls.

        A fleet giving launch-template settings without an EC2 endpoint is refused
        (:class:`FleetFileError`) before anything changes.
        """
        with self.lock:
            chosen = fleet or self._initial_fleet
            self._check_launch_templates(chosen)  # first: a refused fleet changes nothing
            if speed is not None:
                self.clock = SimulatedClock(speed)
            else:
                self.clock = SimulatedClock(self.clock.speed)
            self.faults = Faults()
            self._random = random.Random()
            self.calls = []
            self.reset_at = time.time()
            self.outages = []
            self._load(chosen)

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def set_quotas(self, quotas: Quotas) -> None:
        with self.lock:
            self.fleet = dataclasses.replace(self.fleet, quotas=quotas)
            for backend in self.backends.values():
                backend.quotas = quotas

    # -- faults, decided per call -------------------------------------------------------------------

    def draw_throttle(self, operation: str) -> int | None:
        """Retry-After seconds if this call is throttled, else None."""
        with self.lock:
            faults = self.faults
            if not applies_to(faults.throttle_operations, operation):
                return None
            return faults.retry_after_seconds if self._hits("throttle_count", faults.throttle_rate) else None

    def draw_error(self, operation: str, when: str) -> int | None:
        """The HTTP status (500 or 503) of an injected server error at ``when``, else None."""
        with self.lock:
            faults = self.faults
            if faults.error_when != when or not applies_to(faults.error_operations, operation):
                return None
            return faults.error_status if self._hits("error_count", faults.error_rate) else None

    def draw_outage(self, operation: str | None, when: str | None = None) -> float | None:
        """Seconds of an outage that starts now, else None; it starts once (the set is consumed).

        ``operation`` None asks for an outage due as soon as the faults POST is answered.
        """
        with self.lock:
            faults = self.faults
            if faults.outage_seconds <= 0:
                return None
            if operation is None:
                if faults.outage_on is not None:
                    return None
            elif faults.outage_on is None or operation not in faults.outage_on or faults.outage_when != when:
                return None
            seconds = faults.outage_seconds
            faults.outage_seconds = 0.0
            return seconds

    def outage_started(self, seconds: float, trigger: str) -> dict[str, Any]:
        """Record an outage the server has just begun; the server fills in ``ended`` later."""
        with self.lock:
            record = {"started": time.time(), "ended": None, "seconds": seconds, "trigger": trigger}
            self.outages.append(record)
            return record

    def outage_ended(self, record: dict[str, Any]) -> None:
        with self.lock:
            record["ended"] = time.time()

    def draw_latency(self, operation: str) -> float:
        with self.lock:
            faults = self.faults
            return faults.latency_seconds if applies_to(faults.latency_operations, operation) else 0.0

    def draw_drop(self, operation: str) -> bool:
        with self.lock:
            faults = self.faults
            if not applies_to(faults.drop_response_operations, operation):
                return False
            return self._hits("drop_response_count", faults.drop_response_rate)

    def _hits(self, count_key: str, rate: float) -> bool:
        """Whether a count-or-rate fault hits this call: the next N calls first, then the rate.

        Called under the lock; uses up one of the count.
        """
        count: int = getattr(self.faults, count_key)
        if count > 0:
            setattr(self.faults, count_key, count - 1)
            return True
        return rate > 0 and self._random.random() < rate

    # -- the call log ------------------------------------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> None:
        """Log a call once answered; a call that arrived before the last reset (held by a latency
        fault, say) belongs to the log the reset cleared, not to the new one."""
        with self.lock:
            if entry["time"] < self.reset_at:
                return
            entry["seq"] = len(self.calls) + 1
            self.calls.append(entry)

    def call_log(self, operation: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.calls if operation is None or c["operation"] == operation]

    # -- operations ------------------------------------------------------------------------------------

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        method = OPERATIONS[operation]
        with self.lock:
            if region in self.faults.uninitialized_regions:
                raise errors.UninitializedAccountException(
                    f"Account {self.fleet.account_id} is not initialized for DRS in region {region}"
                )
            backend = self.backend(region)
            result: dict[str, Any] = getattr(backend, method)(params)
            return result

    def connect_failback_client(self, instance_id: str) -> dict[str, Any]:
        """A Failback Client connects for recovery instance ``instance_id``, in whichever region
        holds it: the instance as DescribeRecoveryInstances shows it, plus its ``region``.

        Raises :class:`FailbackClientRefused` (with the HTTP status to answer) when it cannot.
        """
        with self.lock:
            for (_, region), backend in self.backends.items():
                backend.tick()
                if instance_id in backend.instances:
                    return {"region": region, **backend.connect_failback_client(instance_id)}
            raise FailbackClientRefused(f"no recovery instance {instance_id} in any region", 404)

    def state(self) -> dict[str, Any]:
        """A summary for GET /_simulator/health."""
        with self.lock:
            for backend in self.backends.values():
                backend.tick()
            return {
                "status": "ok",
                "account_id": self.fleet.account_id,
                "region": self.fleet.region,
                "fleet": self.fleet.source,
                "speed": self.clock.speed,
                "ec2_endpoint": self.ec2.url if self.ec2 is not None else None,
                "now": iso(self.clock.now()),
                "source_servers": len(self.fleet.source_servers),
                "jobs": sum(len(b.jobs) for b in self.backends.values()),
                "active_jobs": sum(len(b._active_jobs()) for b in self.backends.values()),
                "recovery_instances": sum(len(b.instances) for b in self.backends.values()),
                "calls": len(self.calls),
                "outages": [dict(outage) for outage in self.outages],
            }
