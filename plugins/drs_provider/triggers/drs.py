"""Trigger that waits in the triggerer for DRS jobs to finish."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from airflow.triggers.base import TriggerEvent
from botocore.exceptions import BotoCoreError, WaiterError

from drs_provider.constants import JOB_IDS_PER_REQUEST
from drs_provider.hooks.drs import THROTTLE_MAX_DELAY, DrsHook
from drs_provider.template_values import as_str_list

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

#: Error codes after which the next poll may well succeed.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "BadGateway",
        "GatewayTimeout",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def retry_after_seconds(response: dict[str, Any], default: float) -> float:
    """The ``Retry-After`` (seconds) of an error response, else ``default``."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = response.get("retryAfterSeconds") or headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), THROTTLE_MAX_DELAY) if value is not None else default
    except ValueError:
        return default


class DrsJobCompleteTrigger(AwsBaseWaiterTrigger):
    """
    Wait until every given DRS job is COMPLETED, or a required server's launch failed.

    Each poll is one DescribeJobs request for all jobs, judged by the ``job_complete`` waiter in
    ``waiters/drs.json``. Throttling waits for the ``Retry-After`` DRS sends and never uses up an
    attempt; other transient errors are retried up to ``max_transient_errors`` times in a row.

    The event is ``{"status": "success" | "failure" | "timeout" | "error", "job_ids": [...],
    "optional_source_server_ids": [...], "message": ...}``; the task works out per-server
    results from the jobs themselves, so a large wave does not make a large event.

    :param job_ids: DRS job IDs (a list, or a JSON / Python-literal list string, or one ID).
    :param optional_source_server_ids: servers whose failed launch does not end the wait.
    :param waiter_delay: seconds between polls.
    :param waiter_max_attempts: polls before giving up with a ``timeout`` event.
    :param max_transient_errors: consecutive failed polls (not throttling) tolerated.
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region of the jobs.
    :param verify: Whether or not to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    aws_hook_class = DrsHook

    def __init__(
        self,
        *,
        job_ids: Sequence[str] | str,
        optional_source_server_ids: Sequence[str] | str | None = None,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 120,
        max_transient_errors: int = 5,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        # Kept as given: with start_from_trigger the values may still be templates here,
        # rendered into strings later; run() parses them.
        self.job_ids = job_ids
        self.optional_source_server_ids = optional_source_server_ids
        self.max_transient_errors = max_transient_errors
        super().__init__(
            serialized_fields={
                "job_ids": job_ids,
                "optional_source_server_ids": optional_source_server_ids,
                "max_transient_errors": max_transient_errors,
            },
            waiter_name="job_complete",
            waiter_args={},
            failure_message="DRS job failed",
            status_message="DRS job status",
            status_queries=["items[].status"],
            return_key="job_ids",
            return_value=job_ids,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )

    def hook(self) -> AwsGenericHook:
        """The DRS hook, built from the serialised connection, region, verify and config."""
        return DrsHook(**self._hook_parameters)

    def _event(self, status: str, job_ids: list[str], optional: list[str], message: str) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "job_ids": job_ids,
                "optional_source_server_ids": optional,
                "message": message,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        job_ids = as_str_list(self.job_ids, field="job_ids")
        optional = as_str_list(self.optional_source_server_ids, field="optional_source_server_ids")
        if not job_ids:
            yield self._event("error", job_ids, optional, "no DRS job IDs to wait for")
            return
        if len(job_ids) > JOB_IDS_PER_REQUEST:
            yield self._event(
                "error", job_ids, optional, f"{len(job_ids)} jobs exceed {JOB_IDS_PER_REQUEST} per wait"
            )
            return
        hook = self.hook()
        async with await hook.get_async_conn() as client:
            waiter = hook.get_waiter(
                self.waiter_name,
                parameters={"optional_server_ids": json.dumps(optional)},
                deferrable=True,
                client=client,
            )
            attempt = 0
            errors_in_a_row = 0
            while True:
                delay: float = self.waiter_delay
                try:
                    await waiter.wait(
                        filters={"jobIDs": job_ids},
                        maxResults=len(job_ids),
                        WaiterConfig={"MaxAttempts": 1},
                    )
                except WaiterError as error:
                    response = error.last_response or {}
                    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
                    if "terminal failure" in str(error):
                        yield self._event(
                            "failure", job_ids, optional, f"a required server failed to launch: {error}"
                        )
                        return
                    if code == "ThrottlingException":
                        # Throttling slows a recovery down; it never fails it.
                        delay = retry_after_seconds(response, self.waiter_delay)
                        self.log.info("DescribeJobs throttled; polling again in %.1f s", delay)
                        await asyncio.sleep(delay)
                        continue
                    if code is not None:
                        errors_in_a_row += 1
                        if code not in TRANSIENT_ERROR_CODES or errors_in_a_row > self.max_transient_errors:
                            yield self._event("error", job_ids, optional, f"DescribeJobs failed: {error}")
                            return
                        self.log.warning(
                            "DescribeJobs failed (%s), try %d of %d",
                            code,
                            errors_in_a_row,
                            self.max_transient_errors,
                        )
                    else:
                        errors_in_a_row = 0
                        statuses = [item.get("status") for item in response.get("items", [])]
                        self.log.info("DRS jobs %s: %s", ", ".join(job_ids), statuses)
                except BotoCoreError as error:  # connection reset, read timeout, ...
                    errors_in_a_row += 1
                    if errors_in_a_row > self.max_transient_errors:
                        yield self._event("error", job_ids, optional, f"DescribeJobs failed: {error}")
                        return
                    self.log.warning("DescribeJobs failed (%s), try %d", error, errors_in_a_row)
                else:
                    yield self._event("success", job_ids, optional, "all DRS jobs COMPLETED")
                    return
                attempt += 1
                if attempt >= self.attempts:
                    yield self._event(
                        "timeout",
                        job_ids,
                        optional,
                        f"DRS jobs not COMPLETED after {attempt} polls {self.waiter_delay} s apart",
                    )
                    return
                await asyncio.sleep(delay)
