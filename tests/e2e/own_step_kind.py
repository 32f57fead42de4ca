"""A step kind of a deployment's own, registered the way docs/how-to/approvals-and-checks.md
"A new step kind" says, for the end-to-end test of a plan that validates but cannot be rendered
as a DAG (issue 18).

``shell`` runs a command with the standard provider's ``BashOperator``. That operator templates
``bash_command``, which would make plan text a Jinja template again, so the factory refuses to
render a ``shell`` step (naming the operator and its fields): a plan with one passes validation
and fails only when its DAG is rendered. The module's two DAG files
(``tests/e2e/dags/own_kind_plans.py`` and ``own_kind_plan_errors.py``) register it before they
read their plans folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from drs_provider.plans.model import Step
from drs_provider.plans.rule_kinds import Key, Object, Text
from drs_provider.steps import StepKind, find_step_kind, register
from drs_provider.steps.common import step_keys

if TYPE_CHECKING:
    from drs_provider.steps import Place


@dataclass(frozen=True, kw_only=True)
class ShellStep(Step):
    """Run ``command`` on the worker."""

    kind: ClassVar[str] = "shell"
    command: str

    def _fields(self) -> dict[str, object]:
        return {"command": self.command}


def arguments(step: ShellStep, place: Place) -> dict[str, Any]:
    return {"bash_command": step.command, **place.task_arguments(step)}


SHELL = StepKind(
    model=ShellStep,
    rule=Object(
        title="shell step",
        description="Runs a command on the worker.",
        where="in a shell step",
        keys=step_keys(Key("command", Text(description="The command.", min_length=1), required=True)),
    ),
    describe=lambda step: f"runs {step.command!r}",
    operator="airflow.providers.standard.operators.bash:BashOperator",
    arguments=arguments,
)


def register_shell() -> None:
    """Register ``shell`` once per process (both DAG files may be parsed by one)."""
    if find_step_kind(SHELL.name) is None:
        register(SHELL)
