"""Simulated time and the model without HTTP."""

from __future__ import annotations

import time

import pytest

from drs_simulator import SAMPLE_FLEET
from drs_simulator.clock import SimulatedClock
from drs_simulator.fleet import load_fleet
from drs_simulator.models import Faults, Simulator, iso, parse_iso
from drs_simulator.models.wire import iso_duration


def test_clock_speed_and_advance():
    clock = SimulatedClock(speed=0, start=1000.0)
    assert clock.now() == 1000.0
    assert clock.advance(60) == 1060.0
    clock.set_speed(1000)
    time.sleep(0.02)
    assert clock.now() >= 1060.0 + 15
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        SimulatedClock(speed=-1)


def test_iso_round_trip_and_model_pattern():
    stamp = iso(1_700_000_000.25)
    assert stamp == "2023-11-14T22:13:20.250000Z"
    assert parse_iso(stamp) == 1_700_000_000.25
    assert parse_iso("2023-11-14T22:13:20Z") == 1_700_000_000.0


@pytest.mark.parametrize(
    ("seconds", "duration"),
    [
        (0, "PT0S"),
        (5, "PT5S"),
        (60, "PT1M"),
        (3725, "PT1H2M5S"),
        (6 * 3600, "PT6H"),
        (3600.25, "PT1H0.25S"),
        (86400, "P1D"),
        (90000, "P1DT1H"),
        (0.0001, "PT0S"),  # rounded to the millisecond
    ],
)
def test_iso_durations_as_drs_writes_lag(seconds: float, duration: str) -> None:
    assert iso_duration(seconds) == duration


def test_a_job_runs_on_a_manual_clock_without_http():
    simulator = Simulator(load_fleet(SAMPLE_FLEET), speed=0)
    job = simulator.call(
        "StartRecovery", "us-east-1", {"sourceServers": [{"sourceServerID": "s-0b000000000000005"}]}
    )
    job_id = job["job"]["jobID"]
    simulator.clock.advance(100)
    (done,) = simulator.call("DescribeJobs", "us-east-1", {"filters": {"jobIDs": [job_id]}})["items"]
    assert done["status"] == "COMPLETED"
    assert simulator.state()["recovery_instances"] == 1


def test_server_error_and_outage_faults_are_drawn_as_configured():
    simulator = Simulator(load_fleet(SAMPLE_FLEET), speed=0)
    simulator.set_faults(
        Faults.from_json({"error_count": 1, "error_status": 503, "error_when": "after", "outage_seconds": 5})
    )
    assert simulator.draw_error("DescribeJobs", "before") is None
    assert simulator.draw_error("DescribeJobs", "after") == 503
    assert simulator.draw_error("DescribeJobs", "after") is None, "error_count is used up"
    assert simulator.draw_outage("DescribeJobs", "before") is None, "outage_on null: starts on the POST"
    assert simulator.draw_outage(None) == 5
    assert simulator.draw_outage(None) is None, "an outage starts once"
    simulator.set_faults(Faults.from_json({"outage_seconds": 2, "outage_on": "StartRecovery"}))
    assert simulator.draw_outage(None) is None
    assert simulator.draw_outage("StartRecovery", "after") is None
    assert simulator.draw_outage("StartRecovery", "before") == 2


def test_faults_from_json_validates():
    faults = Faults.from_json({"fail_servers": ["s-0a000000000000001"], "drop_response_count": 1})
    assert faults.drop_response_operations == ["StartRecovery"]
    assert "s-0a000000000000001" in faults.fail_servers
    for bad in (
        [],
        {"throttle_rate": -0.1},
        {"latency_seconds": 61},
        {"seed": "x"},
        {"throttle_operations": [1]},
        {"latency_operations": ["NoSuchOperation"]},
        {"error_rate": 2},
        {"error_status": True},
        {"error_when": None},
        {"outage_seconds": "10"},
        {"outage_on": [None]},
        {"outage_when": "later"},
        {"page_size": 0},
        {"listing_lag_seconds": -1},
        {"page_size": True},
    ):
        with pytest.raises(ValueError):
            Faults.from_json(bad)


def test_a_call_that_arrived_before_a_reset_stays_out_of_the_new_call_log() -> None:
    """A call held by a latency fault is answered after the test that made it reset the
    simulator: it must not show in the next test's log."""
    simulator = Simulator(load_fleet(SAMPLE_FLEET), speed=0)
    held = {"operation": "DescribeSourceServers", "time": time.time() - 1}
    simulator.reset()

    simulator.record(held)
    simulator.record({"operation": "DescribeJobs", "time": time.time()})

    assert [call["operation"] for call in simulator.call_log()] == ["DescribeJobs"]
