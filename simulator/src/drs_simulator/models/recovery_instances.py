"""Recovery instances: what a successful launch leaves behind, DescribeRecoveryInstances,
TerminateRecoveryInstances with the TERMINATE job it runs, DisconnectRecoveryInstance and
DeleteRecoveryInstance. Their failback fields are :mod:`.failback`'s."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.models.jobs import JOB_END_DELAY, JOB_START_DELAY, JobsBackend
from drs_simulator.models.source_servers import machine_properties
from drs_simulator.models.wire import iso

if TYPE_CHECKING:
    from drs_simulator.models.jobs import Job

TERMINATE_SECONDS = 30.0  # simulated seconds to terminate a recovery instance


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
    #: the EC2 region of the machine it stands in for; None: on premises
    origin_region: str | None = None
    #: the server ReverseReplication made (or re-protected) for it
    reversed_arn: str | None = None
    #: on-premises failback, as the Failback Client and StartFailbackLaunch move it
    failback_state: str = "FAILBACK_NOT_STARTED"
    failback_client_id: str | None = None
    failback_client_seen: float | None = None
    failback_job_id: str | None = None
    failback_started: float | None = None
    #: set by DisconnectRecoveryInstance; DeleteRecoveryInstance needs it
    disconnected: bool = False


class RecoveryInstancesBackend(JobsBackend):
    def _new_instance_id(self) -> str:
        while True:
            instance_id = "i-" + secrets.token_hex(9)[:17]
            if instance_id not in self.instances:
                return instance_id

    def recovery_instance(self, instance_id: str) -> RecoveryInstance:
        """The recovery instance ``instance_id``, or the ResourceNotFoundException DRS answers."""
        instance = self.instances.get(instance_id)
        if instance is None:
            raise errors.ResourceNotFoundException(
                f"Recovery instance {instance_id} not found in account {self.account_id} "
                f"region {self.region}",
                resource_id=instance_id,
                resource_type="RECOVERY_INSTANCE",
            )
        return instance

    def _refuse_instance_in_job(self, instance: RecoveryInstance, doing: str) -> None:
        self._refuse_if_in_job(
            instance.source_server_id,
            f"{doing} recovery instance {instance.id}: its source server {instance.source_server_id}",
            resource_id=instance.id,
            resource_type="RECOVERY_INSTANCE",
        )

    def disconnect_recovery_instance(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        instance = self.recovery_instance(params["recoveryInstanceID"])
        self._refuse_instance_in_job(instance, "disconnect")
        instance.disconnected = True
        return {}

    def delete_recovery_instance(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        instance = self.recovery_instance(params["recoveryInstanceID"])
        if not instance.disconnected:
            raise errors.ConflictException(
                f"Recovery instance {instance.id} is still connected: disconnect it first "
                "(DisconnectRecoveryInstance)",
                resource_id=instance.id,
                resource_type="RECOVERY_INSTANCE",
            )
        self._refuse_instance_in_job(instance, "delete")
        self._forget_instance(instance)
        return {}

    def _forget_instance(self, instance: RecoveryInstance) -> None:
        self.instances.pop(instance.id, None)
        server = self.servers.get(instance.source_server_id)
        if server is not None and server.recovery_instance_id == instance.id:
            server.recovery_instance_id = None

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
        return self.page(items, params, self._instance_json)

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
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(instance.launched),
                "identificationHints": {"hostname": instance.hostname, "awsInstanceID": instance.id},
                **machine_properties(),
            },
        }

    def terminate_recovery_instances(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        ids: list[str] = list(dict.fromkeys(params["recoveryInstanceIDs"]))
        self.require_known(
            ids, self.instances, label="Recovery instance(s)", resource_type="RECOVERY_INSTANCE"
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
            self._forget_instance(instance)
            self._log(
                job,
                when,
                "CLEANUP_END",
                sourceServerID=instance.source_server_id,
                targetInstanceID=instance.id,
            )

        self._at(start, cleanup_start)
        self._at(end, cleanup_end)
