"""The operator and the sensor in a real DAG run (``dag.test()``), wired through XCom."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.provider.conftest import SHOP_DB, SHOP_DB_REPLICA

DAG_FILE = Path(__file__).parent / "dags" / "drs_by_hand.py"


@pytest.fixture
def by_hand_dag(airflow_db: None, aws_conn: str):
    from airflow.configuration import conf
    from airflow.dag_processing.dagbag import DagBag

    dags_folder = Path(conf.get("core", "dags_folder"))
    dags_folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DAG_FILE, dags_folder / DAG_FILE.name)
    bag = DagBag(dag_folder=str(dags_folder / DAG_FILE.name))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("drs_by_hand")


def task_results(dag_run) -> dict[str, tuple[str, object]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(TaskInstance.run_id == dag_run.run_id)
        ).all()
        values = {
            task_id: XComModel.deserialize_value(xcom)
            for task_id, xcom in session.execute(
                select(XComModel.task_id, XComModel).where(
                    XComModel.run_id == dag_run.run_id, XComModel.key == "return_value"
                )
            ).all()
        }
    return {task_id: (str(state), values.get(task_id)) for task_id, state in rows}


def test_drill_runs_start_to_finish(drs_simulator, by_hand_dag):
    dag_run = by_hand_dag.test()

    results = task_results(dag_run)
    assert str(dag_run.state) == "success", results
    job_ids = results["start_recovery"][1]
    [job] = drs_simulator.client().describe_jobs(filters={"jobIDs": job_ids})["items"]
    assert job["tags"]["airflow:dag_id"] == "drs_by_hand"
    assert job["tags"]["airflow:run_id"] == dag_run.run_id
    servers = results["wait_for_recovery"][1]
    assert sorted(s["sourceServerID"] for s in servers) == sorted([*SHOP_DB, SHOP_DB_REPLICA])
    assert {s["sourceServerID"]: s["optional"] for s in servers}[SHOP_DB_REPLICA] is True


def test_failed_optional_server_passes_and_failed_required_server_fails(drs_simulator, by_hand_dag):
    drs_simulator.set_faults(fail_servers={SHOP_DB_REPLICA: "replica disk missing"})
    assert str(by_hand_dag.test().state) == "success"

    drs_simulator.reset()
    drs_simulator.set_faults(fail_servers={SHOP_DB[0]: "no capacity"})
    dag_run = by_hand_dag.test()

    results = task_results(dag_run)
    assert str(dag_run.state) == "failed"
    assert results["start_recovery"][0] == "success"
    assert results["wait_for_recovery"][0] == "failed"
