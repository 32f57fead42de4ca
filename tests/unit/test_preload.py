"""The plugins folder's local settings make a forked child inherit the provider's imports."""

from __future__ import annotations

import json
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


def run_with_the_plugins_folder(
    script: str, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter whose Airflow has this repository's plugins folder."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTHONPATH"))
    }
    environment |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=environment,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_forked_child_inherits_the_provider_from_the_plugins_folders_local_settings(tmp_path: Path) -> None:
    completed = run_with_the_plugins_folder(CHILD_CHECK, tmp_path)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "before=False child=0"


# In each forked child, as a task process parses its DAG's file (Airflow's parsing context names
# the DAG): which modules of the provider, or of Airflow's providers, that parse imported itself.
PARSE_CHECK = """
import json, os, sys
from pathlib import Path
import airflow
cases = json.loads(sys.argv[1])
for dag_file, dag_id in cases:
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        if dag_id:
            os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = dag_id
        before = set(sys.modules)
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder=dag_file)
        new = set(sys.modules) - before
        imported = sorted(m for m in new if m.startswith(("drs_provider", "airflow.providers")))
        os.write(writer, json.dumps([sorted(bag.dags), sorted(bag.import_errors), imported]).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as answer:
        print(json.dumps([Path(dag_file).name, dag_id, *json.loads(answer.read())]))
    os.waitpid(pid, 0)
"""


def test_a_task_process_parsing_its_dag_imports_nothing_of_the_provider_again(tmp_path: Path) -> None:
    import yaml

    plans = sorted(
        yaml.safe_load(path.read_text())["plan"]
        for path in (REPO_ROOT / "dags" / "recovery_plans").glob("*.yaml")
    )
    dags = REPO_ROOT / "dags"
    cases = [
        *((str(dags / "drs_recovery_plans.py"), f"drs_plan_{plan}") for plan in plans),
        (str(dags / "drs_failover.py"), "drs_failover"),
        (str(dags / "drs_readiness.py"), "drs_readiness"),
        (str(dags / "drs_recovery_plan_errors.py"), None),
    ]
    completed = run_with_the_plugins_folder(
        PARSE_CHECK, tmp_path, json.dumps(cases), DRS_PLANS_DIR=str(dags / "recovery_plans")
    )

    assert completed.returncode == 0, completed.stderr
    parses = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("[")]
    assert len(parses) == len(cases)
    for file_name, dag_id, dag_ids, import_errors, imported in parses:
        assert import_errors == [], (file_name, import_errors)
        assert dag_id is None or dag_ids == [dag_id], (file_name, dag_ids)
        assert imported == [], f"parsing {file_name} for {dag_id} imported {imported}"
