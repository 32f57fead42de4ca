"""drs-plan: lint, graph and schema, through main() and once through the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drs_provider.cli import main
from drs_provider.plans import plan_json_schema
from drs_provider.plans.schema import SCHEMA_FILE
from tests.unit.plans.samples import SHOP_YAML, write

BROKEN = "plan: broken\nwaves:\n  - name: app\n    servers: {}\n  - name: web\n    depends_on: [db]\n"


def tiny(name: str) -> str:
    return f"plan: {name}\nwaves:\n  - name: only\n    servers: {{tags: {{App: {name}}}}}\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding dags/recovery_plans/, as in this repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)
    (tmp_path / "dags" / "recovery_plans").mkdir(parents=True)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_lint_defaults_to_dags_recovery_plans(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    write(project / "dags/recovery_plans/tiny.yml", tiny("tiny"))

    assert run(capsys, "lint") == (0, "2 plan files OK: shop, tiny\n", "")


def test_lint_reports_every_problem_and_fails(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    write(project / "dags/recovery_plans/broken.yaml", BROKEN)

    status, out, err = run(capsys, "lint")

    assert status == 1
    assert out == ""
    assert err.splitlines() == [
        "dags/recovery_plans/broken.yaml: waves[0].servers: selects no servers: give a non-empty 'ids' or "
        "'tags' (line 4)",
        "dags/recovery_plans/broken.yaml: waves[1].servers: required key 'servers' is missing (line 5)",
        "dags/recovery_plans/broken.yaml: waves[1].depends_on: unknown wave 'db' "
        "(waves in this plan: app, web) (line 6)",
        "3 problems in 1 of 2 plan files",
    ]


def test_lint_reads_drs_plans_dir(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "elsewhere/a.yaml", tiny("alpha"))
    monkeypatch.setenv("DRS_PLANS_DIR", str(project / "elsewhere"))
    assert run(capsys, "lint") == (0, "1 plan file OK: alpha\n", "")


def test_lint_takes_files_and_directories_and_checks_names_across_all(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "dags/recovery_plans/a.yaml", tiny("shop"))
    write(project / "extra/b.yaml", tiny("shop"))

    status, _, err = run(capsys, "lint", "dags/recovery_plans", "extra/b.yaml", "dags/recovery_plans/a.yaml")

    assert status == 1
    assert err.splitlines() == [
        "dags/recovery_plans/a.yaml: plan: plan name 'shop' is also claimed by extra/b.yaml: "
        "no DAG drs_plan_shop is built until only one file claims it",
        "extra/b.yaml: plan: plan name 'shop' is also claimed by dags/recovery_plans/a.yaml: "
        "no DAG drs_plan_shop is built until only one file claims it",
        "2 problems in 2 of 2 plan files",
    ]


def test_lint_fails_on_a_missing_path_or_an_empty_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "lint", "nowhere", "dags/recovery_plans")
    assert status == 1
    assert err.splitlines() == [
        "nowhere: no such file or directory",
        "dags/recovery_plans: no plan files (*.yaml, *.yml) here",
    ]
    assert out == ""


def test_graph_by_file_and_by_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)

    by_file = run(capsys, "graph", "dags/recovery_plans/shop.yaml")
    by_name = run(capsys, "graph", "shop")

    assert by_file == by_name
    status, out, err = by_name
    assert (status, err) == (0, "")
    assert out.startswith("plan shop (dags/recovery_plans/shop.yaml): 4 waves in 3 steps\n")
    assert (
        "step 1 (2 waves in parallel)\n"
        "  database  servers: 1 id + tags Role=db; optional: tags Role=db-replica\n" in out
    )
    assert out.endswith(
        "  web       servers: tags Role=web, Tier=front\n            depends on: app, reports\n"
    )


def test_graph_as_mermaid(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    status, out, _ = run(capsys, "graph", "shop", "--format", "mermaid")
    assert status == 0
    assert out.startswith("flowchart LR\n")
    assert out.endswith("    w_app --> w_web\n    w_reports --> w_web\n")


def test_graph_looks_names_up_in_plans_dir(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "other/x.yaml", tiny("alpha"))
    status, out, _ = run(capsys, "graph", "alpha", "--plans-dir", "other")
    assert status == 0
    assert out.startswith("plan alpha (other/x.yaml): 1 wave in 1 step\n")


def test_graph_of_an_unknown_name_lists_the_plans(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    assert run(capsys, "graph", "shopp") == (
        1,
        "",
        "no plan named 'shopp' in dags/recovery_plans (valid plans there: shop)\n",
    )


def test_graph_of_a_broken_plan_shows_its_problems(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/broken.yaml", BROKEN)

    by_name = run(capsys, "graph", "broken")
    by_file = run(capsys, "graph", "dags/recovery_plans/broken.yaml")

    assert by_name[0] == by_file[0] == 1
    assert by_file[2].startswith("dags/recovery_plans/broken.yaml has problems; fix them first:\n")
    assert by_name[2].startswith("plan 'broken' has problems; fix them first:\n")
    assert "dags/recovery_plans/broken.yaml: waves[1].depends_on: unknown wave 'db'" in by_name[2]
    assert "dags/recovery_plans/broken.yaml: waves[1].depends_on: unknown wave 'db'" in by_file[2]


@pytest.mark.timeout(60)
def test_files_that_cannot_be_read_are_named_and_never_block(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = project / "dags/recovery_plans"
    write(plans / "shop.yaml", SHOP_YAML)
    os.mkfifo(plans / "pipe.yaml")  # opening it for reading would wait for a writer forever
    (plans / "loop.yaml").symlink_to("loop.yaml")

    status, _, err = run(capsys, "lint")
    assert status == 1
    assert err.splitlines() == [
        "dags/recovery_plans/loop.yaml: cannot read the file: it is a symbolic link in a loop (-> loop.yaml)",
        "dags/recovery_plans/pipe.yaml: this is a named pipe (FIFO), not a plan file",
        "2 problems in 2 of 3 plan files",
    ]
    assert run(capsys, "graph", "shop")[0] == 0
    assert run(capsys, "graph", "other")[2] == (
        "no plan named 'other' in dags/recovery_plans (valid plans there: shop)\n"
    )


def test_graph_of_a_missing_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "graph", "absent.yaml")
    assert status == 1
    assert "absent.yaml: cannot read the file" in err


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "schema")
    assert (status, err) == (0, "")
    assert json.loads(out) == plan_json_schema()
    assert out == SCHEMA_FILE.read_text(encoding="utf-8")  # `drs-plan schema > schema.json` regenerates it


def iam_policy_of(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    status, out, err = run(capsys, "iam-policy", *argv)
    assert (status, err) == (0, "")
    policy: dict[str, Any] = json.loads(out)
    return policy


def actions_of(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_iam_policy_of_the_plans_directory_is_an_iam_policy_document(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    write(project / "dags/recovery_plans/tiny.yml", tiny("tiny"))

    policy = iam_policy_of(capsys)

    assert list(policy) == ["Version", "Statement"] and policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids)) and all(sid.isalnum() for sid in sids)
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == sorted(set(statement["Action"])) and statement["Action"]
        assert isinstance(statement["Resource"], str) or statement["Resource"] == sorted(
            statement["Resource"]
        )
    # without --mode: what a plan DAG run needs, drills, recoveries and failbacks alike
    assert {
        "drs:StartRecovery",
        "drs:TerminateRecoveryInstances",
        "drs:ReverseReplication",
        "ssm:SendCommand",
    } <= actions_of(policy)


def test_iam_policy_per_mode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)

    drill = actions_of(iam_policy_of(capsys, "--mode", "drill"))
    recovery = actions_of(iam_policy_of(capsys, "--mode", "recovery"))
    readiness = actions_of(iam_policy_of(capsys, "--mode", "readiness"))

    assert drill - recovery == {"drs:TerminateRecoveryInstances"}  # a recovery never terminates
    assert recovery <= drill
    assert not {"drs:StartRecovery", "drs:TerminateRecoveryInstances", "ssm:SendCommand"} & readiness
    assert {"drs:DescribeSourceServers", "ssm:DescribeDocument", "s3:ListBucket"} <= readiness


def test_iam_policy_grants_only_what_the_named_plans_use(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    write(project / "tiny.yaml", tiny("tiny"))

    actions = actions_of(iam_policy_of(capsys, "tiny.yaml"))

    assert "drs:StartRecovery" in actions
    assert not {a for a in actions if a.split(":")[0] in ("ssm", "lambda", "sns", "s3")}


def test_iam_policy_refuses_plans_with_problems(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)
    write(project / "dags/recovery_plans/broken.yaml", BROKEN)

    status, out, err = run(capsys, "iam-policy")

    assert (status, out) == (1, "")
    assert "dags/recovery_plans/broken.yaml: waves[0].servers" in err
    assert err.splitlines()[-1] == "no IAM policy printed: fix the plan files first"


def test_iam_policy_has_a_failback_mode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "dags/recovery_plans/shop.yaml", SHOP_YAML)

    failback = actions_of(iam_policy_of(capsys, "--mode", "failback"))
    drill = actions_of(iam_policy_of(capsys, "--mode", "drill"))
    everything = actions_of(iam_policy_of(capsys))

    assert {"drs:ReverseReplication", "drs:StartFailbackLaunch", "drs:StopFailback"} <= failback - drill
    assert "drs:DescribeRecoverySnapshots" in drill - failback  # a failback takes no point_in_time
    assert failback | drill <= everything  # without --mode: every run mode
    with pytest.raises(SystemExit):
        main(["iam-policy", "--help"])
    assert "failback: a failback run" in " ".join(capsys.readouterr().out.split())


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("drs-plan")
    command = str(script) if script.exists() else shutil.which("drs-plan")
    assert command, "drs-plan is not installed: pip install -e ."
    write(tmp_path / "plans/shop.yaml", SHOP_YAML)
    write(tmp_path / "plans/broken.yaml", BROKEN)

    lint = subprocess.run(
        [command, "lint", "plans"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    graph = subprocess.run(
        [command, "graph", "shop", "--plans-dir", "plans"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert lint.returncode == 1
    assert lint.stderr.splitlines()[-1] == "3 problems in 1 of 2 plan files"
    assert graph.returncode == 0
    assert "depends on: app, reports" in graph.stdout
