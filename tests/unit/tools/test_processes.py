"""Managed processes leave nothing behind, not even a grandchild in a process group of its own."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest
from tools.processes import ManagedProcess, free_port, stop_processes, wait_until

# A parent that starts a grandchild in a new session (as Airflow's task supervisor does with
# setpgid), writes the grandchild's pid, and then waits. Both ignore SIGTERM when asked to.
SPAWNER = """
import os, signal, subprocess, sys, time
ignore = sys.argv[2] == "ignore-term"
if ignore:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(
    [sys.executable, "-c", "import signal, sys, time; "
     + ("signal.signal(signal.SIGTERM, signal.SIG_IGN); " if ignore else "")
     + "time.sleep(600)"],
    start_new_session=True,
)
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(str(child.pid))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


def spawn(tmp_path: Path, mode: str = "obey-term") -> tuple[ManagedProcess, int]:
    pid_file = tmp_path / "grandchild.pid"
    process = ManagedProcess(
        "spawner",
        [sys.executable, "-c", SPAWNER, str(pid_file), mode],
        env={"PATH": "/usr/bin:/bin"},
        log_path=tmp_path / "spawner.log",
    )
    process.start()
    wait_until("the grandchild's pid", pid_file.exists, timeout=30, interval=0.05, alive=process)
    return process, int(pid_file.read_text())


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stop_ends_the_process_and_a_grandchild_in_another_process_group(tmp_path: Path) -> None:
    process, grandchild = spawn(tmp_path)
    assert psutil.Process(grandchild).pid != process.pid and not gone(grandchild)

    process.stop(grace_seconds=5)

    assert not process.is_running()
    assert gone(grandchild)
    process.stop()  # idempotent


def test_processes_that_ignore_sigterm_are_killed_after_the_grace_period(tmp_path: Path) -> None:
    process, grandchild = spawn(tmp_path, "ignore-term")
    started = time.monotonic()

    stop_processes([process], grace_seconds=0.5)

    assert not process.is_running() and gone(grandchild)
    assert time.monotonic() - started < 10


def test_kill_is_immediate_and_start_runs_the_command_again(tmp_path: Path) -> None:
    process, grandchild = spawn(tmp_path, "ignore-term")

    process.kill()

    assert not process.is_running() and gone(grandchild)
    assert process.exit_code() == -9
    (tmp_path / "grandchild.pid").unlink()
    process.start()
    try:
        wait_until("the restarted process", (tmp_path / "grandchild.pid").exists, timeout=30, alive=process)
        assert process.starts == 2
        assert "start #2" in (tmp_path / "spawner.log").read_text()
    finally:
        process.stop(grace_seconds=0)


def test_wait_until_reports_a_dead_process_and_a_deadline(tmp_path: Path) -> None:
    process = ManagedProcess(
        "quitter",
        [sys.executable, "-c", "print('bye'); raise SystemExit(3)"],
        env={},
        log_path=tmp_path / "quitter.log",
    )
    process.start()

    with pytest.raises(RuntimeError, match=r"quitter exited with status 3(.|\n)*bye"):
        wait_until("never", lambda: False, timeout=30, interval=0.05, alive=process)
    with pytest.raises(TimeoutError, match="waiting for never"):
        wait_until("never", lambda: False, timeout=0.2, interval=0.05)


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_free_port_stays_out_of_the_ephemeral_range_and_never_repeats() -> None:
    """A port the OS hands to outgoing connections could be taken before the server binds it."""
    low, _ = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = [free_port() for _ in range(50)]

    assert all(port < low for port in ports)
    assert len(set(ports)) == len(ports)


def test_free_port_skips_a_port_a_server_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    import random
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        picks = iter([taken, taken - 1])
        monkeypatch.setattr(random, "choice", lambda _candidates: next(picks))
        monkeypatch.setattr("tools.processes._ephemeral_range", lambda: (65535, 65535))

        assert free_port() != taken
