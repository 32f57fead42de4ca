"""A plan that validates but fails to render is an import error naming its file, like a broken one.

The step kind ``toy`` (from the registry's tests) is registered here with an operator that
refuses to be built, so the plan using it passes validation and fails only when its DAG renders.
"""

from __future__ import annotations

import dataclasses
import shutil
from typing import TYPE_CHECKING, Any

import pytest
from airflow.models.baseoperator import BaseOperator

from drs_provider.steps import register, unregister
from tests.conftest import REPO_ROOT
from tests.unit.steps.test_registry import TOY, TOY_PLAN

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

GOOD_PLAN = """\
plan: good
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef1]}
"""


class RefusingOperator(BaseOperator):
    def __init__(self, **kwargs: Any) -> None:
        raise ValueError("the toy operator refuses to be built")


@pytest.fixture
def refusing_toy() -> Iterator[None]:
    register(dataclasses.replace(TOY, operator=f"{__name__}:RefusingOperator"))
    try:
        yield
    finally:
        unregister(TOY.name)


@pytest.mark.usefixtures("refusing_toy")
def test_a_plan_that_fails_to_render_is_an_import_error_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)
    dags = tmp_path / "dags"
    (dags / "recovery_plans").mkdir(parents=True)
    for name in ("drs_recovery_plans.py", "drs_recovery_plan_errors.py"):
        shutil.copy(REPO_ROOT / "dags" / name, dags / name)
    (dags / "recovery_plans" / "good.yaml").write_text(GOOD_PLAN, encoding="utf-8")
    (dags / "recovery_plans" / "toys.yaml").write_text(TOY_PLAN, encoding="utf-8")

    bag = DagBag(dag_folder=str(dags))

    assert set(bag.dag_ids) == {"drs_plan_good"}
    assert set(bag.import_errors) == {str(dags / "drs_recovery_plan_errors.py")}
    error = bag.import_errors[str(dags / "drs_recovery_plan_errors.py")]
    assert "recovery_plans/toys.yaml: could not be rendered as a DAG" in error
    assert "ValueError: the toy operator refuses to be built" in error
    assert "good.yaml" not in error
