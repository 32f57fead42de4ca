"""``airflow dags test drs_plan_shop``: the real CLI runs a drill against the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


def test_airflow_dags_test_runs_a_drill_of_the_shop_plan(
    plans_folder: Path, aws_conn: str, drs_simulator: Any
) -> None:
    env = {**os.environ}  # AIRFLOW_HOME and the aws_default connection to the simulator
    env.pop("DRS_PLANS_DIR", None)

    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "drs_plan_shop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "state=success" in done.stdout + done.stderr
    starts = drs_simulator.calls("StartRecovery")
    assert [call["request"]["isDrill"] for call in starts] == [True, True, True]
    assert [call["request"]["tags"]["drs:wave"] for call in starts] == ["database", "app", "web"]
