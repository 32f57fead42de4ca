"""Failback: ReverseReplication (EC2 origins), the Failback Client, StartFailbackLaunch and
StopFailback (on-premises origins), and the failback fields of a recovery instance.

EC2 origin, recovery region B, origin region A. ReverseReplication on a live recovery instance in B
creates a FAILBACK source server in A (``identificationHints.awsInstanceID`` = the instance,
``sourceCloudProperties`` = B) whose first copy takes its fleet server's ``reverse_sync_seconds``
(:mod:`.replication`). The two servers name each other in ``reversedDirectionSourceServerArn``;
the model has no such member on a recovery instance, so the instance keeps the link to itself (it
mirrors the copy in its ``dataReplicationInfo`` and ``failback.state``). StartRecovery launches
the FAILBACK server in A like any server. ReverseReplication on the instance launched in A
re-protects: the original server in B replicates again (briefly STALLED, then RESCAN, then
CONTINUOUS), now protecting that instance.

On premises. The control call ``POST /_simulator/failback-client`` plays the Failback Client
connecting: the instance becomes FAILBACK_READY_FOR_LAUNCH. StartFailbackLaunch runs a LAUNCH job
(initiatedBy FAILBACK) over such instances, timed like a launch of their servers: conversion on the
client, then the reboot into the failed-back machine; each ends FAILBACK_COMPLETED, or
FAILBACK_ERROR under the ``fail_failback_servers`` fault. StopFailback puts an instance back to
FAILBACK_NOT_STARTED (the client has to connect again).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.fleet_servers import Origin
from drs_simulator.models.jobs import JOB_END_DELAY, JOB_START_DELAY
from drs_simulator.models.launch_jobs import CONVERSION_END_SHARE
from drs_simulator.models.recovery_instances import RecoveryInstancesBackend
from drs_simulator.models.replication import ReplicationBackend, resource_id
from drs_simulator.models.source_servers import DISK_BYTES, SourceServer
from drs_simulator.models.wire import iso, stable_hex

if TYPE_CHECKING:
    from drs_simulator.models.jobs import Job
    from drs_simulator.models.recovery_instances import RecoveryInstance

READY = "FAILBACK_READY_FOR_LAUNCH"
#: Failback states a Failback Client may (re)connect in.
CLIENT_CAN_CONNECT = frozenset(
    {"FAILBACK_NOT_STARTED", "FAILBACK_NOT_READY_FOR_LAUNCH", READY, "FAILBACK_ERROR"}
)


class FailbackClientRefused(Exception):
    """The control call ``failback-client`` cannot connect a client; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FailbackBackend(RecoveryInstancesBackend, ReplicationBackend):
    # -- EC2 origins: reversed replication ---------------------------------------------------------

    def reverse_replication(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        instance = self.recovery_instance(params["recoveryInstanceID"])
        self._refuse_while_agent_starts(instance, now)
        if instance.state != "RUNNING" or instance.disconnected:
            why = "disconnected" if instance.disconnected else instance.state
            raise errors.ConflictException(
                f"Recovery instance {instance.id} is {why}: replication can only be reversed from a "
                "running, connected recovery instance",
                resource_id=instance.id,
                resource_type="RECOVERY_INSTANCE",
            )
        if instance.origin_region is None:
            raise errors.ValidationException(
                f"Recovery instance {instance.id} did not originate in EC2: replication can only be "
                "reversed for EC2 origins (an on-premises machine fails back through the Failback Client)",
                reason="other",
            )
        server = self.servers.get(instance.source_server_id)
        if server is None:
            raise errors.ConflictException(
                f"Source server {instance.source_server_id} of recovery instance {instance.id} was deleted",
                resource_id=instance.id,
                resource_type="RECOVERY_INSTANCE",
            )
        if instance.origin_region in self._faults().uninitialized_regions:
            raise errors.UninitializedAccountException(
                f"Account {self.account_id} is not initialized for DRS in region {instance.origin_region}"
            )
        home = self.other_region(instance.origin_region)
        home.tick(now)
        if server.direction == "FAILBACK":
            target = home._reprotect(server, instance, now)
        else:
            # A repeated call answers the server the first one created.
            earlier = home.servers.get(resource_id(instance.reversed_arn) or "")
            target = earlier or home._add_failback_server(server, instance, now)
            server.reversed_arn = target.arn
        instance.reversed_arn = target.arn
        return {"reversedDirectionSourceServerArn": target.arn}

    def _refuse_while_agent_starts(self, instance: RecoveryInstance, now: float) -> None:
        faults = self._faults()
        starting = faults.agent_starting_count > 0
        if starting:
            faults.agent_starting_count -= 1
        if starting or now - instance.launched < faults.agent_starting_seconds:
            raise errors.ConflictException(
                f"The agent on recovery instance {instance.id} is still starting: try again shortly",
                resource_id=instance.id,
                resource_type="RECOVERY_INSTANCE",
            )

    def _add_failback_server(
        self, original: SourceServer, instance: RecoveryInstance, now: float
    ) -> SourceServer:
        """A FAILBACK server here, copying ``instance`` (in ``original``'s region) back home."""
        recovery_region = original.arn.split(":")[3]
        server_id = "s-" + stable_hex(f"{self.account_id}/{recovery_region}/{instance.id}/failback")
        spec = dataclasses.replace(
            original.spec,
            id=server_id,
            region=self.region,
            origin=Origin(recovery_region),
            fail_launch=False,
            lag_seconds=None,
        )
        server = SourceServer(
            spec=spec,
            arn=self.arn("source-server", server_id),
            tags=dict(original.tags),
            replication_state="INITIATING",
            added=now,
            direction="FAILBACK",
            reversed_arn=original.arn,
            origin_region=recovery_region,
            aws_instance_id=instance.id,
        )
        self.servers[server_id] = server
        self._start_sync(server, now, opening="INITIATING", copying="INITIAL_SYNC")
        return server

    def _reprotect(self, failback: SourceServer, instance: RecoveryInstance, now: float) -> SourceServer:
        """The server ``failback`` reversed replicates again, now protecting ``instance``."""
        target = self.servers.get(resource_id(failback.reversed_arn) or "")
        if target is None:
            raise errors.ConflictException(
                f"The source server {failback.id} failed back for ({failback.reversed_arn}) no longer "
                "exists: there is nothing to re-protect",
                resource_id=instance.id,
                resource_type="RECOVERY_INSTANCE",
            )
        if instance.reversed_arn == target.arn and target.replication_state not in (
            "STOPPED",
            "DISCONNECTED",
        ):
            return target  # already re-protected by an earlier call
        target.aws_instance_id = instance.id
        target.origin_region = failback.arn.split(":")[3]
        target.reversed_arn = failback.arn
        self._start_sync(target, now, opening="STALLED", copying="RESCAN")
        return target

    # -- on-premises origins: the Failback Client and the failback launch ------------------------------

    def connect_failback_client(self, instance_id: str) -> dict[str, Any]:
        """The Failback Client on the on-premises machine connects for ``instance_id``."""
        now = self.clock.now()
        self.tick(now)
        instance = self.instances[instance_id]
        if instance.origin_region is not None:
            raise FailbackClientRefused(
                f"recovery instance {instance_id} originated in EC2 ({instance.origin_region}): it fails "
                "back by ReverseReplication, not through a Failback Client",
                400,
            )
        if instance.state != "RUNNING" or instance.disconnected:
            raise FailbackClientRefused(f"recovery instance {instance_id} is not running and connected", 409)
        if instance.failback_state not in CLIENT_CAN_CONNECT:
            raise FailbackClientRefused(
                f"recovery instance {instance_id} is {instance.failback_state}: no client can connect now",
                409,
            )
        instance.failback_state = READY
        instance.failback_client_id = "fbc-" + stable_hex(f"{instance_id}/client", 12)
        instance.failback_client_seen = now
        return self._instance_json(instance)

    def start_failback_launch(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        ids: list[str] = list(dict.fromkeys(params["recoveryInstanceIDs"]))
        # The model gives StartFailbackLaunch no not-found error: an unknown ID is a bad field.
        problems = [
            {"name": f"recoveryInstanceIDs[{index}]", "message": self._failback_problem(instance_id)}
            for index, instance_id in enumerate(ids)
            if self._failback_problem(instance_id)
        ]
        if problems:
            raise errors.ValidationException(
                f"{len(problems)} validation error(s) detected: " + "; ".join(p["message"] for p in problems),
                reason="other",
                field_list=problems,
            )
        instances = [self.instances[instance_id] for instance_id in ids]
        for instance in instances:
            if instance.failback_state != READY:
                raise errors.ConflictException(
                    f"Recovery instance {instance.id} is {instance.failback_state}: a failback launch needs "
                    f"{READY} (its Failback Client connected)",
                    resource_id=instance.id,
                    resource_type="RECOVERY_INSTANCE",
                )
        server_ids = [instance.source_server_id for instance in instances]
        self._check_capacity(server_ids)
        job = self._create_job(
            "LAUNCH", "FAILBACK", server_ids, dict(params.get("tags") or {}), now, is_drill=False
        )
        start = now + JOB_START_DELAY
        self._at(start, lambda when: self._job_started(job, when))
        ends = [self._schedule_failback(job, instance, now, start) for instance in instances]
        self._at(max(ends) + JOB_END_DELAY, lambda when: self._job_ended(job, when))
        return {"job": self._job_json(job)}

    def _failback_problem(self, instance_id: str) -> str:
        instance = self.instances.get(instance_id)
        if instance is None:
            return (
                f"recovery instance {instance_id} not found in account {self.account_id} region {self.region}"
            )
        if instance.origin_region is not None:
            return (
                f"recovery instance {instance_id} originated in EC2: fail it back with ReverseReplication "
                "and StartRecovery in its origin region"
            )
        return ""

    def _schedule_failback(self, job: Job, instance: RecoveryInstance, now: float, start: float) -> float:
        """Schedule one instance's failback launch in ``job``; returns the simulated time it ends."""
        part = job.participants[instance.source_server_id]
        part.recovery_instance_id = instance.id
        instance.failback_state = "FAILBACK_IN_PROGRESS"
        instance.failback_job_id = job.id
        instance.failback_started = now
        server = self.servers.get(instance.source_server_id)
        length = server.spec.launch_seconds if server is not None else 60.0
        raw_error = self._faults().fail_failback_servers.get(instance.source_server_id)

        def converting(when: float) -> None:
            part.launch_status = "IN_PROGRESS"
            self._log(job, when, "CONVERSION_START", sourceServerID=instance.source_server_id)

        def rebooting(when: float) -> None:
            self._log(job, when, "CONVERSION_END", sourceServerID=instance.source_server_id)
            self._log(job, when, "LAUNCH_START", sourceServerID=instance.source_server_id)

        def done(when: float) -> None:
            error = raw_error
            if instance.failback_job_id != job.id:  # StopFailback meanwhile
                error = "Failback stopped (StopFailback) before the launch completed"
            if error is not None:
                part.launch_status = "FAILED"
                if instance.failback_job_id == job.id:
                    instance.failback_state = "FAILBACK_ERROR"
                self._log(
                    job, when, "LAUNCH_FAILED", sourceServerID=instance.source_server_id, rawError=error
                )
                return
            part.launch_status = "LAUNCHED"
            instance.failback_state = "FAILBACK_COMPLETED"

        self._at(start, converting)
        self._at(start + length * CONVERSION_END_SHARE, rebooting)
        self._at(start + length, done)
        return start + length

    def stop_failback(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        instance = self.recovery_instance(params["recoveryInstanceID"])
        if instance.origin_region is not None:
            raise errors.ValidationException(
                f"Recovery instance {instance.id} originated in EC2: StopFailback applies to on-premises "
                "failback only",
                reason="other",
            )
        instance.failback_state = "FAILBACK_NOT_STARTED"
        instance.failback_job_id = None
        instance.failback_started = None
        instance.failback_client_id = None
        instance.failback_client_seen = None
        return {}

    # -- what DescribeRecoveryInstances shows of all this --------------------------------------------

    def _instance_json(self, instance: RecoveryInstance) -> dict[str, Any]:
        item = super()._instance_json(instance)
        item["originEnvironment"] = Origin(instance.origin_region).environment
        if instance.origin_region is not None:
            item["originAvailabilityZone"] = f"{instance.origin_region}a"
        reversed_server = self._reversed_server(instance)
        item["failback"] = self._failback_json(instance, reversed_server)
        item["dataReplicationInfo"] = self._failback_replication_json(instance, reversed_server)
        item["agentVersion"] = "1.2.3"
        return item

    def _reversed_server(self, instance: RecoveryInstance) -> SourceServer | None:
        if instance.origin_region is None or instance.reversed_arn is None:
            return None
        home = self.other_region(instance.origin_region)
        home.tick()
        return home.servers.get(resource_id(instance.reversed_arn) or "")

    def _failback_json(
        self, instance: RecoveryInstance, reversed_server: SourceServer | None
    ) -> dict[str, Any]:
        state = instance.failback_state
        if instance.origin_region is not None:
            # EC2 origins: the state follows the reversed replication.
            if reversed_server is None:
                state = "FAILBACK_NOT_STARTED"
            else:
                state = READY if reversed_server.replication_state == "CONTINUOUS" else "FAILBACK_IN_PROGRESS"
        item: dict[str, Any] = {
            "state": state,
            "failbackToOriginalServer": False,
            "failbackLaunchType": "RECOVERY",
        }
        if instance.state == "RUNNING" and not instance.disconnected:
            item["agentLastSeenByServiceDateTime"] = iso(self.clock.now())
        if instance.failback_client_id is not None:
            item["failbackClientID"] = instance.failback_client_id
        if instance.failback_client_seen is not None:
            item["failbackClientLastSeenByServiceDateTime"] = iso(instance.failback_client_seen)
            item["firstByteDateTime"] = iso(instance.failback_client_seen)
        if instance.failback_job_id is not None:
            item["failbackJobID"] = instance.failback_job_id
        if instance.failback_started is not None:
            item["failbackInitiationTime"] = iso(instance.failback_started)
        return item

    def _failback_replication_json(
        self, instance: RecoveryInstance, reversed_server: SourceServer | None
    ) -> dict[str, Any]:
        """Replication from the recovery instance back to its origin."""
        done = 0
        if instance.disconnected:
            state = "DISCONNECTED"
        elif reversed_server is not None:
            state = reversed_server.replication_state
            sync = reversed_server.sync
            done = int(DISK_BYTES * sync.share_done(self.clock.now())) if sync is not None else DISK_BYTES
        elif instance.failback_client_id is not None:
            state, done = "CONTINUOUS", DISK_BYTES
        else:
            state = "NOT_STARTED"
        info: dict[str, Any] = {
            "dataReplicationState": state,
            "replicatedDisks": [
                {
                    "deviceName": "/dev/sda",
                    "totalStorageBytes": 0 if instance.disconnected else DISK_BYTES,
                    "replicatedStorageBytes": done,
                    "rescannedStorageBytes": 0,
                    "backloggedStorageBytes": 0,
                }
            ],
        }
        if reversed_server is not None and reversed_server.sync is not None and state != "STALLED":
            info["etaDateTime"] = iso(reversed_server.sync.eta)
        if state == "STALLED":
            info["dataReplicationError"] = {
                "error": "UNSTABLE_NETWORK",
                "rawError": "Reversed replication stalled: the replication server cannot be reached",
            }
        return info
