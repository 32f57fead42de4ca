"""What the end-to-end modules share to stand up a stack: plan and fleet files, the stack's
configuration for a set-up, a DRS client on the simulator, process logs when a test fails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from tools.airflow_stack import AirflowStack, SimulatorProcess, StackConfig
from tools.processes import tail

from tests.e2e.conftest import POSTGRES_URL, REDIS_URL

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tools.rest_client import RestClient

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


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


def stack_config(
    workdir: Path,
    backend: str,
    *,
    plans_dir: Path,
    simulator_url: str,
    expected_dag_ids: Iterable[str],
    **settings: Any,
) -> StackConfig:
    """The stack of ``backend`` in ``workdir/airflow``, on this module's PostgreSQL and Redis."""
    return StackConfig(
        home=workdir / "airflow",
        plans_dir=plans_dir,
        simulator_url=simulator_url,
        backend=backend,  # type: ignore[arg-type]
        expected_dag_ids=list(expected_dag_ids),
        postgres_url=POSTGRES_URL,
        redis_url=REDIS_URL,
        **settings,
    )


def drs_client(simulator_url: str) -> Any:
    """A boto3 DRS client on the simulator."""
    import boto3

    return boto3.client(
        "drs",
        endpoint_url=simulator_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass
class Deployment:
    """A module's running stack and simulator; modules add what else they keep."""

    backend: str
    stack: AirflowStack
    simulator: SimulatorProcess

    @property
    def rest(self) -> RestClient:
        return self.stack.rest

    def drs(self) -> Any:
        return drs_client(self.simulator.url)

    def print_logs(self) -> None:
        """The tails of every Airflow process log and of the simulator's, for a failed test."""
        print(f"\n===== process logs of the {self.backend} stack =====")
        print(self.stack.log_tails(60))
        print(f"----- simulator ({self.simulator.log_path}) -----")
        print(tail(Path(self.simulator.log_path), 30))
