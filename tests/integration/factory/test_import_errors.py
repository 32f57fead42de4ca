"""A broken plan file beside good ones, through a real dag-processor and the real CLI.

The dag-processor parses the DAG files and writes DAGs and import errors to the metadata
database exactly as in production; ``airflow dags list-import-errors`` reads them back.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
GOOD_DAG_IDS = {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}
BROKEN_PLAN = """
    plan: broken
    waves:
      - name: one
        servers: {ids: [s-0a000000000000001]}
      - name: two
        servers: {ids: [s-0a000000000000002]}
        depends_on: [db]
"""


class Airflow:
    """Run ``airflow`` commands against a private AIRFLOW_HOME and dags folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dags = home / "dags"
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        self.env.pop("DRS_PLANS_DIR", None)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=check,
        )

    def import_errors(self) -> list[dict[str, str]]:
        done = self.run("dags", "list-import-errors", "--output", "json", check=False)
        # The JSON is the one line that starts with "[" (warnings may come before it).
        lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
        return json.loads(lines[-1]) if lines else []

    def dags_in_db(self) -> dict[str, tuple[int, int]]:
        with sqlite3.connect(self.home / "airflow.db") as db:
            rows = db.execute("select dag_id, is_stale, has_import_errors from dag").fetchall()
        return {dag_id: (is_stale, has_errors) for dag_id, is_stale, has_errors in rows}


@pytest.fixture
def airflow(tmp_path: Path, migrated_db: Callable[[Path], None]) -> Airflow:
    instance = Airflow(tmp_path)
    migrated_db(tmp_path / "airflow.db")  # what `airflow db migrate` makes, copied from the run's template
    (instance.dags / "recovery_plans").mkdir(parents=True)
    for dag_file in ("drs_recovery_plans.py", "drs_recovery_plan_errors.py"):
        shutil.copy(REPO_ROOT / "dags" / dag_file, instance.dags / dag_file)
    for plan in (REPO_ROOT / "dags" / "recovery_plans").glob("*.yaml"):
        shutil.copy(plan, instance.dags / "recovery_plans" / plan.name)
    return instance


def test_a_broken_plan_is_an_import_error_naming_file_and_field_and_the_good_dags_stay_live(
    airflow: Airflow,
) -> None:
    broken = airflow.dags / "recovery_plans" / "broken.yaml"
    broken.write_text(textwrap.dedent(BROKEN_PLAN))

    airflow.run("dag-processor", "--num-runs", "1")

    errors = airflow.import_errors()
    assert [error["filepath"] for error in errors] == ["drs_recovery_plan_errors.py"]
    assert "recovery_plans/broken.yaml: waves[1].depends_on: unknown wave 'db'" in errors[0]["error"]
    assert airflow.dags_in_db() == {dag_id: (0, 0) for dag_id in GOOD_DAG_IDS}  # live, not stale

    broken.write_text(textwrap.dedent(BROKEN_PLAN).replace("[db]", "[one]"))
    airflow.run("dag-processor", "--num-runs", "1")

    assert airflow.import_errors() == []
    assert airflow.dags_in_db() == {dag_id: (0, 0) for dag_id in GOOD_DAG_IDS | {"drs_plan_broken"}}


def test_a_new_file_claiming_a_live_plans_name_takes_its_dag_down_instead_of_over(airflow: Airflow) -> None:
    """A hijacking file used to replace drs_plan_shop's tasks (the earlier file name won)."""
    airflow.run("dag-processor", "--num-runs", "1")
    assert airflow.dags_in_db() == {dag_id: (0, 0) for dag_id in GOOD_DAG_IDS}

    plans = airflow.dags / "recovery_plans"
    hijack = plans / "aaa_hijack.yaml"
    hijack.write_text("plan: shop\nwaves:\n  - name: anything\n    servers: {tags: {App: elsewhere}}\n")
    (plans / "loop_a.yaml").symlink_to("loop_b.yaml")
    (plans / "loop_b.yaml").symlink_to("loop_a.yaml")
    airflow.run("dag-processor", "--num-runs", "1")

    (error,) = airflow.import_errors()
    assert error["filepath"] == "drs_recovery_plan_errors.py"
    for line in (
        "recovery_plans/aaa_hijack.yaml: plan: plan name 'shop' is also claimed by recovery_plans/shop.yaml",
        "recovery_plans/shop.yaml: plan: plan name 'shop' is also claimed by recovery_plans/aaa_hijack.yaml",
        "recovery_plans/loop_a.yaml: cannot read the file: it is a symbolic link in a loop (-> loop_b.yaml)",
        "recovery_plans/loop_b.yaml: cannot read the file: it is a symbolic link in a loop (-> loop_a.yaml)",
    ):
        assert line in error["error"]
    # No process can load drs_plan_shop from the DAG files any more (a worker running one of its
    # tasks would fail to find it), so nothing ever runs the hijacking file's waves.
    listed_while_claimed = airflow.run("tasks", "list", "drs_plan_shop", check=False)
    assert "Dag 'drs_plan_shop' could not be found" in listed_while_claimed.stderr
    assert "anything.start_recovery" not in listed_while_claimed.stdout

    hijack.unlink()
    listed = airflow.run("tasks", "list", "drs_plan_shop").stdout.split()
    assert "database.start_recovery" in listed and "anything.start_recovery" not in listed
