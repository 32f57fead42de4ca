"""Plan DAGs run for real (``dag.test()``) against the in-process DRS simulator."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_PLANS = REPO_ROOT / "dags" / "recovery_plans"


@pytest.fixture(scope="session")
def plans_folder(airflow_db: None) -> Path:
    """The test Airflow's dags folder, holding the real plan DAG file and the example plans.

    ``dag.test()`` serialises the DAG from the dags-folder bundle, so the DAGs under test must
    come from a DAG file there. Tests add their own plans to the returned ``recovery_plans``.
    """
    from airflow.configuration import conf

    dags_folder = Path(conf.get("core", "dags_folder"))
    plans = dags_folder / "recovery_plans"
    plans.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dags" / "drs_recovery_plans.py", dags_folder / "drs_recovery_plans.py")
    for plan_file in EXAMPLE_PLANS.glob("*.yaml"):
        shutil.copy(plan_file, plans / plan_file.name)
    return plans


@pytest.fixture
def plan_dag(plans_folder: Path, aws_conn: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., DAG]:
    """``plan_dag("shop")`` for an example plan, or ``plan_dag("x", yaml_text)`` for a new plan;
    ``start_from_trigger`` as for ``build_dags`` (``dag.test()`` ignores it and runs ``execute()``)."""
    from drs_provider.factory import build_dags

    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)

    def make(name: str, text: str | None = None, *, start_from_trigger: bool | None = None) -> DAG:
        if text is not None:
            (plans_folder / f"{name}.yaml").write_text(textwrap.dedent(text))
        return build_dags(plans_folder, start_from_trigger=start_from_trigger)[f"drs_plan_{name}"]

    return make


def run_dag(dag: DAG, conf: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    """Run ``dag`` once with ``dag.test()``; return the run's state and each task's state."""
    dag_run = dag.test(run_conf=conf or {})
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
    return str(dag_run.state), {task_id: str(state) for task_id, state in rows}


def xcom_of(dag: DAG, task_id: str, key: str = "return_value") -> Any:
    """The newest XCom ``key`` of ``task_id`` in ``dag``'s runs (None if it left none)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(
            select(XComModel)
            .where(XComModel.dag_id == dag.dag_id, XComModel.task_id == task_id, XComModel.key == key)
            .order_by(XComModel.timestamp.desc())
        )
        return None if row is None else XComModel.deserialize_value(row)
