"""Waiting for DRS capacity in the triggerer, in turn: recoveries before drills, then priority.

A launch DRS refuses for a quota of the account (concurrent jobs, servers in active jobs,
``ServiceQuotaExceededException``) is not a failure on the worst day: many plans fail over at
once and must share the account's jobs. The wave's ``start_recovery`` then defers to
:class:`DrsCapacityTrigger`, which frees its worker slot and waits here.

Every capacity wait of one account and region in this triggerer joins one queue. Each poll
(one DescribeJobs listing per account and poll, shared by its waits) counts the active jobs and
their servers, and :func:`admit` lets waits go strictly in rank order: a recovery before any
drill, then higher ``priority``, then the one waiting longest; a wait that does not fit holds
back those behind it, so a large recovery is never starved by small drills. A wait let go keeps
its share reserved until DRS lists a new job carrying its task's tags (its task resumes in a
worker and launches meanwhile), for :data:`RESERVATION_SECONDS` at most. The queue and the
reservations are published for the workers (:mod:`drs_provider.recovery.capacity_queue`), so that
a launch that has not waited yet joins the queue behind them instead of overtaking them. Once
the last wait is let go, a watcher of the account goes on polling until the reservations end and
publishes the empty queue; left published, they would hold back every new launch until stale.

The limits are the quotas the operator knows (the documented defaults unless set) narrowed by
what DRS showed when it refused: a refusal with N jobs active means the account allows at most
N. When nothing is active the head of the queue always goes (DRS then judges it alone).
Several triggerers share the order through the publication: at each poll a triggerer reads the
other triggerers' waits and reservations and counts them in :func:`admit` as if they were its
own, so a recovery waiting in one triggerer goes before a drill waiting in another. A triggerer
that died leaves its section until it is stale (60 s); its triggers meanwhile rejoin a live
triggerer, and a task listed twice counts once (each entry names its task). DRS's own refusal
still protects the account, and a wait refused again simply waits again, keeping its place
(``waiting_since``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async

from drs_provider.constants import TAG_DAG_ID, TAG_MAP_INDEX, TAG_RUN_ID, TAG_TASK_ID
from drs_provider.hooks.drs import DrsHook
from drs_provider.operators.capacity_queue import publish_queue, read_queue
from drs_provider.recovery.capacity_queue import REPUBLISH_SECONDS, Entry, published_entries, section_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

#: Seconds between capacity polls of one account (shared by every wait of that account).
CAPACITY_POLL_SECONDS = 2.0
#: Seconds a wait that was let go keeps its share at most, if no job of its task shows up.
RESERVATION_SECONDS = 60.0


@dataclass(frozen=True)
class Usage:
    """The account's active jobs and the servers they hold, and its limits."""

    jobs: int
    servers: int
    max_jobs: int
    max_servers: int

    def describe(self) -> str:
        return (
            f"{self.jobs} of {self.max_jobs} jobs active, "
            f"{self.servers} of {self.max_servers} servers in active jobs"
        )


def admit(
    me: int, queue: Mapping[int, Entry], reserved: list[Entry], usage: Usage, others: Sequence[Entry] = ()
) -> bool:
    """Whether the wait ``me`` of ``queue`` may launch now (see the module docstring); ``others``
    are the other triggerers' published waits and reservations, counted as this one's."""
    queue = {**queue, **{-1 - index: entry for index, entry in enumerate(others) if entry.until is None}}
    reserved = [*reserved, *(entry for entry in others if entry.until is not None)]
    free_jobs = usage.max_jobs - usage.jobs - sum(need.jobs for need in reserved)
    free_servers = usage.max_servers - usage.servers - sum(need.servers for need in reserved)
    idle = usage.jobs == 0 and not reserved
    for key, need in sorted(queue.items(), key=lambda item: item[1].turn):
        fits = idle or (need.jobs <= free_jobs and need.servers <= free_servers)
        if key == me:
            return fits
        if not fits:
            return False  # strictly in turn: nobody overtakes a wait ahead that does not fit
        free_jobs, free_servers, idle = free_jobs - need.jobs, free_servers - need.servers, False
    return False


@dataclass(frozen=True)
class Release:
    """A wait let go: its share stays reserved until its task has one more job than ``jobs_seen``."""

    at: float
    need: Entry
    owner: tuple[str, ...]
    jobs_seen: int
    #: epoch seconds the reservation ends at the latest (published for the workers)
    expires: float = 0.0


def owner_of(tags: Mapping[str, Any]) -> tuple[str, ...]:
    """The task a job belongs to, from the identity tags every launch of a task carries."""
    return tuple(str(tags.get(key, "")) for key in (TAG_DAG_ID, TAG_RUN_ID, TAG_TASK_ID, TAG_MAP_INDEX))


@dataclass
class Account:
    """The capacity waits of one account and region in this triggerer (``name`` in the queue)."""

    name: str
    #: the waits, each as published (``until`` None)
    queue: dict[int, Entry] = field(default_factory=dict)
    released: list[Release] = field(default_factory=list)
    #: jobs DRS listed per task (:func:`owner_of`) at the last poll
    jobs_by_owner: Counter[tuple[str, ...]] = field(default_factory=Counter)
    limits: tuple[int, int] | None = None
    polled_at: float = float("-inf")
    active: tuple[int, int] = (0, 0)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: what was last published for the workers, and when (monotonic)
    published: tuple[Entry, ...] = ()
    published_at: float = float("-inf")
    #: the other triggerers' published waits and reservations, as of the last poll
    others: tuple[Entry, ...] = ()
    #: the task publishing the reservations once no wait of the account is left to do so
    watcher: asyncio.Task[None] | None = None

    def reserved(self, now: float) -> list[Entry]:
        self.released = [
            release
            for release in self.released
            if now - release.at < RESERVATION_SECONDS
            and self.jobs_by_owner[release.owner] <= release.jobs_seen
        ]
        return [release.need for release in self.released]

    def entries(self, now: float) -> tuple[Entry, ...]:
        """The waits and live reservations, as the workers see them."""
        self.reserved(now)  # drops the reservations that ended
        waits = list(self.queue.values())
        held = [replace(release.need, until=release.expires) for release in self.released]
        return tuple(sorted(waits + held, key=lambda e: (e.recovery, e.priority, e.until or 0.0, e.since)))

    def owners(self) -> set[str]:
        """The tasks this triggerer holds a wait or a share of."""
        return {need.owner for need in [*self.queue.values(), *(r.need for r in self.released)] if need.owner}

    def waits_ahead_of(self, need: Entry) -> int:
        """The waits of this triggerer and the others that go before ``need``."""
        theirs = [entry for entry in self.others if entry.until is None]
        return sum(1 for other in [*self.queue.values(), *theirs] if other.turn < need.turn)

    def narrow(self, max_jobs: int, max_servers: int) -> tuple[int, int]:
        known = self.limits or (max_jobs, max_servers)
        self.limits = (min(known[0], max_jobs), min(known[1], max_servers))
        return self.limits


#: Per event loop (a triggerer runs one; tests run many, one after another): its accounts by
#: connection and region, and its name in the published queue. Keyed by the loop itself, weakly:
#: a later loop at the same address must not inherit a closed loop's queue and watcher.
_ACCOUNTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Account]] = (
    weakref.WeakKeyDictionary()
)
_TRIGGERER_NAMES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, str] = weakref.WeakKeyDictionary()
_LOOPS_NAMED = itertools.count()


def triggerer_name() -> str:
    """This triggerer's section in the published queue: its host and process (and a number for
    each further event loop of the process, as tests running several triggers have)."""
    loop = asyncio.get_running_loop()
    if loop not in _TRIGGERER_NAMES:
        number = next(_LOOPS_NAMED)
        _TRIGGERER_NAMES[loop] = f"{socket.gethostname()}:{os.getpid()}" + (f"/{number}" if number else "")
    return _TRIGGERER_NAMES[loop]


def account_of(hook_parameters: Mapping[str, Any]) -> Account:
    """The account of these connection parameters (per event loop: a triggerer runs one)."""
    accounts = _ACCOUNTS.setdefault(asyncio.get_running_loop(), {})
    key = (hook_parameters.get("aws_conn_id"), hook_parameters.get("region_name"))
    if key not in accounts:
        accounts[key] = Account(triggerer_name())
    return accounts[key]


class DrsCapacityTrigger(BaseTrigger):
    """
    Wait until DRS has capacity for a launch, in turn with every other capacity wait.

    The event is ``{"status": "capacity", "message": ...}`` when the launch may go, or
    ``{"status": "timeout", "message": ...}`` after ``timeout`` seconds.

    :param jobs: jobs the launch needs.
    :param servers: servers the launch needs.
    :param recovery: a real recovery (goes before drills).
    :param priority: among equals, higher goes first.
    :param waiting_since: epoch seconds the launch first waited (keeps its place on a re-wait).
    :param max_jobs: concurrent jobs the account allows, as far as known.
    :param max_servers: servers in active jobs the account allows, as far as known.
    :param timeout: seconds to wait at most.
    :param owner: the identity tags of the waiting task (its jobs carry them).
    """

    def __init__(
        self,
        *,
        jobs: int,
        servers: int,
        recovery: bool,
        priority: int,
        waiting_since: float,
        max_jobs: int,
        max_servers: int,
        timeout: float,
        owner: Mapping[str, str] | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__()
        self.max_jobs, self.max_servers, self.timeout = max_jobs, max_servers, timeout
        self.owner_tags = dict(owner or {})
        self.owner = owner_of(self.owner_tags)
        task = "/".join(self.owner) if any(self.owner) else ""
        self.need = Entry(recovery, priority, None, jobs, servers, waiting_since, task)
        self.account_name: tuple[str | None, str | None] = (aws_conn_id, region_name)
        self.hook_parameters = {
            "aws_conn_id": aws_conn_id,
            "region_name": region_name,
            "verify": verify,
            "config": botocore_config,
        }

    def serialize(self) -> tuple[str, dict[str, Any]]:
        need = self.need
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "jobs": need.jobs,
                "servers": need.servers,
                "recovery": need.recovery,
                "priority": need.priority,
                "waiting_since": need.since,
                "max_jobs": self.max_jobs,
                "max_servers": self.max_servers,
                "timeout": self.timeout,
                "owner": self.owner_tags,
                "aws_conn_id": self.hook_parameters["aws_conn_id"],
                "region_name": self.hook_parameters["region_name"],
                "verify": self.hook_parameters["verify"],
                "botocore_config": self.hook_parameters["config"],
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        account = account_of(self.hook_parameters)
        me = id(self)
        account.queue[me] = self.need
        deadline = time.monotonic() + self.timeout
        hook = DrsHook(**self.hook_parameters)
        last = ""
        try:
            async with await hook.get_async_conn() as client:
                while True:
                    usage = await self._usage(account, client)
                    now = time.monotonic()
                    reserved = account.reserved(now)
                    if usage is not None and admit(me, account.queue, reserved, usage, account.others):
                        seen = account.jobs_by_owner[self.owner]
                        expires = time.time() + RESERVATION_SECONDS
                        account.released.append(Release(now, self.need, self.owner, seen, expires))
                        account.queue.pop(me, None)
                        await self._publish(account)
                        if not account.queue and (account.watcher is None or account.watcher.done()):
                            # the last wait: its reservation must still end in public
                            account.watcher = asyncio.ensure_future(self._watch(account))
                        yield TriggerEvent({"status": "capacity", "message": usage.describe()})
                        return
                    if usage is not None:
                        ahead = account.waits_ahead_of(self.need)
                        said = f"waiting for DRS capacity: {usage.describe()}; {ahead} launch(es) ahead"
                        if said != last:
                            self.log.info("%s", said)
                            last = said
                    if now >= deadline:
                        yield TriggerEvent(
                            {
                                "status": "timeout",
                                "message": f"no DRS capacity after {self.timeout:g} s: {last}",
                            }
                        )
                        return
                    await self._publish(account)
                    await asyncio.sleep(CAPACITY_POLL_SECONDS)
        finally:
            account.queue.pop(me, None)

    async def _watch(self, account: Account) -> None:
        """Keep polling and publishing while the account holds reservations but no wait, until the
        published queue is empty: otherwise the last reservations would stay published, and hold
        back every new launch, until they went stale."""
        hook = DrsHook(**self.hook_parameters)
        try:
            await asyncio.sleep(CAPACITY_POLL_SECONDS)  # the wait let go has just polled
            async with await hook.get_async_conn() as client:
                while not account.queue:
                    if await self._usage(account, client) is not None:
                        await self._publish(account)
                    if not account.published:
                        return  # the empty queue is out (a new wait publishes on its own)
                    await asyncio.sleep(CAPACITY_POLL_SECONDS)
        except Exception as error:  # the publication goes stale after a while all the same
            self.log.warning("stopped publishing the DRS capacity queue: %s", error)

    async def _publish(self, account: Account) -> None:
        """Publish the account's queue for the workers when it changed, or is due again."""
        async with account.lock:  # one write at a time, so the last one written is the latest
            now = time.monotonic()
            entries = account.entries(now)
            unchanged = entries == account.published
            if unchanged and (not entries or now - account.published_at < REPUBLISH_SECONDS):
                return
            account.published, account.published_at = entries, now
            try:
                await sync_to_async(publish_queue)(*self.account_name, account.name, entries)
            except Exception as error:  # the queue still holds; only new launches may overtake it
                self.log.warning("could not publish the DRS capacity queue: %s", error)

    async def _usage(self, account: Account, client: Any) -> Usage | None:
        """The account's usage, polled at most once per :data:`CAPACITY_POLL_SECONDS` for all waits."""
        max_jobs, max_servers = account.narrow(self.max_jobs, self.max_servers)
        async with account.lock:
            if time.monotonic() - account.polled_at >= CAPACITY_POLL_SECONDS:
                try:
                    account.active, account.jobs_by_owner = await self._active(client)
                except Exception as error:  # DRS trouble: keep waiting, say why
                    self.log.warning("could not list DRS jobs to count capacity: %s", error)
                    return None
                account.polled_at = time.monotonic()
                await self._read_others(account)
        return Usage(account.active[0], account.active[1], max_jobs, max_servers)

    async def _read_others(self, account: Account) -> None:
        """Take in the other triggerers' published waits and reservations; publish again at once
        when this triggerer's own section went missing (another triggerer wrote over it)."""
        try:
            published = await sync_to_async(read_queue)(*self.account_name)
        except Exception as error:  # the last view holds; DRS's refusal still protects the account
            self.log.warning("could not read the DRS capacity queue: %s", error)
            return
        now = time.time()
        account.others = tuple(
            published_entries(published, now, excluding=account.name, owned=account.owners())
        )
        if account.published and section_of(published, account.name, now) is None:
            account.published_at = float("-inf")

    @staticmethod
    async def _active(client: Any) -> tuple[tuple[int, int], Counter[tuple[str, ...]]]:
        """Active jobs and their servers; and every listed job counted per task."""
        jobs = servers = 0
        by_owner: Counter[tuple[str, ...]] = Counter()
        paginator = client.get_paginator("describe_jobs")
        async for page in paginator.paginate(filters={}):
            for job in page.get("items", []):
                by_owner[owner_of(job.get("tags") or {})] += 1
                if job.get("status") in DrsHook.ACTIVE_JOB_STATUSES:
                    jobs += 1
                    servers += len(job.get("participatingServers") or ())
        return (jobs, servers), by_owner
