"""The base every resource backend shares: what one account + region holds, and how it changes.

Nothing runs in the background. Each job, when it is created, schedules its state changes (log
events, launch statuses, recovery instances) at simulated times with :meth:`BackendBase._at`, and
every call first applies the changes that are due (:meth:`BackendBase.tick`). So state only
depends on the simulated time, and a manual clock (speed 0 + ``advance``) is fully deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from drs_simulator import exceptions as errors
from drs_simulator.models.wire import MAX_PAGE, page_answer

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from typing import Any

    from drs_simulator.clock import SimulatedClock
    from drs_simulator.fleet import Quotas
    from drs_simulator.models.backend import DrsBackend
    from drs_simulator.models.faults import Faults
    from drs_simulator.models.jobs import Job
    from drs_simulator.models.launch_configurations import LaunchConfiguration
    from drs_simulator.models.launch_templates import Ec2LaunchTemplates
    from drs_simulator.models.plan_executions import ExecutionStep, PlanExecution
    from drs_simulator.models.recovery_instances import RecoveryInstance
    from drs_simulator.models.recovery_plans import PlanStep, RecoveryPlan
    from drs_simulator.models.recovery_snapshots import Snapshot
    from drs_simulator.models.source_servers import SourceServer


class BackendBase:
    """State of one account in one region, and the queue of changes scheduled in simulated time.

    The per-resource backends are mixins over this base and :class:`.DrsBackend` combines them, the
    way moto's EC2 backend combines its per-resource backends.
    """

    def __init__(
        self,
        account_id: str,
        region: str,
        quotas: Quotas,
        clock: SimulatedClock,
        faults: Callable[[], Faults],
        ec2: Callable[[], Ec2LaunchTemplates | None] = lambda: None,
        regions: Callable[[str], DrsBackend] | None = None,
        staging: Callable[[], Mapping[str, DrsBackend]] = lambda: {},
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.quotas = quotas
        self.clock = clock
        # A getter, not a value: the simulator replaces its fault set while backends live on.
        self._faults = faults
        #: where launch templates live (None: no EC2 endpoint); a getter for the same reason
        self._ec2 = ec2
        #: this account's backend of another region (failback crosses regions); None: this one only
        self._regions = regions
        #: the backends of this account's staging accounts in this region, by account ID (see
        #: .staging); a getter, as a reset replaces the fleet while backends live on
        self._staging = staging
        self.epoch = clock.now()
        self.servers: dict[str, SourceServer] = {}
        self.jobs: dict[str, Job] = {}
        self.instances: dict[str, RecoveryInstance] = {}
        self.job_snapshots: dict[str, list[Snapshot]] = {}
        self.launch_configurations: dict[str, LaunchConfiguration] = {}
        #: servers whose replication is on its way to CONTINUOUS (see .replication)
        self.syncing: dict[str, SourceServer] = {}
        #: native recovery plans and their steps, executions and theirs, each by ARN
        self.recovery_plans: dict[str, RecoveryPlan] = {}
        self.plan_steps: dict[str, PlanStep] = {}
        self.plan_executions: dict[str, PlanExecution] = {}
        self.execution_steps: dict[str, ExecutionStep] = {}
        #: (operation, clientToken) -> the ARN that call created: a retried create returns it again
        self.client_tokens: dict[tuple[str, str], str] = {}
        self._events: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def require_known(
        self, ids: Sequence[str], known: Collection[str], *, label: str, resource_type: str
    ) -> None:
        """Raise ResourceNotFoundException naming every ID of ``ids`` not in ``known``."""
        unknown = [resource_id for resource_id in ids if resource_id not in known]
        if unknown:
            raise errors.ResourceNotFoundException(
                f"{label} not found in account {self.account_id} region {self.region}: " + ", ".join(unknown),
                resource_id=unknown[0],
                resource_type=resource_type,
            )

    def source_server(self, server_id: str) -> SourceServer:
        """The source server ``server_id``, or the ResourceNotFoundException DRS answers."""
        server = self.servers.get(server_id)
        if server is None:
            raise errors.ResourceNotFoundException(
                f"Source server {server_id} not found in account {self.account_id} region {self.region}",
                resource_id=server_id,
                resource_type="SOURCE_SERVER",
            )
        return server

    def other_region(self, region: str) -> DrsBackend:
        """This account's backend in ``region`` (failback creates and re-protects servers there)."""
        if region == self.region or self._regions is None:
            return self  # type: ignore[return-value]  # every backend is a DrsBackend
        return self._regions(region)

    def page(
        self, items: list[Any], params: dict[str, Any], render: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        """One page of a Describe answer; the ``page_size`` fault answers fewer than ``maxResults``."""
        return page_answer(items, params, render, self._faults().page_size or MAX_PAGE)

    def _at(self, when: float, action: Callable[[float], None]) -> None:
        # The sequence number keeps changes due at the same time in the order they were scheduled.
        heapq.heappush(self._events, (when, next(self._seq), action))

    def tick(self, now: float | None = None) -> None:
        """Apply every scheduled change due at or before ``now`` (simulated), oldest first."""
        now = self.clock.now() if now is None else now
        while self._events and self._events[0][0] <= now:
            when, _, action = heapq.heappop(self._events)
            action(when)
        self._progress(now)

    def _progress(self, now: float) -> None:
        """Bring state that follows from the time alone up to ``now`` (replication syncs)."""
