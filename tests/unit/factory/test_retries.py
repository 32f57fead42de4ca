"""Plan tasks retry after accidents (a lost worker, a failing connection), never after a verdict."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from airflow.sdk import RetryAction
from botocore.exceptions import EndpointConnectionError

from drs_provider.exceptions import (
    DrsInputError,
    DrsJobFailedError,
    DrsJobNotFoundError,
    DrsJobTimeoutError,
    DrsPreflightError,
    DrsProviderError,
    DrsQuotaError,
    DrsServerBusyError,
    DrsServerSelectionError,
    DrsStepError,
    FailedServer,
    PlanError,
)
from drs_provider.factory import build_dags
from drs_provider.factory.retries import RETRIES

if TYPE_CHECKING:
    from airflow.sdk import DAG

EXAMPLE_PLANS = Path(__file__).resolve().parents[3] / "dags" / "recovery_plans"


@pytest.fixture(scope="module")
def shop() -> DAG:
    return build_dags(EXAMPLE_PLANS)["drs_plan_shop"]


def test_the_drs_tasks_retry_twice_fifteen_seconds_apart_and_steps_with_side_effects_never(
    shop: DAG,
) -> None:
    drs_tasks = [
        "preflight",
        *(
            f"{wave}.{step}"
            for wave in ("database", "app", "web")
            for step in ("start_recovery", "wait_for_recovery")
        ),
    ]
    retries = {task.task_id: (task.retries, task.retry_delay) for task in shop.tasks}
    assert retries == {
        **{task_id: (2, timedelta(seconds=15)) for task_id in drs_tasks},
        # an approval asked twice, a command run twice: never behind a person's back
        "database.approve_failover": (0, timedelta(seconds=15)),
        "database.check_database": (0, timedelta(seconds=15)),
        # terminating again is safe (it re-reads what is left), and so is building the report again
        "cleanup": (2, timedelta(seconds=15)),
        "report": (2, timedelta(seconds=15)),
    }


@pytest.mark.parametrize(
    "verdict",
    [
        DrsPreflightError("shop", ["a recovery needs confirm=shop"]),
        DrsJobFailedError([FailedServer("s-0a000000000000001", "drsjob-00000000000000001", "FAILED")]),
        DrsJobTimeoutError(["drsjob-00000000000000001"], 60),
        DrsJobNotFoundError(["drsjob-00000000000000001"], region="us-east-1"),
        DrsStepError("database.wait_1", "the wait was interrupted"),
        DrsServerSelectionError("no server carries the tags Role=db"),
        DrsServerBusyError({"s-0a000000000000001": "drsjob-00000000000000001"}),
        DrsQuotaError("more than 20 concurrent jobs"),
        PlanError([]),
        DrsInputError("database.start_recovery.max_servers_per_job: must be 1 to 300, got 0"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_verdict_fails_at_once(shop: DAG, verdict: Exception) -> None:
    for task in shop.tasks:
        decision = task.retry_policy.evaluate(verdict, try_number=1, max_tries=RETRIES + 1)
        assert decision.action is RetryAction.FAIL, task.task_id


@pytest.mark.parametrize(
    "accident",
    [
        EndpointConnectionError(endpoint_url="https://drs.us-east-1.amazonaws.com/StartRecovery"),
        DrsProviderError("waiting for DRS jobs drsjob-00000000000000001 failed: DescribeJobs failed"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_anything_else_takes_the_ordinary_retries(shop: DAG, accident: Exception) -> None:
    for task in shop.tasks:
        decision = task.retry_policy.evaluate(accident, try_number=1, max_tries=RETRIES + 1)
        assert decision.action is RetryAction.DEFAULT, task.task_id
