"""Fleet files: the source servers (and quotas) a simulator starts with.

Format (every key below; any other key is an error)::

    account_id: "111122223333"      # 12 digits
    region: us-east-1               # the region of servers that name none; other regions start empty
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
        lag_seconds: 0              # optional, in [0, 31622400]: the replication lag DRS reports; the
                                    # newest snapshots are at least this old. Omitted: 0, or 6 hours
                                    # in a replication_state a recovery cannot start from
        launch: {instance_type: m5.large, copy_private_ip: false}   # optional: its launch settings
                                    # now (keys and defaults: launch_settings.py)
        region: us-west-2           # optional, the DRS region it is registered in; default the fleet's
        origin: {region: us-east-1} # optional: the EC2 region its machine runs in (failback goes back
                                    # there by reversed replication), or on_premises (default: failback
                                    # through the Failback Client)
        reverse_sync_seconds: 1800  # optional, in (0, 604800]: simulated seconds reversed replication
                                    # of its recovery instance takes to become CONTINUOUS
    staging_accounts:               # optional: accounts replicating servers for this (target) account
      - account_id: "444455556666"  # 12 digits, unique, not the fleet's account_id
        source_servers:             # its servers: source_servers entries without launch; IDs are
          - {id: s-0d000000000000001, hostname: erp-1}   # unique across the whole file

A server entry is read by :mod:`.fleet_servers`, a staging account by :mod:`.fleet_staging`. The
target account recovers a staging server once CreateExtendedSourceServer has extended it (in the
server's region): the extended server takes its replication state, lag, launch timing, failures
and origin, with the target account's default launch settings and the tags of the request.

Every problem in a file is collected; :class:`FleetValidationError` (a ``FleetFileError``) lists
them all, each as ``<file>: <field path>: <message>``.

Reading is defensive, because the control API loads fleet files named over HTTP
(:func:`fleet_file_in` keeps those inside one directory): only regular files of at most
:data:`MAX_FLEET_FILE_BYTES` are read, never blocking on a FIFO or a device, and until a file is
known to be a fleet (a YAML mapping with fleet keys) no error quotes anything from it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drs_simulator.errors import FleetFileError
from drs_simulator.fleet_servers import (
    ACCOUNT_ID,
    REGION,
    ServerSpec,
    key_path,
    parse_server_list,
    server_to_dict,
    shown,
)
from drs_simulator.fleet_staging import StagingAccount, parse_staging_accounts

#: The largest fleet file read (a fleet of 3,000 servers takes about 450 KB).
MAX_FLEET_FILE_BYTES = 2 * 1024 * 1024
TOP_KEYS = ("account_id", "region", "quotas", "source_servers", "staging_accounts")


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
class Fleet:
    account_id: str
    region: str
    source_servers: tuple[ServerSpec, ...]
    quotas: Quotas = field(default_factory=Quotas)
    source: str = "<fleet>"
    staging_accounts: tuple[StagingAccount, ...] = ()

    def servers_in(self, region: str, account_id: str | None = None) -> tuple[ServerSpec, ...]:
        """The servers of ``account_id`` (default: the fleet's; else a staging account) registered in
        ``region`` (a server naming no region is in the fleet's)."""
        if account_id is None or account_id == self.account_id:
            servers = self.source_servers
        else:
            staging = self.staging_account(account_id)
            servers = staging.source_servers if staging is not None else ()
        return tuple(spec for spec in servers if (spec.region or self.region) == region)

    def staging_account(self, account_id: str) -> StagingAccount | None:
        return next((a for a in self.staging_accounts if a.account_id == account_id), None)

    def regions(self) -> set[str]:
        """Every region a server of the fleet, staging accounts included, is registered in."""
        every = [*self.source_servers, *(s for a in self.staging_accounts for s in a.source_servers)]
        return {self.region, *(spec.region for spec in every if spec.region)}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "account_id": self.account_id,
            "region": self.region,
            "quotas": self.quotas.to_dict(),
            "source_servers": [server_to_dict(s) for s in self.source_servers],
        }
        if self.staging_accounts:
            data["staging_accounts"] = [account.to_dict() for account in self.staging_accounts]
        return data


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
    name = str(source)
    text = read_fleet_text(Path(source), name)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FleetFileError(name, "", f"not valid YAML: {_yaml_problem(exc)}") from exc
    except RecursionError as exc:
        raise FleetFileError(name, "", "not a fleet file: its YAML nests too deeply") from exc
    return parse_fleet(data, name)


def read_fleet_text(path: Path, name: str) -> str:
    """The text of the fleet file at ``path``: a regular file, read without ever blocking.

    ``stat`` first, so FIFOs and devices are never even opened; then ``O_NONBLOCK`` and ``fstat``
    on the open file, in case the path was swapped in between; at most
    :data:`MAX_FLEET_FILE_BYTES` are read, whatever the file claims its size is.
    """

    def refuse(message: str) -> FleetFileError:
        return FleetFileError(name, "", message)

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise refuse("not a regular file (a fleet file is a plain YAML file)")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except ValueError:  # a NUL byte in the path
        raise refuse("cannot read the fleet file: not a valid path") from None
    except OSError as exc:
        raise refuse(f"cannot read the fleet file: {exc.strerror or type(exc).__name__}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse("not a regular file (a fleet file is a plain YAML file)")
        if info.st_size > MAX_FLEET_FILE_BYTES:
            raise refuse(f"larger than the {MAX_FLEET_FILE_BYTES} bytes a fleet file may have")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FLEET_FILE_BYTES:
            chunk = os.read(fd, MAX_FLEET_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise refuse(f"cannot read the fleet file: {exc.strerror or type(exc).__name__}") from exc
    finally:
        os.close(fd)
    if size > MAX_FLEET_FILE_BYTES:
        raise refuse(f"larger than the {MAX_FLEET_FILE_BYTES} bytes a fleet file may have")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("not a fleet file: not UTF-8 text") from None


def default_fleet_dir(fleet: Fleet | dict[str, Any] | str | Path) -> Path | None:
    """The directory of a fleet given as a file; None for a fleet given as data."""
    return Path(fleet).resolve().parent if isinstance(fleet, (str, Path)) else None


def fleet_file_in(directory: Path, requested: str) -> Path:
    """The fleet file ``requested`` names (relative to ``directory``, or absolute), if inside it.

    Symlinks and ``..`` are resolved first, so neither can lead out of ``directory``. The error
    names the path as given and the directory, nothing else.
    """
    base = directory.resolve()
    given = repr(requested) if len(requested) <= 1024 else f"{requested[:1024]!r}..."
    candidate = Path(requested)
    if not candidate.is_absolute():
        candidate = base / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except FileNotFoundError:
        raise FleetFileError(given, "", f"no such fleet file in the fleet directory {base}") from None
    except (OSError, RuntimeError, ValueError):  # a symlink loop, too long, a NUL byte, not a directory
        raise FleetFileError(
            given, "", f"cannot be resolved to a file in the fleet directory {base}"
        ) from None
    if not resolved.is_relative_to(base):
        raise FleetFileError(
            given, "", f"outside the fleet directory {base} (fleet files are read only from there)"
        )
    return resolved


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where a YAML error is, and what, without quoting the file: PyYAML quotes characters with %r."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
    problem = getattr(error, "problem", None)
    if isinstance(problem, str) and not any(quote in problem for quote in "'\""):
        return f"{where}: {problem}"
    return where


def parse_fleet(data: Any, name: str) -> Fleet:
    problems: list[tuple[str, str]] = []

    def bad(path: str, message: str) -> None:
        problems.append((path, message))

    if not isinstance(data, dict) or (data and not set(data) & set(TOP_KEYS)):
        # Not a fleet at all (say /etc/passwd): refuse it without echoing any of its content.
        raise FleetValidationError(
            name, [("", f"not a fleet file: a fleet is a YAML mapping with keys {', '.join(TOP_KEYS)}")]
        )
    for key in data:
        if key not in TOP_KEYS:
            bad(key_path(key), f"unknown key (allowed: {', '.join(TOP_KEYS)})")

    account_id = data.get("account_id")
    if isinstance(account_id, int) and not isinstance(account_id, bool):
        account_id = str(account_id)
    if account_id is None:
        bad("account_id", "required")
    elif not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        bad("account_id", f"{shown(account_id)} is not a 12-digit AWS account ID")

    region = data.get("region")
    if region is None:
        bad("region", "required")
    elif not isinstance(region, str) or not REGION.fullmatch(region):
        bad("region", f"{shown(region)} is not an AWS region name")

    quotas = Quotas()
    raw_quotas = data.get("quotas")
    if raw_quotas is not None:
        if not isinstance(raw_quotas, dict):
            bad("quotas", "must be a mapping")
        else:
            values = quotas.to_dict()
            for key, value in raw_quotas.items():
                if key not in QUOTA_KEYS:
                    bad(f"quotas.{key_path(key)}", f"unknown key (allowed: {', '.join(QUOTA_KEYS)})")
                elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    bad(f"quotas.{key}", f"{shown(value)} is not a positive integer")
                else:
                    values[key] = value
            quotas = Quotas(**values)

    seen: dict[str, str] = {}
    servers = parse_server_list(data.get("source_servers"), "source_servers", problems, seen)
    staging = parse_staging_accounts(data.get("staging_accounts"), account_id, problems, seen)

    if problems:
        raise FleetValidationError(name, problems)
    assert isinstance(account_id, str) and isinstance(region, str)
    return Fleet(
        account_id=account_id,
        region=region,
        source_servers=tuple(servers),
        quotas=quotas,
        source=name,
        staging_accounts=staging,
    )
