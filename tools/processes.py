"""Child processes that never outlive their owner.

Each :class:`ManagedProcess` runs in its own session (so its own process group), writes stdout
and stderr to one log file, and is stopped together with every descendant it spawned: Airflow's
task supervisor moves task processes into process groups of their own, so killing the group
alone could leave them behind. The direct child also gets ``PR_SET_PDEATHSIG`` so that it is
told to stop even when its owner dies without running any clean-up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psutil

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

_PR_SET_PDEATHSIG = 1

T = TypeVar("T")


#: Where :func:`free_port` picks when the kernel's ephemeral range cannot be read (Linux's default).
_DEFAULT_EPHEMERAL_RANGE = (32768, 60999)
#: The lowest port :func:`free_port` picks: above the well-known and most registered services.
_LOWEST_PORT = 15000
#: Ports handed out by this process, never handed out twice.
_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL_RANGE


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now, for a server started a moment later.

    The port is picked below the kernel's ephemeral range: a port the OS hands out (``bind`` to
    port 0) lies in that range, where any outgoing connection of any process may take it as its
    local port before the server binds it (seen: an API server's "address already in use" while
    four test lanes talked to their stacks). Outside the range only another server can take it,
    and this process never hands the same port out twice.
    """
    ephemeral_low, _ = _ephemeral_range()
    candidates = range(_LOWEST_PORT, ephemeral_low)
    if len(candidates) < 1000:  # a machine whose ephemeral range starts low: let the OS pick
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    for _ in range(200):
        port = random.choice(candidates)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port on {host} between {candidates.start} and {candidates.stop - 1}")


def _terminate_when_parent_dies() -> None:
    """Runs in the child before exec: ask the kernel to send SIGTERM when the parent exits."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file, or a note that it does not exist."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class ManagedProcess:
    """One long-running command in its own process group, logging to ``log_path``.

    :param name: a short name for messages ("scheduler", "simulator", ...).
    :param argv: the command line.
    :param env: the complete environment of the process (nothing is inherited implicitly).
    :param log_path: file that receives stdout and stderr; appended to across restarts.
    :param cwd: working directory.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> None:
        """Start the command; an already running process is left alone."""
        if self.is_running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_terminate_when_parent_dies,
            )

    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def kill(self) -> None:
        """SIGKILL the process group and every descendant at once (a crash, as far as it can tell)."""
        stop_processes([self], grace_seconds=0)

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop the process, its group and its descendants; safe to call any number of times.

        SIGTERM first so that Airflow can mark its job as ended, SIGKILL for whatever is still
        alive after ``grace_seconds``.
        """
        stop_processes([self], grace_seconds=grace_seconds)

    def _descendants(self) -> list[psutil.Process]:
        """Every descendant, found before any of them is signalled: once a parent dies its
        children are re-parented and can no longer be found from it."""
        if self.popen is None or self.popen.poll() is not None:
            return []
        try:
            return psutil.Process(self.popen.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def _reap(self, timeout: float) -> None:
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)


def stop_processes(processes: Sequence[ManagedProcess], grace_seconds: float = 10.0) -> None:
    """Stop several processes at once: SIGTERM to all, one shared grace period, then SIGKILL.

    Stopping them together keeps the total time at one grace period, however many there are.
    """
    # The direct children are waited for through Popen (psutil would reap them and lose their
    # exit status); the deeper descendants through psutil.
    descendants = [proc for process in processes for proc in process._descendants()]
    if grace_seconds > 0:
        for process in processes:
            process._signal_group(signal.SIGTERM)
        for proc in descendants:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        deadline = time.monotonic() + grace_seconds
        for process in processes:
            process._reap(max(0.0, deadline - time.monotonic()))
        _, descendants = psutil.wait_procs(descendants, timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        process._signal_group(signal.SIGKILL)
    for proc in descendants:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(descendants, timeout=5)
    for process in processes:
        process._reap(5)


def wait_until(
    condition_description: str,
    check: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.5,
    alive: ManagedProcess | None = None,
) -> T:
    """Call ``check()`` until it returns something truthy, and return that value.

    Raises ``TimeoutError`` after ``timeout`` seconds, or ``RuntimeError`` as soon as the
    process ``alive`` (when given) has exited, with the tail of its log.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        if alive is not None and not alive.is_running():
            raise RuntimeError(
                f"{alive.name} exited with status {alive.exit_code()} while waiting for "
                f"{condition_description}; last log lines:\n{tail(alive.log_path)}"
            )
        try:
            result = check()
        except Exception as error:  # the service may not be up yet
            last_error = error
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {condition_description}{detail}")
        time.sleep(interval)
