"""How the tasks of a plan's DAG retry: after a lost worker or a passing AWS failure, never after a verdict.

Every task the factory renders today is safe to run again in the same DAG run:

* ``preflight`` only reads (DescribeSourceServers, DescribeJobs, DescribeRecoverySnapshots);
* ``<wave>.start_recovery`` first finds the jobs it already started, through their tags, and
  starts only the servers none of them covers, so a second try never launches twice;
* ``<wave>.wait_for_recovery`` only reads the jobs that ``start_recovery`` returned and defers
  again.

So each gets :data:`RETRIES` retries, :data:`RETRY_DELAY` apart. A task whose worker dies is
failed by the scheduler once its heartbeat is older than ``[scheduler]
task_instance_heartbeat_timeout``, and then retried like any other failure. Errors that state
a verdict (preflight found problems, a server failed to launch, the wave timed out, servers
are busy or over a quota) fail at once: a retry would only repeat them later.

The settings reach the tasks as the DAG's ``default_args``; a task kind added later that is
not safe to run twice must set ``retries=0`` itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drs_provider.exceptions import (
    DrsJobFailedError,
    DrsJobTimeoutError,
    DrsPreflightError,
    DrsQuotaError,
    DrsServerBusyError,
    DrsServerSelectionError,
    PlanError,
)

#: Tries after the first: two lost workers (or AWS failures outlasting botocore's own retries)
#: in one task are already rare; more would only delay the report of a real outage.
RETRIES = 2
#: The heartbeat timeout has already passed when a lost task is retried, and botocore has
#: retried a failed call itself: waiting longer only adds to the recovery time.
RETRY_DELAY = timedelta(seconds=15)
#: Errors that are the answer, not an accident: they fail the task without a retry.
VERDICTS: tuple[type[BaseException], ...] = (
    DrsPreflightError,
    DrsJobFailedError,
    DrsJobTimeoutError,
    DrsServerSelectionError,
    DrsServerBusyError,
    DrsQuotaError,
    PlanError,
)


def retry_default_args() -> dict[str, Any]:
    """``retries``, ``retry_delay`` and ``retry_policy`` for a plan DAG's ``default_args``."""
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    policy = ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception=list(VERDICTS),
                action=RetryAction.FAIL,
                reason="a verdict on this run, not a passing failure: a retry would repeat it",
            )
        ]
    )
    return {"retries": RETRIES, "retry_delay": RETRY_DELAY, "retry_policy": policy}
