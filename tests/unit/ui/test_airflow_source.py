"""Reading Airflow without a database: a plan DAG's waves from its serialized form, and task log errors."""

from __future__ import annotations

from pathlib import Path

from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils.log.file_task_handler import StructuredLogMessage

from drs_provider.factory.render import render_plan
from drs_provider.plans.loader import load_plan_file
from drs_provider.ui.airflow_source import dag_waves, error_from_log

REPO_ROOT = Path(__file__).resolve().parents[3]


def serialized(dag):
    """The DAG as the API server holds it: serialized by the dag-processor, read back."""
    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_waves_of_a_plan_dag_with_their_dependencies_in_step_order():
    dag = render_plan(load_plan_file(REPO_ROOT / "dags" / "recovery_plans" / "portal.yaml"))

    waves = dag_waves(serialized(dag))

    assert [(wave.name, wave.depends_on) for wave in waves] == [
        ("batch", ()),
        ("db", ()),
        ("api", ("db",)),
        ("cache", ("db",)),
        ("web", ("api", "cache")),
    ]
    assert waves[1].task_ids == ("db.start_recovery", "db.wait_for_recovery")
    assert waves[1].step_task_ids == ()


def test_the_other_tasks_of_a_wave_group_are_its_steps_in_dependency_order():
    import runpy

    module = runpy.run_path(str(REPO_ROOT / "tests" / "e2e" / "dags" / "drs_view_approval.py"))

    (wave,) = dag_waves(serialized(module["dag"]))

    assert wave.task_ids == ("db.pre_1_approval", "db.start_recovery", "db.wait_for_recovery")
    assert wave.step_task_ids == ("db.pre_1_approval",)


def test_a_dag_without_start_recovery_groups_has_no_wave():
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG, TaskGroup

    with DAG("not_a_plan", schedule=None) as dag, TaskGroup("db"):
        EmptyOperator(task_id="start")

    assert dag_waves(serialized(dag)) == ()


def test_the_error_a_task_log_ends_with():
    messages = [
        StructuredLogMessage(event="starting"),
        StructuredLogMessage(event="retrying", level="error"),
        StructuredLogMessage(
            event="Task failed with exception",
            level="error",
            error_detail=[{"exc_type": "DrsPreflightError", "exc_value": "confirm: needs confirm='shop'"}],
        ),
        StructuredLogMessage(event="done"),
    ]

    assert error_from_log(messages) == "DrsPreflightError: confirm: needs confirm='shop'"
    assert error_from_log(messages[:2]) == "retrying"
    assert error_from_log(messages[:1]) is None
