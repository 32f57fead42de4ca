"""Figures the end-to-end tests measure (never assert), printed at the end of the session.

With pytest-xdist each worker keeps its own, and hands them to the controller through files at
the end of its session (:func:`hand_over`); the controller prints them all (:func:`print_summary`,
called from the root ``conftest.py``: the controller of a distributed run collects no test, so it
never loads ``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

#: Lines of measured figures.
FIGURES: list[str] = []
#: Every wave hand-off measured in the session: (set-up, seconds from job end, from seen COMPLETED).
HANDOFFS: list[tuple[str, float, float | None]] = []


def _figures_dir() -> Path:
    """Where pytest-xdist workers leave their figures for the controller (its pid names the run)."""
    controller = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    return Path(tempfile.gettempdir()) / f"drs-e2e-figures-{controller}"


def hand_over() -> None:
    """A pytest-xdist worker leaves its figures for the controller."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and (FIGURES or HANDOFFS):
        directory = _figures_dir()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{worker}.json").write_text(json.dumps({"figures": FIGURES, "handoffs": HANDOFFS}))


def _collect_worker_figures() -> None:
    directory = _figures_dir()
    if os.environ.get("PYTEST_XDIST_WORKER") or not directory.is_dir():
        return
    for path in sorted(directory.glob("*.json")):
        handed = json.loads(path.read_text())
        FIGURES.extend(handed["figures"])
        HANDOFFS.extend((setup, end, seen) for setup, end, seen in handed["handoffs"])
    shutil.rmtree(directory, ignore_errors=True)


def print_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _collect_worker_figures()
    if FIGURES:
        terminalreporter.section("end-to-end figures (measured, not asserted)")
        for line in FIGURES:
            terminalreporter.write_line(line)
    for name in sorted({setup for setup, _, _ in HANDOFFS}):
        from_end = [end for setup, end, _ in HANDOFFS if setup == name]
        from_seen = [seen for setup, _, seen in HANDOFFS if setup == name and seen is not None]
        terminalreporter.write_line(
            f"[{name}] wave hand-off over all {len(from_end)} measured: median "
            f"{statistics.median(from_end):.1f}s from job end"
            + (f", {statistics.median(from_seen):.1f}s from seen COMPLETED" if from_seen else "")
        )
