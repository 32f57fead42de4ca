"""Wave timing from the simulator's call log: which call counts as a start, a poll, a completion."""

from __future__ import annotations

from typing import Any

import pytest
from tools.wave_timing import (
    Handoff,
    WaveJob,
    dependencies_from_tasks,
    first_seen_completed,
    handoff_stages,
    handoffs,
    median_handoff,
    median_stages,
    place_jobs,
    simulated_to_wall,
    started_jobs,
)

SPEED = 10.0


def call(operation: str, time: float, *, status: int = 200, **fields: Any) -> dict[str, Any]:
    """A call-log entry shaped like the simulator's; simulated time runs SPEED times faster from 0."""
    return {
        "operation": operation,
        "time": time,
        "simulated_time": time * SPEED,
        "duration": 0.01,
        "status": status,
        "error": None,
        "request": fields.pop("request", {}),
        "job_ids": fields.pop("job_ids", []),
        **fields,
    }


def start(
    time: float, wave: str, job_id: str, *, dag_id: str = "drs_plan_p", status: int = 202
) -> dict[str, Any]:
    tags = {"airflow:dag_id": dag_id, "airflow:run_id": "r1", "drs:wave": wave}
    return call("StartRecovery", time, status=status, request={"tags": tags}, job_ids=[job_id])


def poll(time: float, job_id: str) -> dict[str, Any]:
    return call("DescribeJobs", time, request={"filters": {"jobIDs": [job_id]}}, job_ids=[job_id])


def listing(time: float, *job_ids: str) -> dict[str, Any]:
    return call("DescribeJobs", time, request={"filters": {}}, job_ids=list(job_ids))


def test_started_jobs_takes_successful_starts_of_the_dag_only() -> None:
    calls = [
        start(1, "db", "drsjob-a"),
        start(2, "db", "drsjob-other", dag_id="drs_plan_other"),
        start(3, "app", "drsjob-refused", status=409),
    ]

    jobs = started_jobs(calls, "drs_plan_p")

    assert [(job.wave, job.job_id, job.started, job.run_id) for job in jobs] == [("db", "drsjob-a", 1, "r1")]


def test_a_job_is_seen_completed_by_the_first_poll_naming_it_after_its_end() -> None:
    calls = [listing(4.0, "drsjob-a"), poll(4.5, "drsjob-b"), poll(3.0, "drsjob-a"), poll(5.0, "drsjob-a")]
    calls.sort(key=lambda entry: entry["time"])

    # Ended at simulated 40 (wall 4.0): the listing at 4.0 and the other job's poll do not count.
    seen = first_seen_completed(calls, "drsjob-a", ended_simulated=40.0)

    assert seen is not None and seen["time"] == 5.0
    assert first_seen_completed(calls, "drsjob-a", ended_simulated=60.0) is None


def test_simulated_time_maps_to_wall_time_from_the_nearest_earlier_call() -> None:
    calls = [call("DescribeJobs", 10.0), call("DescribeJobs", 20.0)]

    assert simulated_to_wall(calls, 150.0, SPEED) == pytest.approx(15.0)
    assert simulated_to_wall(calls, 250.0, SPEED) == pytest.approx(25.0)
    # Before the first call: extrapolated back from it.
    assert simulated_to_wall(calls, 50.0, SPEED) == pytest.approx(5.0)


def test_place_jobs_fills_in_first_poll_end_and_seen_completed() -> None:
    calls = [
        start(1.0, "db", "drsjob-a"),
        poll(2.0, "drsjob-a"),
        poll(3.0, "drsjob-a"),
        poll(4.0, "drsjob-a"),
    ]

    (job,) = place_jobs(calls, {"drsjob-a": 25.0}, SPEED)

    assert job.first_polled == 2.0 and job.until_first_poll == pytest.approx(1.0)
    assert job.ended == pytest.approx(2.5)
    assert job.seen_completed == pytest.approx(3.01)


def wave_job(wave: str, started: float, ended: float, seen: float) -> WaveJob:
    return WaveJob("drs_plan_p", "r1", wave, f"drsjob-{wave}", started, started + 0.5, ended, seen)


def test_a_hand_off_is_measured_from_the_upstream_wave_that_ended_last() -> None:
    jobs = [
        wave_job("db", 0.0, 10.0, 10.5),
        wave_job("files", 0.0, 20.0, 21.0),
        wave_job("app", 13.0, 30.0, 31.0),
        wave_job("web", 34.0, 40.0, 41.0),
    ]

    edges = handoffs(jobs, {"app": ["db"], "web": ["app", "files"]})

    assert [(edge.upstream, edge.downstream) for edge in edges] == [("db", "app"), ("app", "web")]
    assert [edge.from_job_end for edge in edges] == [3.0, 4.0]
    assert [edge.from_seen_completed for edge in edges] == [2.5, 3.0]
    assert median_handoff(edges) == (3.5, 2.75)
    assert median_handoff([]) == (None, None)


def test_a_hand_off_splits_into_its_stages_from_the_task_instances() -> None:
    edge = Handoff("db", "app", upstream_ended=100.0, upstream_seen_completed=100.5, downstream_started=103.0)
    instances = {
        "db.wait_for_recovery": {
            "scheduled_when": "1970-01-01T00:01:41Z",
            "queued_when": "1970-01-01T00:01:41.5Z",
            "end_date": "1970-01-01T00:01:42Z",
        },
        "app.start_recovery": {
            "scheduled_when": "1970-01-01T00:01:42.125Z",
            "queued_when": "1970-01-01T00:01:42.25+00:00",
        },
    }

    stages = handoff_stages(edge, instances)

    assert stages == {
        "poll": 0.5,
        "triggerer": 0.5,
        "resume queued": 0.5,
        "resume run": 0.5,
        "next scheduled": 0.125,
        "next queued": 0.125,
        "start run": 0.75,
    }
    assert sum(stages.values()) == edge.from_job_end
    assert handoff_stages(edge, {**instances, "app.start_recovery": {}}) is None
    assert median_stages([stages, None, {**stages, "poll": 1.5}, {**stages, "poll": 0.0}])["poll"] == 0.5
    assert median_stages([None]) == {}


def test_waves_that_did_not_run_give_no_hand_off() -> None:
    jobs = [wave_job("db", 0.0, 10.0, 10.5)]

    assert handoffs(jobs, {"app": ["db"]}) == []


def test_dependencies_come_from_the_dag_tasks() -> None:
    tasks = [
        {"task_id": "preflight", "downstream_task_ids": ["db.start_recovery", "app.start_recovery"]},
        {"task_id": "db.start_recovery", "downstream_task_ids": ["db.wait_for_recovery"]},
        {
            "task_id": "db.wait_for_recovery",
            "downstream_task_ids": ["app.start_recovery", "web.start_recovery"],
        },
        {"task_id": "files.wait_for_recovery", "downstream_task_ids": ["web.start_recovery"]},
    ]

    assert dependencies_from_tasks(tasks) == {"app": ["db"], "web": ["db", "files"]}


def test_timing_of_a_real_job_on_the_simulator(drs_simulator: Any) -> None:
    """End to end through boto3: the job's endDateTime and the sensor-like polls line up."""
    from tools.wave_timing import measure

    drs_simulator.reset(speed=0)
    client = drs_simulator.client()
    server_id = client.describe_source_servers(filters={})["items"][0]["sourceServerID"]
    tags = {"airflow:dag_id": "drs_plan_p", "airflow:run_id": "r1", "drs:wave": "db"}
    job_id = client.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True, tags=tags)[
        "job"
    ]["jobID"]
    client.describe_jobs(filters={"jobIDs": [job_id]})
    drs_simulator.advance(3600)
    client.describe_jobs(filters={"jobIDs": [job_id]})

    jobs, edges = measure(drs_simulator.url, drs_simulator.calls(), {}, speed=0, dag_id="drs_plan_p")

    (job,) = jobs
    assert job.job_id == job_id and job.wave == "db"
    assert job.first_polled is not None and job.first_polled >= job.started
    assert job.seen_completed is not None and job.ended is not None
    assert edges == []
