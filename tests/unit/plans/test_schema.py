"""The JSON Schema: generated from the rules, shipped in step, and in agreement with the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from drs_provider.plans import load_plan_file, plan_json_schema
from drs_provider.plans.schema import SCHEMA_FILE, schema_text
from drs_provider.plans.wave_rules import STEP
from tests.conftest import REPO_ROOT
from tests.unit.plans.cases import CASES, Case
from tests.unit.plans.samples import SHOP_YAML, valid_plan

EXAMPLE_PLANS = sorted((REPO_ROOT / "dags" / "recovery_plans").glob("*.y*ml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_shipped_schema_is_in_step_with_the_rules() -> None:
    assert Path(__file__).parents[3] / "plugins" / "drs_provider" / "plans" / "schema.json" == SCHEMA_FILE
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "schema.json is stale: run  drs-plan schema > plugins/drs_provider/plans/schema.json"
    )
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == plan_json_schema()


def test_the_schema_is_draft_2020_12_and_closed() -> None:
    schema = plan_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for value in node:
                found += objects(value)
        return found

    closed = objects(schema)
    # plan, wave, selector, launch, notify, report, an SSM target; each step kind's body and its
    # one-key wrapper
    assert len(closed) == 7 + 2 * len(STEP.kinds)
    assert all(node["additionalProperties"] is False for node in closed)


@pytest.mark.parametrize("example", [*EXAMPLE_PLANS, None], ids=[p.name for p in EXAMPLE_PLANS] + ["samples"])
def test_example_plans_pass_both_the_schema_and_the_loader(
    example: Path | None, validator: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    if example is None:
        example = tmp_path / "shop.yaml"
        example.write_text(SHOP_YAML, encoding="utf-8")
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert [error.message for error in validator.iter_errors(data)] == []
    assert load_plan_file(example).name == data["plan"]
    assert [error.message for error in validator.iter_errors(valid_plan())] == []


SCHEMA_CASES = [case for case in CASES if case.in_schema]


def case_data(case: Case) -> object:
    if isinstance(case.source, str):
        return yaml.safe_load(case.source)
    plan = valid_plan()
    case.source(plan)
    return plan


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[case.id for case in SCHEMA_CASES])
def test_the_schema_rejects_what_the_loader_rejects_structurally(
    case: Case, validator: jsonschema.Draft202012Validator
) -> None:
    assert list(validator.iter_errors(case_data(case))), f"the schema accepts: {case.id}"
