"""The plan lease (``operators/plan_lease.py``) as a real run's ``preflight`` takes it (``dag.test()``)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.operators.plan_lease import LEASE_SETTLE_SECONDS
from tests.integration.factory.conftest import run_dag

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

PLAN = """\
plan: leased
waves:
  - name: db
    servers: {ids: [s-0a000000000000001]}
"""


@pytest.fixture
def settles(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait of the lease's settle, in seconds (the real wait still happens)."""
    import time

    from drs_provider.operators import plan_lease

    waits: list[float] = []

    def recorded(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(plan_lease, "time", SimpleNamespace(sleep=recorded))
    return waits


@pytest.fixture
def queued_sibling(plan_dag: Callable[..., DAG]) -> Iterator[DAG]:
    """The plan's DAG with a second run queued beside the one a test starts (deleted afterwards)."""
    from airflow.models.dagrun import DagRun
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType
    from sqlalchemy import delete

    dag = plan_dag("leased", PLAN)
    assert run_dag(dag)[0] == "success"  # the DAG is in the database from here on
    sibling = f"manual__sibling_{uuid.uuid4().hex}"
    with create_session() as session:
        session.add(
            DagRun(
                dag_id=dag.dag_id,
                run_id=sibling,
                run_type=DagRunType.MANUAL,
                state=DagRunState.QUEUED,
                run_after=timezone.utcnow(),
            )
        )
    yield dag
    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.run_id == sibling))


def lease_holder(plan: str) -> str:
    from airflow.models.variable import Variable

    from drs_provider.recovery.lease import Lease, lease_variable

    lease = Lease.from_json(Variable.get(lease_variable(plan)))
    assert lease is not None
    return lease.run_id


@pytest.mark.parametrize("conf", [{}, {"mode": "recovery", "confirm": "leased"}], ids=["drill", "recovery"])
def test_the_only_run_of_a_plan_takes_the_lease_without_reading_it_back(
    plan_dag: Callable[..., DAG], drs_simulator: Any, settles: list[float], conf: dict[str, Any]
) -> None:
    dag = plan_dag("leased", PLAN)

    state, tasks = run_dag(dag, conf)

    assert state == "success", tasks
    assert settles == []  # read free, written, and taken: no other run can have read it free
    assert lease_holder("leased").startswith("manual__")


@pytest.mark.parametrize("conf", [{}, {"mode": "recovery", "confirm": "leased"}], ids=["drill", "recovery"])
def test_a_run_with_a_sibling_reads_the_lease_back_after_the_settle(
    queued_sibling: DAG, drs_simulator: Any, settles: list[float], conf: dict[str, Any]
) -> None:
    state, tasks = run_dag(queued_sibling, conf)

    assert state == "success", tasks
    # the sibling might have written over it meanwhile: read back once, found still this run's
    assert settles == [LEASE_SETTLE_SECONDS]
    assert not lease_holder("leased").startswith("manual__sibling_")
