"""Runbook step kinds: one module per kind, each declaring everything about its kind once.

Every layer reads the kinds from :mod:`.registry`; importing this package (or any module in
it) registers the built-in ones. A new built-in kind is a module like ``wait.py`` and its
entry in :data:`BUILT_IN`; a kind of your own is one :func:`register` call
(docs/how-to/approvals-and-checks.md "A new step kind"). Like the plan layer, this package
imports no Airflow: a kind names its operator by dotted path, and the factory imports it only
when it renders a step.
"""

from __future__ import annotations

from typing import Any

from drs_provider.steps import approval, lambda_function, ssm_automation, ssm_command, wait
from drs_provider.steps.registry import (
    AwsCall,
    LambdaFunction,
    Place,
    SsmDocument,
    StepKind,
    find_step_kind,
    kind_of,
    kind_of_operator,
    register,
    step_kinds,
    unregister,
)

#: The built-in kinds, in the order plans, messages and the JSON Schema list them.
BUILT_IN: tuple[StepKind[Any], ...] = (
    approval.KIND,
    ssm_command.KIND,
    ssm_automation.KIND,
    lambda_function.KIND,
    wait.KIND,
)
for _kind in BUILT_IN:
    register(_kind)

__all__ = [
    "BUILT_IN",
    "AwsCall",
    "LambdaFunction",
    "Place",
    "SsmDocument",
    "StepKind",
    "find_step_kind",
    "kind_of",
    "kind_of_operator",
    "register",
    "step_kinds",
    "unregister",
]
