"""A wave that has not waited yet does not overtake the capacity waits the triggerer published
(``recovery/capacity_queue.py``), in a real run (``dag.test()``) against the simulator."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.constants import CAPACITY_WAIT_XCOM_KEY
from drs_provider.recovery.capacity_queue import Entry, encode, queue_variable
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

PLAN = """\
plan: NAME
waves:
  - name: db
    servers: {ids: [s-0a000000000000001]}
"""


@pytest.fixture
def published(
    plan_dag: Callable[..., DAG], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DAG, Callable[[list[Entry]], None]]]:
    """A plan's DAG (one per test: XComs stay), and a way to publish its account's capacity queue
    (removed afterwards). The publication does not go stale during the test: on a loaded machine
    the run's tasks have taken over a minute to reach the launch, and no triggerer republishes."""
    from airflow.models.variable import Variable

    from drs_provider.recovery import capacity_queue

    monkeypatch.setattr(capacity_queue, "STALE_SECONDS", 3600.0)

    name = f"queued_{request.function.__name__[7:14]}"
    dag = plan_dag(name, PLAN.replace("NAME", name))
    task: Any = dag.get_task("db.start_recovery")
    key = queue_variable(task.aws_conn_id, task.region_name)

    def publish(entries: list[Entry]) -> None:
        Variable.set(key, encode(tuple(entries), time.time()))

    yield dag, publish
    Variable.delete(key)


def published_waits(dag: DAG) -> list[dict[str, Any]]:
    from airflow.models.variable import Variable

    task: Any = dag.get_task("db.start_recovery")
    waits: list[dict[str, Any]] = json.loads(
        Variable.get(queue_variable(task.aws_conn_id, task.region_name))
    )["waits"]
    return waits


def launches(drs_simulator: Any) -> list[int]:
    return [call["status"] for call in drs_simulator.calls("StartRecovery")]


def test_a_drill_behind_a_waiting_recovery_joins_the_queue_before_calling_drs(
    published: tuple[DAG, Callable[[list[Entry]], None]], drs_simulator: Any
) -> None:
    dag, publish = published
    publish([Entry(recovery=True, priority=0)])  # DRS has room: only the queue holds the drill back

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert xcom_of(dag, "db.start_recovery", CAPACITY_WAIT_XCOM_KEY) == (
        "waiting for DRS capacity: 1 launch(es) already waiting ahead; "
        "1 job(s) for 1 server(s) still to launch"
    )
    assert launches(drs_simulator) == [202]  # launched once, after its turn: never refused
    # its trigger let it go and published its reservation, replacing the recovery that has left
    [reservation] = published_waits(dag)
    assert (reservation["recovery"], reservation["priority"]) == (False, 0)
    assert reservation["until"] > time.time()


def test_a_recovery_goes_before_the_drills_that_wait(
    published: tuple[DAG, Callable[[list[Entry]], None]], drs_simulator: Any
) -> None:
    dag, publish = published
    publish([Entry(recovery=False, priority=100), Entry(recovery=False, priority=0, until=time.time() + 60)])

    state, tasks = run_dag(dag, {"mode": "recovery", "confirm": dag.dag_id.removeprefix("drs_plan_")})

    assert state == "success", tasks
    assert xcom_of(dag, "db.start_recovery", CAPACITY_WAIT_XCOM_KEY) is None  # it never waited
    assert launches(drs_simulator) == [202]
