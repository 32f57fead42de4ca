"""A run's XComs as the report reads them: each pulled through the Task SDK when first read.

A report reads a few keys of a few tasks (preflight's resolved run, a wave's job IDs and
servers, a step's outcome, a failed task's error), but every task of a run may push any of
them. Pulling every key of every task cost five execution-API calls per task, most of them for
XComs that were never pushed; pulling on first read costs one call per value the report uses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any, Protocol


class _PullsXComs(Protocol):
    def xcom_pull(self, *, task_ids: str, key: str, map_indexes: int) -> Any: ...


class PulledXComs(Mapping[tuple[str, str], Any]):
    """``(task_id, key) -> value`` of one run (map index -1), pulled on first read, then kept.

    A task that never ran (``ran`` does not name it) has no XComs and costs no call. Iterating
    gives what was read so far and found.
    """

    def __init__(self, ti: _PullsXComs, ran: Collection[str]) -> None:
        self._ti = ti
        self._ran = ran
        self._read: dict[tuple[str, str], Any] = {}

    def __getitem__(self, item: tuple[str, str]) -> Any:
        if item not in self._read:
            task_id, key = item
            ran = task_id in self._ran
            self._read[item] = self._ti.xcom_pull(task_ids=task_id, key=key, map_indexes=-1) if ran else None
        value = self._read[item]
        if value is None:
            raise KeyError(item)
        return value

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter([item for item, value in self._read.items() if value is not None])

    def __len__(self) -> int:
        return sum(value is not None for value in self._read.values())
