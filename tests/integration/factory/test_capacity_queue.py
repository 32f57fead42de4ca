"""A wave that has not waited yet does not overtake the capacity waits the triggerer published
(``recovery/capacity_queue.py``), in a real run (``dag.test()``) against the simulator."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from tools.processes import wait_until

from drs_provider.constants import CAPACITY_WAIT_XCOM_KEY
from drs_provider.recovery.capacity_queue import Entry, encode, published_entries, queue_variable, section_of
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

#: The section of another triggerer in the published queue.
ELSEWHERE = "elsewhere:1"

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
    as another triggerer (:data:`ELSEWHERE`) would (removed afterwards). The publication does not go
    stale during the test: on a loaded machine the run's tasks have taken over a minute to reach
    the launch, and nothing republishes it."""
    from airflow.models.variable import Variable

    from drs_provider.recovery import capacity_queue

    monkeypatch.setattr(capacity_queue, "STALE_SECONDS", 3600.0)

    name = f"queued_{request.function.__name__[7:14]}"
    dag = plan_dag(name, PLAN.replace("NAME", name))
    key = queue_key(dag)

    def publish(entries: list[Entry]) -> None:
        store(key, encode(tuple(entries), time.time(), triggerer=ELSEWHERE, previous=stored(key)))

    yield dag, publish
    Variable.delete(key)


def queue_key(dag: DAG) -> str:
    """The Variable of the capacity queue of the account the plan's wave launches in."""
    task: Any = dag.get_task("db.start_recovery")
    return queue_variable(task.aws_conn_id, task.region_name)


def stored(key: str) -> str | None:
    """A Variable's value, read from the metadata database as another triggerer's would be.

    Straight through the ORM: while ``dag.test()`` runs a task, Airflow's ``Variable`` goes through
    the task's in-process supervisor, which a second thread must not share."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(select(Variable).where(Variable.key == key))
        return None if row is None else str(row.val)


def store(key: str, value: str) -> None:
    """Write a Variable's value to the metadata database (see :func:`stored`)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(select(Variable).where(Variable.key == key))
        if row is None:
            session.add(Variable(key=key, val=value))
        else:
            row.val = value


def published_text(dag: DAG) -> str | None:
    return stored(queue_key(dag))


def published_here(dag: DAG) -> list[Entry]:
    """What the run's own triggerer published (every section but the other triggerer's)."""
    return published_entries(published_text(dag), time.time(), excluding=ELSEWHERE)


def launches(drs_simulator: Any) -> list[int]:
    return [call["status"] for call in drs_simulator.calls("StartRecovery")]


def test_a_drill_behind_a_waiting_recovery_joins_the_queue_before_calling_drs(
    published: tuple[DAG, Callable[[list[Entry]], None]], drs_simulator: Any
) -> None:
    dag, publish = published
    # another triggerer let a recovery go: DRS has room, only the queue holds the drill back
    publish([Entry(recovery=True, priority=0, until=time.time() + 600)])

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert xcom_of(dag, "db.start_recovery", CAPACITY_WAIT_XCOM_KEY) == (
        "waiting for DRS capacity: 1 launch(es) already waiting ahead; "
        "1 job(s) for 1 server(s) still to launch"
    )
    assert launches(drs_simulator) == [202]  # launched once, after its turn: never refused
    # its trigger let it go and published its reservation, beside the other triggerer's
    [reservation] = published_here(dag)
    assert (reservation.recovery, reservation.priority) == (False, 0)
    assert reservation.until is not None and reservation.until > time.time()
    assert section_of(published_text(dag), ELSEWHERE, time.time()) == [
        Entry(recovery=True, priority=0, until=pytest.approx(time.time() + 600, abs=600))
    ]


def test_a_recovery_goes_before_the_drills_that_wait(
    published: tuple[DAG, Callable[[list[Entry]], None]], drs_simulator: Any
) -> None:
    dag, publish = published
    publish([Entry(recovery=False, priority=100), Entry(recovery=False, priority=0, until=time.time() + 60)])

    state, tasks = run_dag(dag, {"mode": "recovery", "confirm": dag.dag_id.removeprefix("drs_plan_")})

    assert state == "success", tasks
    assert xcom_of(dag, "db.start_recovery", CAPACITY_WAIT_XCOM_KEY) is None  # it never waited
    assert launches(drs_simulator) == [202]


def test_a_drill_waiting_in_its_trigger_goes_only_once_another_triggerers_recovery_has_gone(
    published: tuple[DAG, Callable[[list[Entry]], None]], drs_simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drs_provider.triggers import capacity

    # an unchanged queue is not published again by the clock during the test: only because it is missing
    monkeypatch.setattr(capacity, "REPUBLISH_SECONDS", 3600.0)
    dag, publish = published
    # a recovery waits in another triggerer for every job of the account (20 by default): it goes
    # first, and the drill, though DRS has room now, does not fit beside it
    recovery = Entry(recovery=True, priority=0, jobs=20, servers=20, since=time.time())
    publish([recovery])
    seen: list[str] = []
    gone_at: list[float] = []

    def drill_waits() -> bool:
        return any(entry.until is None for entry in published_here(dag))

    def other_triggerer() -> None:
        wait_until("the drill's wait in its trigger", drill_waits, timeout=180, interval=0.2)
        seen.append("waiting")
        # the other triggerer wrote at the same moment as the drill's: only its own section is left
        store(queue_key(dag), encode((recovery,), time.time(), triggerer=ELSEWHERE))
        wait_until("the drill's wait published again", drill_waits, timeout=120, interval=0.2)
        seen.append("published again")
        gone_at.append(time.time())
        publish([])  # the recovery has gone

    other = threading.Thread(target=other_triggerer, daemon=True)
    other.start()
    state, tasks = run_dag(dag)
    other.join(timeout=10)

    assert state == "success", tasks
    assert seen == ["waiting", "published again"]
    [launch] = drs_simulator.calls("StartRecovery")  # DRS had room all along: never refused
    assert launch["time"] > gone_at[0]  # and yet it waited for the other triggerer's recovery
    assert section_of(published_text(dag), ELSEWHERE, time.time()) is None
