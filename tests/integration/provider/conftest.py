"""Shared pieces for provider tests against the in-process DRS simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from drs_provider.hooks.drs import DrsHook

SHOP_DB = ["s-0a000000000000001", "s-0a000000000000002"]
SHOP_APP = ["s-0a000000000000003", "s-0a000000000000004"]
SHOP_WEB = ["s-0a000000000000005", "s-0a000000000000006"]
SHOP_DB_REPLICA = "s-0a000000000000007"
SHOP_ALL = [*SHOP_DB, *SHOP_APP, *SHOP_WEB, SHOP_DB_REPLICA]
PORTAL_ALL = [f"s-0b00000000000000{n}" for n in range(1, 6)]


class TaskInstanceStandIn:
    """The few task-instance facts and the XCom push an operator's ``execute()`` uses."""

    def __init__(
        self, task_id: str, dag_id: str = "drs_plan_shop", run_id: str = "manual__test", map_index: int = -1
    ):
        self.task_id = task_id
        self.dag_id = dag_id
        self.run_id = run_id
        self.map_index = map_index
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class DagRunStandIn:
    def __init__(self, run_after: datetime) -> None:
        self.run_after = run_after
        self.logical_date = run_after
        self.start_date = run_after


def make_context(task_id: str, run_id: str = "manual__test", **ti_kwargs: Any) -> dict[str, Any]:
    """A minimal execution context for calling ``execute()`` directly."""
    ti = TaskInstanceStandIn(task_id, run_id=run_id, **ti_kwargs)
    return {"ti": ti, "task_instance": ti, "dag_run": DagRunStandIn(datetime.now(UTC))}


@pytest.fixture
def drs_hook(aws_conn: str) -> DrsHook:
    return DrsHook(aws_conn_id=aws_conn)


def start_jobs(
    hook: DrsHook, server_ids: list[str], *, tags: dict[str, str] | None = None, per_job: int = 100
) -> list[str]:
    """Drill jobs of at most ``per_job`` of ``server_ids`` each, started directly (StartRecovery)."""
    return [
        hook.start_recovery_job(
            [{"sourceServerID": server_id} for server_id in server_ids[index : index + per_job]],
            is_drill=True,
            tags=tags,
        )["jobID"]
        for index in range(0, len(server_ids), per_job)
    ]


def large_fleet(count: int, *, failing: dict[int, str] | None = None) -> dict[str, Any]:
    """A fleet of ``count`` servers tagged ``App: big``; ``failing`` maps index -> rawError."""
    failing = failing or {}
    servers = []
    for index in range(count):
        server: dict[str, Any] = {
            "id": f"s-{index:017d}",
            "hostname": f"big-{index}",
            "tags": {"App": "big"},
            "launch_seconds": 30 + index % 7,
        }
        if index in failing:
            server["fail_launch"] = failing[index]
        servers.append(server)
    return {
        "account_id": "123456789012",
        "region": "us-east-1",
        "quotas": {"max_servers_per_job": 100, "max_servers_in_active_jobs": 1000, "max_concurrent_jobs": 20},
        "source_servers": servers,
    }
