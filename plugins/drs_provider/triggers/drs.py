"""Trigger that waits in the triggerer for DRS jobs to finish."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from drs_provider.constants import JOB_ID_PATTERN, JOB_IDS_PER_REQUEST
from drs_provider.hooks.drs import DrsHook
from drs_provider.recovery.missing import NOT_FOUND_ANSWERS, MissingJobs
from drs_provider.recovery.outcome import WAIT_FAILED, WAIT_SUCCEEDED, wait_verdict
from drs_provider.template_values import as_str_list
from drs_provider.triggers import job_poller

# Re-exported: their home is the shared poller, older imports name this module.
TRANSIENT_ERROR_CODES = job_poller.TRANSIENT_ERROR_CODES
retry_after_seconds = job_poller.retry_after_seconds

VERDICT_MESSAGES = {
    WAIT_FAILED: "a required server failed to launch",
    WAIT_SUCCEEDED: "all DRS jobs COMPLETED",
}
#: Seconds of consecutive failed polls a wait rides out before it ends naming the last error.
DEFAULT_ERROR_TIMEOUT = 300.0

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from drs_provider.triggers.job_poller import Subscription, Tick


class DrsJobCompleteTrigger(BaseTrigger):
    """
    Wait until every given DRS job is COMPLETED, or a required server's launch failed.

    A plain ``BaseTrigger``: it polls through the shared loop, not a botocore waiter, so it takes
    from the amazon provider only its hook (:class:`~drs_provider.hooks.drs.DrsHook`, built from
    the same connection, region, SSL and botocore settings as the task's) and keeps the waiter
    triggers' parameter names, so serialized triggers of earlier versions still load.

    The wait subscribes its jobs to the triggerer's shared poll loop of its connection
    (:mod:`drs_provider.triggers.job_poller`): one DescribeJobs per tick for all the waits there,
    so the calls do not grow with the number of waits. Each tick's answer is judged for this
    wait's jobs alone, with :func:`~drs_provider.recovery.outcome.wait_verdict` (the verdict of
    every way to wait). Throttling waits for the ``Retry-After`` DRS sends and never counts
    against the wait; failed polls (transient errors, DRS unreachable) are ridden out for
    ``error_timeout`` seconds in a row.

    The event is ``{"status": "success" | "failure" | "not_found" | "timeout" | "error",
    "job_ids": [...], "optional_source_server_ids": [...], "message": ...}`` (``not_found``
    adds ``missing_job_ids``: jobs missing from ``NOT_FOUND_ANSWERS`` answers in a row end the
    wait, without waiting for the timeout). The
    task works out per-server results from the jobs themselves, so a large wave does not make a
    large event.

    :param job_ids: DRS job IDs (a list, or a JSON / Python-literal list string, or one ID).
    :param optional_source_server_ids: servers whose failed launch does not end the wait.
    :param waiter_delay: seconds between polls (the shared loop polls at the shortest delay of
        its waits).
    :param waiter_max_attempts: with ``waiter_delay``, how long to wait: after
        ``waiter_delay * waiter_max_attempts`` seconds the event is ``timeout``.
    :param max_transient_errors: no longer used (``error_timeout`` replaced it); accepted so
        that triggers serialised by earlier versions still load.
    :param error_timeout: seconds of consecutive failed polls tolerated; then the event is
        ``error``, naming the jobs and the last error.
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region of the jobs.
    :param verify: Whether or not to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    def __init__(
        self,
        *,
        job_ids: Sequence[str] | str,
        optional_source_server_ids: Sequence[str] | str | None = None,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 120,
        max_transient_errors: int | None = None,
        error_timeout: float = DEFAULT_ERROR_TIMEOUT,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__()
        # Kept as given: with start_from_trigger the values may still be templates here,
        # rendered into strings later; run() parses them.
        self.job_ids = job_ids
        self.optional_source_server_ids = optional_source_server_ids
        self.max_transient_errors = max_transient_errors
        self.error_timeout = error_timeout
        self._last_statuses: list[Any] | None = None
        self._missing_jobs = MissingJobs()
        self.waiter_delay = waiter_delay
        self.attempts = waiter_max_attempts
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def serialize(self) -> tuple[str, dict[str, Any]]:
        fields: dict[str, Any] = {
            "job_ids": self.job_ids,
            "optional_source_server_ids": self.optional_source_server_ids,
            "error_timeout": self.error_timeout,
            "waiter_delay": self.waiter_delay,
            "waiter_max_attempts": self.attempts,
            "aws_conn_id": self.aws_conn_id,
        }
        if self.max_transient_errors is not None:
            fields["max_transient_errors"] = self.max_transient_errors
        optional = {
            "region_name": self.region_name or None,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }
        fields.update({key: value for key, value in optional.items() if value is not None})
        return f"{type(self).__module__}.{type(self).__qualname__}", fields

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        """The hook's keywords: the connection, region, SSL setting and botocore config of the task."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name or None,  # an empty rendered pull: the connection's
            "verify": self.verify,
            "config": self.botocore_config,
        }

    def hook(self) -> DrsHook:
        """The DRS hook, built from the serialised connection, region, verify and config."""
        return DrsHook(**self._hook_parameters)

    @property
    def timeout_seconds(self) -> float:
        """How long this wait lasts at most: ``waiter_delay * waiter_max_attempts``."""
        return max(float(self.waiter_delay), job_poller.MIN_TICK_SECONDS) * max(self.attempts, 1)

    def _event(
        self, status: str, job_ids: list[str], optional: list[str], message: str, **extra: Any
    ) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "job_ids": job_ids,
                "optional_source_server_ids": optional,
                "message": message,
                **extra,
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
        # Checked here, not by DRS: a malformed ID would fail the shared request of every wait.
        malformed = [job_id for job_id in job_ids if not re.fullmatch(JOB_ID_PATTERN, job_id)]
        if malformed:
            yield self._event(
                "error", job_ids, optional, f"not DRS job IDs (drsjob- and 17 letters or digits): {malformed}"
            )
            return
        subscription = job_poller.subscribe(self._hook_parameters, job_ids, self.waiter_delay)
        try:
            event = await self._wait(subscription, job_ids, optional)
        finally:
            subscription.close()  # also when cancelled: the shared loop stops with its last wait
        yield event

    async def _wait(
        self, subscription: Subscription, job_ids: list[str], optional: list[str]
    ) -> TriggerEvent:
        """Read this wait's jobs from each shared tick until a verdict, a deadline or an error."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            until = self._until_next_deadline(time.monotonic(), deadline, subscription)
            tick = await subscription.next_tick(timeout=until)
            now = time.monotonic()
            if tick is not None and tick.fatal:
                return self._event("error", job_ids, optional, tick.fatal)
            if tick is not None and tick.ok:
                event = self._judge(tick, job_ids, optional)
                if event is not None:
                    return event
            failing = self._failing_for(now, subscription)
            if failing is not None and failing >= self.error_timeout:
                return self._event(
                    "error",
                    job_ids,
                    optional,
                    f"DescribeJobs failed for {failing:.0f} s in a row "
                    f"(error_timeout {self.error_timeout:g} s); last error: {subscription.poller.last_error}",
                )
            if now >= deadline:
                return self._event(
                    "timeout",
                    job_ids,
                    optional,
                    f"DRS jobs not COMPLETED after {self.timeout_seconds:g} s",
                )

    def _failing_for(self, now: float, subscription: Subscription) -> float | None:
        """Seconds DRS has failed in a row as this wait saw it (counted from its own start)."""
        tick = subscription.poller.tick
        if tick is None or tick.failing_since is None:
            return None
        return now - max(tick.failing_since, subscription.subscribed_at)

    def _until_next_deadline(self, now: float, deadline: float, subscription: Subscription) -> float:
        """Seconds until this wait must decide even without a tick (a poll may hang)."""
        until = deadline - now
        tick = subscription.poller.tick
        if tick is not None and tick.failing_since is not None:
            since = max(tick.failing_since, subscription.subscribed_at)
            until = min(until, since + self.error_timeout - now)
        return max(until, 0.0)

    def _judge(self, tick: Tick, job_ids: list[str], optional: list[str]) -> TriggerEvent | None:
        """This wait's verdict from a successful tick, or ``None`` to keep waiting."""
        found = tick.jobs or {}
        missing, gone = self._missing_jobs.record(job_ids, found)
        if gone:
            return self._event(
                "not_found",
                job_ids,
                optional,
                f"DRS does not know job(s) {', '.join(gone)} (any more): "
                f"missing from {NOT_FOUND_ANSWERS} DescribeJobs answers in a row",
                missing_job_ids=gone,
            )
        if missing:
            self.log.info("DRS did not list job(s) %s; asking again at the next poll", ", ".join(missing))
            return None
        jobs = [found[job_id] for job_id in job_ids]
        verdict = wait_verdict(jobs, optional)
        if verdict is not None:
            return self._event(verdict, job_ids, optional, VERDICT_MESSAGES[verdict])
        statuses = [job.get("status") for job in jobs]
        if statuses != self._last_statuses:  # every tick would repeat it, every second per wait
            self.log.info("DRS jobs %s: %s", ", ".join(job_ids), statuses)
            self._last_statuses = statuses
        return None
