"""What the Recovery view reads of DRS itself: a failback run's copies home, Failback Clients and
re-protection, which no task leaves in Airflow while they happen.

Every other part of the view reads Airflow alone; this reader keeps DRS out of a page's way:

* each page asks a region for everything it needs at once (:class:`RegionReads`): at most one
  DescribeSourceServers and one DescribeRecoveryInstances per region per refresh (each paged);
* answers are shared by every page and user for :data:`CACHE_SECONDS` (a run page refreshes
  every 3 s, and several may be open), and a whole-region answer serves any question about that
  region's source servers meanwhile; one request per question at a time, the others wait for it;
* the client gives up quickly (:data:`CLIENT_CONFIG`) and does not wait out throttling as tasks
  do: a page shows what it could not read and asks again at a later refresh;
* an error is an answer too, cached as long, so a DRS that refuses is not asked at every refresh.

It reads through the run's own connection and regions (as ``preflight`` recorded them), the way
the terminate action (:mod:`drs_provider.ui.actions`) acts.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from drs_provider.hooks.drs import DrsHook
from drs_provider.operators.report_store import aws_error

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import boto3

log = logging.getLogger(__name__)

#: Seconds an answer of DRS serves every page: copies home take minutes to hours.
CACHE_SECONDS = 15.0
#: Answers kept at most (questions of many runs and regions); the oldest go first.
CACHE_ENTRIES = 256
#: A page waits seconds, not minutes: short timeouts and one retry.
CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=15, retries={"total_max_attempts": 2, "mode": "standard"}
)

SOURCE_SERVERS = "source_servers"
RECOVERY_INSTANCES = "recovery_instances"


class ViewDrsHook(DrsHook):
    """:class:`DrsHook` for a page: :data:`CLIENT_CONFIG` over the connection's own settings, and no
    waiting for the ``Retry-After`` of a throttled call (a task's hook waits up to minutes)."""

    def _get_config(self, config: Config | None = None) -> Config:
        return super()._get_config(config).merge(CLIENT_CONFIG)

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> boto3.session.Session:
        session = super().get_session(region_name=region_name, deferrable=deferrable)
        with contextlib.suppress(AttributeError):
            session.events.unregister("needs-retry.drs", unique_id="drs-retry-after")
        return session


@dataclass
class RegionReads:
    """What one page asks one region: source servers by ID (or every one), recovery instances by ID."""

    source_server_ids: set[str] = field(default_factory=set)
    #: every source server of the region (a FAILBACK server is found by its EC2 instance only)
    every_source_server: bool = False
    recovery_instance_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Answer:
    """DRS's items for one question, or why it could not be asked; and when it was asked."""

    items: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None
    read_at: datetime | None = None


@dataclass(frozen=True)
class RegionAnswers:
    """One region's answers to a page's :class:`RegionReads` (None: not asked)."""

    source_servers: Answer | None = None
    recovery_instances: Answer | None = None


def view_hook(aws_conn_id: str, region: str) -> DrsHook:
    return ViewDrsHook(aws_conn_id=aws_conn_id, region_name=region)


_Key = tuple[str, str, str, frozenset[str] | None]


class DrsReader:
    """The cached, bounded reads of DRS (module docstring); one per API server process
    (:data:`READER`).

    :param hook: a DRS hook for a connection and a region.
    :param ttl: seconds an answer is served.
    :param clock: monotonic seconds (tests move it).
    """

    def __init__(
        self,
        hook: Callable[[str, str], DrsHook] = view_hook,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hook = hook
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()  # sync routes run in a thread pool
        self._entries: dict[_Key, tuple[float, Answer]] = {}
        self._asking: dict[_Key, threading.Lock] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def read(self, aws_conn_id: str | None, reads: Mapping[str, RegionReads]) -> dict[str, RegionAnswers]:
        """Each region's answers to ``reads``, through ``aws_conn_id`` (None: ``aws_default``)."""
        conn_id = aws_conn_id or "aws_default"
        answers = {}
        for region, asked in reads.items():
            servers = None
            if asked.every_source_server or asked.source_server_ids:
                ids = None if asked.every_source_server else frozenset(asked.source_server_ids)
                servers = self._answer((conn_id, region, SOURCE_SERVERS, ids))
            instances = None
            if asked.recovery_instance_ids:
                key = (conn_id, region, RECOVERY_INSTANCES, frozenset(asked.recovery_instance_ids))
                instances = self._answer(key)
            answers[region] = RegionAnswers(servers, instances)
        return answers

    def _fresh(self, key: _Key) -> Answer | None:
        """A cached answer to ``key``, also from a whole-region answer; call with the lock held."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        conn_id, region, kind, ids = key
        whole = self._entries.get((conn_id, region, kind, None)) if kind == SOURCE_SERVERS and ids else None
        if whole is None or whole[0] <= now:
            return None
        answer = whole[1]
        items = tuple(item for item in answer.items if item.get("sourceServerID") in (ids or ()))
        return Answer(items, answer.error, answer.read_at)

    def _answer(self, key: _Key) -> Answer:
        with self._lock:
            cached = self._fresh(key)
            if cached is not None:
                return cached
            asking = self._asking.setdefault(key, threading.Lock())
        with asking:  # one request per question: who comes meanwhile waits for its answer
            with self._lock:
                cached = self._fresh(key)
                if cached is not None:
                    return cached
            answer = self._ask(key)
            with self._lock:
                now = self._clock()
                self._entries[key] = (now + self._ttl, answer)
                for old in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[old]
                while len(self._entries) > CACHE_ENTRIES:
                    del self._entries[next(iter(self._entries))]
                self._asking.pop(key, None)
        return answer

    def _ask(self, key: _Key) -> Answer:
        conn_id, region, kind, ids = key
        read_at = datetime.now(UTC)
        try:
            hook = self._hook(conn_id, region)
            if kind == SOURCE_SERVERS:
                items = hook.describe_source_servers(sorted(ids) if ids is not None else None)
            else:
                items = hook.describe_recovery_instances(sorted(ids or ()))
        except Exception as error:  # DRS (or the connection) refusing must not take the page down
            log.warning("could not read %s in %s through %s: %s", kind, region, conn_id, error)
            return Answer(error=aws_error(error), read_at=read_at)
        return Answer(tuple(items), read_at=read_at)


#: The API server's reader: every run page of the process shares its answers.
READER = DrsReader()
