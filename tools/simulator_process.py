"""The DRS simulator as a separate process, the way a real Airflow deployment would reach DRS.

Usage::

    from tools.airflow_stack import SimulatorProcess

    with SimulatorProcess(Path("fleet.yaml"), speed=10.0) as sim:
        sim.url                          # http://127.0.0.1:<free port>
        sim.calls("StartRecovery")       # the simulator's call log, oldest first

The process is ``drs-simulator --host 127.0.0.1 --port <free> --fleet FILE --speed X`` in its own
process group; it is ready once ``GET /_simulator/health`` answers.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from tools.processes import ManagedProcess, free_port, wait_until

if TYPE_CHECKING:
    from types import TracebackType


def simulator_command() -> list[str]:
    """The ``drs-simulator`` console script of this interpreter's environment, else ``-m``."""
    script = Path(sys.executable).parent / "drs-simulator"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "drs_simulator"]


class SimulatorProcess:
    """Runs the DRS simulator on a free local port for as long as the context is open.

    :param fleet: the fleet file (source servers, launch times, failures).
    :param speed: simulated seconds per real second.
    :param log_path: where the simulator's output goes (default: a temporary file).
    :param startup_timeout: seconds to wait for the health endpoint.
    """

    def __init__(
        self,
        fleet: Path,
        speed: float = 10.0,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.fleet = Path(fleet)
        self.speed = speed
        self.host = host
        self.startup_timeout = startup_timeout
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="drs-simulator-")) / "simulator.log"
        self.log_path = log_path
        self.port: int | None = None
        self._process: ManagedProcess | None = None
        self._http = requests.Session()

    @property
    def url(self) -> str:
        """Base URL of the simulator (the ``endpoint_url`` for boto3)."""
        if self.port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorProcess:
        if self._process is not None and self._process.is_running():
            return self
        self.port = free_port(self.host)
        argv = [
            *simulator_command(),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--fleet",
            str(self.fleet),
            "--speed",
            str(self.speed),
        ]
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env["PYTHONUNBUFFERED"] = "1"
        self._process = ManagedProcess("simulator", argv, env=env, log_path=self.log_path)
        self._process.start()
        try:
            wait_until(
                f"the DRS simulator at {self.url}",
                self._healthy,
                timeout=self.startup_timeout,
                interval=0.2,
                alive=self._process,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        return self._http.get(f"{self.url}/_simulator/health", timeout=2).status_code == 200

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Every DRS call the simulator received, oldest first; only ``operation`` when given."""
        # The simulator filters: a module's log grows to thousands of calls, and tests poll it.
        params = {} if operation is None else {"operation": operation}
        response = self._http.get(f"{self.url}/_simulator/calls", params=params, timeout=10)
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()
        return calls

    def control(self, path: str, body: dict[str, Any]) -> Any:
        """``POST /_simulator/<path>`` (``clock``, ``faults``, ...) and its answer."""
        response = self._http.post(f"{self.url}/_simulator/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget jobs, recovery instances and the call log (the fleet stays)."""
        self._http.post(f"{self.url}/_simulator/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the simulator process group; safe to call more than once."""
        if self._process is not None:
            self._process.stop(grace_seconds=5)
        self._http.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
