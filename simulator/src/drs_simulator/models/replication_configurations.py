"""GetReplicationConfiguration: how DRS replicates each source server (the same for every server).

What it answers matches the rest of the simulator: one boot disk of the size DescribeSourceServers
reports, and a point-in-time policy of a snapshot every 10 minutes kept for a day, as
:mod:`.recovery_snapshots` takes them; the other values are DRS's defaults.
"""

from __future__ import annotations

from typing import Any

from drs_simulator.models.base import BackendBase
from drs_simulator.models.recovery_snapshots import SNAPSHOT_INTERVAL, SNAPSHOT_RETENTION
from drs_simulator.models.wire import stable_hex


class ReplicationConfigurationsBackend(BackendBase):
    def get_replication_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self.source_server(params["sourceServerID"])
        minutes = int(SNAPSHOT_INTERVAL // 60)
        return {
            "sourceServerID": server.id,
            "name": server.spec.hostname,
            "stagingAreaSubnetId": "subnet-" + stable_hex(f"{self.account_id}/{self.region}/staging"),
            "associateDefaultSecurityGroup": True,
            "replicationServersSecurityGroupsIDs": [],
            "replicationServerInstanceType": "t3.small",
            "useDedicatedReplicationServer": False,
            "defaultLargeStagingDiskType": "GP3",
            "replicatedDisks": [{"deviceName": "/dev/sda", "isBootDisk": True, "stagingDiskType": "AUTO"}],
            "ebsEncryption": "DEFAULT",
            "bandwidthThrottling": 0,
            "dataPlaneRouting": "PRIVATE_IP",
            "createPublicIP": False,
            "stagingAreaTags": {},
            # The model asks for exactly three rules: minutes, hours and days.
            "pitPolicy": [
                {
                    "ruleID": 1,
                    "units": "MINUTE",
                    "interval": minutes,
                    "retentionDuration": minutes * SNAPSHOT_RETENTION,
                    "enabled": True,
                },
                {"ruleID": 2, "units": "HOUR", "interval": 1, "retentionDuration": 24, "enabled": False},
                {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 7, "enabled": False},
            ],
            "autoReplicateNewDisks": True,
            "internetProtocol": "IPV4",
        }
