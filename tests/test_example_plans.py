"""The repository's dags/ folder as Airflow loads it: every example plan, no import errors, no I/O."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS = REPO_ROOT / "dags"
EXAMPLE_DAG_IDS = {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}
#: Every DAG of the dags folder: one per example plan, the region failover over them, and readiness.
DAGS_FOLDER_DAG_IDS = EXAMPLE_DAG_IDS | {"drs_failover", "drs_readiness"}


def test_dags_folder_loads_every_example_plan_without_import_errors(monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)
    bag = DagBag(dag_folder=str(DAGS))

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == DAGS_FOLDER_DAG_IDS
    for dag_id in EXAMPLE_DAG_IDS:
        assert bag.dags[dag_id].fileloc == str(DAGS / "drs_recovery_plans.py")


# Runs in a fresh interpreter so that every import happens under the guards.
NO_IO_PARSE = r"""
import json, socket, sys

def refuse(*args, **kwargs):
    raise RuntimeError("network or AWS client use at DAG parse time")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import boto3, boto3.session, botocore.session
boto3.client = boto3.resource = refuse
boto3.session.Session.client = boto3.session.Session.resource = refuse
botocore.session.Session.create_client = refuse

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors}))
"""


def test_parsing_the_dags_makes_no_network_call_and_builds_no_aws_client() -> None:
    env = {**os.environ}
    env.pop("DRS_PLANS_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", NO_IO_PARSE, str(DAGS)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert set(result["dags"]) == DAGS_FOLDER_DAG_IDS


def test_the_guard_would_catch_a_client_built_at_parse_time(tmp_path: Path) -> None:
    (tmp_path / "client_at_parse.py").write_text(
        "from airflow.sdk import DAG\nimport boto3\nboto3.client('drs', region_name='us-east-1')\n"
        "dag = DAG('x', schedule=None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", NO_IO_PARSE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dags"] == []
    assert "network or AWS client use at DAG parse time" in next(iter(result["errors"].values()))
