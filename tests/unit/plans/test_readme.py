"""The README's annotated plan is a valid plan, so the documentation cannot rot silently."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import jsonschema
import yaml

from drs_provider.plans import load_plan_file, plan_json_schema
from tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path


def readme_plan_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("<!-- section: plans -->") : readme.index("<!-- /section: plans -->")]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)[0]


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
    jsonschema.validate(yaml.safe_load(text), plan_json_schema())
    assert text.startswith("# yaml-language-server: $schema=../../plugins/drs_provider/plans/schema.json\n")
    assert (
        (REPO_ROOT / "dags" / "recovery_plans" / "../../plugins/drs_provider/plans/schema.json")
        .resolve()
        .is_file()
    )
