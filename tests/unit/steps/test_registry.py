"""A step kind is one registration: a toy kind registered by this module alone shows in every layer.

The toy has a model, a rule, a cross-key check, a phrase, a renderer to ``EmptyOperator`` and an
AWS call. With no other file touched it appears in the JSON Schema, in ``drs-plan lint`` errors,
in the DAG the factory renders, in the run report, in ``drs-plan graph`` and in the IAM policy
``drs-plan iam-policy`` prints; unregistered, it is gone.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import jsonschema
import pytest
import yaml

from drs_provider.cli import main
from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, Object, Text
from drs_provider.plans.schema import SCHEMA_FILE, plan_json_schema, schema_text
from drs_provider.steps import BUILT_IN, AwsCall, StepKind, register, step_kinds, unregister
from drs_provider.steps.common import step_keys
from tests.conftest import REPO_ROOT
from tests.unit.plans.test_isolation import HEAVY

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from drs_provider.steps import Place


@dataclass(frozen=True, kw_only=True)
class ToyStep(Step):
    """Says hello: a kind only this module knows."""

    kind: ClassVar[str] = "toy"
    greeting: str

    def _fields(self) -> dict[str, object]:
        return {"greeting": self.greeting}


def toy_checks(phase: str, body: Mapping[str, object]) -> list[str]:
    return ["a toy plays after the wave: put it in post"] if phase == "pre" else []


def toy_arguments(step: ToyStep, place: Place) -> dict[str, Any]:
    return place.task_arguments(step)


TOY = StepKind(
    model=ToyStep,
    rule=Object(
        title="toy step",
        description="Says hello.",
        where="in a toy step",
        keys=step_keys(
            Key(
                "greeting",
                Text(description="What it says.", pattern=r"^[a-z]+$", hint="lowercase letters only"),
                required=True,
            )
        ),
    ),
    describe=lambda step: f"says {step.greeting}",
    operator="airflow.providers.standard.operators.empty:EmptyOperator",
    arguments=toy_arguments,
    checks=toy_checks,
    calls=(AwsCall("sqs", "SendMessage"),),
)

TOY_PLAN = """\
plan: toys
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef0]}
    post:
      - toy: {name: hello, greeting: hi}
"""
BAD_TOY_PLAN = """\
plan: toys
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef0]}
    pre:
      - toy: {greeting: hi}
    post:
      - toy: {greeting: Hello!}
"""


@pytest.fixture
def toy() -> Iterator[StepKind[ToyStep]]:
    """The toy kind, registered for one test and unregistered after it, whatever happens."""
    register(TOY)
    try:
        yield TOY
    finally:
        unregister(TOY.name)


@pytest.fixture
def toy_plan(tmp_path: Path) -> Path:
    path = tmp_path / "toys.yaml"
    path.write_text(TOY_PLAN, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[str]]:
    status = main(["lint", str(path)])
    return status, capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("toy")
def test_the_json_schema_has_the_toy_and_judges_toy_steps_by_its_rule() -> None:
    schema = plan_json_schema()

    assert schema["$defs"]["toy"]["properties"]["greeting"]["pattern"] == "^[a-z]+$"
    assert {
        "type": "object",
        "properties": {"toy": {"$ref": "#/$defs/toy"}},
        "required": ["toy"],
        "additionalProperties": False,
    } in schema["$defs"]["step"]["oneOf"]
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(TOY_PLAN))) == []
    assert list(validator.iter_errors(yaml.safe_load(BAD_TOY_PLAN)))


@pytest.mark.usefixtures("toy")
def test_lint_names_the_field_of_a_bad_toy_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "toys.yaml"
    path.write_text(BAD_TOY_PLAN, encoding="utf-8")

    status, errors = lint(capsys, path)

    assert status == 1
    assert errors == [
        f"{path}: waves[0].pre[0].toy: a toy plays after the wave: put it in post (line 6)",
        f"{path}: waves[0].post[0].toy.greeting: 'Hello!' is not valid: lowercase letters only (line 8)",
        "2 problems in 1 of 1 plan file",
    ]


@pytest.mark.usefixtures("toy")
def test_the_factory_renders_the_toy_with_its_operator(toy_plan: Path) -> None:
    from airflow.providers.standard.operators.empty import EmptyOperator

    from drs_provider.factory import build_dags

    dag = build_dags(toy_plan.parent)["drs_plan_toys"]
    task = dag.get_task("db.hello")

    assert type(task) is EmptyOperator
    assert task.upstream_task_ids == {"db.wait_for_recovery"}
    assert task.doc_md == "post step `hello` (toy) of wave `db`"
    preflight: Any = dag.get_task("preflight")
    assert preflight.waves[0]["steps"] == [
        {
            "phase": "post",
            "kind": "toy",
            "optional": False,
            "modes": ["drill", "recovery", "failback"],  # step_keys gives every kind modes
            "name": "hello",
            "greeting": "hi",
        }
    ]


@pytest.mark.usefixtures("toy")
def test_the_report_knows_a_toy_step_by_the_operator_it_renders_as(toy_plan: Path) -> None:
    from drs_provider.factory import build_dags
    from drs_provider.recovery.report import build_report
    from drs_provider.recovery.run_record import RunRecord, TaskRecord
    from drs_provider.recovery.wave_shapes import dag_waves

    dag = build_dags(toy_plan.parent)["drs_plan_toys"]
    tasks = {
        task.task_id: TaskRecord(task.task_id, "success", operator=type(task).__name__) for task in dag.tasks
    }
    run = RunRecord("drs_plan_toys", "manual__1", "success", None, None, dag_waves(dag), tasks)

    (wave,) = build_report(run)["waves"]
    # named "hello", not post_1_toy: the kind comes from the operator, not from a default name
    assert [(step["name"], step["kind"]) for step in wave["steps"]] == [("hello", "toy")]


@pytest.mark.usefixtures("toy")
def test_drs_plan_graph_describes_the_toy(toy_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(toy_plan)]) == 0
    assert "after:  1. toy hello: says hi" in capsys.readouterr().out

    assert main(["graph", "--format", "mermaid", str(toy_plan)]) == 0
    assert "<br/>after: toy hello: says hi" in capsys.readouterr().out


@pytest.mark.usefixtures("toy")
def test_the_iam_policy_grants_what_the_toy_calls(toy_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["iam-policy", str(toy_plan)]) == 0
    policy = json.loads(capsys.readouterr().out)

    [toy_calls] = [statement for statement in policy["Statement"] if statement["Sid"] == "SqsSteps"]
    assert (toy_calls["Action"], toy_calls["Resource"]) == (["sqs:SendMessage"], "*")
    assert main(["iam-policy", "--mode", "readiness", str(toy_plan)]) == 0
    assert "sqs:" not in capsys.readouterr().out  # readiness runs no step


def test_once_unregistered_the_toy_is_gone_from_every_layer(
    toy_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(TOY)
    unregister(TOY.name)

    assert step_kinds() == BUILT_IN
    assert schema_text() == SCHEMA_FILE.read_text(encoding="utf-8")
    status, errors = lint(capsys, toy_plan)
    assert status == 1
    assert errors[0] == (
        f"{toy_plan}: waves[0].post[0].toy: unknown step kind 'toy'; step kinds: approval, "
        "ssm_command, ssm_automation, lambda, wait (line 6)"
    )


@pytest.mark.usefixtures("toy")
def test_a_kind_is_refused_when_its_name_or_an_operator_is_taken() -> None:
    with pytest.raises(ValueError, match="'toy' is already registered"):
        register(TOY)
    approval_twin = StepKind(
        model=type("TwinStep", (ToyStep,), {"kind": "twin"}),
        rule=TOY.rule,
        describe=TOY.describe,
        operator="airflow.providers.standard.operators.hitl:ApprovalOperator",
        arguments=toy_arguments,
    )
    with pytest.raises(ValueError, match=r"ApprovalOperator \(approval\)"):
        register(approval_twin)
    nameless = StepKind(
        model=approval_twin.model,
        rule=Object(title="twin step", keys=()),
        describe=TOY.describe,
        operator="airflow.providers.standard.operators.empty:EmptyOperator",
        arguments=toy_arguments,
    )
    with pytest.raises(ValueError, match="lacks name, optional, modes"):
        register(nameless)
    assert [kind.name for kind in step_kinds()] == [*(kind.name for kind in BUILT_IN), "toy"]


@pytest.mark.parametrize("kind", BUILT_IN, ids=[kind.name for kind in BUILT_IN])
def test_every_operator_a_built_in_kind_names_is_a_real_class(kind: StepKind[Any]) -> None:
    """A dotted path cannot drift from the class: the report matches tasks by these names."""
    for path, name in zip((kind.operator, *kind.reported_from), kind.operator_names, strict=True):
        module, _, attribute = path.partition(":")
        assert getattr(importlib.import_module(module), attribute).__name__ == name


def test_no_module_of_the_step_kinds_imports_airflow_or_boto3() -> None:
    """The plan layer reads the kinds, so they stay as free of Airflow as it is."""
    offenders = []
    for module in sorted((REPO_ROOT / "plugins" / "drs_provider" / "steps").glob("*.py")):
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), start=1):
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in HEAVY:
                offenders.append(f"{module.name}:{number}: {line.strip()}")
    assert offenders == []
