"""A fleet across two regions for the failback tests, and the steps they share.

``EC2_SERVER`` is registered in us-west-2 (the recovery region) and protects an EC2 machine in
us-east-1 (its origin); ``ON_PREMISES_SERVER`` lives in the fleet's region, us-east-1, and protects
a machine in a data centre. Tests reset the simulator to this fleet at speed 0 and move the clock.
"""

from __future__ import annotations

from typing import Any

RECOVERY_REGION = "us-west-2"
ORIGIN_REGION = "us-east-1"
EC2_SERVER = "s-0f000000000000e01"
EC2_SERVER_DEFAULT_SYNC = "s-0f000000000000e02"
ON_PREMISES_SERVER = "s-0f000000000000p01"
LAUNCH_SECONDS = 60
SYNC_SECONDS = 600

FLEET: dict[str, Any] = {
    "account_id": "123456789012",
    "region": ORIGIN_REGION,
    "source_servers": [
        {
            "id": EC2_SERVER,
            "hostname": "orders-db",
            "tags": {"App": "orders"},
            "region": RECOVERY_REGION,
            "origin": {"region": ORIGIN_REGION},
            "launch_seconds": LAUNCH_SECONDS,
            "reverse_sync_seconds": SYNC_SECONDS,
        },
        {
            "id": EC2_SERVER_DEFAULT_SYNC,
            "hostname": "orders-app",
            "region": RECOVERY_REGION,
            "origin": {"region": ORIGIN_REGION},
            "launch_seconds": LAUNCH_SECONDS,
        },
        {"id": ON_PREMISES_SERVER, "hostname": "ledger-db", "launch_seconds": LAUNCH_SECONDS},
    ],
}


def recover(client: Any, simulator: Any, server_id: str) -> dict[str, Any]:
    """Launch ``server_id`` with StartRecovery, let the job finish, and return its recovery instance."""
    client.start_recovery(sourceServers=[{"sourceServerID": server_id}])
    simulator.advance(LAUNCH_SECONDS + 10)
    (instance,) = client.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"]
    return dict(instance)


def source_server(client: Any, server_id: str) -> dict[str, Any]:
    (server,) = client.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"]
    return dict(server)


def recovery_instance(client: Any, instance_id: str) -> dict[str, Any]:
    (instance,) = client.describe_recovery_instances(filters={"recoveryInstanceIDs": [instance_id]})["items"]
    return dict(instance)


def server_id_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def reverse(client: Any, instance_id: str) -> str:
    """ReverseReplication on ``instance_id``: the ID of the server it answers."""
    return server_id_of(
        client.reverse_replication(recoveryInstanceID=instance_id)["reversedDirectionSourceServerArn"]
    )


def logged(client: Any, job_id: str, event: str) -> list[dict[str, Any]]:
    """The job's log items of one ``event``."""
    return [item for item in client.describe_job_log_items(jobID=job_id)["items"] if item["event"] == event]
