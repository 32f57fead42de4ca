"""The control API under /_simulator/: health, calls, reset, clock, quotas, operations."""

from __future__ import annotations

import time

import pytest

from drs_simulator import SAMPLE_FLEET
from integration.helpers import raw_call

pytestmark = pytest.mark.integration


def test_health(drs_simulator):
    status, _, body = raw_call(drs_simulator.url, "GET", "/_simulator/health", auth=False)
    assert status == 200
    assert body["status"] == "ok"
    assert body["account_id"] == "123456789012" and body["region"] == "us-east-1"
    assert body["speed"] == 1000.0


def test_calls_log_every_drs_call_oldest_first(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    before = time.time()
    job = drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}], isDrill=True)["job"]
    drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})
    drs.describe_job_log_items(jobID=job["jobID"])
    drs.describe_source_servers()
    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
    calls = drs_simulator.calls()
    operations = [c["operation"] for c in calls]
    assert operations[:4] == ["StartRecovery", "DescribeJobs", "DescribeJobLogItems", "DescribeSourceServers"]
    first = calls[0]
    assert before <= first["time"] <= time.time()
    assert isinstance(first["time"], float)
    assert first["request"] == {
        "sourceServers": [{"sourceServerID": "s-0a000000000000001"}],
        "isDrill": True,
    }
    assert first["status"] == 202
    assert first["job_ids"] == [job["jobID"]]
    assert first["region"] == "us-east-1"
    assert calls[1]["job_ids"] == [job["jobID"]]
    assert calls[2]["job_ids"] == [job["jobID"]]
    assert calls[3]["job_ids"] == [job["jobID"]]  # the server's lifeCycle.lastLaunch names it
    assert calls[4]["status"] == 409 and calls[4]["error"] == "ConflictException"
    assert job["jobID"] in calls[4]["message"]
    assert calls[4]["job_ids"] == [job["jobID"]]
    assert [c["time"] for c in calls] == sorted(c["time"] for c in calls)
    assert drs_simulator.calls("DescribeJobLogItems") == [calls[2]]
    status, _, only = raw_call(
        drs_simulator.url, "GET", "/_simulator/calls?operation=StartRecovery", auth=False
    )
    assert status == 200 and all(c["operation"] == "StartRecovery" for c in only)


def test_calls_log_records_errors(drs_simulator):
    raw_call(drs_simulator.url, "POST", "/DescribeJobs", {}, auth=False)
    (call,) = drs_simulator.calls()
    assert call["operation"] == "DescribeJobs"
    assert call["status"] == 403
    assert call["error"] == "MissingAuthenticationTokenException"


def test_reset_forgets_jobs_and_calls_and_can_load_a_new_fleet(drs_simulator, drs, sample_fleet_dict):
    drs.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
    drs_simulator.reset()
    assert drs.describe_jobs()["items"] == []
    assert len(drs_simulator.calls()) == 1
    drs_simulator.reset(
        fleet={
            "account_id": "210987654321",
            "region": "us-east-1",
            "source_servers": [{"id": "s-00000000000000abc", "hostname": "only-one"}],
        }
    )
    assert drs_simulator.account_id == "210987654321"
    assert [s["sourceServerID"] for s in drs.describe_source_servers()["items"]] == ["s-00000000000000abc"]
    drs_simulator.reset(fleet=SAMPLE_FLEET)  # a file in the directory of the starting fleet
    assert len(drs.describe_source_servers()["items"]) >= 12


def test_reset_reads_fleet_files_from_the_fleet_directory(fleets):
    status, _, body = fleets.reset({"fleet_path": "other.yaml"})
    assert status == 200, body
    assert body["account_id"] == "210987654321" and body["source_servers"] == 1
    status, _, body = fleets.reset({"fleet_path": str(fleets.directory / "fleet.yaml")})
    assert status == 200 and body["account_id"] == "123456789012"
    (fleets.directory / "teams").mkdir()
    (fleets.directory / "teams" / "link.yaml").symlink_to(fleets.directory / "other.yaml")
    status, _, body = fleets.reset({"fleet_path": "teams/link.yaml"})  # a symlink that stays inside
    assert status == 200 and body["account_id"] == "210987654321"
    status, _, body = fleets.reset({})
    assert status == 200 and body["account_id"] == "123456789012", "default: the starting fleet"


def test_reset_with_a_bad_fleet_is_refused_and_keeps_state(drs_simulator, drs):
    status, _, body = raw_call(
        drs_simulator.url,
        "POST",
        "/_simulator/reset",
        {"fleet": {"account_id": "1", "region": "x"}},
        auth=False,
    )
    assert status == 400
    assert "account_id" in body["error"] and "source_servers" in body["error"]
    assert len(drs.describe_source_servers()["items"]) >= 12


def test_clock_advance_and_speed(drs_simulator):
    drs_simulator.reset(speed=0)
    status, _, before = raw_call(drs_simulator.url, "GET", "/_simulator/clock", auth=False)
    assert status == 200 and before["speed"] == 0
    after = drs_simulator.advance(3600)
    assert after["epoch"] == pytest.approx(before["epoch"] + 3600)
    faster = drs_simulator.set_speed(10)
    assert faster["speed"] == 10
    status, _, body = raw_call(
        drs_simulator.url, "POST", "/_simulator/clock", {"advance_seconds": -1}, auth=False
    )
    assert status == 400 and "advance_seconds" in body["error"]


def test_operations_checklist_endpoint(drs_simulator):
    status, _, rows = raw_call(drs_simulator.url, "GET", "/_simulator/operations", auth=False)
    assert status == 200
    implemented = {r["operation"] for r in rows if r["implemented"]}
    assert {"StartRecovery", "DescribeJobs", "TagResource"} <= implemented
    assert {"DeleteJob", "InitializeService"}.isdisjoint(implemented)


def test_unknown_control_endpoint(drs_simulator):
    status, _, body = raw_call(drs_simulator.url, "GET", "/_simulator/nothing", auth=False)
    assert status == 404
    assert "GET /_simulator/health" in body["endpoints"]
