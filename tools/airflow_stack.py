"""A real Airflow 3.3 deployment on this machine, started and stopped from Python.

The end-to-end tests and ``make demo`` use it to run recovery plans the way production does:
separate ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` processes
(plus ``airflow celery worker`` for the production-like set-up), driven only over HTTP::

    from tools.airflow_stack import AirflowStack, RestClient, SimulatorProcess, StackConfig

    with SimulatorProcess(fleet_file, speed=10.0) as sim:
        config = StackConfig(home=tmp / "airflow", plans_dir=plans, simulator_url=sim.url)
        with AirflowStack(config) as stack:
            run_id = stack.rest.trigger("drs_plan_shop", {"mode": "drill"})
            stack.rest.wait_for_run("drs_plan_shop", run_id, timeout=300)
            stack.restart("triggerer")       # SIGKILL its process group, start it again
            stack.logs_dir                   # <name>.log for every process

Two back ends:

``sqlite``
    SQLite metadata database and the LocalExecutor (tasks run as children of the scheduler). The
    execution API (what tasks call: start, heartbeat, XComs, state) is served by an API server
    of its own (``execution-api``): see :data:`PROCESSES`.
``postgres-celery``
    A fresh PostgreSQL database (created on start, dropped on stop), the CeleryExecutor with a
    Redis broker, and a Celery worker consuming a queue of its own. Keys in Redis carry a prefix
    unique to the stack, so stacks running side by side never see each other's tasks.

Every process gets the same Fernet key, JWT secret and a complete environment built here
(nothing ``AIRFLOW*`` is inherited from the caller). The ``aws_default`` connection comes from
``AIRFLOW_CONN_AWS_DEFAULT``: DRS on the simulator, and with ``moto_url`` every other AWS service on
moto (``endpoint_url`` moto, ``service_config.drs.endpoint_url`` the simulator). Poll
intervals are shortened so that runs take seconds, not minutes.

The stack stops every process it started (and their descendants) on exit, on exceptions, on
``KeyboardInterrupt`` and on SIGTERM; :meth:`AirflowStack.stop` may be called any number of times.
"""

from __future__ import annotations

import atexit
import configparser
import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import requests

from drs_provider.local_aws import connection_json
from tools.processes import ManagedProcess, free_port, stop_processes, tail, wait_until
from tools.rest_client import RestApiError, RestClient
from tools.simulator_process import SimulatorProcess

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType, TracebackType

__all__ = [
    "AirflowStack",
    "RestClient",
    "SimulatorProcess",
    "StackConfig",
    "postgres_and_redis_available",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

Backend = Literal["sqlite", "postgres-celery"]

#: The processes of each back end, in start order.
#:
#: On SQLite the tasks' execution API runs apart from the UI and REST API (``api-server``). The
#: REST API's audit log (Airflow's ``action_logging``) commits on the API server's event loop, so
#: while SQLite's write lock is taken elsewhere (up to the lock timeout) every request of that
#: process waits: task starts and heartbeats among them, which then time out, count as a lost
#: worker, or fail the task. Seen with ``py-spy`` in a 12 s freeze of the one API server while the
#: end-to-end tests triggered a dozen runs. A second server keeps the tasks' calls off that loop.
#: PostgreSQL's row locks leave the audit log's insert alone: one API server serves both there.
PROCESSES: dict[str, tuple[str, ...]] = {
    "sqlite": ("api-server", "execution-api", "scheduler", "dag-processor", "triggerer"),
    "postgres-celery": ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker"),
}

#: The health check's component of each process that reports one.
HEALTH_COMPONENTS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}

#: Seconds a process waits for SQLite's write lock before "database is locked".
SQLITE_LOCK_TIMEOUT = 30
#: Threads the API server runs its synchronous endpoints in (anyio's default), each holding at most
#: one database connection.
API_SERVER_THREADS = 40


def _generated_password() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class StackConfig:
    """What to run and where.

    :param home: the ``AIRFLOW_HOME`` (created if missing); process logs go to ``home/process-logs``.
    :param plans_dir: the recovery plans to load (``DRS_PLANS_DIR`` for every process).
    :param simulator_url: DRS endpoint for the ``aws_default`` connection; ``None``: no
        ``aws_default`` (plans then name connections made at run time, e.g. through the REST API).
    :param moto_url: moto's server for every other AWS service (SSM, Lambda, SNS, S3); without
        it the connection reaches only DRS.
    :param backend: ``sqlite`` (LocalExecutor) or ``postgres-celery`` (CeleryExecutor).
    :param dags_folder: the DAG files (default: the repository's ``dags/``).
    :param plugins_folder: Airflow's plugins folder (default: the repository's ``plugins/``).
    :param extra_env: added to every process's environment last, so ``AIRFLOW__X__Y`` overrides.
    :param admin_user: the simple auth manager's user.
    :param admin_password: that user's password (random unless given).
    :param expected_dag_ids: DAGs that must be parsed before the stack counts as started;
        when empty, the stack waits until the DAG files were parsed at least once.
    :param postgres_url: server to create the metadata database on (``postgres-celery``).
    :param redis_url: the Celery broker (``postgres-celery``).
    :param startup_timeout: seconds for migration, health and parsing, each.
    :param airflow_command: the ``airflow`` executable (default: the one beside this Python). One
        from another environment (a clean venv with only the built wheel) gets none of this
        process's ``PYTHONPATH``, so it imports nothing from the repository.
    :param processes: the processes to start (default: every one of the back end); health waits
        only for those, and the DAG files only when a ``dag-processor`` runs.
    :param worker_slots: tasks run at once: the Celery worker's concurrency (``postgres-celery``);
        Airflow's ``parallelism`` (tasks queued or running) is twice that.
    """

    home: Path
    plans_dir: Path
    simulator_url: str | None
    moto_url: str | None = None
    backend: Backend = "sqlite"
    dags_folder: Path = REPO_ROOT / "dags"
    plugins_folder: Path = REPO_ROOT / "plugins"
    extra_env: dict[str, str] = field(default_factory=dict)
    admin_user: str = "admin"
    admin_password: str = field(default_factory=_generated_password)
    expected_dag_ids: Sequence[str] = ()
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    worker_slots: int = 4
    startup_timeout: float = 300.0
    airflow_command: Path | None = None
    processes: Sequence[str] | None = None


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_and_redis_available(
    postgres_url: str = StackConfig.postgres_url, redis_url: str = StackConfig.redis_url
) -> str | None:
    """``None`` when both servers answer, else a sentence saying which one does not."""
    missing = []
    for name, url, default_port in (("PostgreSQL", postgres_url, 5432), ("Redis", redis_url, 6379)):
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        if not _reachable(host, port):
            missing.append(f"{name} is not reachable at {host}:{port}")
    return "; ".join(missing) or None


class _PostgresDatabase:
    """A database of its own on a shared PostgreSQL server, dropped again on :meth:`drop`."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"drs_e2e_{uuid.uuid4().hex[:12]}"
        self.created = False

    def _admin_connection(self) -> Any:
        import psycopg2

        connection = psycopg2.connect(self.server_url)
        connection.autocommit = True
        return connection

    def create(self) -> None:
        connection = self._admin_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            self.created = True
        finally:
            connection.close()

    def drop(self) -> None:
        if not self.created:
            return
        connection = self._admin_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False
        finally:
            connection.close()

    def url(self, scheme: str) -> str:
        """This database's URL on the same server, e.g. with scheme ``postgresql+psycopg2``."""
        authority = urlsplit(self.server_url).netloc
        return f"{scheme}://{authority}/{self.name}"


class AirflowStack:
    """Runs one Airflow deployment for as long as the context is open (see the module docstring).

    :ivar api_url: root of the API server (REST API under ``/api/v2``).
    :ivar ui_url: the web UI.
    :ivar login: ``(user, password)`` for the UI and ``POST /auth/token``.
    :ivar rest: a logged-in :class:`RestClient`.
    :ivar logs_dir: one ``<process>.log`` per process (stdout and stderr).
    """

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.home = Path(config.home).resolve()
        self.logs_dir = self.home / "process-logs"
        self.api_port = 0
        self.execution_api_port = 0
        self.processes: dict[str, ManagedProcess] = {}
        self.env: dict[str, str] = {}
        self._database = _PostgresDatabase(config.postgres_url) if config.backend != "sqlite" else None
        self._celery_queue = f"drs-e2e-{uuid.uuid4().hex[:10]}"
        self._redis_prefix = f"{self._celery_queue}:"
        self._rest: RestClient | None = None
        self._stopped = False
        self._previous_sigterm: Any = None
        self._started = False

    # -- public surface --------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def execution_api_url(self) -> str:
        """Where tasks reach the execution API: its own server when the stack runs one."""
        port = self.execution_api_port if self._execution_api_apart else self.api_port
        return f"http://127.0.0.1:{port}/execution/"

    @property
    def _execution_api_apart(self) -> bool:
        """The tasks' execution API has a server of its own here (see :data:`PROCESSES`)."""
        return "execution-api" in self.process_names

    @property
    def ui_url(self) -> str:
        return f"{self.api_url}/"

    @property
    def login(self) -> tuple[str, str]:
        return (self.config.admin_user, self.config.admin_password)

    @property
    def rest(self) -> RestClient:
        if self._rest is None:
            self._rest = RestClient(self.api_url, *self.login)
        return self._rest

    @property
    def process_names(self) -> tuple[str, ...]:
        """The processes this stack runs, in start order."""
        names = self.config.processes
        return tuple(names) if names is not None else PROCESSES[self.config.backend]

    def log_path(self, process: str) -> Path:
        return self.logs_dir / f"{process}.log"

    def start(self) -> AirflowStack:
        """Configure, migrate, start every process, and wait until healthy with DAGs parsed."""
        if self._started:
            return self
        self._started = True
        self._install_signal_handler()
        atexit.register(self.stop)
        try:
            self._prepare()
            self._migrate()
            for name in self.process_names:
                self._spawn(name)
            self._wait_healthy()
            if "dag-processor" in self.process_names:
                self._wait_parsed()
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, process: str) -> None:
        """SIGKILL the process group of ``process`` (a crash, not a shutdown) and start it again."""
        managed = self.processes[process]
        managed.kill()
        managed.start()

    def kill(self, process: str) -> None:
        """SIGKILL ``process`` and its descendants without starting it again."""
        self.processes[process].kill()

    def running(self) -> dict[str, bool]:
        """``{process: alive}`` for every process of the stack."""
        return {name: managed.is_running() for name, managed in self.processes.items()}

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every process log, for failure reports."""
        parts = []
        for name in self.processes:
            parts.append(f"----- {name} ({self.log_path(name)}) -----\n{tail(self.log_path(name), lines)}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop every process and its descendants, drop the PostgreSQL database and Redis keys."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            stop_processes(list(self.processes.values()), grace_seconds=10)
        if self._rest is not None:
            self._rest.close()
        if self._database is not None:
            with contextlib.suppress(Exception):
                self._database.drop()
            with contextlib.suppress(Exception):
                self._delete_redis_keys()
        self._restore_signal_handler()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- configuration ---------------------------------------------------------------------------

    def _settings(self) -> dict[str, dict[str, str]]:
        """The airflow.cfg content: short poll intervals, low footprint, isolated ports."""
        config = self.config
        fernet_key = urlsafe_b64encode(os.urandom(32)).decode()
        # SQLite makes a write wait up to SQLITE_LOCK_TIMEOUT for its lock, heartbeats included:
        # what counts as a lost task or scheduler there allows for two such waits.
        sqlite = self._database is None
        lost_after = "120" if sqlite else "30"
        settings: dict[str, dict[str, str]] = {
            "core": {
                "dags_folder": str(Path(config.dags_folder).resolve()),
                "plugins_folder": str(Path(config.plugins_folder).resolve()),
                "executor": "LocalExecutor" if config.backend == "sqlite" else "CeleryExecutor",
                "load_examples": "False",
                "fernet_key": fernet_key,
                "parallelism": str(2 * config.worker_slots),
                "dags_are_paused_at_creation": "True",
                "simple_auth_manager_users": f"{config.admin_user}:admin",
                "simple_auth_manager_passwords_file": str(self.home / "simple_auth_manager_passwords.json"),
                "execution_api_server_url": self.execution_api_url,
                "min_serialized_dag_update_interval": "5",
                # A task's process parses its DAG file before it runs (Airflow imported, one plan
                # rendered: ~4 s of CPU). Seven tasks starting together on a loaded 2-core machine
                # took 34 s, over the default 30 s: "DagBag import timeout", the task rescheduled
                # a minute later ("Dag not found during start up"), and its run missed its bound.
                "dagbag_import_timeout": "120",
            },
            # SQLite lets one process write at a time; the others wait for the lock this long
            # (the driver's default is 5 s). On a busy machine another process can hold
            # it longer, and a REST call or a task's XCom push then failed with "database is
            # locked" (HTTP 500).
            "database": {
                "sql_alchemy_conn": f"sqlite:///{self.home / 'airflow.db'}?timeout={SQLITE_LOCK_TIMEOUT}",
                # The API server checks every REST token against revoked tokens with a blocking
                # query inside its event loop. With the default pool (5 + 10 overflow) busy, that
                # checkout waits, the loop stops, no request returns its connection, and every
                # request hangs until the pool's 30 s timeout answers HTTP 500 (seen under load).
                # A pool of 5 + 35 overflow, one per thread of the API server (40), never waits.
                "sql_alchemy_max_overflow": str(API_SERVER_THREADS - 5),
            },
            "api": {
                "host": "127.0.0.1",
                "port": str(self.api_port),
                "workers": "1",
                "secret_key": secrets.token_hex(16),
                "expose_config": "True",
                # A database error's answer names it (SQLite's "database is locked" among them),
                # so that a client knows a refused request wrote nothing and may send it again.
                "expose_stacktrace": "True",
            },
            "api_auth": {"jwt_secret": secrets.token_hex(32)},
            "logging": {
                "base_log_folder": str(self.home / "logs"),
                "worker_log_server_port": str(free_port()),
                "trigger_log_server_port": str(free_port()),
                "colored_console_log": "False",
            },
            "scheduler": {
                "scheduler_heartbeat_sec": "2",
                "job_heartbeat_sec": "2",
                "scheduler_idle_sleep_time": "0.5",
                "parsing_cleanup_interval": "30",
                # A lost worker's task is failed, then retried, once its heartbeat (every second
                # here) is this old (default 300 s). On SQLite a write can wait for the lock up to
                # SQLITE_LOCK_TIMEOUT, and the API server's heartbeat answers with it: 30 s was
                # read as a lost worker, whose task (a preflight that had failed with its verdict)
                # was killed and tried again. SQLite has no worker to lose (LocalExecutor).
                "task_instance_heartbeat_timeout": lost_after,
                # How often a scheduler adopts the tasks of one that died (default 300 s).
                "orphaned_tasks_check_interval": "30",
                # A scheduler whose own heartbeat is this old counts as dead, and the orphan check
                # resets its running tasks, even when the scheduler checking is that one: on SQLite
                # a heartbeat that waited out the lock (30 s) made the only scheduler reset a
                # preflight that had just failed with its verdict, which was then tried again.
                "scheduler_health_check_threshold": lost_after,
                # How often timed-out deferrals and unanswered approvals are failed (default 15 s).
                "trigger_timeout_check_interval": "2",
            },
            # Plans are in place before the stack starts; re-parsing often would only cost CPU.
            "dag_processor": {
                "refresh_interval": "30",
                "min_file_process_interval": "30",
                "parsing_processes": "1",
                "print_stats_interval": "600",
            },
            # The task supervisor notices its task's exit only when its select() times out, at
            # most this often. With the default of 5 s, a deferral's "success" event can reach
            # the scheduler after the trigger already resumed the task, which then fails it as a
            # "state mismatch" (apache/airflow#72716). Waves that finish within seconds hit it.
            "workers": {
                "min_heartbeat_interval": "1",
                # A task's supervisor gives up on an execution API call after this long (default
                # 5 s) and sends it again. On SQLite a call may wait out the lock first: eight task
                # starts sent again every 5 s piled onto a 14 s lock wait, failed after their last
                # try, and the tasks were failed without running. Waiting for the answer (a
                # refused write is a 500, which the client does try again) avoids that.
                "execution_api_timeout": str(SQLITE_LOCK_TIMEOUT + 15) if sqlite else "5",
            },
            # A killed triggerer's triggers move to a live one once its heartbeat is this old.
            "triggerer": {"job_heartbeat_sec": "2", "triggerer_health_check_threshold": "15"},
        }
        if self._database is not None:
            settings["database"]["sql_alchemy_conn"] = self._database.url("postgresql+psycopg2")
            settings["celery"] = {
                "broker_url": config.redis_url,
                "result_backend": self._database.url("db+postgresql+psycopg2"),
                "worker_concurrency": str(config.worker_slots),
            }
            settings["celery_broker_transport_options"] = {
                "global_keyprefix": self._redis_prefix,
                "visibility_timeout": "3600",
            }
            settings["operators"] = {"default_queue": self._celery_queue}
        return settings

    def _environment(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "AWS_", "DRS_", "PYTEST"))
        }
        if self.config.airflow_command is not None:
            inherited.pop("PYTHONPATH", None)
        env = {
            **inherited,
            "AIRFLOW_HOME": str(self.home),
            "DRS_PLANS_DIR": str(Path(self.config.plans_dir).resolve()),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        if self.config.simulator_url and self.config.moto_url:
            env["AIRFLOW_CONN_AWS_DEFAULT"] = connection_json(self.config.moto_url, self.config.simulator_url)
        elif self.config.simulator_url:
            env["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {"endpoint_url": self.config.simulator_url, "region_name": "us-east-1"},
                }
            )
        env.update(self.config.extra_env)
        return env

    def _prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        self.execution_api_port = free_port()
        if self._database is not None:
            self._database.create()
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_dict(self._settings())
        with (self.home / "airflow.cfg").open("w") as handle:
            parser.write(handle)
        (self.home / "simple_auth_manager_passwords.json").write_text(
            json.dumps({self.config.admin_user: self.config.admin_password}) + "\n"
        )
        self.env = self._environment()
        # For people: `source <home>/stack.env` and the airflow CLI talks to this stack.
        exports = [
            f"export {key}={shlex.quote(value)}"
            for key, value in sorted(self.env.items())
            if key.startswith(("AIRFLOW", "AWS_", "DRS_"))
        ]
        (self.home / "stack.env").write_text("\n".join(exports) + "\n")

    def _airflow(self) -> str:
        return str(self.config.airflow_command or Path(sys.executable).parent / "airflow")

    def _migrate(self) -> None:
        log_path = self.log_path("db-migrate")
        with log_path.open("wb") as log:
            completed = subprocess.run(
                [self._airflow(), "db", "migrate"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.config.startup_timeout,
                check=False,
                start_new_session=True,
            )
        if completed.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed ({completed.returncode}):\n{tail(log_path)}")

    def _command(self, name: str) -> list[str]:
        airflow = self._airflow()
        if name in ("api-server", "execution-api"):
            apps, port = (
                ("execution", self.execution_api_port)
                if name == "execution-api"
                else ("core" if self._execution_api_apart else "all", self.api_port)
            )
            return [
                airflow,
                "api-server",
                "--apps",
                apps,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ]
        if name == "celery-worker":
            return [
                airflow, "celery", "worker",
                "--queues", self._celery_queue,
                "--concurrency", str(self.config.worker_slots),
                "--celery-hostname", f"{self._celery_queue}@%h",
                "--without-mingle", "--without-gossip",
            ]  # fmt: skip
        return [airflow, name]

    def _spawn(self, name: str) -> None:
        managed = ManagedProcess(
            name, self._command(name), env=self.env, log_path=self.log_path(name), cwd=self.home
        )
        self.processes[name] = managed
        managed.start()

    # -- waiting ---------------------------------------------------------------------------------

    def _check_processes(self) -> None:
        for managed in self.processes.values():
            if not managed.is_running():
                raise RuntimeError(
                    f"{managed.name} exited with status {managed.exit_code()}; "
                    f"last log lines:\n{tail(managed.log_path)}"
                )

    def _healthy(self) -> bool:
        self._check_processes()
        health = self.rest.health()
        components = ["metadatabase"] + [
            HEALTH_COMPONENTS[name] for name in self.process_names if name in HEALTH_COMPONENTS
        ]
        if not all((health.get(name) or {}).get("status") == "healthy" for name in components):
            return False
        return not self._execution_api_apart or self._execution_api_answers()

    def _execution_api_answers(self) -> bool:
        try:
            return requests.get(f"{self.execution_api_url}health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def _wait_healthy(self) -> None:
        try:
            wait_until("a healthy Airflow", self._healthy, timeout=self.config.startup_timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.log_tails()}") from error

    def _parsed(self) -> bool:
        self._check_processes()
        if self.config.expected_dag_ids:
            known = {dag["dag_id"] for dag in self.rest.dags()}
            return set(self.config.expected_dag_ids) <= known
        return bool(self.rest.dags() or self.rest.import_errors())

    def _wait_parsed(self) -> None:
        try:
            wait_until("the DAG files to be parsed", self._parsed, timeout=self.config.startup_timeout)
        except TimeoutError as error:
            with contextlib.suppress(RestApiError):
                raise TimeoutError(f"{error}; import errors: {self.rest.import_errors()}") from error
            raise

    # -- clean-up --------------------------------------------------------------------------------

    def _delete_redis_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(self.config.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{self._redis_prefix}*", count=500))
            keys += [
                key for key in client.scan_iter(match=f"*{self._celery_queue}*", count=500) if key not in keys
            ]
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    def _install_signal_handler(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            # Unwind through the `with` blocks so that every process is stopped.
            raise SystemExit(128 + signum)

        self._previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm)

    def _restore_signal_handler(self) -> None:
        if self._previous_sigterm is None or threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self._previous_sigterm)
        self._previous_sigterm = None
