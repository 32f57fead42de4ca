"""``drs-plan cleanup --run RUN_ID``: real boto3 against the in-process simulator.

Runs are played the way a plan's ``start_recovery`` starts them: DRS jobs tagged with the run's
``airflow:dag_id`` and ``airflow:run_id``, drills (``isDrill``) or a recovery. The command goes
through ``main()`` and the Airflow connection ``aws_default`` from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from tools.processes import wait_until

from drs_provider.cli import main
from tests.integration.provider.conftest import SHOP_APP, SHOP_DB, SHOP_WEB

if TYPE_CHECKING:
    from drs_simulator.testing.plugin import DrsSimulatorHandle

pytestmark = pytest.mark.integration

DRILL = "manual__2026-12-05T03:00:00+00:00"
OTHER_DRILL = "manual__2026-12-05T04:00:00+00:00"
RECOVERY = "manual__2026-12-05T05:00:00+00:00"


def launch(
    drs_simulator: DrsSimulatorHandle,
    servers: list[str],
    run_id: str,
    *,
    drill: bool = True,
    dag: str = "shop",
) -> dict[str, Any]:
    """Start one DRS job tagged as run ``run_id`` of ``drs_plan_<dag>`` started it."""
    job: dict[str, Any] = drs_simulator.client().start_recovery(
        sourceServers=[{"sourceServerID": server} for server in servers],
        isDrill=drill,
        tags={
            "airflow:dag_id": f"drs_plan_{dag}",
            "airflow:run_id": run_id,
            "airflow:task_id": "db.start_recovery",
        },
    )["job"]
    return job


def launched(drs_simulator: DrsSimulatorHandle, job: dict[str, Any]) -> set[str]:
    """The recovery instances ``job`` launched, once it has ended."""
    client = drs_simulator.client()

    def ended() -> list[dict[str, Any]]:
        [found] = client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
        return found["participatingServers"] if found["status"] == "COMPLETED" else []

    servers = wait_until(f"job {job['jobID']} to end", ended, timeout=30, interval=0.05)
    return {server["recoveryInstanceID"] for server in servers}


def live_instances(drs_simulator: DrsSimulatorHandle) -> set[str]:
    items = drs_simulator.client().describe_recovery_instances(filters={})["items"]
    return {item["recoveryInstanceID"] for item in items}


def terminate_calls(drs_simulator: DrsSimulatorHandle) -> list[list[str]]:
    return [
        call["request"]["recoveryInstanceIDs"] for call in drs_simulator.calls("TerminateRecoveryInstances")
    ]


def cleanup(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["cleanup", *args, "--poll-interval", "0.05"])
    output = capsys.readouterr()
    return status, output.out, output.err


def test_it_terminates_exactly_the_drill_instances_that_run_launched_and_says_which(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = launched(drs_simulator, launch(drs_simulator, SHOP_DB, DRILL))
    another_drill = launched(drs_simulator, launch(drs_simulator, SHOP_APP, OTHER_DRILL))
    recovered = launched(drs_simulator, launch(drs_simulator, SHOP_WEB, RECOVERY, drill=False))
    assert len(ours) == 2

    status, out, err = cleanup(capsys, "--run", DRILL, "--dag", "shop")

    assert status == 0, err
    assert [set(call) for call in terminate_calls(drs_simulator)] == [ours]
    left = live_instances(drs_simulator)
    assert not ours & left
    assert another_drill | recovered <= left
    assert f"run {DRILL} of drs_plan_shop: 1 DRS job(s) in us-east-1" in out
    assert "terminated 2: " in out and all(instance in out for instance in ours)

    # Again: nothing of that run is left, and nothing else is touched.
    status, out, _ = cleanup(capsys, "--run", DRILL)
    assert status == 0
    assert "nothing to terminate" in out
    assert len(terminate_calls(drs_simulator)) == 1


def test_a_recovery_run_is_refused_and_nothing_is_terminated(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recovered = launched(drs_simulator, launch(drs_simulator, SHOP_WEB, RECOVERY, drill=False))

    status, _, err = cleanup(capsys, "--run", RECOVERY, "--dag", "drs_plan_shop")

    assert status == 1
    assert "refused: a recovery run" in err and "START_RECOVERY" in err
    assert terminate_calls(drs_simulator) == []
    assert recovered <= live_instances(drs_simulator)


def test_a_run_still_launching_an_unknown_run_and_an_ambiguous_run_id_are_refused(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drs_simulator.set_speed(0)  # the job stays PENDING until the clock moves
    pending = launch(drs_simulator, SHOP_DB, DRILL)

    status, _, err = cleanup(capsys, "--run", DRILL)
    assert status == 1
    assert f"refused: the run is still launching: job(s) {pending['jobID']} (PENDING)" in err

    status, _, err = cleanup(capsys, "--run", "manual__no-such-run")
    assert status == 1
    assert "launched nothing in this account and region" in err

    launch(drs_simulator, SHOP_APP, DRILL, dag="portal")  # the same run id in another DAG
    status, _, err = cleanup(capsys, "--run", DRILL)
    assert status == 1
    assert "runs of 2 DAGs have this id (drs_plan_portal, drs_plan_shop); name one with --dag" in err
    assert terminate_calls(drs_simulator) == []


def test_a_dry_run_names_what_it_would_terminate_and_terminates_nothing(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = launched(drs_simulator, launch(drs_simulator, SHOP_DB, DRILL))

    status, out, _ = cleanup(capsys, "--run", DRILL, "--dag", "shop", "--dry-run")

    assert status == 0
    assert "would terminate 2: " in out and all(instance in out for instance in ours)
    assert terminate_calls(drs_simulator) == []
    assert ours <= live_instances(drs_simulator)
