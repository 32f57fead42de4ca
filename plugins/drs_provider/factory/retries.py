"""How the tasks of a plan's DAG retry: after a lost worker or a passing AWS failure, never after a verdict.

The DRS tasks of a plan are safe to run again in the same DAG run:

* ``preflight`` only reads (DescribeSourceServers, DescribeJobs, DescribeRecoverySnapshots, and
  the checks of the runbook steps' functions and documents), but for the probe object it writes
  and removes under the report prefix, the same key on every try;
* ``<wave>.start_recovery`` first finds the jobs it already started, through their tags, and
  starts only the servers none of them covers, so a second try never launches twice;
* ``<wave>.wait_for_recovery`` only reads the jobs that ``start_recovery`` returned and defers
  again.

So each gets :data:`RETRIES` retries, :data:`RETRY_DELAY` apart. A task whose worker dies is
failed by the scheduler once its heartbeat is older than ``[scheduler]
task_instance_heartbeat_timeout``, and then retried like any other failure. Errors that state
a verdict (preflight found problems, a server failed to launch, the wave timed out, DRS does
not know the jobs, servers are busy or over a quota, a step failed, a failback's copies did not
finish within ``failback_sync_timeout``) fail at once: a retry would
only repeat them later. So does a report that S3 would not store (botocore has retried the
call already): a second try would only send the run's final event again; clearing ``report``
once the bucket takes writes stores it.

The settings reach the tasks as the DAG's ``default_args``, so a task kind that is not safe to
run twice sets ``retries=0`` itself: the runbook steps that repeat side effects or ask a person
(``approval``, ``ssm_command``, ``ssm_automation``, ``lambda``) do, in their kind's arguments
(:mod:`drs_provider.steps`); a ``wait`` step retries (it starts over).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drs_provider.exceptions import (
    DrsFailbackWaitError,
    DrsInputError,
    DrsJobFailedError,
    DrsJobNotFoundError,
    DrsJobTimeoutError,
    DrsPreemptedError,
    DrsPreflightError,
    DrsQuotaError,
    DrsRecoveredServerError,
    DrsReportNotStoredError,
    DrsServerBusyError,
    DrsServerSelectionError,
    DrsStepError,
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
    DrsInputError,
    DrsFailbackWaitError,
    DrsPreemptedError,
    DrsPreflightError,
    DrsJobFailedError,
    DrsJobTimeoutError,
    DrsJobNotFoundError,
    DrsServerSelectionError,
    DrsServerBusyError,
    DrsQuotaError,
    DrsRecoveredServerError,
    DrsReportNotStoredError,
    DrsStepError,
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
