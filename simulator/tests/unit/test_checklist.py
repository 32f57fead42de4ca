"""The implemented-operation checklist is generated from the model and kept in step."""

from __future__ import annotations

import ast
from pathlib import Path

from drs_simulator.checklist import checklist_markdown, operations_status
from drs_simulator.models import OPERATIONS, DrsBackend
from drs_simulator.service import match, routes, service_model

DISTRIBUTION = Path(__file__).resolve().parents[2]
PACKAGE = DISTRIBUTION / "src" / "drs_simulator"


def test_operations_md_is_in_step_with_the_model():
    assert (DISTRIBUTION / "OPERATIONS.md").read_text() == checklist_markdown(), (
        "regenerate: python -m drs_simulator --list-operations > simulator/OPERATIONS.md"
    )


def test_checklist_covers_every_model_operation():
    rows = operations_status()
    assert sorted(r["operation"] for r in rows) == sorted(service_model().operation_names)
    assert {r["operation"] for r in rows if r["implemented"]} == set(OPERATIONS)


def test_every_implemented_operation_is_in_the_model_and_has_a_backend_method():
    for name, method in OPERATIONS.items():
        assert name in service_model().operation_names
        assert callable(getattr(DrsBackend, method))


def test_routes_come_from_the_model():
    assert len(routes()) == len(service_model().operation_names)
    assert match("POST", "/StartRecovery")[0].operation == "StartRecovery"
    assert (
        match("GET", "/tags/arn:aws:drs:us-east-1:123456789012:job/drsjob-1")[0].operation
        == "ListTagsForResource"
    )
    assert match("DELETE", "/tags/x")[0].operation == "UntagResource"
    assert match("POST", "/tags/x")[0].operation == "TagResource"
    assert match("GET", "/StartRecovery") is None


def test_the_simulator_imports_nothing_of_airflow_or_the_provider():
    """It is a distribution of its own: installed alone, neither is there."""
    modules = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "models" / "simulator.py" in modules
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"airflow", "drs_provider"}, (path, name)
