"""The suite's own isolation: every pytest-xdist worker has an Airflow home of its own."""

from __future__ import annotations

import os

import pytest

from tests import conftest


@pytest.mark.skipif(
    not os.environ.get("PYTEST_XDIST_WORKER"), reason="only a pytest-xdist worker inherits a home"
)
def test_a_worker_uses_the_home_it_made_not_the_controllers() -> None:
    assert os.environ["AIRFLOW_HOME"] == str(conftest._home)
    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{conftest._home}/airflow.db"
