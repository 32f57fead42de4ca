"""The end-to-end harness: two Airflow stacks per set-up for the whole session, a scenario per module.

Starting Airflow (migrations, api-server, scheduler, dag-processor, triggerer, and a Celery
worker for ``postgres-celery``) costs tens of seconds, so end-to-end modules share stacks: two
per set-up, lanes ``a`` and ``b``, which run side by side in two pytest-xdist workers (one lane's
modules run in order). A module joins by declaring a :class:`Scenario` at module level (its
``lane`` says which stack; the lanes are balanced by hand, by the modules' measured durations);
its tests then take ``airflow`` (or ``deployment``), the fixtures of ``tests/e2e/conftest.py``::

    def trigger_runs(deployment: LifecycleDeployment) -> None:
        deployment.runs.update({name: deployment.rest.trigger(f"drs_plan_{name}", {}) for name in PLANS})

    SCENARIO = Scenario("lifecycle", plans=PLANS, fleet=FLEET, moto=True,
                        deployment_class=LifecycleDeployment, start=trigger_runs)

    def test_a_drill_cleans_up(airflow: LifecycleDeployment) -> None: ...

When a lane's first module begins, the session collects the scenarios of every module of that
lane it will run, writes all their plans (and DAG files) into the stack's folders so one parse
loads them all, starts the stack, and deploys every scenario: its own simulator (and moto) and
its connection. When a module begins, its ``start`` callback triggers the runs its tests will
check, all at once.

Scenarios stay apart without a stack of their own:

* **plans and DAGs**: every plan name is unique across scenarios (checked at start);
* **DRS and the other AWS services**: each scenario runs its own simulator (and moto), reached
  through its own Airflow connection ``e2e_<scenario>``, which the harness adds to every plan of
  the scenario and creates through the REST API. A module's faults, clock changes, resets and
  call-log counts therefore never touch another module's runs, and the shared DescribeJobs poll
  (one per connection) counts only the module's own waits;
* **runs**: when a module ends, any run of its DAGs still going is marked failed, so a failed
  test never leaves work behind for the next module.

Modules that kill Airflow processes (``Scenario(kills_processes=True)``) run after every other
module of their lane, so nothing else is in flight when a process dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from tools.airflow_stack import REPO_ROOT, AirflowStack, SimulatorProcess, StackConfig
from tools.local_aws import MotoProcess
from tools.processes import tail
from tools.rest_client import FINISHED_RUN_STATES, RestApiError

from drs_provider.local_aws import connection_extra
from tests.e2e.dag_scoped_auth import SCOPES_ENV

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from tools.rest_client import RestClient

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
#: The stack's plans folder is named like the repository's, so plan errors read
#: ``recovery_plans/<file>: ...`` as users see them.
PLANS_FOLDER = "recovery_plans"
#: The repository's DAG files, loaded by every stack.
REPOSITORY_DAG_FILES = (
    "drs_recovery_plans.py",
    "drs_recovery_plan_errors.py",
    "drs_failover.py",
    "drs_readiness.py",
)
#: The shared stacks of each set-up (``Scenario.lane``).
LANES = ("a", "b")
#: The simple auth manager narrowed per DAG for some users (``tests/e2e/dag_scoped_auth.py``).
AUTH_MANAGER = "tests.e2e.dag_scoped_auth.DagScopedAuthManager"


#: Task states of an approval that waits for an answer: a recovery's parks in ``awaiting_input``,
#: a drill's is deferred to the triggerer, where a recovery preempting the drill can close it.
WAITING_FOR_AN_ANSWER = ("awaiting_input", "deferred")


def write_plans(plans_dir: Path, plans: Mapping[str, Mapping[str, Any]]) -> Path:
    """One ``<name>.yaml`` per plan in ``plans_dir`` (created when missing)."""
    plans_dir.mkdir(parents=True, exist_ok=True)
    for name, plan in plans.items():
        (plans_dir / f"{name}.yaml").write_text(yaml.safe_dump(dict(plan), sort_keys=False))
    return plans_dir


def write_fleet(
    path: Path, servers: Sequence[Mapping[str, Any]], account_id: str = ACCOUNT_ID, **settings: Any
) -> Path:
    """The simulator's fleet file with these source servers (and fleet settings such as ``quotas``)."""
    fleet = {
        "account_id": account_id,
        "region": REGION,
        **settings,
        "source_servers": [dict(s) for s in servers],
    }
    path.write_text(yaml.safe_dump(fleet, sort_keys=False))
    return path


def drs_client(simulator_url: str, region: str = REGION) -> Any:
    """A boto3 DRS client on the simulator (in ``region``: it serves every region)."""
    import boto3

    return boto3.client(
        "drs",
        endpoint_url=simulator_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass
class Deployment:
    """A module's view of its set-up: the shared stack, its own simulator (and moto)."""

    backend: str
    stack: AirflowStack
    simulator: SimulatorProcess
    moto: MotoProcess | None = None

    @property
    def rest(self) -> RestClient:
        return self.stack.rest

    @property
    def moto_url(self) -> str:
        if self.moto is None:
            raise RuntimeError("this scenario runs no moto: declare it with Scenario(..., moto=True)")
        return self.moto.url

    def drs(self) -> Any:
        return drs_client(self.simulator.url)

    def password(self, user: str) -> str:
        """A user's password, as the simple auth manager generated it at start-up."""
        passwords = json.loads((self.stack.home / "simple_auth_manager_passwords.json").read_text())
        return str(passwords[user])

    def print_logs(self) -> None:
        """The tails of every Airflow process log and of the simulator's, for a failed test."""
        print(f"\n===== process logs of the {self.backend} stack =====")
        print(self.stack.log_tails(60))
        print(f"----- simulator ({self.simulator.log_path}) -----")
        print(tail(Path(self.simulator.log_path), 30))


@dataclass(frozen=True)
class Scenario:
    """What one end-to-end module brings to the shared stacks.

    :param name: the scenario's key (``^[a-z_]+$``); its connection is ``e2e_<name>``.
    :param plans: plan name -> plan document, written into the stack's plans folder.
    :param fleet: the source servers of the module's own simulator.
    :param fleet_settings: other fleet-file keys (``quotas``, ...).
    :param speed: the simulator's simulated seconds per real second.
    :param moto: whether the module needs moto (SSM, Lambda, SNS, SQS, S3) behind its connection.
    :param plan_folders: subfolder -> plans, for DAG files of the module that build a folder of
        their own (the repository's DAG file reads only the plans folder itself).
    :param dag_files: DAG file name -> its text, added to the stack's DAG folder.
    :param write_files: called with the plans folder to add files no plan document describes
        (hostile files).
    :param users: extra users of the simple auth manager, ``{user: role}``.
    :param dag_scopes: users whose DAG access is narrowed to the listed scope entries: DAG ids,
        or ``<dag_id>/<ENTITY>`` for one part of a DAG (``tests/e2e/dag_scoped_auth.py``).
    :param extra_dag_ids: DAGs of the module that are not plan DAGs of ``plans``.
    :param kills_processes: the module kills Airflow processes; it runs after all others.
    :param lane: which of the set-up's two shared stacks the module joins (``"a"`` or ``"b"``):
        the two run side by side in two pytest-xdist workers, each module's tests in order.
    :param deployment_class: the module's :class:`Deployment` subclass (extra fields with defaults).
    :param start: called with the deployment when the module begins, to trigger its runs.
    :param conn_password: the password of the scenario's connection (its AWS secret key; the
        simulator and moto take any), for a module that looks for it where it must not be.
    """

    name: str
    plans: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fleet: Sequence[Mapping[str, Any]] = ()
    fleet_settings: Mapping[str, Any] = field(default_factory=dict)
    speed: float = 10.0
    moto: bool = False
    plan_folders: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    dag_files: Mapping[str, str] = field(default_factory=dict)
    write_files: Callable[[Path], Any] | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    dag_scopes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    extra_dag_ids: Sequence[str] = ()
    kills_processes: bool = False
    lane: str = "a"
    deployment_class: type[Deployment] = Deployment
    start: Callable[[Any], Any] | None = None
    conn_password: str = "testing"

    def __post_init__(self) -> None:
        if self.lane not in LANES:
            raise ValueError(f"scenario {self.name!r}: lane {self.lane!r} is not one of {LANES}")

    @property
    def conn_id(self) -> str:
        return f"e2e_{self.name}"

    def documents(self, plans: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The plans as written: each on the scenario's connection unless it names one."""
        return {name: {"aws_conn_id": self.conn_id, **plan} for name, plan in plans.items()}

    def plan_names(self) -> list[str]:
        return [*self.plans, *(name for plans in self.plan_folders.values() for name in plans)]

    def dag_ids(self) -> list[str]:
        return [*(f"drs_plan_{name}" for name in self.plan_names()), *self.extra_dag_ids]

    @contextlib.contextmanager
    def deploy(self, stack: SharedStack, workdir: Path) -> Iterator[Deployment]:
        """Start the scenario's simulator (and moto), connect the stack to them, yield the deployment."""
        fleet = write_fleet(workdir / "fleet.yaml", self.fleet, **self.fleet_settings)
        with contextlib.ExitStack() as resources:
            simulator = resources.enter_context(
                SimulatorProcess(fleet, speed=self.speed, log_path=workdir / "simulator.log")
            )
            moto = resources.enter_context(MotoProcess(log_path=workdir / "moto.log")) if self.moto else None
            stack.connect(self.conn_id, simulator.url, moto.url if moto else None, self.conn_password)
            yield self.deployment_class(stack.backend, stack.stack, simulator, moto)


@dataclass
class SharedStack:
    """The session's Airflow stack of one set-up, with every scenario deployed on it."""

    backend: str
    stack: AirflowStack
    deployments: dict[str, Deployment] = field(default_factory=dict)

    def deploy_all(
        self, scenarios: Sequence[Scenario], workdir: Path, resources: contextlib.ExitStack
    ) -> None:
        """Deploy every scenario: its simulator (and moto) closed with ``resources``, its connection."""
        for scenario in scenarios:
            scenario_dir = workdir / scenario.name
            scenario_dir.mkdir(parents=True, exist_ok=True)
            self.deployments[scenario.name] = resources.enter_context(scenario.deploy(self, scenario_dir))

    def deployment(self, scenario: Scenario) -> Iterator[Any]:
        """A module fixture's body: the scenario's deployment, its ``start`` called first; afterwards
        its unfinished runs are ended.

        The module's runs begin when the module does, not all modules' at once: on a 2-core machine
        every module's runs together fell behind the scenarios' real-time bounds (an RTO target,
        an approval's timeout, which of two branches ends last)."""
        deployment = self.deployments[scenario.name]
        try:
            if scenario.start is not None:
                scenario.start(deployment)
            yield deployment
        finally:
            self.end_runs(scenario.dag_ids())

    @property
    def rest(self) -> RestClient:
        return self.stack.rest

    def connect(
        self, conn_id: str, simulator_url: str, moto_url: str | None, password: str = "testing"
    ) -> None:
        """Create (or replace) connection ``conn_id``: DRS on the simulator, the rest on moto."""
        extra = (
            connection_extra(moto_url, simulator_url, REGION)
            if moto_url
            else {"endpoint_url": simulator_url, "region_name": REGION}
        )
        body = {
            "connection_id": conn_id,
            "conn_type": "aws",
            "login": "testing",
            "password": password,
            "extra": json.dumps(extra),
        }
        with contextlib.suppress(RestApiError):
            self.rest.request("DELETE", f"/api/v2/connections/{conn_id}", expected=(204,))
        self.rest.request("POST", "/api/v2/connections", json=body, expected=(201,))

    def end_runs(self, dag_ids: Iterable[str]) -> None:
        """Mark every unfinished run of these DAGs failed (a module's leftovers, after a failure)."""
        for dag_id in dag_ids:
            with contextlib.suppress(RestApiError):
                runs = self.rest.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100})
                for run in runs["dag_runs"]:
                    if run["state"] not in FINISHED_RUN_STATES:
                        self.rest.request(
                            "PATCH",
                            f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}",
                            json={"state": "failed"},
                        )


def check_unique_plans(scenarios: Sequence[Scenario]) -> None:
    """Two scenarios naming the same plan would share its DAG: refuse, naming both."""
    owners: dict[str, str] = {}
    for scenario in scenarios:
        for name in scenario.plan_names():
            if name in owners:
                raise ValueError(
                    f"plan {name!r} is declared by scenarios {owners[name]!r} and {scenario.name!r}"
                )
            owners[name] = scenario.name


def prepare_folders(workdir: Path, scenarios: Sequence[Scenario]) -> tuple[Path, Path]:
    """Write every scenario's plans and DAG files; return ``(plans_dir, dags_folder)``."""
    check_unique_plans(scenarios)
    plans_dir = workdir / PLANS_FOLDER
    dags_folder = workdir / "dags"
    plans_dir.mkdir(parents=True)
    dags_folder.mkdir(parents=True)
    for name in REPOSITORY_DAG_FILES:
        shutil.copy(REPO_ROOT / "dags" / name, dags_folder / name)
    for scenario in scenarios:
        if scenario.write_files is not None:
            scenario.write_files(plans_dir)
        write_plans(plans_dir, scenario.documents(scenario.plans))
        for folder, plans in scenario.plan_folders.items():
            write_plans(plans_dir / folder, scenario.documents(plans))
        for file_name, text in scenario.dag_files.items():
            (dags_folder / file_name).write_text(text)
    return plans_dir, dags_folder


def shared_stack_config(
    workdir: Path, backend: str, scenarios: Sequence[Scenario], *, postgres_url: str, redis_url: str
) -> StackConfig:
    """The stack of ``backend`` in ``workdir`` with every scenario's plans, DAGs, users and scopes."""
    plans_dir, dags_folder = prepare_folders(workdir, scenarios)
    users = {"admin": "admin"}
    scopes: dict[str, list[str]] = {}
    for scenario in scenarios:
        users.update(scenario.users)
        for user, dag_ids in scenario.dag_scopes.items():
            scopes.setdefault(user, []).extend(dag_ids)
    return StackConfig(
        home=workdir / "airflow",
        plans_dir=plans_dir,
        simulator_url=None,
        backend=backend,  # type: ignore[arg-type]
        dags_folder=dags_folder,
        expected_dag_ids=[dag_id for scenario in scenarios for dag_id in scenario.dag_ids()],
        postgres_url=postgres_url,
        redis_url=redis_url,
        extra_env={
            "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in users.items()),
            SCOPES_ENV: json.dumps(scopes),
            # The provider of this checkout, ahead of the copy the virtual environment installed
            # (a second worktree sharing one venv); the repository for tests.e2e.dag_scoped_auth.
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "plugins"), str(REPO_ROOT)]),
            # Readiness reads every plan's DRS: on the shared stack only when a module asks, for
            # its own plans, so that no other module's simulator sees calls it did not cause.
            "DRS_READINESS_SCHEDULE": "none",
            # Every plan and DAG file is written before the stack starts and none changes after,
            # so the files are parsed once: re-parsing them every 30 s (the stack's default, for
            # people editing plans) was a fifth of the suite's CPU, on the machine the runs share.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "900",
        },
    )
