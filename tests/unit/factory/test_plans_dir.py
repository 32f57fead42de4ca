"""Where the factory looks for plans, and what it says when it cannot find them."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_provider.exceptions import PlanError
from drs_provider.factory import build_dags, plans_dir_for, raise_for_broken_plans


def test_plans_dir_is_beside_the_dag_file_unless_drs_plans_dir_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)
    assert plans_dir_for(tmp_path / "dags" / "drs_recovery_plans.py") == tmp_path / "dags" / "recovery_plans"

    monkeypatch.setenv("DRS_PLANS_DIR", str(tmp_path / "elsewhere"))
    assert plans_dir_for(tmp_path / "dags" / "drs_recovery_plans.py") == tmp_path / "elsewhere"
    assert plans_dir_for() == tmp_path / "elsewhere"


def test_without_a_dag_file_the_default_is_in_airflows_dags_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.configuration import conf

    monkeypatch.delenv("DRS_PLANS_DIR", raising=False)
    assert plans_dir_for() == Path(conf.get("core", "dags_folder")) / "recovery_plans"


def test_a_missing_plans_directory_builds_nothing_and_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "recovery_plans"

    assert build_dags(missing) == {}
    with pytest.raises(PlanError) as caught:
        raise_for_broken_plans(missing)
    assert str(missing) in str(caught.value)
    assert "cannot read the plans directory" in str(caught.value)
