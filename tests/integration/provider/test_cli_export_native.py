"""``drs-plan export-native --dry-run``: a plan's servers resolved in the in-process simulator (by
ID and by tags) and the native recovery plans it would become, printed; nothing created."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from drs_provider.cli import main
from tests.integration.provider.conftest import SHOP_APP, SHOP_DB, SHOP_DB_REPLICA, SHOP_WEB

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.testing.plugin import DrsSimulatorHandle

pytestmark = pytest.mark.integration

PLAN: dict[str, Any] = {
    "plan": "shop",
    "cleanup": "always",
    "waves": [
        {
            "name": "db",
            "servers": {"tags": {"App": "shop", "Role": "db"}},
            "optional_servers": {"tags": {"Role": "db-replica"}},
            "post": [{"wait": 90}],
        },
        {
            "name": "app",
            "servers": {"ids": SHOP_APP},
            "pre": [{"approval": {"message": "Bring the app up?"}}],
        },
        {"name": "web", "servers": {"tags": {"App": "shop", "Role": "web"}}},
    ],
}


@pytest.fixture
def plans_dir(aws_conn: str, tmp_path: Path) -> Path:
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(PLAN))
    return tmp_path


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["export-native", *args])
    output = capsys.readouterr()
    return status, output.out, output.err


def test_the_dry_run_prints_the_native_plan_step_by_step_and_creates_nothing(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir), "--dry-run")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "plan shop: 1 native recovery plan (dry run: nothing created)"
    assert f"aws_default, {drs_simulator.region}: shop (4 steps, 7 servers)" in lines
    assert "  tags: drs:plan=shop, drs:part=1/1" in lines
    steps = lines[lines.index("  steps:") + 1 :]
    assert steps == [
        f"    1. SERVER db (2 critical, 1 optional): {', '.join(SHOP_DB)}, {SHOP_DB_REPLICA} (optional)",
        "    2. WAIT db-post_1_wait: 2 min",
        f"    3. SERVER app (2 critical): {', '.join(SHOP_APP)}",
        f"    4. SERVER web (2 critical): {', '.join(SHOP_WEB)}",
    ]
    [description] = [line for line in lines if line.startswith("  description: ")]
    assert "approvals (app.pre_1_approval)" in description
    assert "drill cleanup (cleanup: always" in description
    assert drs_simulator.calls("DescribeSourceServers")  # the calls are recorded: none created a plan
    assert drs_simulator.calls("CreateRecoveryPlan") == []
    assert drs_simulator.calls("CreateRecoveryPlanStep") == []


def test_the_dry_run_as_json_gives_the_api_fields(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir), "--dry-run", "--json")
    assert status == 0, err
    [native] = json.loads(out)["native_plans"]
    assert (native["name"], native["region"], native["tags"]) == (
        "shop",
        drs_simulator.region,
        {"drs:plan": "shop", "drs:part": "1/1"},
    )
    first = native["steps"][0]
    assert (first["stepName"], first["stepOrder"]) == ("db", 1)
    servers = first["configuration"]["serverStepConfiguration"]["servers"]
    assert [(server["serverArn"].rsplit("/", 1)[-1], server["impactLevel"]) for server in servers] == [
        (SHOP_DB[0], "CRITICAL"),
        (SHOP_DB[1], "CRITICAL"),
        (SHOP_DB_REPLICA, "OPTIONAL"),
    ]
    assert native["steps"][1]["configuration"] == {"waitStepConfiguration": {"waitDurationMinutes": 2}}
    # What it prints is what DRS takes: created as printed, the plan is executable.
    client = drs_simulator.client()
    plan_arn = client.create_recovery_plan(
        name=native["name"], description=native["description"], tags=native["tags"]
    )["recoveryPlan"]["recoveryPlanArn"]
    for step in native["steps"]:
        client.create_recovery_plan_step(recoveryPlanArn=plan_arn, **step)
    created = client.get_recovery_plan(recoveryPlanArn=plan_arn)["recoveryPlan"]
    assert created["status"] == "ACTIVE"


def native_state(drs_simulator: DrsSimulatorHandle) -> dict[str, list[tuple[str, str]]]:
    """Every native plan in the simulator: name -> its steps as (name, ARN)."""
    client = drs_simulator.client()
    state = {}
    for summary in client.list_recovery_plans()["recoveryPlans"]:
        steps = client.list_recovery_plan_steps(recoveryPlanArn=summary["recoveryPlanArn"])[
            "recoveryPlanSteps"
        ]
        ordered = sorted(steps, key=lambda step: step["stepOrder"])
        state[summary["name"]] = [(step["stepName"], step["recoveryPlanStepArn"]) for step in ordered]
    return state


def test_without_dry_run_it_creates_the_native_plan_then_changes_only_what_differs(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 0, err
    assert f"aws_default, {drs_simulator.region}: created native plan shop" in out
    first = native_state(drs_simulator)
    assert [name for name, _ in first["shop"]] == ["db", "db-post_1_wait", "app", "web"]
    plan_arn = drs_simulator.client().list_recovery_plans()["recoveryPlans"][0]["recoveryPlanArn"]
    assert (
        drs_simulator.client().get_recovery_plan(recoveryPlanArn=plan_arn)["recoveryPlan"]["status"]
        == "ACTIVE"
    )

    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 0, err
    assert "native plans already as the plan maps to" in out
    assert native_state(drs_simulator) == first

    # A wait after app: db and its wait stay as they are, app's and web's steps are redone.
    changed = copy.deepcopy(PLAN)
    changed["waves"][1]["post"] = [{"wait": 300}]
    (plans_dir / "shop.yaml").write_text(yaml.safe_dump(changed))
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 0, err
    second = native_state(drs_simulator)
    assert [name for name, _ in second["shop"]] == ["db", "db-post_1_wait", "app", "app-post_1_wait", "web"]
    assert second["shop"][:3] == first["shop"][:3]
    assert [line.split(": ", 1)[1] for line in out.splitlines() if ": shop: " in line] == [
        "shop: deleted step 4 web",
        "shop: added step 4 app-post_1_wait",
        "shop: added step 5 web",
    ]


def test_parts_no_longer_needed_are_deleted_and_other_native_plans_left_alone(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = drs_simulator.client()
    client.create_recovery_plan(name="someone-elses")
    client.create_recovery_plan(name="shop-2", tags={"drs:plan": "shop", "drs:part": "2/2"})
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 0, err
    assert "deleted native plan shop-2" in out
    assert sorted(native_state(drs_simulator)) == ["shop", "someone-elses"]


def test_a_name_taken_by_a_native_plan_that_is_not_the_plans_is_refused(
    drs_simulator: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drs_simulator.client().create_recovery_plan(name="shop")
    status, _out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 1
    assert "native recovery plans named shop exist" in err
    assert native_state(drs_simulator) == {"shop": []}


def test_servers_that_cannot_be_resolved_fail_the_dry_run(
    plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {**PLAN, "waves": [{"name": "db", "servers": {"tags": {"App": "nowhere"}}}]}
    (plans_dir / "shop.yaml").write_text(yaml.safe_dump(broken))
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir), "--dry-run")
    assert status == 1
    assert out == ""
    assert "plan shop, wave db: servers cannot be resolved" in err
