"""``drs-plan export-native --dry-run``: a plan's servers resolved in the in-process simulator (by
ID and by tags) and the native recovery plans it would become, printed; nothing created."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from drs_provider.cli import main
from tests.integration.provider.conftest import SHOP_APP, SHOP_DB, SHOP_DB_REPLICA, SHOP_WEB

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fixtures.simulator import DrsSimulatorHandle

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


def test_without_dry_run_it_says_only_the_dry_run_exists(
    plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir))
    assert status == 2
    assert out == ""
    assert "only --dry-run exists for now" in err


def test_servers_that_cannot_be_resolved_fail_the_dry_run(
    plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {**PLAN, "waves": [{"name": "db", "servers": {"tags": {"App": "nowhere"}}}]}
    (plans_dir / "shop.yaml").write_text(yaml.safe_dump(broken))
    status, out, err = export(capsys, "shop", "--plans-dir", str(plans_dir), "--dry-run")
    assert status == 1
    assert out == ""
    assert "plan shop, wave db: servers cannot be resolved" in err
