"""moto's server as a separate process, the way a deployment reaches the AWS services other than DRS.

Usage::

    from tools.local_aws import MotoProcess

    with MotoProcess() as moto:       # prepared: Lambda without Docker, AWS's own documents
        moto.url                      # http://127.0.0.1:<free port>

What moto holds and how a connection reaches it: :mod:`drs_provider.local_aws`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from drs_provider.local_aws import prepare
from tools.processes import ManagedProcess, free_port, wait_until

if TYPE_CHECKING:
    from types import TracebackType


def moto_server_command() -> list[str]:
    """moto's ``moto_server`` console script of this interpreter's environment, else ``-m``."""
    script = Path(sys.executable).parent / "moto_server"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "moto.server"]


class MotoProcess:
    """moto's server as a separate process on a free local port, for as long as the context is open.

    :param log_path: where its output goes (default: a temporary file).
    """

    def __init__(
        self, *, host: str = "127.0.0.1", log_path: Path | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.host = host
        self.startup_timeout = startup_timeout
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="drs-moto-")) / "moto.log"
        self.port: int | None = None
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("moto is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoProcess:
        if self._process is not None and self._process.is_running():
            return self
        self.port = free_port(self.host)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "AWS_"))}
        env["PYTHONUNBUFFERED"] = "1"
        argv = [*moto_server_command(), "-H", self.host, "-p", str(self.port)]
        self._process = ManagedProcess("moto", argv, env=env, log_path=self.log_path)
        self._process.start()
        try:
            wait_until(
                f"moto at {self.url}",
                self._ready,
                timeout=self.startup_timeout,
                interval=0.2,
                alive=self._process,
            )
            prepare(self.url)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/moto-api/config", timeout=2).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """Stop the process group; safe to call more than once."""
        if self._process is not None:
            self._process.stop(grace_seconds=5)

    def __enter__(self) -> MotoProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
