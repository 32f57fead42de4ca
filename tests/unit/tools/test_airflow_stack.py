"""The stack's SQLite metadata database waits for a busy write lock instead of failing at 5 s; a
stack can run another environment's Airflow, and only some of its processes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import sqlalchemy
from airflow.settings import _get_async_conn_uri_from_sync
from sqlalchemy.ext.asyncio import create_async_engine
from tools.airflow_stack import PROCESSES, SQLITE_LOCK_TIMEOUT, AirflowStack, StackConfig

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def sqlite_conn(tmp_path: Path) -> str:
    stack = AirflowStack(StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url="http://127.0.0.1:1"))
    return stack._settings()["database"]["sql_alchemy_conn"]


def test_every_sync_connection_waits_out_a_busy_lock(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(sqlite_conn(tmp_path))
    with engine.connect() as connection:
        busy_timeout_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert busy_timeout_ms == SQLITE_LOCK_TIMEOUT * 1000
    assert SQLITE_LOCK_TIMEOUT > 5  # the driver's own default


def test_a_heartbeat_held_up_by_sqlites_lock_is_not_a_lost_worker(tmp_path: Path) -> None:
    settings = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url="http://127.0.0.1:1")
    )._settings()

    timeout = int(settings["scheduler"]["task_instance_heartbeat_timeout"])
    heartbeat = int(settings["workers"]["min_heartbeat_interval"])
    # a heartbeat may wait the whole lock timeout, and the one after it may too
    assert timeout > 2 * SQLITE_LOCK_TIMEOUT + heartbeat


def test_a_scheduler_held_up_by_sqlites_lock_does_not_reset_its_own_tasks(tmp_path: Path) -> None:
    settings = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url="http://127.0.0.1:1")
    )._settings()["scheduler"]

    # The orphan check fails every scheduler whose heartbeat is older than the threshold, itself
    # included, and resets that scheduler's running tasks.
    threshold = int(settings["scheduler_health_check_threshold"])
    heartbeat = int(settings["job_heartbeat_sec"])
    assert threshold > 2 * SQLITE_LOCK_TIMEOUT + heartbeat


def test_a_task_waits_for_the_answer_of_a_call_held_up_by_sqlites_lock(tmp_path: Path) -> None:
    settings = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url="http://127.0.0.1:1")
    )._settings()

    # sent again before the first try has its answer, a call only adds another writer to the queue
    assert float(settings["workers"]["execution_api_timeout"]) > SQLITE_LOCK_TIMEOUT


def test_airflows_async_engine_gets_the_same_timeout(tmp_path: Path) -> None:
    async_url = _get_async_conn_uri_from_sync(sqlite_conn(tmp_path))

    async def busy_timeout_ms() -> object:
        engine = create_async_engine(async_url)
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql("PRAGMA busy_timeout")
            value = result.scalar()
        await engine.dispose()
        return value

    assert async_url.startswith("sqlite+aiosqlite:")
    assert asyncio.run(busy_timeout_ms()) == SQLITE_LOCK_TIMEOUT * 1000


def test_another_environments_airflow_imports_nothing_through_this_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/repository/plugins")
    airflow = tmp_path / "venv" / "bin" / "airflow"
    own = AirflowStack(StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None))
    other = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None, airflow_command=airflow)
    )

    assert own._environment()["PYTHONPATH"] == "/repository/plugins"
    assert "PYTHONPATH" not in other._environment()
    assert other._command("api-server")[0] == str(airflow)
    assert other._command("scheduler") == [str(airflow), "scheduler"]


def test_a_stack_runs_the_processes_it_names(tmp_path: Path) -> None:
    every = AirflowStack(StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None))
    api_only = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None, processes=["api-server"])
    )

    assert every.process_names == PROCESSES["sqlite"]
    assert api_only.process_names == ("api-server",)


def test_on_sqlite_the_tasks_reach_an_execution_api_of_its_own(tmp_path: Path) -> None:
    stack = AirflowStack(StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None))
    stack.api_port, stack.execution_api_port = 8081, 8082

    assert stack._settings()["core"]["execution_api_server_url"] == "http://127.0.0.1:8082/execution/"
    assert stack._command("execution-api")[2:6] == ["--apps", "execution", "--host", "127.0.0.1"]
    assert "8082" in stack._command("execution-api")
    # the REST API's audit log commits on the core server's event loop, away from the tasks' calls
    assert stack._command("api-server")[2:4] == ["--apps", "core"]
    assert "8081" in stack._command("api-server")


def test_an_api_server_alone_serves_the_execution_api_too(tmp_path: Path) -> None:
    stack = AirflowStack(
        StackConfig(home=tmp_path, plans_dir=tmp_path, simulator_url=None, processes=["api-server"])
    )
    stack.api_port = 8081

    assert stack._command("api-server")[2:4] == ["--apps", "all"]
    assert stack._settings()["core"]["execution_api_server_url"] == "http://127.0.0.1:8081/execution/"


def test_a_celery_stack_runs_as_many_tasks_at_once_as_its_worker_slots(tmp_path: Path) -> None:
    def stack(**slots: int) -> AirflowStack:
        return AirflowStack(
            StackConfig(
                home=tmp_path, plans_dir=tmp_path, simulator_url=None, backend="postgres-celery", **slots
            )
        )

    for built, slots in ((stack(), 4), (stack(worker_slots=8), 8)):
        command = built._command("celery-worker")
        assert command[command.index("--concurrency") + 1] == str(slots)
        assert built._settings()["celery"]["worker_concurrency"] == str(slots)
        assert built._settings()["core"]["parallelism"] == str(2 * slots)
