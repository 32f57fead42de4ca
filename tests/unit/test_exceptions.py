"""Every exception of the tree survives pickling with its facts: Airflow moves them between processes."""

from __future__ import annotations

import inspect
import pickle

import pytest

from drs_provider import exceptions
from drs_provider.exceptions import (
    DrsAgentStartingError,
    DrsCapacityError,
    DrsCleanupError,
    DrsFailbackWaitError,
    DrsInputError,
    DrsJobFailedError,
    DrsJobNotFoundError,
    DrsJobTimeoutError,
    DrsNativePlanSyncError,
    DrsPreemptedError,
    DrsPreflightError,
    DrsProviderError,
    DrsQuotaError,
    DrsRecoveredServerError,
    DrsReportNotStoredError,
    DrsServerBusyError,
    DrsServerSelectionError,
    DrsStepError,
    FailedServer,
    NativePlanFailure,
    PlanError,
    PlanIssue,
)

EXAMPLES: list[DrsProviderError] = [
    DrsProviderError("something broke"),
    DrsInputError("db.start_recovery.point_in_time: 'yesterday' is not an ISO-8601 time"),
    PlanError([PlanIssue("recovery_plans/shop.yaml", "waves[1].depends_on", "unknown wave 'db'")]),
    DrsServerSelectionError("unknown ids", unknown_ids=["s-0a000000000000009"], tags={"Role": "db"}),
    DrsServerBusyError({"s-0a000000000000001": "drsjob-0a000000000000001"}),
    DrsQuotaError("too many servers"),
    DrsCapacityError("20 of 20 jobs active", quota_code="L-D88FAC3A", active_jobs=20, active_servers=140),
    DrsRecoveredServerError(
        "web.start_recovery",
        [("s-0a000000000000001", "live recovery instance i-0123456789abcdef0 (RUNNING, not a drill)")],
        "a drill never launches over a recovered server",
    ),
    DrsPreemptedError("manual__drill", "manual__recovery"),
    DrsAgentStartingError("i-0123456789abcdef0", "the replication agent is starting; try again"),
    DrsFailbackWaitError(
        "app.start_recovery", 3600.0, "s-1 (db-1), FAILBACK source server s-2: STALLED, lag 3m05s"
    ),
    DrsPreflightError("shop", ["confirm: mode=recovery needs confirm='shop'", "waves: unknown wave 'x'"]),
    DrsJobFailedError(
        [FailedServer("s-0a000000000000001", "drsjob-0a000000000000001", "FAILED", "db-1", "boom")]
    ),
    DrsJobTimeoutError(["drsjob-0a000000000000001"], 120.0),
    DrsJobNotFoundError(["drsjob-0a000000000000001"], region="us-east-1"),
    DrsCleanupError(["i-0123456789abcdef0"], ["drsjob-0a000000000000009"]),
    DrsReportNotStoredError(
        "dr-evidence", "shop/drs_plan_shop/manual__1.json", "AccessDenied: Access Denied"
    ),
    DrsNativePlanSyncError(
        [NativePlanFailure("shop", "aws_default, us-west-2", "UninitializedAccountException: no DRS")]
    ),
    DrsStepError("database.post_1_ssm_command", "SSM command failed on i-0123456789abcdef0"),
]


def facts(error: Exception) -> dict[str, object]:
    return {key: value for key, value in vars(error).items() if not key.startswith("__")}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_pickle_round_trip_keeps_type_message_and_facts(error: DrsProviderError) -> None:
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert facts(copy) == facts(error)


def test_every_exception_class_has_an_example() -> None:
    classes = {
        cls
        for _, cls in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(cls, DrsProviderError) and cls.__module__ == exceptions.__name__
    }

    assert classes == {type(error) for error in EXAMPLES}


def test_invalid_task_input_is_a_provider_error_and_still_a_value_error():
    from drs_provider.template_values import as_int

    with pytest.raises(DrsInputError) as caught:
        as_int("three", field="wave.start_recovery.max_servers_per_job")

    assert isinstance(caught.value, DrsProviderError) and isinstance(caught.value, ValueError)
    assert str(caught.value) == "wave.start_recovery.max_servers_per_job: expected an integer, got 'three'"
