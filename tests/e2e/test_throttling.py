"""DRS throttling waited out on a real Airflow (docs/how-to/worst-day.md): a ``ThrottlingException`` with a
``Retry-After`` delays a launch, never fails it or launches twice.

The module's simulator answers the next ``THROTTLED`` StartRecovery calls with HTTP 429 and
``Retry-After: RETRY_AFTER`` (botocore puts it in ``retryAfterSeconds``; neither its retry modes
nor aiobotocore wait for it, the provider's hook does). The plan's drill succeeds on its first
tries; each launch attempt came at least ``RETRY_AFTER`` seconds after the throttled one; and
exactly one attempt was answered, so one job launched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import pytest

from tests.e2e.harness import Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PLAN = "e2e_throttled"
DAG_ID = f"drs_plan_{PLAN}"
SERVER = {"id": "s-e2t00000000000001", "hostname": "throttled-db", "launch_seconds": 20}
THROTTLED = 2
RETRY_AFTER = 3
RUN_TIMEOUT = 300.0


@dataclass
class ThrottleDeployment(Deployment):
    runs: list[str] = field(default_factory=list)


def start_run(deployment: ThrottleDeployment) -> None:
    deployment.simulator.control(
        "faults",
        {
            "throttle_count": THROTTLED,
            "throttle_operations": ["StartRecovery"],
            "retry_after_seconds": RETRY_AFTER,
        },
    )
    deployment.runs.append(deployment.rest.trigger(DAG_ID, {}))


SCENARIO = Scenario(
    "throttling",
    plans={
        PLAN: {
            "plan": PLAN,
            "waves": [{"name": "db", "servers": {"ids": [SERVER["id"]]}, "poll_interval": 1}],
        }
    },
    fleet=[SERVER],
    deployment_class=ThrottleDeployment,
    start=start_run,
)


def test_a_throttled_launch_waits_as_drs_asks_and_launches_once(airflow: ThrottleDeployment) -> None:
    [run_id] = airflow.runs
    assert airflow.rest.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT) == "success"
    tries = {ti["task_id"]: ti["try_number"] for ti in airflow.rest.task_instances(DAG_ID, run_id)}
    assert tries["db.start_recovery"] == 1  # waited inside the task, not failed and retried

    attempts = airflow.simulator.calls("StartRecovery")
    assert [call["status"] for call in attempts] == [429] * THROTTLED + [202]
    assert all(call["throttled"] for call in attempts[:THROTTLED])
    gaps = [later["time"] - earlier["time"] for earlier, later in pairwise(attempts)]
    assert all(gap >= RETRY_AFTER - 0.05 for gap in gaps), gaps  # Retry-After honoured each time
    assert len(attempts[-1]["job_ids"]) == 1
    jobs = airflow.drs().describe_jobs(filters={})["items"]
    # one launch; the drill's clean-up is the TERMINATE job beside it
    assert sorted((job["type"], job["status"]) for job in jobs) == [
        ("LAUNCH", "COMPLETED"),
        ("TERMINATE", "COMPLETED"),
    ]
