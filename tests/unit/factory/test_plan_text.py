"""Plan text is data (issue 18): nothing a plan file says is ever evaluated as a template.

A plan whose every free-text field holds a template trick loads (``drs-plan lint`` passes it),
renders as a DAG, and every task of that DAG keeps the plan's text as written when Airflow
renders its templates against a context that can reach a connection and a variable: no
secret, no evaluated statement, no dropped comment, no string read as a template file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import yaml

from drs_provider.plans import load_plan_file
from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Json, Key, ListOf, MapOf, Object, OneKeyOf, Text, TextMap
from drs_provider.plans.rules import PLAN
from drs_provider.steps import StepKind, register, step_kinds, unregister
from drs_provider.steps.common import step_keys

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk import DAG, BaseOperator

    from drs_provider.plans.rule_kinds import Rule

CONNECTION_SECRET = "conn-secret-Qx93vT"
VARIABLE_SECRET = "var-secret-Lp27kW"
SECRETS = (CONNECTION_SECRET, VARIABLE_SECRET)

#: Each way plan text could be taken for a template, as a plan author might write it.
TRICKS = {
    "connection": "{{ conn.rs_vault.password }}",
    "variable": "{{ var.value.rs_note }}",
    "statement": "{% if true %}{{ conn.rs_vault.password }}{% endif %}",
    "comment": "{# gone #}{{ var.value.rs_note }}",
    # shell text: '${#' opens a Jinja comment that never closes (a syntax error when rendered)
    "shell": "test ${#HOSTS[@]} -gt 0 && echo {{",
    # names an operator's template_ext would read as template files
    "sh_file": "run.sh",
    "json_file": "payload.json",
}

#: Free text by its rule, but checked by the validator against other values of the plan.
CHECKED_ELSEWHERE = {"waves[].depends_on[]": "names a wave of the plan (a-z, 0-9 and _)"}

#: The factory's own templates (XCom pulls by the wave's sensor): the only ones a plan DAG has.
#: ``region_name``: where a failback's jobs run (``start_recovery``'s ``home_region``), else the
#: plan's region, a validated name.
FACTORY_TEMPLATES = {"wait_for_recovery": {"job_ids", "optional_source_server_ids", "region_name"}}


def plan_document(trick: str) -> dict[str, Any]:
    """A valid plan with ``trick`` in every field where a plan may write any text."""
    return {
        "plan": "plan_text",
        "description": trick,
        "owner": trick,
        "tags": {trick: trick},
        "notify": {"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:dr-events"},
        "waves": [
            {
                "name": "db",
                "servers": {"ids": ["s-0a000000000000001"], "tags": {trick: trick, "Tier": "db"}},
                "pre": [{"approval": {"message": trick}}],
                "post": [
                    {
                        "ssm_command": {
                            "document": "AWS-RunShellScript",
                            "parameters": {"commands": [trick], trick: [trick]},
                            "targets": [{"Key": trick, "Values": [trick]}],
                            "comment": trick,
                        }
                    },
                    {"ssm_automation": {"document": "Shop-PromoteReplica", "parameters": {trick: [trick]}}},
                    {
                        "lambda": {
                            "function": "dr-switch-dns",
                            "payload": {trick: trick, "list": [{"x": trick}]},
                        }
                    },
                    {"wait": 1},
                ],
            },
            {
                "name": "app",
                "servers": {"ids": ["s-0a000000000000003"]},
                "optional_servers": {"tags": {trick: trick, "Tier": "app"}},
            },
        ],
    }


def _free(text: Text) -> bool:
    return text.pattern is None and not text.choices and text.check is None


def free_text_paths(rule: Rule, path: str = "") -> set[str]:
    """Where ``rule`` lets a plan write any text; a step kind's paths start with its name."""
    if isinstance(rule, Text):
        return {path} if _free(rule) else set()
    if isinstance(rule, Json):
        return {path}
    if isinstance(rule, ListOf):
        return free_text_paths(rule.items, f"{path}[]")
    if isinstance(rule, MapOf | TextMap):
        return free_text_paths(rule.keys, f"{path}{{key}}") | free_text_paths(rule.values, f"{path}{{}}")
    if isinstance(rule, Object):
        return set().union(
            *(free_text_paths(key.rule, f"{path}.{key.name}".lstrip(".")) for key in rule.keys)
        )
    if isinstance(rule, OneKeyOf):
        return set().union(*(free_text_paths(kind.rule, kind.name) for kind in rule.kinds))
    return set()  # numbers and booleans


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {text for item in value.values() for text in _strings(item)}
    if isinstance(value, list):
        return {text for item in value for text in _strings(item)}
    return set()


def paths_holding(rule: Rule, value: object, trick: str, path: str = "") -> set[str]:
    """The free-text paths of ``rule`` at which ``value`` holds ``trick``."""
    if isinstance(rule, Text):
        return {path} if value == trick else set()
    if isinstance(rule, Json):
        return {path} if trick in _strings(value) else set()
    if isinstance(rule, ListOf) and isinstance(value, list):
        return set().union(set(), *(paths_holding(rule.items, item, trick, f"{path}[]") for item in value))
    if isinstance(rule, MapOf | TextMap) and isinstance(value, dict):
        found = {f"{path}{{key}}"} if trick in value else set()
        return found.union(
            *(paths_holding(rule.values, item, trick, f"{path}{{}}") for item in value.values())
        )
    if isinstance(rule, Object) and isinstance(value, dict):
        return set().union(
            set(),
            *(
                paths_holding(key.rule, value[key.name], trick, f"{path}.{key.name}".lstrip("."))
                for key in rule.keys
                if key.name in value
            ),
        )
    if isinstance(rule, OneKeyOf) and isinstance(value, dict):
        [(name, body)] = value.items()
        kind = rule.kind(name)
        return paths_holding(kind.rule, body, trick, name) if kind else set()
    return set()


def test_the_sample_plan_holds_a_trick_in_every_free_text_field_of_every_step_kind() -> None:
    """A new key, or a new step kind, that takes text must join the sample plan."""
    document = plan_document("TRICK")
    wanted = free_text_paths(PLAN) - set(CHECKED_ELSEWHERE)

    assert wanted - paths_holding(PLAN, document, "TRICK") == set()
    steps = [step for wave in document["waves"] for phase in ("pre", "post") for step in wave.get(phase, [])]
    assert {name for step in steps for name in step} == {kind.name for kind in step_kinds()}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection and a variable that any template rendered here could reach."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_RS_VAULT", json.dumps({"conn_type": "generic", "password": CONNECTION_SECRET})
    )
    monkeypatch.setenv("AIRFLOW_VAR_RS_NOTE", VARIABLE_SECRET)


class NoXComs:
    """The task instance the factory's XCom pulls see: nothing pushed yet."""

    def xcom_pull(self, **kwargs: Any) -> None:
        return None


def render_context() -> dict[str, Any]:
    """Airflow's template context as far as templates read it: connections, variables, macros, XComs."""
    from airflow.sdk.execution_time.context import ConnectionAccessor, MacrosAccessor, VariableAccessor

    return {
        "ti": NoXComs(),
        "task_instance": NoXComs(),
        "conn": ConnectionAccessor(),
        "var": {
            "value": VariableAccessor(deserialize_json=False),
            "json": VariableAccessor(deserialize_json=True),
        },
        "macros": MacrosAccessor(),
        "params": {},
        "run_id": "manual__2026-01-01T00:00:00+00:00",
        "ds": "2026-01-01",
    }


def plan_dag(tmp_path: Path, trick: str) -> DAG:
    from drs_provider.factory.render import render_plan

    path = tmp_path / "plan_text.yaml"
    path.write_text(yaml.safe_dump(plan_document(trick), sort_keys=False), encoding="utf-8")
    return render_plan(load_plan_file(path))  # load_plan_file raises unless lint passes it


def attributes(task: BaseOperator) -> dict[str, str]:
    return {name: repr(value) for name, value in vars(task).items() if not name.startswith("_")}


def callbacks(task: BaseOperator) -> list[Any]:
    """The notifiers of a task: its callbacks' and, for an approval, the HITL ones."""
    found = [getattr(task, "notifiers", None)]
    found += [getattr(task, hook, None) for hook in ("on_execute_callback", "on_failure_callback")]
    return [item for each in found if each for item in (each if isinstance(each, list) else [each])]


def test_the_operators_of_a_plan_dag_template_nothing_but_the_factory_s_own_xcom_pulls(
    tmp_path: Path,
) -> None:
    dag = plan_dag(tmp_path, TRICKS["connection"])

    for task in dag.tasks:
        allowed = FACTORY_TEMPLATES.get(task.task_id.rpartition(".")[2], set())
        assert set(task.template_fields) <= allowed, task.task_id
        assert not task.template_ext, task.task_id
        for notifier in callbacks(task):  # the plan's events, the approval's question among them
            assert not notifier.template_fields, (task.task_id, notifier)
    assert callbacks(dag.get_task("db.pre_1_approval"))  # the sample sends approval_requested
    region = dag.get_task("db.wait_for_recovery").region_name
    assert region.startswith("{{ (ti.xcom_pull(task_ids='db.start_recovery', key='home_region'"), region


@dataclass(frozen=True, kw_only=True)
class ShellStep(Step):
    """A kind of one's own whose operator would render its text as a template."""

    kind: ClassVar[str] = "shell"
    command: str

    def _fields(self) -> dict[str, object]:
        return {"command": self.command}


def test_a_kind_of_one_s_own_whose_operator_templates_is_refused_when_rendered(tmp_path: Path) -> None:
    from drs_provider.factory.render import render_plan

    shell = StepKind(
        model=ShellStep,
        rule=Object(title="shell step", keys=step_keys(Key("command", Text(), required=True))),
        describe=lambda step: "runs a shell command",
        operator="airflow.providers.standard.operators.bash:BashOperator",
        arguments=lambda step, place: {"bash_command": step.command, **place.task_arguments(step)},
    )
    register(shell)
    try:
        path = tmp_path / "shell.yaml"
        path.write_text(
            "plan: shell\nwaves:\n  - name: db\n    servers: {ids: [s-0a000000000000001]}\n"
            "    post:\n      - shell: {command: 'echo {{ conn.rs_vault.password }}'}\n",
            encoding="utf-8",
        )
        plan = load_plan_file(path)
        with pytest.raises(TypeError, match=r"BashOperator templates bash_command.*PlanTextMixin"):
            render_plan(plan)
    finally:
        unregister(shell.name)


@pytest.mark.parametrize("trick", TRICKS.values(), ids=TRICKS.keys())
def test_every_task_keeps_the_plan_s_text_as_written_when_its_templates_render(
    tmp_path: Path, secrets: None, trick: str
) -> None:
    dag = plan_dag(tmp_path, trick)
    context = render_context()

    for task in dag.tasks:
        before = attributes(task)
        task.render_template_fields(context)
        after = attributes(task)
        ours = FACTORY_TEMPLATES.get(task.task_id.rpartition(".")[2], set())
        changed = {name for name in before if before[name] != after.get(name)} - ours
        assert changed == set(), (task.task_id, {name: after[name] for name in changed})
        assert not any(secret in text for secret in SECRETS for text in after.values()), task.task_id

    # What reaches people and AWS is the plan's text, character for character.
    approval = dag.get_task("db.pre_1_approval")
    assert approval.subject == trick
    command = dag.get_task("db.post_1_ssm_command").run_command_kwargs
    assert command["Parameters"] == {"commands": [trick], trick: [trick]}
    assert command["Comment"] == trick
    assert command["Targets"] == [{"Key": trick, "Values": [trick]}]
    automation = dag.get_task("db.post_2_ssm_automation")
    assert dict(automation.parameters) == {trick: (trick,)}
    function = dag.get_task("db.post_3_lambda")
    assert function.input_payload == {trick: trick, "list": [{"x": trick}]}
    start = dag.get_task("db.start_recovery")
    assert start.tags == {trick: trick, "Tier": "db"}
    assert dag.get_task("app.start_recovery").optional_tags == {trick: trick, "Tier": "app"}
    assert dag.owner == trick and trick in (dag.description or "")
