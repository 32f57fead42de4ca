"""Test-wide set-up: an isolated AIRFLOW_HOME and fake AWS credentials, before Airflow is imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at import time, so this must run before any test imports it.
# Every pytest-xdist worker gets a home of its own: workers inherit the controller's environment,
# and sharing its SQLite database and DAG folder raced (one worker's dag.test() inserted a DAG
# another worker's plan file had just brought, and failed on the unique dag_id).
_home = Path(tempfile.mkdtemp(prefix="drs-test-airflow-home-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["AIRFLOW_HOME"] = str(_home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
    os.environ["MOTO_RECORDER_FILEPATH"] = str(_home / "moto-recording.jsonl")
os.environ.setdefault("AIRFLOW_HOME", str(_home))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_home}/airflow.db")
# moto's recorder (LocalAws.recording) keeps its log in this file, read when moto is imported:
# by default in the working directory, which is the repository.
os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(_home / "moto-recording.jsonl"))
# The simulator checks for a SigV4 Authorization header, as DRS does; any credentials sign.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

pytest_plugins = [
    "drs_simulator.testing.plugin",
    "tests.fixtures.simulator",
    "tests.fixtures.moto",
    "tests.fixtures.airflow_db",
]

#: Every test's layer, from the folder it lives in (tests/<layer>/...); tests directly under
#: tests/ are unit tests. ``-m unit``, ``-m integration`` and ``-m e2e`` select exactly one layer.
LAYERS = ("unit", "integration", "e2e")


def layer_of(path: Path) -> str:
    relative = path.resolve().relative_to(REPO_ROOT / "tests")
    return relative.parts[0] if len(relative.parts) > 1 and relative.parts[0] in LAYERS else "unit"


def xdist_group_of(item: pytest.Item) -> str:
    """End-to-end tests of one shared stack (a set-up's lane, ``Scenario.lane``) run in one
    pytest-xdist worker, in order (``--dist loadgroup``): they share that worker's stack. The tests
    that start an Airflow of their own (``make demo``'s, the installed wheel's) run in a worker of
    their own, beside those."""
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec is not None else None
    if not backend:
        return "e2e-own-stack"
    scenario = getattr(getattr(item, "module", None), "SCENARIO", None)
    return f"e2e-{backend}-{getattr(scenario, 'lane', 'a')}"


# tryfirst: pytest-xdist reads the groups in its own hook of this name.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test its layer marker, so that no selection by marker misses a test, and every
    end-to-end test its pytest-xdist group."""
    for item in items:
        path = Path(str(item.path))
        if not path.resolve().is_relative_to(REPO_ROOT / "tests"):
            continue  # simulator/tests: its own conftest marks them
        layer = layer_of(path)
        if not item.get_closest_marker(layer):
            item.add_marker(getattr(pytest.mark, layer))
        if layer == "e2e" and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(xdist_group_of(item)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The end-to-end figures, here so that the controller of a pytest-xdist run prints them too."""
    from tests.e2e.figures import print_summary

    print_summary(terminalreporter)
