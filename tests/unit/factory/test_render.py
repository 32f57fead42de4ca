"""The DAG each example plan becomes: ids, edges, trigger rules, params, docs (no DRS calls)."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.factory import build_dags

if TYPE_CHECKING:
    from airflow.sdk import DAG

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_PLANS = REPO_ROOT / "dags" / "recovery_plans"


@pytest.fixture(scope="module")
def dags() -> dict[str, DAG]:
    return build_dags(EXAMPLE_PLANS)


def edges(dag: DAG) -> set[tuple[str, str]]:
    return {(task.task_id, downstream) for task in dag.tasks for downstream in task.downstream_task_ids}


def wave_edges(*waves: str) -> set[tuple[str, str]]:
    """preflight -> start, start -> wait, for each wave."""
    return {("preflight", f"{w}.start_recovery") for w in waves} | {
        (f"{w}.start_recovery", f"{w}.wait_for_recovery") for w in waves
    }


def test_every_example_plan_becomes_one_dag(dags: dict[str, DAG]) -> None:
    assert set(dags) == {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}


def test_shop_is_three_waves_in_a_chain(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_shop"]

    assert set(dag.task_ids) == {"preflight"} | {
        f"{w}.{t}" for w in ("database", "app", "web") for t in ("start_recovery", "wait_for_recovery")
    }
    assert edges(dag) == wave_edges("database", "app", "web") | {
        ("database.wait_for_recovery", "app.start_recovery"),
        ("app.wait_for_recovery", "web.start_recovery"),
    }
    assert set(dag.task_group.children) == {"preflight", "database", "app", "web"}


def test_portal_has_parallel_branches_and_an_independent_wave(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_portal"]

    assert edges(dag) == wave_edges("db", "cache", "api", "batch", "web") | {
        ("db.wait_for_recovery", "cache.start_recovery"),
        ("db.wait_for_recovery", "api.start_recovery"),
        ("api.wait_for_recovery", "web.start_recovery"),
        ("cache.wait_for_recovery", "web.start_recovery"),
    }
    assert dag.get_task("batch.start_recovery").upstream_task_ids == {"preflight"}


def test_dag_settings(dags: dict[str, DAG]) -> None:
    shop, weekly = dags["drs_plan_shop"], dags["drs_plan_shop_weekly_drill"]

    assert shop.max_active_runs == 1
    assert shop.catchup is False
    assert {"drs", "shop"} <= set(shop.tags)
    assert shop.owner == "dr-team"
    assert shop.schedule is None
    assert weekly.schedule == "0 3 * * 1"


def test_start_recovery_runs_unless_an_upstream_failed(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_portal"]

    for wave in ("db", "cache", "api", "batch", "web"):
        assert dag.get_task(f"{wave}.start_recovery").trigger_rule == "none_failed"
        assert dag.get_task(f"{wave}.wait_for_recovery").trigger_rule == "all_success"


def test_the_operators_carry_the_plan(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_shop"]
    start: Any = dag.get_task("database.start_recovery")
    wait: Any = dag.get_task("web.wait_for_recovery")
    preflight: Any = dag.get_task("preflight")

    assert start.job_tags == {"drs:plan": "shop", "drs:wave": "database"}
    assert start.tags == {"App": "shop", "Role": "db"}
    assert start.wait_for_completion is False and start.deferrable is False
    assert wait.deferrable is True and wait.poke_interval == 5 and wait.timeout == 1800
    assert [w["name"] for w in preflight.waves] == ["database", "app", "web"]
    assert preflight.waves[0]["optional_servers"] == {
        "ids": [],
        "tags": {"App": "shop", "Role": "db-replica"},
    }


def test_doc_md_describes_waves_and_dependencies(dags: dict[str, DAG]) -> None:
    doc = dags["drs_plan_portal"].doc_md

    assert "Customer portal with parallel branches" in doc
    assert "| `web` | `api`, `cache` | tags `App=portal`, `Role=web` | - |" in doc
    assert "| `batch` | (starts at once) | ids `s-0b000000000000004` | - |" in doc
    assert "`confirm` = `portal`" in doc
    assert "always drills" in dags["drs_plan_shop_weekly_drill"].doc_md


def resolve(dag: DAG, conf: dict[str, Any]) -> dict[str, Any]:
    """Validate ``conf`` against the DAG's Params, as a trigger does."""
    params = copy.deepcopy(dag.params)
    params.update(conf)
    return params.validate()


def test_params_default_to_a_drill_of_every_wave(dags: dict[str, DAG]) -> None:
    assert resolve(dags["drs_plan_shop"], {}) == {
        "mode": "drill",
        "confirm": "",
        "waves": None,
        "point_in_time": None,
    }


@pytest.mark.parametrize(
    "conf",
    [
        {"mode": "recovery", "confirm": "shop"},
        {"waves": ["web", "database"]},
        {"waves": []},
        {"point_in_time": "2026-05-04T03:00:00Z"},
        {"point_in_time": "2026-05-04T03:00:00.123+02:00"},
        {"point_in_time": "2026-05-04 03:00"},
    ],
)
def test_good_conf_is_accepted(dags: dict[str, DAG], conf: dict[str, Any]) -> None:
    assert resolve(dags["drs_plan_shop"], conf).items() >= conf.items()


@pytest.mark.parametrize(
    "conf",
    [
        {"mode": "Recovery"},
        {"mode": "real"},
        {"waves": ["db"]},
        {"waves": "web"},
        {"waves": ["web", "web"]},
        {"point_in_time": "yesterday"},
        {"point_in_time": "2026-05-04"},
        {"point_in_time": "2026-13-04T03:00:00Z x"},
        {"confirm": 1},
    ],
)
def test_bad_conf_is_rejected_by_param_validation(dags: dict[str, DAG], conf: dict[str, Any]) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        resolve(dags["drs_plan_shop"], conf)


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text))


def test_a_broken_plan_never_hides_the_others(tmp_path: Path) -> None:
    from drs_provider.exceptions import PlanError
    from drs_provider.factory import raise_for_broken_plans

    for plan in EXAMPLE_PLANS.glob("*.yaml"):
        write(tmp_path, plan.name, plan.read_text())
    write(
        tmp_path,
        "broken.yaml",
        """
        plan: broken
        waves:
          - name: one
            servers: {ids: [s-0a000000000000001]}
          - name: two
            servers: {ids: [s-0a000000000000002]}
            depends_on: [db]
        """,
    )
    write(
        tmp_path,
        "bad_schedule.yaml",
        """
        plan: bad_schedule
        schedule: "0 3 * * 1 2 3 4"
        waves:
          - name: one
            servers: {ids: [s-0a000000000000001]}
        """,
    )

    assert set(build_dags(tmp_path)) == {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}
    with pytest.raises(PlanError) as caught:
        raise_for_broken_plans(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path.name}/broken.yaml: waves[1].depends_on" in message
    assert "'db'" in message
    assert f"{tmp_path.name}/bad_schedule.yaml: schedule" in message


def test_no_broken_plan_no_error() -> None:
    from drs_provider.factory import raise_for_broken_plans

    raise_for_broken_plans(EXAMPLE_PLANS)


def test_connection_region_and_job_size_reach_every_drs_task(tmp_path: Path) -> None:
    write(
        tmp_path,
        "dr_west.yaml",
        """
        plan: dr_west
        aws_conn_id: aws_dr
        region: us-west-2
        max_servers_per_job: 20
        waves:
          - name: only
            servers: {ids: [s-0a000000000000001]}
        """,
    )

    dag = build_dags(tmp_path)["drs_plan_dr_west"]

    for task in dag.tasks:
        assert (task.aws_conn_id, task.region_name) == ("aws_dr", "us-west-2")  # type: ignore[attr-defined]
    assert dag.get_task("only.start_recovery").max_servers_per_job == 20  # type: ignore[attr-defined]
    assert dag.get_task("preflight").max_servers_per_job == 20  # type: ignore[attr-defined]
    assert dag.owner == "airflow"
