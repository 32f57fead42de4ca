"""LAUNCH jobs: StartRecovery, and the timeline each source server's launch follows.

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

from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.models.jobs import JOB_END_DELAY, JOB_START_DELAY
from drs_simulator.models.quotas import check_job_size
from drs_simulator.models.recovery_instances import RecoveryInstance, RecoveryInstancesBackend
from drs_simulator.models.recovery_snapshots import RecoverySnapshotsBackend, Snapshot
from drs_simulator.models.source_servers import RECOVERABLE_STATES
from drs_simulator.models.wire import iso, parse_iso, random_alnum, stable_hex

if TYPE_CHECKING:
    from drs_simulator.models.faults import Faults
    from drs_simulator.models.jobs import Job
    from drs_simulator.models.source_servers import SourceServer

SNAPSHOT_SHARE = 0.2  # share of launch_seconds spent taking the snapshot
CONVERSION_END_SHARE = 0.7  # conversion ends (and LAUNCH_START is logged) at this share


class LaunchJobsBackend(RecoveryInstancesBackend, RecoverySnapshotsBackend):
    def start_recovery(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        is_drill = bool(params.get("isDrill", False))
        job, _ = self._launch_job(params["sourceServers"], is_drill, dict(params.get("tags") or {}), now)
        return {"job": self._job_json(job)}

    def _launch_job(
        self, requested: list[dict[str, Any]], is_drill: bool, tags: dict[str, str], now: float
    ) -> tuple[Job, float]:
        """Check and create a LAUNCH job at simulated ``now`` and schedule its timeline; returns the
        job and the simulated time of its JOB_END. Recovery plan executions launch through it too.

        :param requested: StartRecovery's ``sourceServers`` entries.
        """
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
        check_job_size(ids, self.quotas)
        self.require_known(ids, self.servers, label="Source server(s)", resource_type="SOURCE_SERVER")
        self._check_capacity(ids)
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
        end = max(ends) + JOB_END_DELAY
        self._at(end, lambda when: self._job_ended(job, when))
        return job, end

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
                id="pit-" + random_alnum(17),
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

        conversion_server = "i-" + stable_hex(f"{job.id}/{server.id}/conversion")
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
                origin_region=server.origin_region,
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
