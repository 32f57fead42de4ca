"""``make demo`` end to end: ``python -m tools.demo`` as a person runs it, one full drill.

It starts its own simulator and Airflow, so this is one of the heavier tests; it runs once.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOP_SERVERS = ("db-1", "db-2", "db-replica-1", "app-1", "app-2", "web-1", "web-2")


def processes_using(directory: Path) -> list[str]:
    """Processes whose AIRFLOW_HOME, command line or open files are inside ``directory``."""
    inside = str(directory)
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            home = process.environ().get("AIRFLOW_HOME", "")
            paths = [home, *(process.info["cmdline"] or []), *(f.path for f in process.open_files())]
            if any(path.startswith(inside) for path in paths):
                found.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])}")
    return found


def test_make_demo_runs_a_drill_reports_it_and_leaves_nothing_behind() -> None:
    # A person's shell has no Airflow settings of ours; the test session's must not leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTEST"))}
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "tools.demo"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    wall_seconds = time.monotonic() - started
    output = completed.stdout
    assert completed.returncode == 0, f"{output}\n{completed.stderr}"
    print(f"python -m tools.demo took {wall_seconds:.1f}s")

    report = output[output.index("Drill of plan 'shop' SUCCEEDED") :]
    for wave in ("database", "app", "web"):
        assert re.search(
            rf"^  {wave} +recovered +\d\d:\d\d:\d\d +\d\d:\d\d:\d\d +[\dm.]+s +\d/\d launched$", report, re.M
        )
    for hostname in SHOP_SERVERS:
        assert re.search(rf"^  \w+ +{hostname} +s-\w{{17}} +i-\w{{17}} +LAUNCHED", report, re.M), hostname
    # Progress was shown while the drill ran, not only at the end.
    assert re.search(
        r"^\[ *[\dm.]+s\] database: recovering, servers \d/3 launched, steps \d/2 done$",
        output,
        re.M,
    )

    workdir = Path(re.search(r"^Working directory: (.+)$", output, re.M)[1])  # type: ignore[index]
    assert not workdir.exists(), "a successful demo removes its working directory"
    assert processes_using(workdir) == []
