"""One DescribeJobs poll loop per connection and event loop, shared by every DRS wait there.

Every :class:`~drs_provider.triggers.drs.DrsJobCompleteTrigger` of a triggerer runs in the
triggerer's one event loop. Instead of each wait polling DRS on its own (twelve waits, twelve
times the calls), a wait *subscribes* its job IDs to the :class:`JobPoller` of its connection
(``aws_conn_id``, region, ``verify``, ``botocore_config``) in the running event loop. Each tick
of the poller is ONE DescribeJobs for the union of the subscribed job IDs (1000 IDs per request,
every ``nextToken`` page followed), published to every subscriber as a :class:`Tick`; each
subscriber picks out its own jobs and keeps its own verdict, optional servers and deadlines.

* The tick interval is the smallest ``delay`` among the subscribers; a newcomer waits for the
  next tick (no extra call), except the first subscriber, which starts the loop with a poll.
* Throttling (what botocore's own retries did not absorb) and transient errors are handled here,
  once for everyone: a throttled tick waits the ``Retry-After`` DRS sent; a failing tick records
  since when DRS has failed and the last error, and every subscriber judges that by its own
  ``error_timeout``. Throttling never counts as failing: it slows a recovery, it does not end it.
* When the last subscriber leaves (its wait ended or was cancelled), the loop stops and its
  client is closed. A triggerer restart recreates the triggers; they simply subscribe again.

Why not Airflow 3.3's shared streams (``BaseEventTrigger.shared_stream_key()`` /
``open_shared_stream()``)? The triggerer routes a trigger through them only when it is a
``BaseEventTrigger`` (the asset-watcher base class), and ``open_shared_stream(kwargs)`` is
opened once per group with ONE trigger's kwargs: the stream cannot know the union of job IDs,
which changes whenever a wave starts or ends waiting. A deferred task's trigger would have to
become an event trigger (whose identity, ``hash``, is built for deduplicating asset watchers),
and ``dag.test()`` / ``airflow dags test`` call ``run()`` directly and would not share at all.
A small registry keyed by the running event loop works wherever ``run()`` runs, keeps the
aiobotocore client inside its own loop (sharing one across threads is unsafe), and needs nothing
from the triggerer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.constants import JOB_IDS_PER_REQUEST
from drs_provider.hooks.chunking import chunked
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.throttling import THROTTLE_MAX_DELAY

if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping, Sequence
    from types import TracebackType

log = logging.getLogger(__name__)

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


@functools.cache
def connection_errors() -> tuple[type[BaseException], ...]:
    """Failures of a poll that the next poll may not meet (aiobotocore mostly wraps aiohttp's own
    errors as BotoCoreError; one that slips through must not end every wait as a bug would).

    A function, so that aiohttp is imported in the triggerer when a poll fails, not by every task
    process that imports this module with the sensor: a tenth of a second of each task's start.
    """
    from aiohttp import ClientError as HttpClientError

    return (BotoCoreError, HttpClientError, OSError, TimeoutError)


#: Shortest tick, whatever a subscriber asks for: a delay of 0 must not spin on DRS.
MIN_TICK_SECONDS = 0.1


def retry_after_seconds(response: Mapping[str, Any], default: float) -> float:
    """The ``Retry-After`` (seconds) of an error response, else ``default``."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = response.get("retryAfterSeconds") or headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), THROTTLE_MAX_DELAY) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Tick:
    """What one tick of the poller learnt, as every subscriber sees it.

    :param seq: 1 for the first tick, counting up.
    :param asked: the job IDs this tick asked DRS about (a subscriber that joined while the tick
        was in flight is not among them and waits for the next one).
    :param jobs: the DescribeJobs items by job ID, when the tick succeeded; a job asked about and
        absent here is unknown to DRS.
    :param error: the tick's error, if it failed (``None`` when it succeeded or was throttled).
    :param failing_since: ``time.monotonic()`` of the first failed tick in a row, else ``None``.
    :param fatal: an error that ended the poller: every subscriber's wait ends with it.
    """

    seq: int
    asked: frozenset[str]
    jobs: Mapping[str, Mapping[str, Any]] | None = None
    error: str | None = None
    failing_since: float | None = None
    throttled: bool = False
    fatal: str | None = None

    @property
    def ok(self) -> bool:
        return self.jobs is not None


@dataclass(eq=False)
class Subscription:
    """One wait's place in a poller: its job IDs, its poll delay, and the ticks it has seen."""

    poller: JobPoller
    job_ids: tuple[str, ...]
    delay: float
    subscribed_at: float = field(default_factory=time.monotonic)
    seen: int = 0

    async def next_tick(self, timeout: float | None) -> Tick | None:
        """The next tick that asked about all of this wait's jobs, or ``None`` after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        until = None if timeout is None else loop.time() + max(timeout, 0.0)
        while True:
            tick = self.poller.tick
            if tick is not None and tick.seq > self.seen:
                self.seen = tick.seq
                if tick.fatal or not tick.ok or tick.asked.issuperset(self.job_ids):
                    return tick
                continue  # joined while that tick was in flight: wait for the next
            changed = self.poller.changed
            remaining = None if until is None else until - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except TimeoutError:
                return None

    def close(self) -> None:
        self.poller.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class JobPoller:
    """The shared DescribeJobs loop of one connection in one event loop (see the module docstring).

    :param hook_parameters: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``.
    """

    def __init__(self, key: Hashable, hook_parameters: Mapping[str, Any]) -> None:
        self.key = key
        self.hook_parameters = dict(hook_parameters)
        self.subscriptions: list[Subscription] = []
        self.tick: Tick | None = None
        #: Set (and replaced) at every tick; subscribers wait on it.
        self.changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: DescribeJobs requests sent (pages included), for logs and tests.
        self.requests = 0
        #: The error of the last failed tick (kept through throttled ticks), for the waits' messages.
        self.last_error: str | None = None

    # --- subscribers --------------------------------------------------------------------

    def subscribe(self, job_ids: Sequence[str], delay: float) -> Subscription:
        subscription = Subscription(self, tuple(dict.fromkeys(job_ids)), max(float(delay), MIN_TICK_SECONDS))
        self.subscriptions.append(subscription)
        if self._task is None or self._task.done():
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=f"drs-job-poller {self.key}")
        else:
            self._wake.set()  # the interval may have become shorter
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self.subscriptions:
            self.subscriptions.remove(subscription)
        if not self.subscriptions:
            _forget(self)
            if self._task is not None and not self._task.done():
                self._task.cancel()

    def _wanted(self) -> list[str]:
        return list(dict.fromkeys(job_id for sub in self.subscriptions for job_id in sub.job_ids))

    def _interval(self) -> float:
        return min((sub.delay for sub in self.subscriptions), default=MIN_TICK_SECONDS)

    def _publish(self, tick: Tick) -> None:
        self.tick = tick
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    # --- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        seq = 0
        failing_since: float | None = None
        try:
            hook = DrsHook(**self.hook_parameters)
            async with await hook.get_async_conn() as client:
                loop = asyncio.get_running_loop()
                while self.subscriptions:
                    started = loop.time()
                    asked = self._wanted()
                    seq += 1
                    delay_floor = 0.0
                    try:
                        jobs = await self._describe(client, asked)
                    except ClientError as error:
                        code = error.response.get("Error", {}).get("Code")
                        if code == "ThrottlingException":
                            delay_floor = retry_after_seconds(error.response, self._interval())
                            log.info("DescribeJobs throttled; polling again in %.1f s", delay_floor)
                            tick = Tick(seq, frozenset(asked), failing_since=failing_since, throttled=True)
                        elif code in TRANSIENT_ERROR_CODES:
                            failing_since = failing_since or time.monotonic()
                            self.last_error = f"{error}"
                            tick = Tick(
                                seq, frozenset(asked), error=self.last_error, failing_since=failing_since
                            )
                            log.warning("DescribeJobs failed (%s)", code)
                        else:
                            # Not transient (access denied, a bad request): no next poll will do better.
                            self._publish(Tick(seq, frozenset(asked), fatal=f"DescribeJobs failed: {error}"))
                            return
                    except connection_errors() as error:  # refused or reset, read timeout, ...
                        failing_since = failing_since or time.monotonic()
                        self.last_error = f"{type(error).__name__}: {error}"
                        tick = Tick(seq, frozenset(asked), error=self.last_error, failing_since=failing_since)
                        log.warning("DescribeJobs failed (%s)", self.last_error)
                    else:
                        failing_since = self.last_error = None
                        tick = Tick(seq, frozenset(asked), jobs=jobs)
                    self._publish(tick)
                    await self._sleep_until(loop, started, delay_floor)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or a broken connection: end every wait, never hang one
            log.exception("the DRS job poller failed")
            self._publish(Tick(seq + 1, frozenset(), fatal=f"polling DRS failed: {error!r}"))
        finally:
            _forget(self)

    async def _sleep_until(self, loop: asyncio.AbstractEventLoop, started: float, floor: float) -> None:
        """Sleep until the next tick is due; a new subscriber may make it due sooner."""
        not_before = loop.time() + floor
        while self.subscriptions:
            self._wake.clear()
            remaining = max(started + self._interval(), not_before) - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=remaining)
            except TimeoutError:
                return

    async def _describe(self, client: Any, job_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """DescribeJobs for ``job_ids``: 1000 per request, every page followed."""
        found: dict[str, Mapping[str, Any]] = {}
        for chunk in chunked(list(job_ids), JOB_IDS_PER_REQUEST):
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {"filters": {"jobIDs": list(chunk)}, "maxResults": len(chunk)}
                if token:
                    kwargs["nextToken"] = token
                self.requests += 1
                page = await client.describe_jobs(**kwargs)
                found.update((item["jobID"], item) for item in page.get("items", []))
                token = page.get("nextToken")
                if not token:
                    break
        return found


# --- the registry: one poller per connection per running event loop ---------------------

_lock = threading.Lock()
_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, JobPoller]] = (
    weakref.WeakKeyDictionary()
)


def poller_key(hook_parameters: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two waits share a poller: the connection, region, verify and botocore config."""
    return (
        hook_parameters.get("aws_conn_id"),
        hook_parameters.get("region_name"),
        json.dumps(hook_parameters.get("verify"), default=str),
        json.dumps(hook_parameters.get("config"), sort_keys=True, default=str),
    )


def shared_poller(hook_parameters: Mapping[str, Any]) -> JobPoller:
    """The poller of this connection in the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    key = poller_key(hook_parameters)
    with _lock:
        pollers = _pollers.setdefault(loop, {})
        poller = pollers.get(key)
        if poller is None:
            poller = pollers[key] = JobPoller(key, hook_parameters)
        return poller


def subscribe(hook_parameters: Mapping[str, Any], job_ids: Sequence[str], delay: float) -> Subscription:
    """Subscribe ``job_ids`` to the shared poller of this connection (leave with ``close()``)."""
    return shared_poller(hook_parameters).subscribe(job_ids, delay)


def active_pollers() -> list[JobPoller]:
    """The pollers of the running event loop (for tests and logs)."""
    with _lock:
        return list(_pollers.get(asyncio.get_running_loop(), {}).values())


def _forget(poller: JobPoller) -> None:
    """Drop ``poller`` from the registry, so that the next subscriber starts a fresh one."""
    with _lock:
        for pollers in _pollers.values():
            if pollers.get(poller.key) is poller:
                del pollers[poller.key]
