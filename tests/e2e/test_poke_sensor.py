"""A hand-written DAG's DrsJobSensor in poke mode rides out a job DRS does not list yet (issue 18).

DescribeJobs is eventually consistent: a job StartRecovery just created can be missing from the
first answers. A deferrable wait asks again and gives up only after two answers in a row lack the
job; a sensor in poke mode failed on the first. Here, on the shared stacks, a DAG of this module
(``DrsStartRecoveryOperator`` then ``DrsJobSensor(deferrable=False)`` poking every
``POKE_INTERVAL`` s) runs on a simulator whose clock stands still (speed 0) and which keeps new jobs
out of DescribeJobs for ``LISTING_LAG`` simulated seconds. Once the sensor's first poke has asked
for the job and not found it, the test moves the clock past the lag and the launch: the next
poke finds the job COMPLETED and the run succeeds, its sensor on its first try.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from tools.processes import wait_until

from tests.e2e.harness import Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "e2e_poke_sensor"
SERVER = {"id": "s-e2p00000000000001", "hostname": "poked-db", "launch_seconds": 20}
POKE_INTERVAL = 10
LISTING_LAG = 300.0
RUN_TIMEOUT = 300.0

DAG_FILE = f'''
"""{DAG_ID}: start a drill of one server, then wait for it in poke mode (module test_poke_sensor)."""
from datetime import datetime

from airflow.sdk import DAG

from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.sensors.drs import DrsJobSensor

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    start = DrsStartRecoveryOperator(
        task_id="start", source_server_ids=["{SERVER["id"]}"], aws_conn_id="e2e_poke_sensor", retries=0
    )
    DrsJobSensor(
        task_id="wait",
        job_ids=start.output,
        deferrable=False,
        mode="poke",
        poke_interval={POKE_INTERVAL},
        timeout=240,
        aws_conn_id="e2e_poke_sensor",
        retries=0,
    )
'''


@dataclass
class PokeDeployment(Deployment):
    runs: list[str] = field(default_factory=list)


def start_run(deployment: PokeDeployment) -> None:
    deployment.simulator.control("faults", {"listing_lag_seconds": LISTING_LAG})
    deployment.runs.append(deployment.rest.trigger(DAG_ID, {}))


SCENARIO = Scenario(
    "poke_sensor",
    fleet=[SERVER],
    speed=0.0,
    dag_files={f"{DAG_ID}.py": DAG_FILE},
    extra_dag_ids=[DAG_ID],
    deployment_class=PokeDeployment,
    start=start_run,
)


def polls_of(airflow: Deployment, job_id: str) -> int:
    """The DescribeJobs calls that asked for ``job_id`` (the sensor's pokes)."""
    return sum(1 for call in airflow.simulator.calls("DescribeJobs") if job_id in (call.get("job_ids") or ()))


def test_a_poke_sensor_asks_again_for_a_job_drs_does_not_list_yet(airflow: PokeDeployment) -> None:
    [run_id] = airflow.runs
    launches = wait_until(
        "the drill's StartRecovery", lambda: airflow.simulator.calls("StartRecovery"), timeout=120
    )
    [job_id] = launches[0]["job_ids"]

    wait_until("the sensor's first poke", lambda: polls_of(airflow, job_id) >= 1, timeout=120)
    pokes = polls_of(airflow, job_id)
    # what that poke was told: the clock stands still inside the listing lag, so DRS lists nothing
    assert airflow.drs().describe_jobs(filters={"jobIDs": [job_id]})["items"] == []
    airflow.simulator.control("clock", {"advance_seconds": LISTING_LAG + 600})  # past the lag and the launch

    assert airflow.rest.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT) == "success"
    tries = {
        ti["task_id"]: (ti["state"], ti["try_number"]) for ti in airflow.rest.task_instances(DAG_ID, run_id)
    }
    assert tries == {"start": ("success", 1), "wait": ("success", 1)}
    assert polls_of(airflow, job_id) >= pokes + 2  # our own look, and the poke that found the job
