"""A first end-to-end check of the simulator through a real boto3 client."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def test_drill_launches_and_completes(drs_simulator):
    client = drs_simulator.client()
    servers = client.describe_source_servers()["items"]
    assert len(servers) >= 12
    job = client.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000005"}], isDrill=True)[
        "job"
    ]
    assert job["status"] == "PENDING"
    deadline = time.monotonic() + 10
    while True:
        (found,) = client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
        if found["status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert found["status"] == "COMPLETED"
    assert found["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    events = [item["event"] for item in client.describe_job_log_items(jobID=job["jobID"])["items"]]
    assert events == [
        "JOB_START",
        "SNAPSHOT_START",
        "SNAPSHOT_END",
        "CONVERSION_START",
        "CONVERSION_END",
        "LAUNCH_START",
        "JOB_END",
    ]
    assert [c["operation"] for c in drs_simulator.calls("StartRecovery")] == ["StartRecovery"]
