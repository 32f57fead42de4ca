"""The scale benchmark's bookkeeping: load DAGs, fleet and poll gaps (no Airflow stack)."""

from __future__ import annotations

import yaml

from drs_simulator.fleet import load_fleet
from tests.bench.scale import LOAD_DAG_FILE, WAITS_PER_DAG, fleet, load_dags, pairs_plan, poll_gaps


def test_each_phase_gets_servers_of_its_own_in_dags_of_at_most_fifty_waits():
    phases = load_dags([1, 10, 120])

    assert [len(servers) for servers in phases[120].values()] == [WAITS_PER_DAG, WAITS_PER_DAG, 20]
    every = [server for dags in phases.values() for servers in dags.values() for server in servers]
    assert len(every) == len(set(every)) == 131


def test_the_fleet_holds_every_server_and_lifts_the_job_quotas(tmp_path):
    phases = load_dags([10, 500])
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet(phases, pairs=4, job_seconds=10)))

    loaded = load_fleet(path)

    assert len(loaded.source_servers) == 510 + 8
    assert loaded.quotas.max_concurrent_jobs > 518
    plan_servers = {server for wave in pairs_plan(4)["waves"] for server in wave["servers"]["ids"]}
    assert plan_servers <= {server.id for server in loaded.source_servers}


def test_the_load_dag_file_builds_sensors_that_start_in_the_triggerer(tmp_path, monkeypatch):
    spec = tmp_path / "load.json"
    spec.write_text('{"drs_bench_load_2_0": ["s-bench000000000001", "s-bench000000000002"]}')
    monkeypatch.setenv("DRS_BENCH_LOAD", str(spec))
    namespace: dict = {}
    exec(compile(LOAD_DAG_FILE, "drs_bench_load.py", "exec"), namespace)

    dag = namespace["drs_bench_load_2_0"]
    wait = dag.get_task("wait_1")
    assert wait.start_from_trigger and wait.upstream_task_ids == {"start"}
    assert "map_indexes=-1" in wait.start_trigger_args.trigger_kwargs["job_ids"]


def test_poll_gaps_are_per_job_and_inside_the_window():
    def poll(at, *jobs):
        return {"operation": "DescribeJobs", "time": at, "request": {"filters": {"jobIDs": list(jobs)}}}

    calls = [
        poll(1, "a"),
        poll(2, "a", "b"),
        poll(5, "a"),
        poll(6, "b"),
        poll(20, "a"),
        {"operation": "DescribeJobs", "time": 3, "request": {}},
    ]

    assert sorted(poll_gaps(calls, ["a", "b"], start=0, end=10)) == [1, 3, 4]


def test_the_measured_plan_is_independent_pairs(tmp_path):
    from drs_provider.plans import load_plan_file

    path = tmp_path / "bench_pairs.yaml"
    path.write_text(yaml.safe_dump(pairs_plan(3)))

    plan = load_plan_file(path)

    assert {wave.name: list(wave.depends_on) for wave in plan.waves} == {
        "a1": [], "b1": ["a1"], "a2": [], "b2": ["a2"], "a3": [], "b3": ["a3"],
    }  # fmt: skip
