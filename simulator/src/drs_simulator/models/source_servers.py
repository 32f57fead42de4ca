"""Source servers: the replicating machines of the fleet, and DescribeSourceServers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_simulator.launch_settings import DEFAULT_INSTANCE_TYPE
from drs_simulator.models.base import BackendBase
from drs_simulator.models.wire import iso, iso_duration, stable_hex

if TYPE_CHECKING:
    from collections.abc import Iterable

    from drs_simulator.fleet import ServerSpec
    from drs_simulator.models.replication import Sync

# Replication states a recovery can start from, and the ones it cannot; the launch_jobs module
# docstring says why StartRecovery still accepts a server in the latter.
RECOVERABLE_STATES = frozenset(
    {"CONTINUOUS", "BACKLOG", "CREATING_SNAPSHOT", "RESCAN", "PENDING_SNAPSHOT_SHIPPING", "SHIPPING_SNAPSHOT"}
)
UNRECOVERABLE_STATES = frozenset(
    {"STOPPED", "INITIATING", "INITIAL_SYNC", "PAUSED", "STALLED", "DISCONNECTED"}
)
#: The lag a server in an unrecoverable state reports when its fleet entry gives none.
UNRECOVERABLE_LAG_SECONDS = 6 * 3600
#: The one disk every simulated machine has.
DISK_BYTES = 64 * 1024**3


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
    #: FAILOVER, or FAILBACK for a server ReverseReplication created to bring a machine home
    direction: str = "FAILOVER"
    #: the server replicating the other way, once ReverseReplication made or re-protected one
    reversed_arn: str | None = None
    #: the EC2 region of the machine it protects; None: on premises
    origin_region: str | None = None
    #: the EC2 instance it protects (``identificationHints.awsInstanceID``); None: not in EC2
    aws_instance_id: str | None = None
    #: set by DisconnectSourceServer: DRS then reports no storage and no lag
    disconnected: bool = False
    #: reversed or restarted replication, still on its way to CONTINUOUS (see .replication)
    sync: Sync | None = None
    #: for an extended source server (see .staging): the staging account and server it extends
    staging_account_id: str | None = None
    staging_arn: str | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def lag_seconds(self) -> float:
        """How far behind the source replication is: the fleet's ``lag_seconds``, else none while
        replicating and hours once replication stopped."""
        if self.spec.lag_seconds is not None:
            return self.spec.lag_seconds
        return 0.0 if self.replication_state in RECOVERABLE_STATES else UNRECOVERABLE_LAG_SECONDS


def origin_instance_id(server_id: str) -> str:
    """The EC2 instance an EC2-origin fleet server protects, derived from its ID."""
    return "i-" + stable_hex(server_id + "/origin")


def source_ip(server_id: str) -> str:
    """The source machine's private IP address, derived from its ID so it survives resets."""
    return f"10.0.{int(stable_hex(server_id, 2), 16)}.{int(stable_hex(server_id + 'b', 2), 16)}"


def machine_properties() -> dict[str, Any]:
    """CPUs, RAM and OS of every simulated machine; a recovery instance reports the same."""
    return {
        "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
        "ramBytes": 8 * 1024**3,
        "os": {"fullString": "Amazon Linux 2023"},
    }


class SourceServersBackend(BackendBase):
    def _add_source_servers(self, specs: Iterable[ServerSpec]) -> None:
        # Fleet servers have been replicating for a day when the backend starts.
        for spec in specs:
            in_ec2 = spec.origin.region is not None
            self.servers[spec.id] = SourceServer(
                spec=spec,
                arn=self.arn("source-server", spec.id),
                tags=dict(spec.tags),
                replication_state=spec.replication_state,
                added=self.epoch - 86400,
                origin_region=spec.origin.region,
                aws_instance_id=origin_instance_id(spec.id) if in_ec2 else None,
            )

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
            # A server replicated straight into this account stages here: its own account matches.
            if staging and (server.staging_account_id or self.account_id) not in staging:
                continue
            items.append(server)
        return self.page(items, params, self._server_json)

    def _server_json(self, server: SourceServer) -> dict[str, Any]:
        now = self.clock.now()
        info = self._replication_json(server, now)
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
        # Derived from the server ID, so a server keeps its addresses across resets.
        mac = "02:" + ":".join(stable_hex(server.id + "mac", 10)[i : i + 2] for i in range(0, 10, 2))
        item: dict[str, Any] = {
            "sourceServerID": server.id,
            "arn": server.arn,
            "tags": dict(server.tags),
            "lastLaunchResult": server.last_launch_result,
            "dataReplicationInfo": info,
            "lifeCycle": life,
            "sourceProperties": {
                "lastUpdatedDateTime": iso(server.added),
                "recommendedInstanceType": DEFAULT_INSTANCE_TYPE,
                "identificationHints": self._hints(server),
                "networkInterfaces": [
                    {
                        "macAddress": mac,
                        "ips": [source_ip(server.id)],
                        "isPrimary": True,
                    }
                ],
                "disks": [{"deviceName": "/dev/sda", "bytes": DISK_BYTES}],
                **machine_properties(),
                "supportsNitroInstances": True,
                "architecture": "x86_64",
            },
            "stagingArea": self._staging_area(server),
            "replicationDirection": server.direction,
            "agentVersion": "1.2.3",
        }
        if server.recovery_instance_id:
            item["recoveryInstanceId"] = server.recovery_instance_id
        if server.origin_region is not None:
            item["sourceCloudProperties"] = {
                # An extended server's machine runs in its staging account.
                "originAccountID": server.staging_account_id or self.account_id,
                "originRegion": server.origin_region,
                "originAvailabilityZone": f"{server.origin_region}a",
            }
        if server.reversed_arn is not None:
            item["reversedDirectionSourceServerArn"] = server.reversed_arn
        return item

    @staticmethod
    def _staging_area(server: SourceServer) -> dict[str, str]:
        if server.staging_arn is None:
            return {"status": "NOT_EXTENDED"}
        assert server.staging_account_id is not None
        return {
            "status": "EXTENDED",
            "stagingAccountID": server.staging_account_id,
            "stagingSourceServerArn": server.staging_arn,
        }

    @staticmethod
    def _hints(server: SourceServer) -> dict[str, str]:
        hostname = server.spec.hostname
        hints = {"hostname": hostname, "fqdn": f"{hostname}.corp.example"}
        if server.aws_instance_id is not None:
            hints["awsInstanceID"] = server.aws_instance_id
        return hints

    def _replication_json(self, server: SourceServer, now: float) -> dict[str, Any]:
        """``dataReplicationInfo``: a sync under way reports its progress and ``etaDateTime``."""
        total = DISK_BYTES
        done = total
        if server.sync is not None:
            done = int(total * server.sync.share_done(now))
        elif server.replication_state in ("INITIATING", "INITIAL_SYNC"):
            done = total // 3
        info: dict[str, Any] = {
            "dataReplicationState": server.replication_state,
            "lagDuration": iso_duration(server.lag_seconds),
            "replicatedDisks": [
                {
                    "deviceName": "/dev/sda",
                    "totalStorageBytes": total,
                    "replicatedStorageBytes": done,
                    "rescannedStorageBytes": 0,
                    "backloggedStorageBytes": 0,
                }
            ],
            "stagingAvailabilityZone": f"{self.region}a",
        }
        if server.sync is not None and server.replication_state != "STALLED":
            info["etaDateTime"] = iso(server.sync.eta)
        if server.replication_state == "STALLED":
            info["dataReplicationError"] = {
                "error": "UNSTABLE_NETWORK",
                "rawError": "Replication stalled: the agent cannot reach the replication server",
            }
        if server.disconnected:
            # As DisconnectSourceServer documents: no storage, no lag.
            info["replicatedDisks"][0]["totalStorageBytes"] = 0
            del info["lagDuration"]
        return info
