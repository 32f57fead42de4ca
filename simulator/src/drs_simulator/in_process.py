"""The in-process simulator for tests and tools: build a server for a fleet and serve it in a thread.

:func:`start_in_thread` is what the test fixtures and the in-process example in
docs/reference/simulator.md use; the shell command (``python -m drs_simulator``) serves in
its main thread instead.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drs_simulator import SAMPLE_FLEET
from drs_simulator.fleet import Fleet, default_fleet_dir, load_fleet
from drs_simulator.models import Simulator
from drs_simulator.server import DrsHTTPServer, server_url

if TYPE_CHECKING:
    from types import TracebackType


def make_server(
    fleet: Fleet | dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    *,
    strict: bool = False,
    fleet_dir: str | Path | None = None,
    ec2_endpoint: str | None = None,
) -> DrsHTTPServer:
    """A bound, not yet serving, server for ``fleet`` (default: the sample fleet).

    ``fleet_dir``: where ``POST /_simulator/reset {"fleet_path": ...}`` may read fleet files;
    default the directory of the fleet file (none when the fleet is given as data).
    ``ec2_endpoint``: where the source servers' EC2 launch templates live (moto), as
    ``--ec2-endpoint``.
    """
    source = SAMPLE_FLEET if fleet is None else fleet
    directory = default_fleet_dir(source) if fleet_dir is None else Path(fleet_dir)
    simulator = Simulator(
        load_fleet(source), speed, strict=strict, fleet_dir=directory, ec2_endpoint=ec2_endpoint
    )
    return DrsHTTPServer((host, port), simulator)


class RunningSimulator:
    """A simulator serving in a background thread. ``.url`` is the endpoint_url; ``.stop()`` ends it."""

    def __init__(self, server: DrsHTTPServer) -> None:
        self.server = server
        self.simulator = server.simulator
        self.url = server_url(server)
        self.host, self.port = server.server_address[0], server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="drs-simulator", daemon=True
        )
        self._thread.start()

    @property
    def region(self) -> str:
        return self.simulator.fleet.region

    @property
    def account_id(self) -> str:
        return self.simulator.fleet.account_id

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The DRS calls received so far, oldest first (in-process; no HTTP)."""
        return self.simulator.call_log(operation)

    def end_outage(self) -> None:
        """End an outage now, if one is on, and return once the endpoint listens again."""
        self.server.end_outage()

    def use_ec2(self, endpoint: str | None) -> None:
        """Keep launch templates on ``endpoint`` (moto) from now on; None: nowhere."""
        self.simulator.use_ec2(endpoint)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSimulator(url={self.url!r}, region={self.region!r}, account_id={self.account_id!r})"


def start_in_thread(
    fleet: Fleet | dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    *,
    strict: bool = False,
    fleet_dir: str | Path | None = None,
    ec2_endpoint: str | None = None,
) -> RunningSimulator:
    """Start a simulator in this process (port 0: a free port) and return once it accepts calls."""
    return RunningSimulator(
        make_server(fleet, host, port, speed, strict=strict, fleet_dir=fleet_dir, ec2_endpoint=ec2_endpoint)
    )
