"""The ``drs_readiness`` task ``native_plans`` against the in-process simulator: plans with
``native_plan: true`` mirrored into DRS native recovery plans wave by wave, kept in step by
difference run after run, plans without it left alone, and one failing region reported while the
rest still sync. Real boto3, plans loaded from YAML files as the DAG loads them; the task's
``execute()`` called with the previous run's XCom, as Airflow would hand it over.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from drs_provider.exceptions import DrsNativePlanSyncError
from drs_provider.operators.native_plans import DrsNativePlansOperator
from drs_provider.readiness import NATIVE_PLANS_TASK_ID
from tests.integration.provider.conftest import SHOP_APP, SHOP_DB, SHOP_DB_REPLICA, SHOP_WEB

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.testing.plugin import DrsSimulatorHandle

pytestmark = pytest.mark.integration

#: Calls that change native plans: a run with nothing to change makes none of them.
WRITES = (
    "CreateRecoveryPlan",
    "UpdateRecoveryPlan",
    "DeleteRecoveryPlan",
    "CreateRecoveryPlanStep",
    "DeleteRecoveryPlanStep",
    "TagResource",
)
SHOP: dict[str, Any] = {
    "plan": "shop",
    "native_plan": True,
    "waves": [
        {
            "name": "db",
            "servers": {"tags": {"App": "shop", "Role": "db"}},
            "optional_servers": {"ids": [SHOP_DB_REPLICA]},
            "post": [{"wait": 120}],
        },
        {"name": "app", "servers": {"ids": SHOP_APP}},
    ],
}
#: Not opted in: its servers are the web tier; nothing of it is ever created or deleted.
PLAIN: dict[str, Any] = {"plan": "plain", "waves": [{"name": "web", "servers": {"ids": SHOP_WEB}}]}


class Runs:
    """The task run after run: each run gets the XCom the previous successful one returned."""

    def __init__(self, plans_dir: Path) -> None:
        self.operator = DrsNativePlansOperator(task_id=NATIVE_PLANS_TASK_ID, plans_dir=str(plans_dir))
        self.previous: dict[str, Any] | None = None

    def xcom_pull(self, *, task_ids: str, include_prior_dates: bool) -> dict[str, Any] | None:
        assert (task_ids, include_prior_dates) == (NATIVE_PLANS_TASK_ID, True)
        return self.previous

    def run(self, plans: list[str] | None = None) -> dict[str, Any]:
        result = self.operator.execute({"ti": self, "params": {"plans": plans}})  # type: ignore[arg-type]
        self.previous = result
        return result


def write_plans(plans_dir: Path, *documents: dict[str, Any]) -> None:
    for document in documents:
        (plans_dir / f"{document['plan']}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def native_state(drs: DrsSimulatorHandle, region: str | None = None) -> dict[str, dict[str, Any]]:
    """Every native plan in a region: name -> ARN, tags and steps (name, kind, server IDs in order)."""
    client = drs.client(region)
    state = {}
    for summary in client.list_recovery_plans()["recoveryPlans"]:
        arn = summary["recoveryPlanArn"]
        steps = sorted(
            client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"],
            key=lambda step: step["stepOrder"],
        )
        state[summary["name"]] = {
            "arn": arn,
            "tags": client.list_tags_for_resource(resourceArn=arn)["tags"],
            "steps": [(step["stepName"], step_content(step)) for step in steps],
            "step_arns": [step["recoveryPlanStepArn"] for step in steps],
        }
    return state


def step_content(step: dict[str, Any]) -> object:
    """A SERVER step's (server ID, impact) in order, or a WAIT step's minutes."""
    configuration = step["configuration"]
    if "waitStepConfiguration" in configuration:
        return configuration["waitStepConfiguration"]["waitDurationMinutes"]
    return [
        (entry["serverArn"].rsplit("/", 1)[-1], entry.get("impactLevel", "CRITICAL"))
        for entry in configuration["serverStepConfiguration"]["servers"]
    ]


def writes(drs: DrsSimulatorHandle, since: int) -> list[str]:
    return [call["operation"] for call in drs.calls()[since:] if call["operation"] in WRITES]


@pytest.fixture
def plans_dir(aws_conn: str, tmp_path: Path) -> Path:
    write_plans(tmp_path, SHOP, PLAIN)
    return tmp_path


def test_the_plan_is_mirrored_wave_by_wave_and_a_second_run_changes_nothing(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path
) -> None:
    runs = Runs(plans_dir)

    first = runs.run()

    region = drs_simulator.region
    assert first["plans"]["shop"]["native_plans"] == ["shop"]
    assert first["plans"]["shop"]["changes"] == [
        f"aws_default, {region}: created native plan shop",
        f"aws_default, {region}: shop: added step 1 db",
        f"aws_default, {region}: shop: added step 2 db-post_1_wait",
        f"aws_default, {region}: shop: added step 3 app",
    ]
    assert first["targets"] == {"shop": [{"aws_conn_id": "aws_default", "region": region}]}
    state = native_state(drs_simulator)
    assert sorted(state) == ["shop"]  # plain did not opt in
    assert state["shop"]["steps"] == [
        ("db", [(SHOP_DB[0], "CRITICAL"), (SHOP_DB[1], "CRITICAL"), (SHOP_DB_REPLICA, "OPTIONAL")]),
        ("db-post_1_wait", 2),
        ("app", [(server_id, "CRITICAL") for server_id in SHOP_APP]),
    ]
    assert state["shop"]["tags"] == {"drs:plan": "shop", "drs:part": "1/1"}

    before = len(drs_simulator.calls())
    second = runs.run()

    assert second["plans"]["shop"] == {"native_plans": ["shop"], "changes": []}
    assert writes(drs_simulator, before) == []
    assert native_state(drs_simulator) == state


@pytest.mark.parametrize(
    ("change", "steps", "kept"),
    [
        # a wave added at the end: the three steps stay, one is appended
        (
            lambda plan: plan["waves"].append({"name": "web", "servers": {"ids": SHOP_WEB}}),
            ["db", "db-post_1_wait", "app", "web"],
            3,
        ),
        # the first wave's servers changed: every step after it is redone, in place
        (
            lambda plan: plan["waves"][0].update(servers={"ids": SHOP_DB[:1]}),
            ["db", "db-post_1_wait", "app"],
            0,
        ),
    ],
    ids=["wave added", "servers changed"],
)
def test_a_changed_plan_updates_its_native_plan_in_place(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, change: Any, steps: list[str], kept: int
) -> None:
    runs = Runs(plans_dir)
    runs.run()
    first = native_state(drs_simulator)["shop"]
    changed = copy.deepcopy(SHOP)
    change(changed)
    write_plans(plans_dir, changed)
    before = len(drs_simulator.calls())

    result = runs.run()

    now = native_state(drs_simulator)["shop"]
    assert now["arn"] == first["arn"]  # the same native plan, updated, not recreated
    assert [name for name, _ in now["steps"]] == steps
    assert now["step_arns"][:kept] == first["step_arns"][:kept]
    assert not set(now["step_arns"][kept:]) & set(first["step_arns"])
    operations = writes(drs_simulator, before)
    assert "CreateRecoveryPlan" not in operations and "DeleteRecoveryPlan" not in operations
    assert operations.count("DeleteRecoveryPlanStep") == len(first["steps"]) - kept
    assert operations.count("CreateRecoveryPlanStep") == len(steps) - kept
    assert len(result["plans"]["shop"]["changes"]) == len(operations)


def test_a_plan_without_native_plan_is_never_touched(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path
) -> None:
    # plain's own native plan, made by hand or when it still opted in: it stays as it is
    client = drs_simulator.client()
    kept = client.create_recovery_plan(name="plain", tags={"drs:plan": "plain"})["recoveryPlan"]
    runs = Runs(plans_dir)

    result = runs.run()
    runs.run(["plain"])  # named in the run's plans param, still not opted in

    assert sorted(result["plans"]) == ["shop"]
    state = native_state(drs_simulator)
    assert state["plain"]["arn"] == kept["recoveryPlanArn"]
    assert state["plain"]["steps"] == []
    touched = {
        call["request"].get("recoveryPlanArn") or call["request"].get("resourceArn")
        for call in drs_simulator.calls()
        if call["operation"] in WRITES
    }
    assert kept["recoveryPlanArn"] not in touched


def test_the_plans_param_mirrors_only_the_plans_it_names_and_keeps_the_others_targets(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path
) -> None:
    other = {**copy.deepcopy(SHOP), "plan": "other", "waves": [{"name": "web", "servers": {"ids": SHOP_WEB}}]}
    write_plans(plans_dir, other)
    runs = Runs(plans_dir)
    runs.run()

    result = runs.run(["other"])

    assert sorted(result["plans"]) == ["other"]
    assert sorted(result["targets"]) == ["other", "shop"]  # shop's places are remembered


def test_a_failing_region_is_reported_and_the_rest_still_syncs(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path
) -> None:
    # split: its db wave in a region where DRS is not initialized, its app wave at home
    split = {
        "plan": "split",
        "native_plan": True,
        "waves": [
            {"name": "db", "region": "us-west-2", "servers": {"ids": SHOP_DB}},
            {"name": "web", "servers": {"ids": SHOP_WEB}},
        ],
    }
    write_plans(plans_dir, split)
    drs_simulator.set_faults(uninitialized_regions=["us-west-2"])

    with pytest.raises(DrsNativePlanSyncError) as caught:
        Runs(plans_dir).run()

    [failure] = caught.value.failures
    assert (failure.plan, failure.target) == ("split", "aws_default, us-west-2")
    assert "UninitializedAccountException" in failure.cause
    assert "plan split, aws_default, us-west-2: wave db: servers cannot be resolved" in str(caught.value)
    state = native_state(drs_simulator)
    assert sorted(state) == ["shop", "split"]  # shop, and split's home part, were still made
    assert state["split"]["steps"] == [("web", [(server_id, "CRITICAL") for server_id in SHOP_WEB])]
    assert (
        "order across accounts or regions (web after db)"
        in (
            drs_simulator.client().get_recovery_plan(recoveryPlanArn=state["split"]["arn"])["recoveryPlan"][
                "description"
            ]
        )
    )


def test_native_plans_are_deleted_where_the_waves_no_longer_go(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path
) -> None:
    west = {"id": "s-0d000000000000001", "hostname": "west-app", "region": "us-west-2", "launch_seconds": 30}
    home = {"id": "s-0d000000000000002", "hostname": "home-app", "launch_seconds": 30}
    drs_simulator.reset({"account_id": "123456789012", "region": "us-east-1", "source_servers": [west, home]})
    moving = {
        "plan": "moving",
        "native_plan": True,
        "waves": [{"name": "app", "servers": {"ids": [home["id"]]}}],
    }
    (plans_dir / "shop.yaml").unlink()
    write_plans(plans_dir, moving)
    runs = Runs(plans_dir)
    runs.run()
    assert sorted(native_state(drs_simulator)) == ["moving"]

    moved = {**moving, "region": "us-west-2", "waves": [{"name": "app", "servers": {"ids": [west["id"]]}}]}
    write_plans(plans_dir, moved)
    result = runs.run()

    assert native_state(drs_simulator) == {}
    assert sorted(native_state(drs_simulator, "us-west-2")) == ["moving"]
    assert "aws_default, us-east-1: deleted native plan moving" in result["plans"]["moving"]["changes"]
    assert result["targets"]["moving"] == [{"aws_conn_id": "aws_default", "region": "us-west-2"}]


def test_a_plan_that_breaks_unexpectedly_does_not_stop_the_next(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drs_provider.operators import native_plans

    write_plans(plans_dir, {**copy.deepcopy(SHOP), "plan": "first"})
    resolve = native_plans.resolve_plan_servers

    def broken_first(plan: Any, default_conn_id: str = "aws_default") -> Any:
        if plan.name == "first":
            raise RuntimeError("no connection first_conn")
        return resolve(plan, default_conn_id)

    monkeypatch.setattr(native_plans, "resolve_plan_servers", broken_first)

    with pytest.raises(DrsNativePlanSyncError) as caught:
        Runs(plans_dir).run()

    assert [str(failure) for failure in caught.value.failures] == [
        "plan first, every account and region: RuntimeError: no connection first_conn"
    ]
    assert sorted(native_state(drs_simulator)) == ["shop"]
