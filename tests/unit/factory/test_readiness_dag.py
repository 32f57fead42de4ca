"""The ``drs_readiness`` DAG: its two tasks, ``check`` and ``native_plans``, side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.factory.readiness import readiness_dag
from drs_provider.operators.native_plans import DrsNativePlansOperator
from drs_provider.operators.readiness import DrsReadinessOperator
from drs_provider.readiness import NATIVE_PLANS_TASK_ID, READINESS_DAG_ID, READINESS_TASK_ID

if TYPE_CHECKING:
    from pathlib import Path


def test_check_and_native_plans_run_independently_on_the_same_folder(tmp_path: Path) -> None:
    dag = readiness_dag(tmp_path)

    assert dag.dag_id == READINESS_DAG_ID
    check, native = dag.get_task(READINESS_TASK_ID), dag.get_task(NATIVE_PLANS_TASK_ID)
    assert isinstance(check, DrsReadinessOperator)
    assert isinstance(native, DrsNativePlansOperator)
    assert check.plans_dir == native.plans_dir == str(tmp_path)
    # no edge: each runs every time, whatever the other did
    assert not check.downstream_task_ids and not native.upstream_task_ids
    assert not native.downstream_task_ids and not check.upstream_task_ids
