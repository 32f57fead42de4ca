"""50 threads calling StartRecovery/DescribeJobs at once: no job lost, none duplicated, state intact."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.integration


def test_fifty_threads_lose_and_duplicate_no_job(drs_simulator):
    servers = [{"id": f"s-{n:017d}", "hostname": f"h{n}"} for n in range(1, 51)]
    drs_simulator.reset(
        fleet={
            "account_id": "123456789012",
            "region": "us-east-1",
            "source_servers": servers,
            "quotas": {"max_concurrent_jobs": 100},
        },
        speed=0,
    )
    barrier = threading.Barrier(50)
    started: dict[int, str] = {}
    seen: dict[int, int] = {}
    failures: list[BaseException] = []
    session = boto3.session.Session()
    clients = [
        session.client(
            "drs", config=Config(retries={"total_max_attempts": 1}), **drs_simulator.client_kwargs()
        )
        for _ in range(50)
    ]

    def work(n: int) -> None:
        try:
            client = clients[n]
            barrier.wait(timeout=30)
            job = client.start_recovery(sourceServers=[{"sourceServerID": f"s-{n + 1:017d}"}])["job"]
            started[n] = job["jobID"]
            seen[n] = len(client.describe_jobs()["items"])
        except BaseException as exc:  # collected and re-raised in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures[:3]
    assert len(started) == 50
    assert len(set(started.values())) == 50
    jobs = drs_simulator.client().describe_jobs()["items"]
    assert sorted(j["jobID"] for j in jobs) == sorted(started.values())
    assert all(1 <= count <= 50 for count in seen.values())
    owners = sorted(j["participatingServers"][0]["sourceServerID"] for j in jobs)
    assert owners == sorted(s["id"] for s in servers)
    calls = drs_simulator.calls()
    assert len(calls) == 100 + 1
    assert [c["seq"] for c in calls] == list(range(1, 102))


def test_fifty_threads_racing_for_the_same_server_make_one_job(drs_simulator):
    drs_simulator.reset(speed=0)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()
    session = boto3.session.Session()
    clients = [
        session.client(
            "drs", config=Config(retries={"total_max_attempts": 1}), **drs_simulator.client_kwargs()
        )
        for _ in range(50)
    ]

    def work(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            clients[n].start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
            result = "ok"
        except clients[n].exceptions.ConflictException:
            result = "conflict"
        except Exception as exc:
            result = repr(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * 49 + ["ok"]
    assert len(drs_simulator.client().describe_jobs()["items"]) == 1
