"""The documentation's plan examples (docs/) say what the code does, so the docs cannot rot silently."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from drs_provider.exceptions import PlanError
from drs_provider.plans import load_plan_file, plan_json_schema
from drs_provider.plans.model import LAUNCH_SETTING_NAMES, NOTIFY_EVENTS
from tests.conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs"


def doc_text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def readme_plan_example() -> str:
    """The annotated example: the first YAML block of the plan format reference."""
    return re.findall(r"```yaml\n(.*?)```", doc_text("reference/plan-format.md"), flags=re.DOTALL)[0]


def test_the_annotated_example_loads_and_passes_the_schema(tmp_path: Path) -> None:
    text = readme_plan_example()
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")

    plan = load_plan_file(path)

    assert [(wave.name, wave.depends_on) for wave in plan.waves] == [
        ("database", ()),
        ("app", ("database",)),
        ("reports", ()),
        ("web", ("app", "reports")),
    ]
    assert (plan.rpo_target, plan.drill_every, plan.wave("app").expect_servers) == (900, 2592000, 4)
    assert (plan.failback_order, plan.failback_cleanup, plan.failback_sync_timeout) == ("plan", "keep", 86400)
    assert plan.native_plan is False
    jsonschema.validate(yaml.safe_load(text), plan_json_schema())
    assert text.startswith("# yaml-language-server: $schema=../../plugins/drs_provider/plans/schema.json\n")
    assert (
        (REPO_ROOT / "dags" / "recovery_plans" / "../../plugins/drs_provider/plans/schema.json")
        .resolve()
        .is_file()
    )


def test_the_validation_example_is_what_the_loader_says(tmp_path: Path) -> None:
    readme = doc_text("reference/plan-format.md")
    section = readme[readme.index("## Validation") : readme.index("What is checked:")]
    shown = re.findall(r"```\n(.*?)```", section, flags=re.DOTALL)[0].splitlines()
    plan_file = tmp_path / "dags" / "recovery_plans" / "billing.yaml"
    plan_file.parent.mkdir(parents=True)
    plan_file.write_bytes((Path(__file__).parent / "fixtures" / "billing.yaml").read_bytes())

    with pytest.raises(PlanError) as caught:
        load_plan_file(plan_file, display_root=tmp_path)

    assert [str(issue) for issue in caught.value.issues] == shown


def readme_yaml_after(page: str, heading: str) -> str:
    """The first YAML block under ``heading`` in the docs page ``page`` (under docs/)."""
    readme = doc_text(page)
    return re.findall(r"```yaml\n(.*?)```", readme[readme.index(heading) :], flags=re.DOTALL)[0]


def test_the_runbook_steps_example_is_a_valid_plan(tmp_path: Path) -> None:
    text = "plan: shop\n" + readme_yaml_after("how-to/approvals-and-checks.md", "## Runbook steps")
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")

    [database] = load_plan_file(path).waves

    assert [step.name for step in database.pre] == ["approve_failover", "pre_2_ssm_command"]
    assert [step.kind for step in database.post] == [
        "ssm_command",
        "ssm_automation",
        "lambda",
        "wait",
        "lambda",
    ]
    assert database.post[2].optional and not database.post[0].optional
    assert [step.modes for step in (database.pre[0], database.post[0], database.post[4])] == [
        ("recovery",),
        ("drill", "recovery", "failback"),
        ("failback",),
    ]
    jsonschema.validate(yaml.safe_load(text), plan_json_schema())


def test_the_lifecycle_keys_example_is_valid(tmp_path: Path) -> None:
    keys = readme_yaml_after("how-to/schedule-drills.md", "## Drill lifecycle")
    path = tmp_path / "shop.yaml"
    path.write_text(
        "plan: shop\n" + keys + "waves:\n  - name: db\n    servers: {tags: {Role: db}}\n", encoding="utf-8"
    )

    plan = load_plan_file(path)

    assert (plan.rto_target, plan.cleanup, plan.report_s3_uri) == (
        1800,
        "on_success",
        "s3://dr-evidence/shop/",
    )
    assert plan.notify is not None and plan.notify.events == NOTIFY_EVENTS


def test_the_launch_settings_example_is_a_valid_plan(tmp_path: Path) -> None:
    text = "plan: shop\n" + readme_yaml_after("how-to/readiness.md", "## Launch settings as code")
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")

    [db] = load_plan_file(path).waves

    settings = db.launch_for("s-0123456789abcdef0")
    assert settings is not None and settings.private_ip == "10.0.1.10"
    assert settings.declared().keys() == set(LAUNCH_SETTING_NAMES)
    jsonschema.validate(yaml.safe_load(text), plan_json_schema())
