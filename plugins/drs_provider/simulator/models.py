"""State and behaviour of the simulated DRS: one :class:`DrsBackend` per account + region.

Jobs run in simulated time (see :mod:`.clock`). Nothing runs in the background: each job, when it
is created, schedules its state changes (log events, launch statuses, recovery instances) at
simulated times, and every call first applies the changes that are due (``tick``). So state only
depends on the simulated time, and a manual clock (speed 0 + ``advance``) is fully deterministic.

Timeline of a LAUNCH job created at T (L = the server's ``launch_seconds``)::

    T          job PENDING, servers PENDING, source server lastLaunchResult PENDING
    T+2        job STARTED, JOB_START
    T+2        per server: SNAPSHOT_START (or USING_PREVIOUS_SNAPSHOT), launchStatus IN_PROGRESS
    T+2+0.2L   SNAPSHOT_END, CONVERSION_START
    T+2+0.7L   CONVERSION_END, LAUNCH_START
    T+2+L      launchStatus LAUNCHED + a recovery instance, lastLaunchResult SUCCEEDED;
               or LAUNCH_FAILED (eventData.rawError), launchStatus FAILED, lastLaunchResult FAILED
    last+1     JOB_END, job COMPLETED, endDateTime

The model's JobLogEvent enum has no LAUNCH_END, so a successful launch is LAUNCH_START and then,
once every server is done, JOB_END; only a failure gets its own event (LAUNCH_FAILED).

Replication states. Recoverable: CONTINUOUS, BACKLOG, CREATING_SNAPSHOT, RESCAN,
PENDING_SNAPSHOT_SHIPPING, SHIPPING_SNAPSHOT (the last two are console names, not in the model's
DataReplicationState enum, so a fleet cannot set them). Not recoverable: STOPPED, INITIATING,
INITIAL_SYNC, PAUSED, STALLED, DISCONNECTED. A server in a state that cannot be recovered is still
ACCEPTED into the job: the model gives StartRecovery no error for it (its only modelled errors are
Conflict, ServiceQuotaExceeded, Throttling, InternalServer, UninitializedAccount) and we found no
evidence that DRS rejects such servers up front. At T+2 it gets LAUNCH_FAILED with a rawError
saying which state blocked it, and ends FAILED.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import json
import random
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.simulator import exceptions as errors
from drs_provider.simulator.clock import SimulatedClock
from drs_provider.simulator.fleet import Fleet, Quotas, ServerSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

RECOVERABLE_STATES = frozenset(
    {"CONTINUOUS", "BACKLOG", "CREATING_SNAPSHOT", "RESCAN", "PENDING_SNAPSHOT_SHIPPING", "SHIPPING_SNAPSHOT"}
)
UNRECOVERABLE_STATES = frozenset(
    {"STOPPED", "INITIATING", "INITIAL_SYNC", "PAUSED", "STALLED", "DISCONNECTED"}
)

JOB_START_DELAY = 2.0  # simulated seconds from StartRecovery to JOB_START
JOB_END_DELAY = 1.0  # from the last server's end to JOB_END
SNAPSHOT_SHARE = 0.2  # share of launch_seconds spent taking the snapshot
CONVERSION_END_SHARE = 0.7  # conversion ends (and LAUNCH_START is logged) at this share
TERMINATE_SECONDS = 30.0  # simulated seconds to terminate a recovery instance
SNAPSHOT_INTERVAL = 600.0  # a periodic point-in-time snapshot every 10 simulated minutes
SNAPSHOT_SECONDS = 20.0  # a periodic snapshot is in progress (no timestamp) for this long
SNAPSHOT_HISTORY = 6  # completed snapshots each replicating server has when the fleet loads
SNAPSHOT_RETENTION = 144  # periodic snapshots kept (a day's worth)
MAX_PAGE = 1000  # page size when maxResults is not given (and the largest page)

QUOTA_SERVERS_PER_JOB = "max-source-servers-per-job"
QUOTA_SERVERS_IN_ACTIVE_JOBS = "max-source-servers-in-all-active-jobs"
QUOTA_CONCURRENT_JOBS = "max-concurrent-jobs"


def iso(t: float) -> str:
    """ISO 8601 as the model's ISO8601DatetimeString pattern wants it (UTC, ``Z``)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> float:
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _random_alnum(length: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


# --- resources ---------------------------------------------------------------------------


@dataclass
class SourceServer:
    spec: ServerSpec
    arn: str
    tags: dict[str, str]
    replication_state: str
    added: float
    last_launch_result: str = "NOT_STARTED"
    recovery_instance_id: str | None = None
    last_launch: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass
class RecoveryInstance:
    id: str
    arn: str
    job_id: str
    source_server_id: str
    is_drill: bool
    tags: dict[str, str]
    launched: float
    point_in_time: float
    hostname: str
    state: str = "RUNNING"


@dataclass
class Participant:
    source_server_id: str
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None


@dataclass
class Snapshot:
    id: str
    source_server_id: str
    expected: float
    done: float | None  # when it completes; None: never (failed)


@dataclass
class Job:
    id: str
    arn: str
    type: str
    initiated_by: str
    created: float
    tags: dict[str, str]
    participants: dict[str, Participant]
    is_drill: bool = False
    status: str = "PENDING"
    ended: float | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status != "COMPLETED"


# --- faults --------------------------------------------------------------------------------


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


def _applies(operations: list[str] | None, operation: str) -> bool:
    return operations is None or operation in operations


# --- pagination ------------------------------------------------------------------------------


def paginate(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of ``items`` for ``maxResults``/``nextToken``, and the token of the next page."""
    size = min(params.get("maxResults") or MAX_PAGE, MAX_PAGE)
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


# --- one account + region ----------------------------------------------------------------------


class DrsBackend:
    """Everything DRS holds for one account in one region."""

    def __init__(
        self,
        account_id: str,
        region: str,
        servers: Iterable[ServerSpec],
        quotas: Quotas,
        clock: SimulatedClock,
        faults: Callable[[], Faults],
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.quotas = quotas
        self.clock = clock
        self._faults = faults
        now = clock.now()
        self.epoch = now
        self.servers: dict[str, SourceServer] = {}
        for spec in servers:
            self.servers[spec.id] = SourceServer(
                spec=spec,
                arn=self.arn("source-server", spec.id),
                tags=dict(spec.tags),
                replication_state=spec.replication_state,
                added=now - 86400,
            )
        self.jobs: dict[str, Job] = {}
        self.instances: dict[str, RecoveryInstance] = {}
        self.job_snapshots: dict[str, list[Snapshot]] = {}
        self._events: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()

    # -- helpers --------------------------------------------------------------------------

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def _at(self, when: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._events, (when, next(self._seq), action))

    def tick(self, now: float | None = None) -> None:
        """Apply every scheduled change due at or before ``now`` (simulated), oldest first."""
        now = self.clock.now() if now is None else now
        while self._events and self._events[0][0] <= now:
            when, _, action = heapq.heappop(self._events)
            action(when)

    def _new_job_id(self) -> str:
        while True:
            job_id = "drsjob-" + _random_alnum(17)
            if job_id not in self.jobs:
                return job_id

    def _new_instance_id(self) -> str:
        while True:
            instance_id = "i-" + secrets.token_hex(9)[:17]
            if instance_id not in self.instances:
                return instance_id

    def _active_jobs(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.active]

    def busy_servers(self) -> dict[str, str]:
        """Source server ID -> the active job holding it."""
        return {server_id: job.id for job in self._active_jobs() for server_id in job.participants}

    @staticmethod
    def _log(job: Job, when: float, event: str, **data: Any) -> None:
        item: dict[str, Any] = {"logDateTime": iso(when), "event": event}
        if data:
            item["eventData"] = {k: v for k, v in data.items() if v is not None}
        job.logs.append(item)

    # -- snapshots --------------------------------------------------------------------------

    def _periodic_snapshots(self, server: SourceServer, now: float) -> list[dict[str, Any]]:
        if server.replication_state not in RECOVERABLE_STATES:
            return []
        last = int((now - self.epoch) // SNAPSHOT_INTERVAL)
        first = max(-SNAPSHOT_HISTORY, last - SNAPSHOT_RETENTION + 1)
        found = []
        for index in range(first, last + 1):
            expected = self.epoch + index * SNAPSHOT_INTERVAL
            item: dict[str, Any] = {
                "snapshotID": "pit-" + _hex(f"{self.account_id}/{self.region}/{server.id}/{index}"),
                "sourceServerID": server.id,
                "expectedTimestamp": iso(expected),
            }
            if expected + SNAPSHOT_SECONDS <= now:
                item["timestamp"] = iso(expected + SNAPSHOT_SECONDS)
                item["ebsSnapshots"] = ["snap-" + _hex(f"{item['snapshotID']}/ebs")]
            found.append((expected, item))
        for snap in self.job_snapshots.get(server.id, []):
            item = {
                "snapshotID": snap.id,
                "sourceServerID": server.id,
                "expectedTimestamp": iso(snap.expected),
            }
            if snap.done is not None and snap.done <= now:
                item["timestamp"] = iso(snap.done)
                item["ebsSnapshots"] = ["snap-" + _hex(f"{snap.id}/ebs")]
            found.append((snap.expected, item))
        found.sort(key=lambda pair: pair[0])
        return [item for _, item in found]

    def _find_snapshot(self, server: SourceServer, snapshot_id: str, now: float) -> dict[str, Any] | None:
        for item in self._periodic_snapshots(server, now):
            if item["snapshotID"] == snapshot_id:
                return item
        return None

    # -- operations ----------------------------------------------------------------------------

    def describe_source_servers(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        filters = params.get("filters") or {}
        wanted = filters.get("sourceServerIDs")
        hardware_id = filters.get("hardwareId")
        staging = filters.get("stagingAccountIDs")
        items = []
        for server in self.servers.values():
            if wanted and server.id not in wanted:
                continue
            if hardware_id:  # simulated servers have no hardware ID: the filter matches none
                continue
            if staging and self.account_id not in staging:
                continue
            items.append(server)
        page, token = paginate(items, params)
        return {"items": [self._server_json(s) for s in page], **({"nextToken": token} if token else {})}

    def _server_json(self, server: SourceServer) -> dict[str, Any]:
        now = self.clock.now()
        spec = server.spec
        replicated = 64 * 1024**3
        info: dict[str, Any] = {
            "dataReplicationState": server.replication_state,
            "lagDuration": "PT0S" if server.replication_state in RECOVERABLE_STATES else "PT6H",
            "replicatedDisks": [
                {
                    "deviceName": "/dev/sda",
                    "totalStorageBytes": replicated,
                    "replicatedStorageBytes": replicated
                    if server.replication_state not in ("INITIATING", "INITIAL_SYNC")
                    else replicated // 3,
                    "rescannedStorageBytes": 0,
                    "backloggedStorageBytes": 0,
                }
            ],
            "stagingAvailabilityZone": f"{self.region}a",
        }
        if server.replication_state == "STALLED":
            info["dataReplicationError"] = {
                "error": "UNSTABLE_NETWORK",
                "rawError": "Replication stalled: the agent cannot reach the replication server",
            }
        life: dict[str, Any] = {
            "addedToServiceDateTime": iso(server.added),
            "firstByteDateTime": iso(server.added + 60),
            "elapsedReplicationDuration": "P1D",
            "lastSeenByServiceDateTime": iso(
                now if server.replication_state != "DISCONNECTED" else server.added
            ),
        }
        if server.last_launch is not None:
            life["lastLaunch"] = server.last_launch
        item: dict[str, Any] = {
            "sourceServerID": server.id,
            "arn": server.arn,
            "tags": dict(server.tags),
            "lastLaunchResult": server.last_launch_result,
            "dataReplicationInfo": info,
            "lifeCycle": life,
            "sourceProperties": {
                "lastUpdatedDateTime": iso(server.added),
                "recommendedInstanceType": "m5.large",
                "identificationHints": {"hostname": spec.hostname, "fqdn": f"{spec.hostname}.corp.example"},
                "networkInterfaces": [
                    {
                        "macAddress": "02:"
                        + ":".join(_hex(server.id + "mac", 10)[i : i + 2] for i in range(0, 10, 2)),
                        "ips": [f"10.0.{int(_hex(server.id, 2), 16)}.{int(_hex(server.id + 'b', 2), 16)}"],
                        "isPrimary": True,
                    }
                ],
                "disks": [{"deviceName": "/dev/sda", "bytes": replicated}],
                "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
                "ramBytes": 8 * 1024**3,
                "os": {"fullString": "Amazon Linux 2023"},
                "supportsNitroInstances": True,
                "architecture": "x86_64",
            },
            "stagingArea": {"status": "NOT_EXTENDED"},
            "replicationDirection": "FAILOVER",
            "agentVersion": "1.2.3",
        }
        if server.recovery_instance_id:
            item["recoveryInstanceId"] = server.recovery_instance_id
        return item

    def start_recovery(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        requested = params["sourceServers"]
        ids = [entry["sourceServerID"] for entry in requested]
        seen: dict[str, int] = {}
        duplicates = []
        for index, server_id in enumerate(ids):
            if server_id in seen:
                duplicates.append(
                    {
                        "name": f"sourceServers[{index}].sourceServerID",
                        "message": f"{server_id} is listed twice",
                    }
                )
            seen[server_id] = index
        if duplicates:
            raise errors.ValidationException(
                f"{len(duplicates)} validation error(s) detected: a source server is listed more than once",
                field_list=duplicates,
            )
        if len(ids) > self.quotas.max_servers_per_job:
            raise errors.ServiceQuotaExceededException(
                f"A recovery job can hold at most {self.quotas.max_servers_per_job} source servers; "
                f"{len(ids)} were requested",
                quota_code=QUOTA_SERVERS_PER_JOB,
                resource_type="JOB",
            )
        unknown = [server_id for server_id in ids if server_id not in self.servers]
        if unknown:
            raise errors.ResourceNotFoundException(
                f"Source server(s) not found in account {self.account_id} region {self.region}: "
                + ", ".join(unknown),
                resource_id=unknown[0],
                resource_type="SOURCE_SERVER",
            )
        self._check_capacity(ids)
        is_drill = bool(params.get("isDrill", False))
        tags = dict(params.get("tags") or {})
        job = self._create_job(
            "LAUNCH", "START_DRILL" if is_drill else "START_RECOVERY", ids, tags, now, is_drill=is_drill
        )
        faults = self._faults()
        start = now + JOB_START_DELAY
        # JOB_START first: events due at the same time apply in the order they were scheduled.
        self._at(start, lambda when: self._job_started(job, when))
        ends = []
        for entry in requested:
            server = self.servers[entry["sourceServerID"]]
            server.last_launch_result = "PENDING"
            server.last_launch = {
                "initiated": {
                    "apiCallDateTime": iso(now),
                    "jobID": job.id,
                    "type": "DRILL" if is_drill else "RECOVERY",
                },
                "status": "PENDING",
            }
            ends.append(self._schedule_launch(job, server, entry.get("recoverySnapshotID"), start, faults))
        self._at(max(ends) + JOB_END_DELAY, lambda when: self._job_ended(job, when))
        return {"job": self._job_json(job)}

    def _check_capacity(self, ids: list[str]) -> None:
        busy = self.busy_servers()
        held = [(server_id, busy[server_id]) for server_id in ids if server_id in busy]
        if held:
            listed = ", ".join(f"{server_id} (held by active job {job_id})" for server_id, job_id in held)
            conflict = errors.ConflictException(
                f"Source server(s) already taking part in an active job: {listed}",
                resource_id=held[0][0],
                resource_type="SOURCE_SERVER",
            )
            conflict.job_ids = list(dict.fromkeys(job_id for _, job_id in held))
            raise conflict
        active = self._active_jobs()
        if len(active) >= self.quotas.max_concurrent_jobs:
            raise errors.ServiceQuotaExceededException(
                f"At most {self.quotas.max_concurrent_jobs} jobs can be active at once; "
                f"{len(active)} are active",
                quota_code=QUOTA_CONCURRENT_JOBS,
                resource_type="JOB",
            )
        in_jobs = sum(len(job.participants) for job in active)
        if in_jobs + len(ids) > self.quotas.max_servers_in_active_jobs:
            raise errors.ServiceQuotaExceededException(
                f"At most {self.quotas.max_servers_in_active_jobs} source servers can take part in "
                f"active jobs; {in_jobs} already do and {len(ids)} more were requested",
                quota_code=QUOTA_SERVERS_IN_ACTIVE_JOBS,
                resource_type="SOURCE_SERVER",
            )

    def _create_job(
        self,
        kind: str,
        initiated_by: str,
        ids: list[str],
        tags: dict[str, str],
        now: float,
        *,
        is_drill: bool,
    ) -> Job:
        job_id = self._new_job_id()
        job = Job(
            id=job_id,
            arn=self.arn("job", job_id),
            type=kind,
            initiated_by=initiated_by,
            created=now,
            tags=tags,
            participants={server_id: Participant(server_id) for server_id in ids},
            is_drill=is_drill,
        )
        self.jobs[job_id] = job
        return job

    def _job_started(self, job: Job, when: float) -> None:
        job.status = "STARTED"
        self._log(job, when, "JOB_START")

    def _job_ended(self, job: Job, when: float) -> None:
        self._log(job, when, "JOB_END")
        job.status = "COMPLETED"
        job.ended = when

    def _schedule_launch(
        self,
        job: Job,
        server: SourceServer,
        snapshot_id: str | None,
        start: float,
        faults: Faults,
    ) -> float:
        """Schedule one server's launch in ``job``; returns the simulated time it ends."""
        part = job.participants[server.id]
        length = server.spec.launch_seconds

        def fail(when: float, raw_error: str) -> None:
            part.launch_status = "FAILED"
            server.last_launch_result = "FAILED"
            if server.last_launch is not None:
                server.last_launch["status"] = "FAILED"
            self._log(job, when, "LAUNCH_FAILED", sourceServerID=server.id, rawError=raw_error)

        def in_progress(when: float) -> None:
            part.launch_status = "IN_PROGRESS"
            if server.last_launch is not None:
                server.last_launch["status"] = "IN_PROGRESS"

        # A server whose replication state cannot be recovered is accepted into the job and fails
        # right after JOB_START (see the module docstring for why it is not rejected up front).
        if server.replication_state not in RECOVERABLE_STATES:
            message = (
                f"Source server {server.id} cannot be recovered: its data replication state is "
                f"{server.replication_state}; recovery needs a healthy replication state "
                f"({', '.join(sorted(RECOVERABLE_STATES))})"
            )
            self._at(start, lambda when: fail(when, message))
            return start

        if snapshot_id is not None:
            found = self._find_snapshot(server, snapshot_id, start)
            if found is None or "timestamp" not in found:
                why = "does not exist for this source server" if found is None else "is not complete"
                message = f"Recovery snapshot {snapshot_id} {why}"

                def previous_failed(when: float) -> None:
                    self._log(
                        job,
                        when,
                        "USING_PREVIOUS_SNAPSHOT_FAILED",
                        sourceServerID=server.id,
                        rawError=message,
                    )
                    fail(when, message)

                self._at(start, previous_failed)
                return start
            point_in_time = parse_iso(found["timestamp"])

            def use_previous(when: float) -> None:
                in_progress(when)
                self._log(job, when, "USING_PREVIOUS_SNAPSHOT", sourceServerID=server.id)

            self._at(start, use_previous)
        else:
            point_in_time = start + length * SNAPSHOT_SHARE
            snap = Snapshot(
                id="pit-" + _random_alnum(17),
                source_server_id=server.id,
                expected=start,
                done=point_in_time,
            )

            def snapshot_start(when: float) -> None:
                in_progress(when)
                self.job_snapshots.setdefault(server.id, []).append(snap)
                self._log(job, when, "SNAPSHOT_START", sourceServerID=server.id)

            self._at(start, snapshot_start)
            self._at(
                start + length * SNAPSHOT_SHARE,
                lambda when: self._log(job, when, "SNAPSHOT_END", sourceServerID=server.id),
            )

        conversion_server = "i-" + _hex(f"{job.id}/{server.id}/conversion")
        instance_id = self._new_instance_id()
        self._at(
            start + length * SNAPSHOT_SHARE,
            lambda when: self._log(
                job, when, "CONVERSION_START", sourceServerID=server.id, conversionServerID=conversion_server
            ),
        )

        def conversion_end(when: float) -> None:
            self._log(
                job, when, "CONVERSION_END", sourceServerID=server.id, conversionServerID=conversion_server
            )
            self._log(job, when, "LAUNCH_START", sourceServerID=server.id, targetInstanceID=instance_id)

        self._at(start + length * CONVERSION_END_SHARE, conversion_end)

        # The outcome is decided now: the fleet's fail_launch, or a fail_servers fault in force now.
        raw_error: str | None = None
        if server.spec.fail_launch:
            raw_error = (
                server.spec.fail_launch
                if isinstance(server.spec.fail_launch, str)
                else "Failed to launch recovery instance: the EC2 instance did not pass its status checks"
            )
        if server.id in faults.fail_servers:
            raw_error = faults.fail_servers[server.id]

        def launch_end(when: float) -> None:
            if raw_error is not None:
                fail(when, raw_error)
                return
            if server.recovery_instance_id and server.recovery_instance_id in self.instances:
                # A new launch replaces the server's previous recovery instance.
                del self.instances[server.recovery_instance_id]
            instance = RecoveryInstance(
                id=instance_id,
                arn=self.arn("recovery-instance", instance_id),
                job_id=job.id,
                source_server_id=server.id,
                is_drill=job.is_drill,
                tags=dict(job.tags),
                launched=when,
                point_in_time=point_in_time,
                hostname=server.spec.hostname,
            )
            self.instances[instance_id] = instance
            part.launch_status = "LAUNCHED"
            part.recovery_instance_id = instance_id
            server.recovery_instance_id = instance_id
            server.last_launch_result = "SUCCEEDED"
            if server.last_launch is not None:
                server.last_launch["status"] = "LAUNCHED"

        end = start + length
        self._at(end, launch_end)
        return end

    def _job_json(self, job: Job) -> dict[str, Any]:
        item: dict[str, Any] = {
            "jobID": job.id,
            "arn": job.arn,
            "type": job.type,
            "initiatedBy": job.initiated_by,
            "creationDateTime": iso(job.created),
            "status": job.status,
            "participatingServers": [
                {
                    "sourceServerID": part.source_server_id,
                    "launchStatus": part.launch_status,
                    **(
                        {"recoveryInstanceID": part.recovery_instance_id} if part.recovery_instance_id else {}
                    ),
                }
                for part in job.participants.values()
            ],
            "tags": dict(job.tags),
        }
        if job.ended is not None:
            item["endDateTime"] = iso(job.ended)
        return item

    def describe_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        filters = params.get("filters") or {}
        wanted = filters.get("jobIDs")
        low = _date_filter(filters, "fromDate")
        high = _date_filter(filters, "toDate")
        items = [
            job
            for job in self.jobs.values()
            if (not wanted or job.id in wanted)
            and (low is None or job.created >= low)
            and (high is None or job.created <= high)
        ]
        page, token = paginate(items, params)
        return {"items": [self._job_json(job) for job in page], **({"nextToken": token} if token else {})}

    def describe_job_log_items(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        job = self.jobs.get(params["jobID"])
        logs = list(job.logs) if job is not None else []
        page, token = paginate(logs, params)
        return {"items": [dict(item) for item in page], **({"nextToken": token} if token else {})}

    def describe_recovery_snapshots(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        server = self.servers.get(params["sourceServerID"])
        items = self._periodic_snapshots(server, now) if server is not None else []
        filters = params.get("filters") or {}
        low = _date_filter(filters, "fromDateTime", prefix="filters")
        high = _date_filter(filters, "toDateTime", prefix="filters")
        items = [
            item
            for item in items
            if (low is None or parse_iso(item["expectedTimestamp"]) >= low)
            and (high is None or parse_iso(item["expectedTimestamp"]) <= high)
        ]
        if params.get("order") == "DESC":
            items.reverse()
        page, token = paginate(items, params)
        return {"items": page, **({"nextToken": token} if token else {})}

    def describe_recovery_instances(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        filters = params.get("filters") or {}
        ids = filters.get("recoveryInstanceIDs")
        servers = filters.get("sourceServerIDs")
        items = [
            instance
            for instance in self.instances.values()
            if (not ids or instance.id in ids) and (not servers or instance.source_server_id in servers)
        ]
        page, token = paginate(items, params)
        return {
            "items": [self._instance_json(instance) for instance in page],
            **({"nextToken": token} if token else {}),
        }

    def _instance_json(self, instance: RecoveryInstance) -> dict[str, Any]:
        return {
            "ec2InstanceID": instance.id,
            "ec2InstanceState": instance.state,
            "jobID": instance.job_id,
            "recoveryInstanceID": instance.id,
            "sourceServerID": instance.source_server_id,
            "arn": instance.arn,
            "tags": dict(instance.tags),
            "isDrill": instance.is_drill,
            "pointInTimeSnapshotDateTime": iso(instance.point_in_time),
            "originEnvironment": "ON_PREMISES",
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(instance.launched),
                "identificationHints": {"hostname": instance.hostname, "awsInstanceID": instance.id},
                "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
                "ramBytes": 8 * 1024**3,
                "os": {"fullString": "Amazon Linux 2023"},
            },
        }

    def terminate_recovery_instances(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        ids: list[str] = list(dict.fromkeys(params["recoveryInstanceIDs"]))
        unknown = [instance_id for instance_id in ids if instance_id not in self.instances]
        if unknown:
            raise errors.ResourceNotFoundException(
                f"Recovery instance(s) not found in account {self.account_id} region {self.region}: "
                + ", ".join(unknown),
                resource_id=unknown[0],
                resource_type="RECOVERY_INSTANCE",
            )
        instances = [self.instances[instance_id] for instance_id in ids]
        server_ids = [instance.source_server_id for instance in instances]
        self._check_capacity(server_ids)
        job = self._create_job(
            "TERMINATE", "TERMINATE_RECOVERY_INSTANCES", server_ids, {}, now, is_drill=False
        )
        for instance in instances:
            job.participants[instance.source_server_id].recovery_instance_id = instance.id
        start = now + JOB_START_DELAY
        end = start + TERMINATE_SECONDS
        self._at(start, lambda when: self._job_started(job, when))
        for instance in instances:
            self._schedule_termination(job, instance, start, end)
        self._at(end + JOB_END_DELAY, lambda when: self._job_ended(job, when))
        return {"job": self._job_json(job)}

    def _schedule_termination(self, job: Job, instance: RecoveryInstance, start: float, end: float) -> None:
        part = job.participants[instance.source_server_id]

        def cleanup_start(when: float) -> None:
            part.launch_status = "IN_PROGRESS"
            instance.state = "SHUTTING-DOWN"
            self._log(
                job,
                when,
                "CLEANUP_START",
                sourceServerID=instance.source_server_id,
                targetInstanceID=instance.id,
            )

        def cleanup_end(when: float) -> None:
            part.launch_status = "TERMINATED"
            instance.state = "TERMINATED"
            self.instances.pop(instance.id, None)
            server = self.servers.get(instance.source_server_id)
            if server is not None and server.recovery_instance_id == instance.id:
                server.recovery_instance_id = None
            self._log(
                job,
                when,
                "CLEANUP_END",
                sourceServerID=instance.source_server_id,
                targetInstanceID=instance.id,
            )

        self._at(start, cleanup_start)
        self._at(end, cleanup_end)

    # -- tags ---------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> dict[str, str]:
        self.tick()
        prefix = f"arn:aws:drs:{self.region}:{self.account_id}:"
        kind, _, resource_id = arn[len(prefix) :].partition("/") if arn.startswith(prefix) else ("", "", "")
        holder: Job | SourceServer | RecoveryInstance | None = None
        if kind == "job":
            holder = self.jobs.get(resource_id)
        elif kind == "source-server":
            holder = self.servers.get(resource_id)
        elif kind == "recovery-instance":
            holder = self.instances.get(resource_id)
        if holder is None:
            raise errors.ResourceNotFoundException(
                f"Resource not found: {arn} (account {self.account_id}, region {self.region})",
                resource_id=arn,
                resource_type={
                    "job": "JOB",
                    "source-server": "SOURCE_SERVER",
                    "recovery-instance": "RECOVERY_INSTANCE",
                }.get(kind, "UNKNOWN"),
            )
        return holder.tags

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": dict(self._tagged(params["resourceArn"]))}

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        self._tagged(params["resourceArn"]).update(params["tags"])
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._tagged(params["resourceArn"])
        for key in params["tagKeys"]:
            tags.pop(key, None)
        return {}


def _date_filter(filters: dict[str, Any], key: str, prefix: str = "filters") -> float | None:
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


# --- the whole simulator ------------------------------------------------------------------------


OPERATIONS: dict[str, str] = {
    "DescribeSourceServers": "describe_source_servers",
    "StartRecovery": "start_recovery",
    "DescribeJobs": "describe_jobs",
    "DescribeJobLogItems": "describe_job_log_items",
    "DescribeRecoverySnapshots": "describe_recovery_snapshots",
    "DescribeRecoveryInstances": "describe_recovery_instances",
    "TerminateRecoveryInstances": "terminate_recovery_instances",
    "TagResource": "tag_resource",
    "UntagResource": "untag_resource",
    "ListTagsForResource": "list_tags_for_resource",
}
"""Implemented DRS operations -> the DrsBackend method carrying each out."""


class Simulator:
    """The simulator's whole state: fleet, clock, backends per (account, region), faults, call log.

    Every public method is thread-safe (one lock guards all state).
    """

    def __init__(self, fleet: Fleet, speed: float = 1.0, *, strict: bool = False) -> None:
        self.lock = threading.RLock()
        self.strict = strict
        self._initial_fleet = fleet
        self.fleet = fleet
        self.clock = SimulatedClock(speed)
        self.faults = Faults()
        self._random = random.Random()
        self.backends: dict[tuple[str, str], DrsBackend] = {}
        self.calls: list[dict[str, Any]] = []
        self._load(fleet)

    def _load(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.backends = {}
        self.backend(fleet.region)

    def backend(self, region: str, account_id: str | None = None) -> DrsBackend:
        account = account_id or self.fleet.account_id
        with self.lock:
            key = (account, region)
            if key not in self.backends:
                servers = (
                    self.fleet.source_servers
                    if (account, region) == (self.fleet.account_id, self.fleet.region)
                    else ()
                )
                self.backends[key] = DrsBackend(
                    account, region, servers, self.fleet.quotas, self.clock, lambda: self.faults
                )
            return self.backends[key]

    def reset(self, fleet: Fleet | None = None, speed: float | None = None) -> None:
        """Back to the start: a fleet (default: the one the simulator started with), no jobs/faults/calls."""
        with self.lock:
            if speed is not None:
                self.clock = SimulatedClock(speed)
            else:
                self.clock = SimulatedClock(self.clock.speed)
            self.faults = Faults()
            self._random = random.Random()
            self.calls = []
            self._load(fleet or self._initial_fleet)

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def set_quotas(self, quotas: Quotas) -> None:
        with self.lock:
            self.fleet = Fleet(
                account_id=self.fleet.account_id,
                region=self.fleet.region,
                source_servers=self.fleet.source_servers,
                quotas=quotas,
                source=self.fleet.source,
            )
            for backend in self.backends.values():
                backend.quotas = quotas

    # -- faults, decided per call -------------------------------------------------------------------

    def draw_throttle(self, operation: str) -> int | None:
        """Retry-After seconds if this call is throttled, else None."""
        with self.lock:
            faults = self.faults
            if not _applies(faults.throttle_operations, operation):
                return None
            if faults.throttle_count > 0:
                faults.throttle_count -= 1
                return faults.retry_after_seconds
            if faults.throttle_rate > 0 and self._random.random() < faults.throttle_rate:
                return faults.retry_after_seconds
            return None

    def draw_latency(self, operation: str) -> float:
        with self.lock:
            faults = self.faults
            return faults.latency_seconds if _applies(faults.latency_operations, operation) else 0.0

    def draw_drop(self, operation: str) -> bool:
        with self.lock:
            faults = self.faults
            if not _applies(faults.drop_response_operations, operation):
                return False
            if faults.drop_response_count > 0:
                faults.drop_response_count -= 1
                return True
            return faults.drop_response_rate > 0 and self._random.random() < faults.drop_response_rate

    # -- the call log ------------------------------------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            entry["seq"] = len(self.calls) + 1
            self.calls.append(entry)

    def call_log(self, operation: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.calls if operation is None or c["operation"] == operation]

    # -- operations ------------------------------------------------------------------------------------

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        method = OPERATIONS[operation]
        with self.lock:
            backend = self.backend(region)
            result: dict[str, Any] = getattr(backend, method)(params)
            return result

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
                "now": iso(self.clock.now()),
                "source_servers": len(self.fleet.source_servers),
                "jobs": sum(len(b.jobs) for b in self.backends.values()),
                "active_jobs": sum(len(b._active_jobs()) for b in self.backends.values()),
                "recovery_instances": sum(len(b.instances) for b in self.backends.values()),
                "calls": len(self.calls),
            }
