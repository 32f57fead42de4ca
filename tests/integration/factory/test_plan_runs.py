"""Plan DAGs run end to end (``dag.test()``) against the DRS simulator, asserted from its call log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures.simulator import POINT_IN_TIME_SPEED
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

SHOP_DB = {"s-0a000000000000001", "s-0a000000000000002"}
SHOP_REPLICA = "s-0a000000000000007"
SHOP_APP = {"s-0a000000000000003", "s-0a000000000000004"}
SHOP_WEB = {"s-0a000000000000005", "s-0a000000000000006"}


def jobs_by_wave(drs_simulator: Any) -> dict[str, list[dict[str, Any]]]:
    """Every job the run started, by wave (from the job's tags), as DescribeJobs reports it now."""
    started = [job_id for call in drs_simulator.calls("StartRecovery") for job_id in call["job_ids"]]
    jobs = drs_simulator.client().describe_jobs(filters={"jobIDs": started})["items"] if started else []
    by_wave: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        by_wave.setdefault(job["tags"]["drs:wave"], []).append(job)
    return by_wave


def servers_of(jobs: list[dict[str, Any]]) -> set[str]:
    return {server["sourceServerID"] for job in jobs for server in job["participatingServers"]}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def assert_after(jobs_by: dict[str, list[dict[str, Any]]], downstream: str, upstream: str) -> None:
    """Every job of ``downstream`` was created after every job of ``upstream`` had COMPLETED."""
    upstream_end = max(moment(job["endDateTime"]) for job in jobs_by[upstream])
    assert all(job["status"] == "COMPLETED" for job in jobs_by[upstream])
    for job in jobs_by[downstream]:
        assert moment(job["creationDateTime"]) >= upstream_end, (downstream, upstream)


def test_shop_drill_recovers_the_waves_in_dependency_order(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("shop"))

    assert state == "success", tasks
    assert set(tasks.values()) == {"success"}
    starts = drs_simulator.calls("StartRecovery")
    assert [call["request"]["isDrill"] for call in starts] == [True, True, True]
    jobs = jobs_by_wave(drs_simulator)
    assert servers_of(jobs["database"]) == SHOP_DB | {SHOP_REPLICA}
    assert servers_of(jobs["app"]) == SHOP_APP
    assert servers_of(jobs["web"]) == SHOP_WEB
    assert_after(jobs, "app", "database")
    assert_after(jobs, "web", "app")
    for wave, wave_jobs in jobs.items():
        for job in wave_jobs:
            assert job["tags"]["drs:plan"] == "shop"
            assert job["tags"]["airflow:dag_id"] == "drs_plan_shop"
            assert job["tags"]["airflow:task_id"] == f"{wave}.start_recovery"
            assert job["tags"]["airflow:run_id"].startswith("manual__")


def test_portal_runs_parallel_branches_after_their_upstream_waves(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("portal"))

    assert state == "success", tasks
    jobs = jobs_by_wave(drs_simulator)
    assert set(jobs) == {"db", "cache", "api", "batch", "web"}
    assert_after(jobs, "cache", "db")
    assert_after(jobs, "api", "db")
    assert_after(jobs, "web", "api")
    assert_after(jobs, "web", "cache")
    # batch depends on nothing: both branches started (dag.test runs one task at a time, so
    # how they overlap in time is left to the DAG-shape tests: batch waits only for preflight)
    assert all(job["status"] == "COMPLETED" for job in jobs["batch"] + jobs["db"])


def test_a_subset_run_skips_the_other_waves_and_keeps_the_order_among_the_chosen(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("shop"), {"waves": ["database", "web"]})

    assert state == "success", tasks
    assert tasks["app.start_recovery"] == "skipped"
    assert tasks["app.wait_for_recovery"] == "skipped"
    assert tasks["web.start_recovery"] == "success"
    jobs = jobs_by_wave(drs_simulator)
    assert set(jobs) == {"database", "web"}
    assert_after(jobs, "web", "database")


def test_a_subset_run_of_a_downstream_wave_alone_is_not_blocked_by_skipped_upstream_waves(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("shop"), {"waves": ["web"]})

    assert state == "success", tasks
    assert {tasks["database.start_recovery"], tasks["app.start_recovery"]} == {"skipped"}
    assert set(jobs_by_wave(drs_simulator)) == {"web"}


def test_a_recovery_needs_confirm_and_fails_before_any_drs_call(
    plan_dag: Callable[..., DAG], drs_simulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    state, tasks = run_dag(plan_dag("shop"), {"mode": "recovery", "confirm": "shoP"})

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    lifecycle = {"cleanup", "report"}
    assert {state for task, state in tasks.items() if task not in {"preflight", *lifecycle}} == {
        "upstream_failed"
    }
    # the teardowns still run: nothing was launched, so nothing to clean up; the report says why
    assert (tasks["cleanup"], tasks["report"]) == ("skipped", "success")
    assert drs_simulator.calls() == []
    output = capsys.readouterr()
    assert (
        "confirm: mode=recovery needs confirm='shop' (the plan name), got 'shoP'" in output.out + output.err
    )


def test_a_typo_in_a_run_parameter_fails_before_any_drs_call(
    plan_dag: Callable[..., DAG], drs_simulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Airflow lets unknown conf keys through: this would otherwise run as a plain drill.
    state, tasks = run_dag(plan_dag("shop"), {"mdoe": "recovery", "confirm": "shop"})

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    assert drs_simulator.calls() == []
    output = capsys.readouterr()
    assert (
        "mdoe: unknown run parameter (did you mean 'mode'?); run parameters: mode, confirm, waves, "
        "point_in_time, keep_instances, relaunch_recovered" in output.out + output.err
    )


def test_a_confirmed_recovery_launches_recovery_instances(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("shop"), {"mode": "recovery", "confirm": "shop", "waves": ["web"]})

    assert state == "success", tasks
    assert [call["request"]["isDrill"] for call in drs_simulator.calls("StartRecovery")] == [False]


def test_a_busy_server_fails_preflight_and_nothing_is_launched(
    plan_dag: Callable[..., DAG], drs_simulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    drs_simulator.set_speed(0)  # the job below stays active during the run
    other = drs_simulator.client().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": "s-0a000000000000003"}]
    )["job"]["jobID"]
    before = len(drs_simulator.calls("StartRecovery"))

    state, tasks = run_dag(plan_dag("shop"))

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    assert len(drs_simulator.calls("StartRecovery")) == before
    output = capsys.readouterr()
    assert f"s-0a000000000000003 (app-1) is busy in active DRS job {other}" in output.out + output.err


STALLED_PLAN = """
    plan: lab_stalled
    waves:
      - name: core
        servers:
          tags: {App: lab, Role: stalled}
      - name: extra
        servers:
          ids: [s-0c000000000000004]
"""


def test_a_stalled_server_fails_preflight_and_nothing_is_launched(
    plan_dag: Callable[..., DAG], drs_simulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    state, tasks = run_dag(plan_dag("lab_stalled", STALLED_PLAN))

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    assert drs_simulator.calls("StartRecovery") == []
    output = capsys.readouterr()
    expected = "wave 'core': s-0c000000000000001 (lab-stalled) is not recoverable: replication state STALLED"
    assert expected in output.out + output.err


FAILING_PLAN = """
    plan: lab_failing
    waves:
      - name: broken
        servers:
          ids: [s-0c000000000000003]
        poll_interval: 1
      - name: after_broken
        servers:
          tags: {App: portal, Role: web}
        poll_interval: 1
      - name: independent
        servers:
          tags: {App: lab, Role: backlog}
        depends_on: []
        poll_interval: 1
"""


def test_a_failed_wave_stops_its_downstream_while_the_independent_branch_completes(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("lab_failing", FAILING_PLAN))

    assert state == "failed"
    assert tasks["broken.wait_for_recovery"] == "failed"
    assert tasks["after_broken.start_recovery"] == "upstream_failed"
    assert tasks["after_broken.wait_for_recovery"] == "upstream_failed"
    assert tasks["independent.wait_for_recovery"] == "success"
    jobs = jobs_by_wave(drs_simulator)
    assert set(jobs) == {"broken", "independent"}
    assert all(job["status"] == "COMPLETED" for job in jobs["independent"])


def test_in_a_subset_run_a_failed_chosen_wave_still_stops_its_chosen_downstream(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    state, tasks = run_dag(plan_dag("lab_failing", FAILING_PLAN), {"waves": ["broken", "after_broken"]})

    assert state == "failed"
    assert tasks["broken.wait_for_recovery"] == "failed"
    assert tasks["after_broken.start_recovery"] == "upstream_failed"
    assert tasks["independent.start_recovery"] == "skipped"
    assert set(jobs_by_wave(drs_simulator)) == {"broken"}


def test_a_point_in_time_run_launches_each_server_from_a_snapshot(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(speed=POINT_IN_TIME_SPEED)
    moment_before = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    dag = plan_dag("shop")

    state, tasks = run_dag(dag, {"waves": ["web"], "point_in_time": moment_before})

    assert state == "success", tasks
    [start] = drs_simulator.calls("StartRecovery")
    servers = start["request"]["sourceServers"]
    assert {server["sourceServerID"] for server in servers} == SHOP_WEB
    # launched from exactly the snapshots preflight chose, without choosing them again: one
    # DescribeRecoverySnapshots per server, preflight's (simulated snapshots keep being taken)
    chosen = xcom_of(dag, "preflight")["waves"]["web"]["recovery_snapshot_ids"]
    assert {server["sourceServerID"]: server["recoverySnapshotID"] for server in servers} == chosen
    assert len(drs_simulator.calls("DescribeRecoverySnapshots")) == len(SHOP_WEB)


def test_wave_sensors_built_to_start_from_the_trigger_read_their_templated_job_ids(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    # dag.test() ignores start_from_trigger and calls execute(), which renders the same templates
    # the triggerer renders; tests/e2e/test_start_from_trigger.py runs the real hand-off.
    dag = plan_dag("shop", start_from_trigger=True)
    assert all(dag.get_task(f"{w}.wait_for_recovery").start_from_trigger for w in ("database", "app", "web"))

    state, tasks = run_dag(dag, {"waves": ["database", "app"]})

    assert state == "success", tasks
    assert tasks["web.start_recovery"] == tasks["web.wait_for_recovery"] == "skipped"
    jobs = jobs_by_wave(drs_simulator)
    assert set(jobs) == {"database", "app"}
    assert servers_of(jobs["database"]) == SHOP_DB | {SHOP_REPLICA}
    assert_after(jobs, "app", "database")
    # Each sensor polled its own wave's jobs, read from the rendered templates.
    polled = {
        job_id
        for call in drs_simulator.calls("DescribeJobs")
        for job_id in (call["request"].get("filters") or {}).get("jobIDs", [])
    }
    assert {job["jobID"] for wave_jobs in jobs.values() for job in wave_jobs} <= polled
