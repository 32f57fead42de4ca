"""Trigger that waits in the triggerer until a failback wave's servers are ready to launch."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from botocore.exceptions import ClientError

from drs_provider.constants import RECOVERY_INSTANCES_PER_REQUEST, SOURCE_SERVER_IDS_PER_REQUEST
from drs_provider.exceptions import DrsInputError
from drs_provider.hooks.chunking import chunked
from drs_provider.hooks.drs import DrsHook
from drs_provider.plans.model import FAILBACK_SYNC_TIMEOUT_DEFAULT
from drs_provider.recovery.failback import (
    READY_FOR_LAUNCH,
    SYNCED_STATE,
    Readiness,
    recovery_instance_readiness,
    source_server_readiness,
)
from drs_provider.recovery.missing import NOT_FOUND_ANSWERS, MissingJobs
from drs_provider.recovery.times import format_duration
from drs_provider.template_values import as_str_list
from drs_provider.triggers.drs import DEFAULT_ERROR_TIMEOUT
from drs_provider.triggers.job_poller import (
    MIN_TICK_SECONDS,
    TRANSIENT_ERROR_CODES,
    connection_errors,
    retry_after_seconds,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

#: Seconds between polls on AWS (a copy takes hours; tests against the simulator pass 0.1).
DEFAULT_POLL_INTERVAL = 30.0
#: A server's progress is logged again when its copy moved this many percentage points (or its
#: state changed): every poll would repeat a line per server for a day.
LOG_PERCENT_STEP = 10
#: Seconds a poll may go on past the deadline before it is given up as failed (one poll of a
#: large wave is several requests; a hung one must not hold the wait for ever).
POLL_GRACE_SECONDS = 30.0
#: Seconds after which the servers still waited for are all logged again, changed or not.
LOG_HEARTBEAT_SECONDS = 600.0


class DrsFailbackReadyTrigger(BaseTrigger):
    """
    Wait until a failback wave's servers in one region are ready to launch.

    Two kinds of server, in the hook's region (the caller makes one trigger per region):

    * ``source_server_ids``: FAILBACK source servers (ReverseReplication created them for EC2
      origins), ready once their ``dataReplicationState`` is CONTINUOUS;
    * ``recovery_instance_ids``: on-premises recovery instances, ready once their
      ``failback.state`` is FAILBACK_READY_FOR_LAUNCH (their Failback Client connected), or
      FAILBACK_COMPLETED (already home; the event's ``states`` says so).

    Each poll is DescribeSourceServers and DescribeRecoveryInstances by ID (200 per request, every
    page followed), judged by :func:`~drs_provider.recovery.failback.source_server_readiness` and
    :func:`~drs_provider.recovery.failback.recovery_instance_readiness`. A STALLED, PAUSED or
    STOPPED copy and an instance in FAILBACK_ERROR keep the wait going (the copy may recover, a
    person may resume it or reconnect the client) and are logged as such; a server disconnected
    from DRS, or missing from ``NOT_FOUND_ANSWERS`` answers in a row (deleted), ends it.

    The wait ends at ``deadline`` (epoch seconds, ``timeout`` after the trigger was first made):
    kept when serialised, so a triggerer restart does not give it a fresh ``timeout``. Throttling
    that botocore's own retries did not absorb waits the ``Retry-After`` DRS sent and never counts
    against the wait (:func:`~drs_provider.triggers.job_poller.retry_after_seconds`); failed polls
    (transient errors, DRS unreachable) are ridden out for ``error_timeout`` seconds in a row.

    Every event has ``status``, ``message``, ``region_name`` and ``servers`` (every ID waited for):

    * ``{"status": "ready", "states": {id: state}}``: all ready;
    * ``{"status": "timeout", "waiting": {id: description}}``: at the deadline, the message naming
      each server not ready with its state and progress (``s-1: STALLED, 40% of 10.0 GiB
      copied, lag 3m05s``);
    * ``{"status": "failed", "failed": {id: why}}``: a server can never get ready;
    * ``{"status": "error"}``: no IDs, polls failing for ``error_timeout`` s, or an error no
      poll will get past (access denied).

    :param source_server_ids: FAILBACK source servers to wait for (a list, or a JSON /
        Python-literal list string, or one ID).
    :param recovery_instance_ids: on-premises recovery instances to wait for (likewise).
    :param timeout: seconds to wait at most (the plan's ``failback_sync_timeout``).
    :param deadline: epoch seconds the wait ends; default ``timeout`` from now. Serialised, so
        that a re-created trigger keeps it.
    :param poll_interval: seconds between polls.
    :param error_timeout: seconds of consecutive failed polls tolerated; then the event is
        ``error``, naming the servers and the last error.
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region of the servers.
    :param verify: Whether or not to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for the botocore client.
    """

    def __init__(
        self,
        *,
        source_server_ids: Sequence[str] | str | None = None,
        recovery_instance_ids: Sequence[str] | str | None = None,
        timeout: float = FAILBACK_SYNC_TIMEOUT_DEFAULT,
        deadline: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        error_timeout: float = DEFAULT_ERROR_TIMEOUT,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__()
        # Kept as given (they may be rendered template strings); run() parses them.
        self.source_server_ids = source_server_ids
        self.recovery_instance_ids = recovery_instance_ids
        self.timeout = float(timeout)
        self.deadline = float(deadline) if deadline is not None else time.time() + self.timeout
        self.poll_interval = float(poll_interval)
        self.error_timeout = float(error_timeout)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self._missing = MissingJobs()  # counts answers in a row that left out any ID, not only jobs'
        self._logged: dict[str, tuple[str, int]] = {}
        self._logged_all_at = float("-inf")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        fields: dict[str, Any] = {
            "source_server_ids": self.source_server_ids,
            "recovery_instance_ids": self.recovery_instance_ids,
            "timeout": self.timeout,
            "deadline": self.deadline,
            "poll_interval": self.poll_interval,
            "error_timeout": self.error_timeout,
            "aws_conn_id": self.aws_conn_id,
        }
        optional = {
            "region_name": self.region_name or None,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }
        fields.update({key: value for key, value in optional.items() if value is not None})
        return f"{type(self).__module__}.{type(self).__qualname__}", fields

    def hook(self) -> DrsHook:
        """The DRS hook, built from the serialised connection, region, verify and config."""
        return DrsHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )

    def _event(self, status: str, servers: list[str], message: str, **extra: Any) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "servers": servers,
                "region_name": self.region_name,
                "message": message,
                **extra,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            server_ids = as_str_list(self.source_server_ids, field="source_server_ids")
            instance_ids = as_str_list(self.recovery_instance_ids, field="recovery_instance_ids")
        except DrsInputError as error:
            yield self._event("error", [], str(error))
            return
        everyone = [*server_ids, *instance_ids]
        if not everyone:
            yield self._event("error", [], "no source servers or recovery instances to wait for")
            return
        async with await self.hook().get_async_conn() as client:
            event = await self._wait(client, server_ids, instance_ids)
        yield event

    async def _wait(self, client: Any, server_ids: list[str], instance_ids: list[str]) -> TriggerEvent:
        """Poll until every server is ready, one is lost, the deadline or ``error_timeout``."""
        everyone = [*server_ids, *instance_ids]
        last: Mapping[str, Readiness] = {}  # the last answer, for the timeout's message
        failing_since: float | None = None
        last_error = ""
        while True:
            delay = max(self.poll_interval, MIN_TICK_SECONDS)
            bound = max(self.deadline - time.time(), 0.0) + POLL_GRACE_SECONDS
            try:
                # A poll that hangs (a read timeout and its retries) must not outlast the deadline
                # by much: given up, it counts as a failed poll.
                found = await asyncio.wait_for(self._describe(client, server_ids, instance_ids), bound)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "ThrottlingException":
                    delay = retry_after_seconds(error.response, delay)
                    self.log.info("DRS throttled the failback poll; polling again in %.1f s", delay)
                elif code in TRANSIENT_ERROR_CODES:
                    failing_since = failing_since or time.monotonic()
                    last_error = str(error)
                    self.log.warning("polling the failback servers failed (%s)", code)
                else:
                    # Not transient (access denied, a bad request): no next poll will do better.
                    return self._event("error", everyone, f"polling the failback servers failed: {error}")
            except TimeoutError:
                failing_since = failing_since or time.monotonic()
                last_error = f"no answer within {bound:.0f} s"
                self.log.warning("polling the failback servers failed (%s)", last_error)
            except connection_errors() as error:  # refused or reset, read timeout, ...
                failing_since = failing_since or time.monotonic()
                last_error = f"{type(error).__name__}: {error}"
                self.log.warning("polling the failback servers failed (%s)", last_error)
            else:
                failing_since = None
                last = found
                event = self._judge(found, everyone)
                if event is not None:
                    return event
            if failing_since is not None and time.monotonic() - failing_since >= self.error_timeout:
                return self._event(
                    "error",
                    everyone,
                    f"polling DRS for {', '.join(everyone)} failed for "
                    f"{time.monotonic() - failing_since:.0f} s in a row "
                    f"(error_timeout {self.error_timeout:g} s); last error: {last_error}",
                )
            left = self.deadline - time.time()
            if left <= 0:
                return self._timeout(everyone, last)
            await asyncio.sleep(max(min(delay, left), MIN_TICK_SECONDS))

    async def _describe(
        self, client: Any, server_ids: Sequence[str], instance_ids: Sequence[str]
    ) -> dict[str, Readiness]:
        """The readiness of every server and instance DRS lists (an ID it left out is absent)."""
        found: dict[str, Readiness] = {}
        for chunk in chunked(list(server_ids), SOURCE_SERVER_IDS_PER_REQUEST):
            items = await _all_items(client, "describe_source_servers", {"sourceServerIDs": list(chunk)})
            found.update((item["sourceServerID"], source_server_readiness(item)) for item in items)
        for chunk in chunked(list(instance_ids), RECOVERY_INSTANCES_PER_REQUEST):
            items = await _all_items(
                client, "describe_recovery_instances", {"recoveryInstanceIDs": list(chunk)}
            )
            found.update((item["recoveryInstanceID"], recovery_instance_readiness(item)) for item in items)
        return found

    def _judge(self, found: Mapping[str, Readiness], everyone: list[str]) -> TriggerEvent | None:
        """The event that ends the wait, or ``None`` to keep waiting."""
        missing, gone = self._missing.record(everyone, found)
        lost = {readiness.server_id: readiness.lost for readiness in found.values() if readiness.lost}
        lost.update(
            (server_id, f"DRS does not know it (any more): missing from {NOT_FOUND_ANSWERS} answers in a row")
            for server_id in gone
        )
        if lost:
            return self._event(
                "failed",
                everyone,
                "failback servers that can never get ready: "
                + "; ".join(f"{server_id}: {why}" for server_id, why in lost.items()),
                failed=lost,
            )
        waiting = {
            server_id: found[server_id]
            for server_id in everyone
            if server_id in found and not found[server_id].ready
        }
        if missing:
            # As with jobs, DRS may list a server just created a moment late: one more answer.
            self.log.info("DRS did not list %s; asking again at the next poll", ", ".join(missing))
        elif not waiting:
            states = {server_id: found[server_id].state for server_id in everyone}
            return self._event(
                "ready", everyone, f"{len(everyone)} failback server(s) ready to launch", states=states
            )
        self._log_progress(waiting)
        return None

    def _log_progress(self, waiting: Mapping[str, Readiness]) -> None:
        """Log the servers whose state changed or whose copy moved on; all of them now and then."""
        now = time.monotonic()
        heartbeat = now - self._logged_all_at >= LOG_HEARTBEAT_SECONDS
        for server_id, readiness in waiting.items():
            key = (readiness.state, _percent_step(readiness))
            if not heartbeat and self._logged.get(server_id) == key:
                continue
            self._logged[server_id] = key
            if readiness.trouble:
                self.log.warning("%s; still waiting: %s", readiness.description, readiness.trouble)
            else:
                self.log.info("%s", readiness.description)
        if heartbeat:
            self._logged_all_at = now
            self.log.info(
                "waiting for %d failback server(s) in %s to be ready (%s or %s), %s left",
                len(waiting),
                self.region_name or "the connection's region",
                SYNCED_STATE,
                READY_FOR_LAUNCH,
                format_duration(max(self.deadline - time.time(), 0.0)),
            )

    def _timeout(self, everyone: list[str], last: Mapping[str, Readiness]) -> TriggerEvent:
        """The event at the deadline: every server not ready as the last answer showed it."""
        waiting = {
            server_id: last[server_id].description if server_id in last else f"{server_id}: not listed by DRS"
            for server_id in everyone
            if server_id not in last or not last[server_id].ready
        }
        return self._event(
            "timeout",
            everyone,
            f"failback servers not ready after {format_duration(self.timeout)}: "
            + "; ".join(waiting.values()),
            waiting=waiting,
        )


def _percent_step(readiness: Readiness) -> int:
    """The copy's progress in steps of :data:`LOG_PERCENT_STEP` percentage points (-1: unknown)."""
    return -1 if readiness.copied_percent is None else int(readiness.copied_percent // LOG_PERCENT_STEP)


async def _all_items(client: Any, operation: str, filters: Mapping[str, Any]) -> list[dict]:
    """Every item of a Describe call, following each ``nextToken`` page."""
    items: list[dict] = []
    async for page in client.get_paginator(operation).paginate(filters=dict(filters)):
        items.extend(page.get("items", []))
    return items
