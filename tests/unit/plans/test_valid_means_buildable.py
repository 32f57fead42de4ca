"""A plan that passes validation always becomes a DAG: nothing valid fails later at parse time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from drs_provider.plans import load_plan_file
from tests.unit.plans.test_fuzz import valid_plans

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("buildable") / "plan.yaml"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=valid_plans())
def test_every_valid_plan_renders_as_a_dag(data: dict[str, Any], plan_path: Path) -> None:
    from drs_provider.factory.import_errors import schedule_issue
    from drs_provider.factory.render import render_plan

    plan_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    plan = load_plan_file(plan_path)

    assert schedule_issue(plan, "plan.yaml") is None  # Airflow accepts the schedule
    dag = render_plan(plan)

    assert dag.dag_id == f"drs_plan_{plan.name}"
    assert {f"{wave.name}.start_recovery" for wave in plan.waves} <= set(dag.task_dict)
