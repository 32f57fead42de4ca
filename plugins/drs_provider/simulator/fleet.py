"""Fleet files: the source servers (and quotas) a simulator starts with.

Format (every key below; any other key is an error)::

    account_id: "111122223333"      # 12 digits
    region: us-east-1               # the region that holds these servers; other regions start empty
    quotas:                         # optional; DRS's defaults shown
      max_servers_per_job: 100
      max_servers_in_active_jobs: 500
      max_concurrent_jobs: 20
    source_servers:
      - id: s-0a000000000000001     # s-[0-9a-zA-Z]{17}, unique
        hostname: db-1
        tags: {App: shop, Role: db} # optional, string -> string
        replication_state: CONTINUOUS   # optional, a DataReplicationState, default CONTINUOUS
        launch_seconds: 60          # optional, simulated seconds from job start to launch, default 60
        fail_launch: false          # optional; true, or a string used as the job log's rawError

Every problem in a file is collected; :class:`FleetValidationError` (a ``FleetFileError``) lists
them all, each as ``<file>: <field path>: <message>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drs_provider.exceptions import FleetFileError

SOURCE_SERVER_ID = re.compile(r"s-[0-9a-zA-Z]{17}")
ACCOUNT_ID = re.compile(r"[0-9]{12}")
REGION = re.compile(
    r"(us(-gov)?|ap|ca|cn|eu|eusc|sa|af|me|mx|il)-([a-z]{2}-)?"
    r"(central|north|(north(?:east|west))|south|south(?:east|west)|east|west)-[0-9]"
)
REPLICATION_STATES = (
    "STOPPED",
    "INITIATING",
    "INITIAL_SYNC",
    "BACKLOG",
    "CREATING_SNAPSHOT",
    "CONTINUOUS",
    "PAUSED",
    "RESCAN",
    "STALLED",
    "DISCONNECTED",
)

DEFAULT_LAUNCH_SECONDS = 60.0
TOP_KEYS = ("account_id", "region", "quotas", "source_servers")
SERVER_KEYS = ("id", "hostname", "tags", "replication_state", "launch_seconds", "fail_launch")


@dataclass(frozen=True)
class Quotas:
    """DRS quotas the simulator enforces (defaults are DRS's)."""

    max_servers_per_job: int = 100
    max_servers_in_active_jobs: int = 500
    max_concurrent_jobs: int = 20

    def to_dict(self) -> dict[str, int]:
        return {
            "max_servers_per_job": self.max_servers_per_job,
            "max_servers_in_active_jobs": self.max_servers_in_active_jobs,
            "max_concurrent_jobs": self.max_concurrent_jobs,
        }


QUOTA_KEYS = tuple(Quotas().to_dict())


@dataclass(frozen=True)
class ServerSpec:
    id: str
    hostname: str
    tags: dict[str, str] = field(default_factory=dict)
    replication_state: str = "CONTINUOUS"
    launch_seconds: float = DEFAULT_LAUNCH_SECONDS
    fail_launch: bool | str = False


@dataclass(frozen=True)
class Fleet:
    account_id: str
    region: str
    source_servers: tuple[ServerSpec, ...]
    quotas: Quotas = field(default_factory=Quotas)
    source: str = "<fleet>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "region": self.region,
            "quotas": self.quotas.to_dict(),
            "source_servers": [
                {
                    "id": s.id,
                    "hostname": s.hostname,
                    "tags": dict(s.tags),
                    "replication_state": s.replication_state,
                    "launch_seconds": s.launch_seconds,
                    "fail_launch": s.fail_launch,
                }
                for s in self.source_servers
            ],
        }


class FleetValidationError(FleetFileError):
    """Every problem found in one fleet file (``.problems`` holds (path, message) pairs)."""

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        first_path, first_message = problems[0]
        super().__init__(file, first_path, first_message)
        self.problems = tuple(problems)
        lines = [f"{file}: {path}: {message}" if path else f"{file}: {message}" for path, message in problems]
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


def load_fleet(source: Fleet | dict[str, Any] | str | Path) -> Fleet:
    """A fleet from a file path, an already parsed mapping, or a Fleet (returned as is)."""
    if isinstance(source, Fleet):
        return source
    if isinstance(source, dict):
        return parse_fleet(source, "<fleet>")
    path = Path(source)
    name = str(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetFileError(name, "", f"cannot read the fleet file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FleetFileError(name, "", f"not valid YAML: {where}{problem}") from exc
    return parse_fleet(data, name)


def parse_fleet(data: Any, name: str) -> Fleet:
    problems: list[tuple[str, str]] = []

    def bad(path: str, message: str) -> None:
        problems.append((path, message))

    if not isinstance(data, dict):
        raise FleetValidationError(name, [("", f"must be a mapping with keys {', '.join(TOP_KEYS)}")])
    for key in data:
        if key not in TOP_KEYS:
            bad(str(key), f"unknown key (allowed: {', '.join(TOP_KEYS)})")

    account_id = data.get("account_id")
    if isinstance(account_id, int) and not isinstance(account_id, bool):
        account_id = str(account_id)
    if account_id is None:
        bad("account_id", "required")
    elif not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        bad("account_id", f"{account_id!r} is not a 12-digit AWS account ID")

    region = data.get("region")
    if region is None:
        bad("region", "required")
    elif not isinstance(region, str) or not REGION.fullmatch(region):
        bad("region", f"{region!r} is not an AWS region name")

    quotas = Quotas()
    raw_quotas = data.get("quotas")
    if raw_quotas is not None:
        if not isinstance(raw_quotas, dict):
            bad("quotas", "must be a mapping")
        else:
            values = quotas.to_dict()
            for key, value in raw_quotas.items():
                if key not in QUOTA_KEYS:
                    bad(f"quotas.{key}", f"unknown key (allowed: {', '.join(QUOTA_KEYS)})")
                elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    bad(f"quotas.{key}", f"{value!r} is not a positive integer")
                else:
                    values[key] = value
            quotas = Quotas(**values)

    servers: list[ServerSpec] = []
    raw_servers = data.get("source_servers")
    if raw_servers is None:
        bad("source_servers", "required (a list of source servers; may be empty)")
        raw_servers = []
    elif not isinstance(raw_servers, list):
        bad("source_servers", "must be a list")
        raw_servers = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_servers):
        where = f"source_servers[{index}]"
        spec = _parse_server(raw, where, problems)
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and raw_id in seen:
            bad(f"{where}.id", f"{raw_id!r} repeats source_servers[{seen[raw_id]}].id")
            continue
        if isinstance(raw_id, str):
            seen[raw_id] = index
        if spec is not None:
            servers.append(spec)

    if problems:
        raise FleetValidationError(name, problems)
    assert isinstance(account_id, str) and isinstance(region, str)
    return Fleet(
        account_id=account_id, region=region, source_servers=tuple(servers), quotas=quotas, source=name
    )


def _parse_server(raw: Any, where: str, problems: list[tuple[str, str]]) -> ServerSpec | None:
    def bad(path: str, message: str) -> None:
        problems.append((path, message))

    if not isinstance(raw, dict):
        bad(where, "must be a mapping with at least id and hostname")
        return None
    before = len(problems)
    for key in raw:
        if key not in SERVER_KEYS:
            bad(f"{where}.{key}", f"unknown key (allowed: {', '.join(SERVER_KEYS)})")

    server_id = raw.get("id")
    if server_id is None:
        bad(f"{where}.id", "required")
    elif not isinstance(server_id, str) or not SOURCE_SERVER_ID.fullmatch(server_id):
        bad(f"{where}.id", f"{server_id!r} does not match {SOURCE_SERVER_ID.pattern}")

    hostname = raw.get("hostname")
    if hostname is None:
        bad(f"{where}.hostname", "required")
    elif not isinstance(hostname, str) or not hostname or len(hostname) > 256:
        bad(f"{where}.hostname", f"{hostname!r} is not a hostname (a string of 1 to 256 characters)")

    tags = raw.get("tags", {}) or {}
    if not isinstance(tags, dict):
        bad(f"{where}.tags", "must be a mapping of string keys to string values")
        tags = {}
    for key, value in tags.items():
        if not isinstance(key, str) or len(key) > 128 or not key:
            bad(f"{where}.tags", f"tag key {key!r} is not a string of 1 to 128 characters")
        if not isinstance(value, str) or len(value) > 256:
            bad(f"{where}.tags.{key}", f"{value!r} is not a string of at most 256 characters (quote it)")

    state = raw.get("replication_state", "CONTINUOUS")
    if state not in REPLICATION_STATES:
        bad(f"{where}.replication_state", f"{state!r} is not one of {', '.join(REPLICATION_STATES)}")

    launch = raw.get("launch_seconds", DEFAULT_LAUNCH_SECONDS)
    if isinstance(launch, bool) or not isinstance(launch, (int, float)) or not 0 < launch <= 86400:
        bad(f"{where}.launch_seconds", f"{launch!r} is not a number of seconds in (0, 86400]")

    fail = raw.get("fail_launch", False)
    if not isinstance(fail, (bool, str)) or fail == "":
        bad(f"{where}.fail_launch", f"{fail!r} must be true, false or a non-empty rawError string")

    if len(problems) != before or not isinstance(server_id, str) or not isinstance(hostname, str):
        return None
    return ServerSpec(
        id=server_id,
        hostname=hostname,
        tags=dict(tags),
        replication_state=state,
        launch_seconds=float(launch),
        fail_launch=fail,
    )
