"""One fleet server: :class:`ServerSpec`, its origin, and how a ``source_servers`` entry is read.

:mod:`.fleet` reads the whole file and calls :func:`parse_server_list` for the target account's
``source_servers`` and for each staging account's (:mod:`.fleet_staging`); the keys are listed in
:mod:`.fleet`'s module docstring.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, field
from typing import Any

from drs_simulator.launch_settings import LaunchSpec, parse_launch

ACCOUNT_ID = re.compile(r"[0-9]{12}")
SOURCE_SERVER_ID = re.compile(r"s-[0-9a-zA-Z]{17}")
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
#: The largest replication lag a fleet may give (366 days): far past any snapshot DRS keeps.
MAX_LAG_SECONDS = 366 * 86400
#: Simulated seconds reversed replication takes to become CONTINUOUS when the fleet says nothing.
#: AWS publishes no copy time; practitioners report tens of minutes for small disks: half an hour.
DEFAULT_REVERSE_SYNC_SECONDS = 1800.0
#: The longest reversed sync a fleet may give (a week).
MAX_REVERSE_SYNC_SECONDS = 7 * 86400
ON_PREMISES = "on_premises"
SERVER_KEYS = (
    "id",
    "hostname",
    "tags",
    "replication_state",
    "launch_seconds",
    "fail_launch",
    "lag_seconds",
    "launch",
    "region",
    "origin",
    "reverse_sync_seconds",
)


@dataclass(frozen=True)
class Origin:
    """Where the protected machine runs: an EC2 region (failback by reversed replication), or on
    premises (``region`` None: failback through the Failback Client)."""

    region: str | None = None

    @property
    def environment(self) -> str:
        """The recovery instance's ``originEnvironment``."""
        return "ON_PREMISES" if self.region is None else "AWS"

    def to_fleet(self) -> str | dict[str, str]:
        return ON_PREMISES if self.region is None else {"region": self.region}


@dataclass(frozen=True)
class ServerSpec:
    id: str
    hostname: str
    tags: dict[str, str] = field(default_factory=dict)
    replication_state: str = "CONTINUOUS"
    launch_seconds: float = DEFAULT_LAUNCH_SECONDS
    fail_launch: bool | str = False
    #: the replication lag DRS reports; None: none while replicating, DRS's usual answer otherwise
    lag_seconds: float | None = None
    #: its launch settings now (what it does not give is DRS's default)
    launch: LaunchSpec = field(default_factory=LaunchSpec)
    #: the DRS region it is registered in; None: the fleet's
    region: str | None = None
    origin: Origin = field(default_factory=Origin)
    #: simulated seconds reversed replication of its recovery instance takes to be CONTINUOUS
    reverse_sync_seconds: float = DEFAULT_REVERSE_SYNC_SECONDS


def server_to_dict(spec: ServerSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": spec.id,
        "hostname": spec.hostname,
        "tags": dict(spec.tags),
        "replication_state": spec.replication_state,
        "launch_seconds": spec.launch_seconds,
        "fail_launch": spec.fail_launch,
    }
    if spec.lag_seconds is not None:
        data["lag_seconds"] = spec.lag_seconds
    if spec.launch.given():
        data["launch"] = spec.launch.to_dict()
    if spec.region is not None:
        data["region"] = spec.region
    if spec.origin != Origin():
        data["origin"] = spec.origin.to_fleet()
    if spec.reverse_sync_seconds != DEFAULT_REVERSE_SYNC_SECONDS:
        data["reverse_sync_seconds"] = spec.reverse_sync_seconds
    return data


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 60, 60, 4, 4


def shown(value: Any) -> str:
    """``repr(value)`` cut short: YAML aliases can make a small file hold a huge nested value."""
    return _REPR.repr(value)


def key_path(key: Any) -> str:
    """A mapping key as a field path part (short strings as they are)."""
    return key if isinstance(key, str) and len(key) <= 100 else shown(key)


def _seconds(raw: dict[str, Any], key: str, low: float, high: float, *, open_low: bool) -> bool:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (low < value if open_low else low <= value) and value <= high


def parse_server(raw: Any, where: str, problems: list[tuple[str, str]]) -> ServerSpec | None:
    """The server ``raw`` describes, or None after adding its problems to ``problems``."""

    def bad(path: str, message: str) -> None:
        problems.append((path, message))

    if not isinstance(raw, dict):
        bad(where, "must be a mapping with at least id and hostname")
        return None
    before = len(problems)
    for key in raw:
        if key not in SERVER_KEYS:
            bad(f"{where}.{key_path(key)}", f"unknown key (allowed: {', '.join(SERVER_KEYS)})")

    server_id = raw.get("id")
    if server_id is None:
        bad(f"{where}.id", "required")
    elif not isinstance(server_id, str) or not SOURCE_SERVER_ID.fullmatch(server_id):
        bad(f"{where}.id", f"{shown(server_id)} does not match {SOURCE_SERVER_ID.pattern}")

    hostname = raw.get("hostname")
    if hostname is None:
        bad(f"{where}.hostname", "required")
    elif not isinstance(hostname, str) or not hostname or len(hostname) > 256:
        bad(f"{where}.hostname", f"{shown(hostname)} is not a hostname (a string of 1 to 256 characters)")

    tags = raw.get("tags", {}) or {}
    if not isinstance(tags, dict):
        bad(f"{where}.tags", "must be a mapping of string keys to string values")
        tags = {}
    for key, value in tags.items():
        if not isinstance(key, str) or len(key) > 128 or not key:
            bad(f"{where}.tags", f"tag key {shown(key)} is not a string of 1 to 128 characters")
        if not isinstance(value, str) or len(value) > 256:
            bad(
                f"{where}.tags.{key_path(key)}",
                f"{shown(value)} is not a string of at most 256 characters (quote it)",
            )

    state = raw.get("replication_state", "CONTINUOUS")
    if state not in REPLICATION_STATES:
        bad(f"{where}.replication_state", f"{shown(state)} is not one of {', '.join(REPLICATION_STATES)}")

    launch = raw.get("launch_seconds", DEFAULT_LAUNCH_SECONDS)
    if "launch_seconds" in raw and not _seconds(raw, "launch_seconds", 0, 86400, open_low=True):
        bad(f"{where}.launch_seconds", f"{shown(launch)} is not a number of seconds in (0, 86400]")

    fail = raw.get("fail_launch", False)
    if not isinstance(fail, (bool, str)) or fail == "":
        bad(f"{where}.fail_launch", f"{shown(fail)} must be true, false or a non-empty rawError string")

    lag = raw.get("lag_seconds")
    if "lag_seconds" in raw and not _seconds(raw, "lag_seconds", 0, MAX_LAG_SECONDS, open_low=False):
        bad(f"{where}.lag_seconds", f"{shown(lag)} is not a number of seconds in [0, {MAX_LAG_SECONDS}]")

    settings = parse_launch(raw["launch"], f"{where}.launch", problems) if "launch" in raw else LaunchSpec()

    region = raw.get("region")
    if "region" in raw and not (isinstance(region, str) and REGION.fullmatch(region)):
        bad(f"{where}.region", f"{shown(region)} is not an AWS region name")

    origin = _parse_origin(raw.get("origin", ON_PREMISES), f"{where}.origin", problems)

    sync = raw.get("reverse_sync_seconds", DEFAULT_REVERSE_SYNC_SECONDS)
    if "reverse_sync_seconds" in raw and not _seconds(
        raw, "reverse_sync_seconds", 0, MAX_REVERSE_SYNC_SECONDS, open_low=True
    ):
        bad(
            f"{where}.reverse_sync_seconds",
            f"{shown(sync)} is not a number of seconds in (0, {MAX_REVERSE_SYNC_SECONDS}]",
        )

    if len(problems) != before or not isinstance(server_id, str) or not isinstance(hostname, str):
        return None
    assert settings is not None and origin is not None
    return ServerSpec(
        id=server_id,
        hostname=hostname,
        tags=dict(tags),
        replication_state=state,
        launch_seconds=float(launch),
        fail_launch=fail,
        lag_seconds=float(lag) if lag is not None else None,
        launch=settings,
        region=region,
        origin=origin,
        reverse_sync_seconds=float(sync),
    )


def parse_server_list(
    raw: Any, where: str, problems: list[tuple[str, str]], seen: dict[str, str]
) -> list[ServerSpec]:
    """The servers of the list ``raw`` (at field path ``where``) that parse.

    ``seen`` maps each server ID read so far, in any list of the file, to its entry's path: an ID
    names one server across the whole fleet, staging accounts included.
    """
    if raw is None:
        problems.append((where, "required (a list of source servers; may be empty)"))
        return []
    if not isinstance(raw, list):
        problems.append((where, "must be a list"))
        return []
    servers: list[ServerSpec] = []
    for index, entry in enumerate(raw):
        path = f"{where}[{index}]"
        spec = parse_server(entry, path, problems)
        raw_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(raw_id, str) and raw_id in seen:
            problems.append((f"{path}.id", f"{shown(raw_id)} repeats {seen[raw_id]}.id"))
            continue
        if isinstance(raw_id, str):
            seen[raw_id] = path
        if spec is not None:
            servers.append(spec)
    return servers


def _parse_origin(raw: Any, where: str, problems: list[tuple[str, str]]) -> Origin | None:
    """``on_premises`` or ``{region: <EC2 region>}``."""
    if raw == ON_PREMISES:
        return Origin()
    if not isinstance(raw, dict):
        problems.append((where, f"{shown(raw)} must be {ON_PREMISES} or a mapping {{region: <AWS region>}}"))
        return None
    unknown = [key_path(key) for key in raw if key != "region"]
    if unknown:
        problems.append((f"{where}.{unknown[0]}", "unknown key (allowed: region)"))
        return None
    region = raw.get("region")
    if not (isinstance(region, str) and REGION.fullmatch(region)):
        problems.append((f"{where}.region", f"{shown(region)} is not an AWS region name"))
        return None
    return Origin(region=region)
