"""The plan model: plain typed objects, no Airflow and no boto3 (DESIGN.md contract 1).

A :class:`Plan` is only ever built by the loader after validation, so its fields hold
checked values and ``depends_on`` is already resolved (omitted = the wave listed before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from drs_provider.constants import PREFLIGHT_TASK_ID, dag_id_of

if TYPE_CHECKING:
    from collections.abc import Mapping

PLAN_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,50}$"
WAVE_NAME_PATTERN = PLAN_NAME_PATTERN
#: Names a wave cannot have: each wave becomes a task group beside these tasks of the DAG
#: (DESIGN.md contract 2), and a group may not share a task's ID.
RESERVED_WAVE_NAMES = frozenset({PREFLIGHT_TASK_ID})


@dataclass(frozen=True)
class ServerSelector:
    """Servers by ID and/or by tags; tags match servers carrying ALL of them."""

    ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:  # tags are a read-only mapping, which is not hashable itself
        return hash((self.ids, frozenset(self.tags.items())))

    @property
    def is_empty(self) -> bool:
        return not self.ids and not self.tags

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as passed to operators and shown in docs."""
        return {"ids": list(self.ids), "tags": dict(self.tags)}


@dataclass(frozen=True)
class Wave:
    """One wave: servers recovered together, after every wave in ``depends_on``."""

    name: str
    servers: ServerSelector
    depends_on: tuple[str, ...]
    optional_servers: ServerSelector | None = None
    poll_interval: int | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class Plan:
    """A validated recovery plan, loaded from ``source`` (the YAML file's path)."""

    name: str
    waves: tuple[Wave, ...]
    source: str
    description: str | None = None
    owner: str | None = None
    aws_conn_id: str | None = None
    region: str | None = None
    schedule: str | None = None
    max_servers_per_job: int | None = None

    @property
    def dag_id(self) -> str:
        return dag_id_of(self.name)

    def wave(self, name: str) -> Wave:
        for wave in self.waves:
            if wave.name == name:
                return wave
        raise KeyError(name)

    def to_dict(self) -> dict[str, object]:
        """The plan in plan-file form (``depends_on`` always explicit); loads back to an equal plan."""
        data: dict[str, object] = {"plan": self.name}
        for key in ("description", "owner", "aws_conn_id", "region", "schedule", "max_servers_per_job"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["waves"] = [_wave_to_dict(wave) for wave in self.waves]
        return data


def _selector_to_dict(selector: ServerSelector) -> dict[str, object]:
    data: dict[str, object] = {}
    if selector.ids:
        data["ids"] = list(selector.ids)
    if selector.tags:
        data["tags"] = dict(selector.tags)
    return data


def _wave_to_dict(wave: Wave) -> dict[str, object]:
    data: dict[str, object] = {"name": wave.name, "servers": _selector_to_dict(wave.servers)}
    if wave.optional_servers is not None:
        data["optional_servers"] = _selector_to_dict(wave.optional_servers)
    data["depends_on"] = list(wave.depends_on)
    if wave.poll_interval is not None:
        data["poll_interval"] = wave.poll_interval
    if wave.timeout is not None:
        data["timeout"] = wave.timeout
    return data
