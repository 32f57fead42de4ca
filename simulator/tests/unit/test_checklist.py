"""The implemented-operation checklist is generated from the model and kept in step."""

from __future__ import annotations

import ast
from pathlib import Path

from drs_provider.simulator.checklist import checklist_markdown, operations_status
from drs_provider.simulator.models import OPERATIONS, DrsBackend
from drs_provider.simulator.service import match, routes, service_model

SIMULATOR = Path(__file__).resolve().parents[3] / "plugins" / "drs_provider" / "simulator"


def test_operations_md_is_in_step_with_the_model():
    assert (SIMULATOR / "OPERATIONS.md").read_text() == checklist_markdown(), (
        "regenerate: python -m drs_provider.simulator --list-operations "
        "> plugins/drs_provider/simulator/OPERATIONS.md"
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


def test_the_simulator_imports_nothing_of_airflow_or_the_rest_of_the_provider():
    for path in SIMULATOR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("airflow"), (path.name, name)
                if name.startswith("drs_provider"):
                    assert name == "drs_provider.exceptions" or name.startswith("drs_provider.simulator"), (
                        path.name,
                        name,
                    )
