"""One shared DescribeJobs poll per triggerer, on a real Airflow, counted in the simulator's call log.

The shared stack of each set-up runs plans whose waves set no ``poll_interval`` (the sensor's
default), on the module's own simulator and connection (the poll is shared per connection, so
other modules' waits never join these counts):

1. one wave alone, then twelve independent waves waiting at once: the twelve make at most 1.2x
   the DescribeJobs calls per second of the one (each of their calls asks about all twelve);
2. three chained waves: the wave hand-off at the defaults, reported in the figures;
3. a 60 s DRS outage while a wave waits: the run still completes, one job per wave;
4. DRS forgets the jobs mid-wave (the simulator is reset, as a restarted endpoint would): the
   wave fails within two polls with ``DrsJobNotFoundError`` naming the job, not after its
   timeout, and is not retried. Last, since the reset empties the call log.

The simulator's clock is stopped (``speed`` 0) while the calls are counted, so that the jobs stay
unfinished for as long as the count needs, and runs at ``SPEED`` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import requests
from tools.processes import wait_until
from tools.wave_timing import format_handoffs, measure, median_handoff, started_jobs, succeeded

from drs_provider.sensors.drs import DEFAULT_POLL_INTERVAL
from tests.e2e.conftest import owner_failed
from tests.e2e.harness import Deployment, Scenario

if TYPE_CHECKING:
    from collections.abc import Iterator


pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

#: Simulated seconds per real second while the clock runs: a 100 s launch takes 5 s.
SPEED = 20.0
RUN_TIMEOUT = 420.0
FAN_OUT = 12
#: DescribeJobs calls counted per scenario, once every wait of it is polling.
COUNTED_CALLS = 8


def server(number: int, name: str, launch_seconds: float) -> dict[str, Any]:
    return {
        "id": f"s-sp{number:015d}",
        "hostname": name,
        "tags": {"Host": name},
        "launch_seconds": launch_seconds,
    }


FAN = [server(n, f"fan-{n:02d}", 100) for n in range(FAN_OUT)]
SOLO = server(20, "solo", 100)
CHAIN = [server(30 + n, f"chain-{n}", 100) for n in range(3)]
OUTAGE = [server(40, "outage-db", 400), server(41, "outage-app", 40)]
FORGOTTEN = server(50, "forgotten", 86_400)
FLEET = [*FAN, SOLO, *CHAIN, *OUTAGE, FORGOTTEN]


def wave(name: str, entry: dict[str, Any], depends_on: list[str] | None = None) -> dict[str, Any]:
    # No poll_interval: every wave here polls at the sensor's default.
    spec: dict[str, Any] = {"name": name, "servers": {"ids": [entry["id"]]}, "timeout": 1800}
    if depends_on is not None:
        spec["depends_on"] = depends_on
    return spec


def plan(name: str, waves: list[dict[str, Any]]) -> dict[str, Any]:
    return {"plan": name, "description": f"shared poll: {name}", "waves": waves}


PLANS = {
    "sp_solo": plan("sp_solo", [wave("solo", SOLO, [])]),
    "sp_fan": plan("sp_fan", [wave(entry["hostname"].replace("-", "_"), entry, []) for entry in FAN]),
    "sp_chain": plan(
        "sp_chain",
        [
            wave("first", CHAIN[0], []),
            wave("second", CHAIN[1], ["first"]),
            wave("third", CHAIN[2], ["second"]),
        ],
    ),
    "sp_outage": plan("sp_outage", [wave("db", OUTAGE[0], []), wave("app", OUTAGE[1], ["db"])]),
    "sp_forgotten": plan("sp_forgotten", [wave("db", FORGOTTEN, [])]),
}
CHAIN_DEPENDENCIES = {"first": [], "second": ["first"], "third": ["second"]}


def dag_id(name: str) -> str:
    return f"drs_plan_{name}"


@dataclass
class PollDeployment(Deployment):
    def health(self) -> dict[str, Any]:
        response = requests.get(f"{self.simulator.url}/_simulator/health", timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


SCENARIO = Scenario(
    "shared_poll",
    plans=PLANS,
    fleet=FLEET,
    fleet_settings={"quotas": {"max_concurrent_jobs": 20, "max_servers_in_active_jobs": 100}},
    speed=SPEED,
    deployment_class=PollDeployment,
)


@pytest.fixture
def airflow(deployment: PollDeployment, request: pytest.FixtureRequest) -> Iterator[PollDeployment]:
    yield deployment
    deployment.simulator.control("clock", {"speed": SPEED})  # whatever the test left
    if owner_failed(request):
        deployment.print_logs()


# -- helpers -------------------------------------------------------------------------------------


def polls(calls: list[dict[str, Any]], job_ids: set[str]) -> list[dict[str, Any]]:
    """Successful DescribeJobs calls that name any of ``job_ids`` in their filter (a sensor's poll)."""
    found = []
    for call in calls:
        if call.get("operation") != "DescribeJobs" or not succeeded(call):
            continue
        filters = (call.get("request") or {}).get("filters") or {}
        if set(filters.get("jobIDs") or []) & job_ids:
            found.append(call)
    return found


def trigger(airflow: PollDeployment, name: str) -> str:
    airflow.stack.rest.wait_for_dag(dag_id(name))
    return airflow.stack.rest.trigger(dag_id(name), {})


def run_jobs(airflow: PollDeployment, name: str, run_id: str) -> list[str]:
    return [
        job.job_id
        for job in started_jobs(airflow.simulator.calls("StartRecovery"), dag_id(name))
        if job.run_id == run_id
    ]


def count_polls(airflow: PollDeployment, name: str, waves: int) -> tuple[float, list[dict[str, Any]]]:
    """With the clock stopped, let ``waves`` waves of a run of ``name`` wait, and count their polls.

    :return: DescribeJobs calls per second (over ``COUNTED_CALLS`` calls made once every wave's
        job had been polled, from the call log's own times) and those calls.
    """
    airflow.simulator.control("clock", {"speed": 0})
    run_id = trigger(airflow, name)

    def all_polled() -> bool:
        jobs = set(run_jobs(airflow, name, run_id))
        if len(jobs) < waves:
            return False
        calls = polls(airflow.simulator.calls("DescribeJobs"), jobs)
        return {job for call in calls for job in call["request"]["filters"]["jobIDs"]} >= jobs

    wait_until(f"{waves} waves of {name} to be polled", all_polled, timeout=300, interval=0.5)
    jobs = set(run_jobs(airflow, name, run_id))
    since = len(polls(airflow.simulator.calls("DescribeJobs"), jobs))

    def counted() -> bool:
        return len(polls(airflow.simulator.calls("DescribeJobs"), jobs)) >= since + COUNTED_CALLS

    wait_until(f"{COUNTED_CALLS} more polls of {name}", counted, timeout=120, interval=0.5)
    window = polls(airflow.simulator.calls("DescribeJobs"), jobs)[since : since + COUNTED_CALLS]
    airflow.simulator.control("clock", {"speed": SPEED})
    state = airflow.stack.rest.wait_for_run(dag_id(name), run_id, timeout=RUN_TIMEOUT)
    assert state == "success", airflow.stack.rest.task_states(dag_id(name), run_id)
    rate = (len(window) - 1) / (window[-1]["time"] - window[0]["time"])
    return rate, window


# -- the scenarios ---------------------------------------------------------------------------------


def test_twelve_waits_cost_drs_about_what_one_does(airflow: PollDeployment, e2e_figures: list[str]) -> None:
    one, _ = count_polls(airflow, "sp_solo", 1)
    twelve, window = count_polls(airflow, "sp_fan", FAN_OUT)

    # Every poll of the twelve asked about all twelve jobs: one call per tick, not one per wait.
    assert all(len(call["request"]["filters"]["jobIDs"]) == FAN_OUT for call in window), window
    assert twelve <= 1.2 * one, (one, twelve)
    e2e_figures.append(
        f"[{airflow.backend}] DescribeJobs per second at the default poll ({DEFAULT_POLL_INTERVAL} s): "
        f"1 wait {one:.2f}/s, {FAN_OUT} waits {twelve:.2f}/s ({twelve / one:.2f}x)"
    )


def test_wave_handoff_at_the_defaults(
    airflow: PollDeployment, e2e_figures: list[str], e2e_handoffs: list[tuple[str, float, float | None]]
) -> None:
    name = "sp_chain"
    run_id = trigger(airflow, name)
    state = airflow.stack.rest.wait_for_run(dag_id(name), run_id, timeout=RUN_TIMEOUT)

    assert state == "success", airflow.stack.rest.task_states(dag_id(name), run_id)
    calls = airflow.simulator.calls()
    jobs, edges = measure(airflow.simulator.url, calls, CHAIN_DEPENDENCIES, speed=SPEED, dag_id=dag_id(name))
    assert sorted(job.wave for job in jobs if job.run_id == run_id) == ["first", "second", "third"]
    assert sorted((edge.upstream, edge.downstream) for edge in edges) == [
        ("first", "second"),
        ("second", "third"),
    ]
    from_end, from_seen = median_handoff(edges)
    e2e_figures.append(
        f"[{airflow.backend}] {name}: wave hand-off at the defaults (poll {DEFAULT_POLL_INTERVAL} s), "
        f"median {from_end:.1f}s from job end, {from_seen:.1f}s from the DescribeJobs that saw COMPLETED"
    )
    e2e_figures.extend(f"    {line}" for line in format_handoffs(edges).splitlines())
    e2e_handoffs.extend((airflow.backend, edge.from_job_end, edge.from_seen_completed) for edge in edges)


def test_a_60s_outage_while_a_wave_waits_is_ridden_out(
    airflow: PollDeployment, e2e_figures: list[str]
) -> None:
    name = "sp_outage"
    run_id = trigger(airflow, name)
    rest = airflow.stack.rest

    def db_polled() -> bool:
        jobs = set(run_jobs(airflow, name, run_id))
        return bool(jobs) and bool(polls(airflow.simulator.calls("DescribeJobs"), jobs))

    wait_until("the db wave to poll its job", db_polled, timeout=300, interval=0.5)
    assert rest.task_states(dag_id(name), run_id).get("db.wait_for_recovery") == "deferred"
    outages_before = len(airflow.health()["outages"])
    airflow.simulator.control("faults", {"outage_seconds": 60})
    state = rest.wait_for_run(dag_id(name), run_id, timeout=RUN_TIMEOUT)
    states = rest.task_states(dag_id(name), run_id)

    assert state == "success", states
    outages = airflow.health()["outages"][outages_before:]
    assert len(outages) == 1 and outages[0]["ended"] is not None, outages
    jobs = started_jobs(airflow.simulator.calls("StartRecovery"), dag_id(name))
    assert sorted(job.wave for job in jobs if job.run_id == run_id) == ["app", "db"]
    [db_job] = [job.job_id for job in jobs if job.run_id == run_id and job.wave == "db"]
    after = [
        call for call in polls(airflow.simulator.calls(), {db_job}) if call["time"] > outages[0]["ended"]
    ]
    assert after, "the wave polled its job again once DRS was back"
    e2e_figures.append(
        f"[{airflow.backend}] {name}: a {outages[0]['seconds']:.0f} s outage mid-wave ridden out; "
        f"first poll after it {after[0]['time'] - outages[0]['ended']:.1f}s after DRS was back"
    )


def test_jobs_drs_forgot_fail_the_wave_at_once_naming_them(
    airflow: PollDeployment, e2e_figures: list[str]
) -> None:
    name = "sp_forgotten"
    rest = airflow.stack.rest
    run_id = trigger(airflow, name)
    job_ids: list[str] = []

    def polled() -> bool:
        job_ids[:] = run_jobs(airflow, name, run_id)
        return bool(job_ids) and bool(polls(airflow.simulator.calls("DescribeJobs"), set(job_ids)))

    wait_until("the wave to poll its job", polled, timeout=300, interval=0.5)
    airflow.simulator.reset()  # DRS forgets every job (a restarted endpoint); the call log too
    forgotten_at = time.time()
    state = rest.wait_for_run(dag_id(name), run_id, timeout=RUN_TIMEOUT)
    ended_at = time.time()
    states = rest.task_states(dag_id(name), run_id)

    assert state == "failed", states
    assert states["db.wait_for_recovery"] == "failed", states
    [wait] = [
        ti for ti in rest.task_instances(dag_id(name), run_id) if ti["task_id"] == "db.wait_for_recovery"
    ]
    assert wait["try_number"] == 1, "a verdict is not retried"
    error = rest.xcom(dag_id(name), run_id, "db.wait_for_recovery", key="task_error")
    assert "DrsJobNotFoundError" in str(error) or "not found" in str(error), error
    assert job_ids[0] in str(error), error
    # The wave's job never ended: the wait ended because DRS did not know it, not by its timeout.
    assert "not COMPLETED after" not in str(error), error
    e2e_figures.append(
        f"[{airflow.backend}] {name}: jobs forgotten by DRS mid-wave, run failed "
        f"{ended_at - forgotten_at:.1f}s later (wave timeout 1800 s): {str(error)[:120]}"
    )
