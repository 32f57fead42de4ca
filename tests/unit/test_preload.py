"""The plugins folder's local settings make a forked child inherit the provider's imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Airflow imports airflow_local_settings at start-up from the plugins folder it puts on sys.path;
# the provider is imported by the parent only when it forks, and the child finds it imported.
CHILD_CHECK = """
import os, sys
import airflow
assert "airflow_local_settings" in sys.modules, "no local settings imported"
before = "drs_provider.factory.render" in sys.modules
pid = os.fork()
if pid == 0:
    os._exit(0 if "drs_provider.factory.render" in sys.modules else 3)
_, status = os.waitpid(pid, 0)
print(f"before={before} child={os.waitstatus_to_exitcode(status)}")
"""


def test_a_forked_child_inherits_the_provider_from_the_plugins_folders_local_settings(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTHONPATH"))}
    env |= {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    completed = subprocess.run(
        [sys.executable, "-c", CHILD_CHECK],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "before=False child=0"
