"""The region failover DAG: one task per plan, after_plans as edges, and what select refuses."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.exceptions import DrsPreflightError
from drs_provider.factory.failover import failover_dags

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def plan(name: str, *, tags: str = "{}", after: str = "[]", priority: int = 0) -> str:
    return textwrap.dedent(
        f"""
        plan: {name}
        tags: {tags}
        after_plans: {after}
        priority: {priority}
        waves:
          - name: only
            servers: {{ids: [s-0a000000000000001]}}
        """
    )


@pytest.fixture
def dag(tmp_path: Path) -> Any:
    for name, text in {
        "directory": plan("directory", tags="{tier: core}", priority=5),
        "db": plan("db", tags="{tier: shop}", after="[directory]"),
        "web": plan("web", tags="{tier: shop}", after="[db, directory]"),
        "typo": plan("typo", after="[nowhere]"),
        "after_typo": plan("after_typo", after="[typo]"),
        "ping": plan("ping", after="[pong]"),
        "pong": plan("pong", after="[ping]"),
    }.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return failover_dags(tmp_path)["drs_failover"]


def test_each_plan_is_one_task_after_the_plans_it_names(dag: Any) -> None:
    assert sorted(dag.task_ids) == ["recover_db", "recover_directory", "recover_web", "select", "summary"]
    assert dag.get_task("recover_web").upstream_task_ids == {"select", "recover_db", "recover_directory"}
    assert dag.get_task("recover_db").upstream_task_ids == {"select", "recover_directory"}
    assert dag.get_task("recover_directory").trigger_dag_id == "drs_plan_directory"
    assert dag.get_task("recover_directory").conf == {"mode": "recovery", "confirm": "directory"}
    # higher priority first, yet below the plans' own tasks (a plan's preflight weighs more)
    recover = [dag.get_task(f"recover_{plan}") for plan in ("directory", "db", "web")]
    assert [(task.priority_weight, str(task.weight_rule)) for task in recover] == [
        (2, "absolute"),
        (1, "absolute"),
        (1, "absolute"),
    ]
    assert dag.is_paused_upon_creation is False  # the worst day's action must not wait for an unpause


def test_plans_the_failover_cannot_run_are_named_never_started(dag: Any) -> None:
    excluded = dag.get_task("select").excluded
    assert excluded == {
        "typo": "after_plans names no plan: nowhere",
        "ping": "after_plans cycle: ping -> pong -> ping",
        "pong": "after_plans cycle: ping -> pong -> ping",
        "after_typo": "after typo, which the failover cannot run",
    }
    assert "**not in the failover**: after_plans names no plan: nowhere" in dag.doc_md


@pytest.mark.parametrize(
    ("params", "chosen"),
    [
        ({"plans": ["web"], "confirm": "failover"}, ["web"]),
        ({"tags": {"tier": "shop"}, "confirm": "failover"}, ["db", "web"]),
        ({"all": True, "confirm": "failover"}, ["db", "directory", "web"]),
    ],
)
def test_select_picks_by_name_tags_or_all(dag: Any, params: dict[str, Any], chosen: list[str]) -> None:
    assert sorted(dag.get_task("select").picked(params, "manual")) == chosen


@pytest.mark.parametrize(
    ("params", "run_type", "problem"),
    [
        ({"all": True}, "manual", "confirm: a failover needs confirm='failover', got None"),
        (
            {"all": True, "confirm": "failover"},
            "scheduled",
            "a scheduled run: a failover must be triggered by hand",
        ),
        ({"confirm": "failover"}, "manual", "plans, tags, all: give exactly one"),
        ({"plans": ["db"], "all": True, "confirm": "failover"}, "manual", "got plans, all"),
        (
            {"plans": ["dbb"], "confirm": "failover"},
            "manual",
            "plans: unknown plan 'dbb' (did you mean 'db'?)",
        ),
        ({"tags": {"tier": "none"}, "confirm": "failover"}, "manual", "tags: no plan carries all of"),
    ],
)
def test_select_refuses_a_bad_failover_before_any_plan_starts(
    dag: Any, params: dict[str, Any], run_type: str, problem: str
) -> None:
    with pytest.raises(DrsPreflightError) as caught:
        dag.get_task("select").picked(params, run_type)
    assert any(problem in text for text in caught.value.problems), caught.value.problems
