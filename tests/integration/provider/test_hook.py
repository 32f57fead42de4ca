"""DrsHook against the simulator through a real boto3 client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drs_provider.exceptions import DrsServerSelectionError
from drs_provider.recovery.times import parse_time
from tests.integration.provider.conftest import (
    PORTAL_ALL,
    SHOP_ALL,
    SHOP_APP,
    SHOP_DB,
    large_fleet,
    start_jobs,
)


def test_describe_all_source_servers_follows_every_page(drs_simulator, drs_hook):
    drs_simulator.reset(fleet=large_fleet(1100))

    servers = drs_hook.describe_source_servers()

    assert len({server["sourceServerID"] for server in servers}) == 1100
    # the sweeps of every server (a call naming servers would be someone else's)
    sweeps = [
        call
        for call in drs_simulator.calls("DescribeSourceServers")
        if not (call["request"].get("filters") or {}).get("sourceServerIDs")
    ]
    assert len(sweeps) == 2, ("pages hold at most 1000 servers", [c["request"] for c in sweeps])


def test_the_hook_learns_the_simulator_speed_from_its_answers(drs_simulator, drs_hook):
    assert drs_hook.simulator_speed is None  # nothing asked yet: nothing known
    assert drs_hook.poll_interval(5) == 5  # as on AWS

    drs_simulator.set_speed(7.5)
    drs_hook.describe_source_servers()

    assert drs_hook.simulator_speed == 7.5
    assert (drs_hook.poll_interval(5), drs_hook.poll_interval(0.5)) == (1, 0.5)  # its jobs end in seconds


def test_describe_by_id_sends_at_most_200_ids_per_request(drs_simulator, drs_hook):
    drs_simulator.reset(fleet=large_fleet(450))
    wanted = [f"s-{index:017d}" for index in range(0, 450, 1)]

    servers = drs_hook.describe_source_servers(wanted)

    assert sorted(server["sourceServerID"] for server in servers) == sorted(wanted)
    # this describe's calls (a stray call naming other servers would be someone else's)
    asked = [
        call["request"]["filters"]["sourceServerIDs"] for call in drs_simulator.calls("DescribeSourceServers")
    ]
    sizes = [len(ids) for ids in asked if set(ids) <= set(wanted)]
    assert max(sizes) <= 200
    assert sum(sizes) == 450


def test_resolve_unions_ids_and_tag_matches_without_duplicates(drs_hook):
    servers = drs_hook.resolve_source_servers(
        ids=[SHOP_DB[0], PORTAL_ALL[0]], tags={"App": "shop", "Role": "app"}
    )

    assert [server["sourceServerID"] for server in servers] == [SHOP_DB[0], PORTAL_ALL[0], *SHOP_APP]


def test_resolve_tags_must_all_match(drs_hook):
    servers = drs_hook.resolve_source_servers(tags={"App": "shop"})

    assert sorted(server["sourceServerID"] for server in servers) == sorted(SHOP_ALL)


def test_resolve_names_unknown_ids(drs_hook):
    unknown = "s-0f000000000000099"
    with pytest.raises(DrsServerSelectionError, match=unknown) as caught:
        drs_hook.resolve_source_servers(ids=[SHOP_DB[0], unknown])
    assert caught.value.unknown_ids == (unknown,)


def test_resolve_names_malformed_ids_before_calling_drs(drs_simulator, drs_hook):
    with pytest.raises(DrsServerSelectionError, match="'db-1'"):
        drs_hook.resolve_source_servers(ids=["db-1"])
    assert drs_simulator.calls() == []


def test_resolve_names_tag_selector_that_matches_nothing(drs_hook):
    with pytest.raises(DrsServerSelectionError, match=r"App=shop, Role=cache") as caught:
        drs_hook.resolve_source_servers(tags={"App": "shop", "Role": "cache"})
    assert caught.value.tags == {"App": "shop", "Role": "cache"}


def test_start_recovery_job_starts_one_tagged_drill_job(drs_simulator, drs_hook):
    job = drs_hook.start_recovery_job(
        [{"sourceServerID": server_id} for server_id in SHOP_DB], is_drill=True, tags={"purpose": "test"}
    )

    [described] = drs_hook.describe_jobs([job["jobID"]])
    assert len(described["participatingServers"]) == len(SHOP_DB)
    assert described["tags"] == {"purpose": "test"}
    [call] = drs_simulator.calls("StartRecovery")
    assert call["request"]["isDrill"] is True


def test_find_busy_servers_names_the_job_holding_them(drs_simulator, drs_hook):
    drs_simulator.reset(speed=0)  # jobs stay active
    [job_id] = start_jobs(drs_hook, [SHOP_DB[0]])

    assert drs_hook.find_busy_servers([SHOP_DB[0], SHOP_DB[1]]) == {SHOP_DB[0]: job_id}
    assert [job["jobID"] for job in drs_hook.active_jobs()] == [job_id]


def test_find_jobs_by_tags_needs_every_tag(drs_hook):
    [first] = start_jobs(drs_hook, [SHOP_DB[0]], tags={"a": "1", "b": "2"})
    start_jobs(drs_hook, [SHOP_DB[1]], tags={"a": "1"})

    assert [job["jobID"] for job in drs_hook.find_jobs_by_tags({"a": "1", "b": "2"})] == [first]
    assert len(drs_hook.find_jobs_by_tags({"a": "1"})) == 2


def test_describe_jobs_asks_once_per_1000_ids(drs_simulator, drs_hook):
    [job_id] = start_jobs(drs_hook, [SHOP_DB[0]])
    fake_ids = [f"drsjob-{index:017d}" for index in range(1500)]

    jobs = drs_hook.describe_jobs([job_id, *fake_ids])

    assert [job["jobID"] for job in jobs] == [job_id]
    calls = drs_simulator.calls("DescribeJobs")
    assert [len(call["request"]["filters"]["jobIDs"]) for call in calls] == [1000, 501]


def test_job_log_items_follow_every_page(drs_simulator, drs_hook):
    drs_simulator.reset(fleet=large_fleet(150))
    [job_id] = start_jobs(drs_hook, [f"s-{index:017d}" for index in range(100)])
    drs_simulator.advance(3600)

    items = drs_hook.job_log_items(job_id)

    launches = {item["eventData"]["sourceServerID"] for item in items if item["event"] == "LAUNCH_START"}
    assert len(launches) == 100
    assert len(items) == len({(i["logDateTime"], i["event"], str(i.get("eventData"))) for i in items})
    if len(items) > 1000:
        assert len(drs_simulator.calls("DescribeJobLogItems")) > 1


def test_latest_snapshots_before_picks_the_last_completed_one(drs_simulator, drs_hook):
    client = drs_simulator.client()
    snapshots = client.describe_recovery_snapshots(sourceServerID=SHOP_DB[0])["items"]
    taken = sorted(
        (parse_time(snapshot["timestamp"]), snapshot["snapshotID"])
        for snapshot in snapshots
        if snapshot.get("timestamp")
    )
    assert len(taken) >= 3, "the simulator should keep several snapshots per server"
    (older_time, older_id), (newer_time, _) = taken[-3], taken[-2]
    between = older_time + (newer_time - older_time) / 2

    chosen = drs_hook.latest_snapshots_before([SHOP_DB[0]], between)
    exactly = drs_hook.latest_snapshots_before([SHOP_DB[0]], older_time)

    assert chosen == {SHOP_DB[0]: older_id}
    assert exactly == {SHOP_DB[0]: older_id}


def test_latest_snapshots_before_names_servers_without_one(drs_simulator, drs_hook):
    client = drs_simulator.client()
    snapshots = client.describe_recovery_snapshots(sourceServerID=SHOP_DB[0])["items"]
    earliest = min(parse_time(s["timestamp"]) for s in snapshots if s.get("timestamp"))

    with pytest.raises(DrsServerSelectionError, match=SHOP_DB[0]):
        drs_hook.latest_snapshots_before(SHOP_DB, earliest - timedelta(days=3650))


def test_terminate_recovery_instances_starts_termination_jobs(drs_simulator, drs_hook):
    [job_id] = start_jobs(drs_hook, SHOP_DB)
    drs_simulator.advance(3600)
    [job] = drs_hook.describe_jobs([job_id])
    instances = [server["recoveryInstanceID"] for server in job["participatingServers"]]

    result = drs_hook.terminate_recovery_instances(instances)

    assert len(result["jobs"]) == 1
    assert result["jobs"][0]["type"] == "TERMINATE"


def test_the_outcome_of_an_extended_source_server_names_its_staging_account(drs_simulator, drs_hook):
    staging, erp = "444455556666", "s-0d000000000000001"
    drs_simulator.reset(
        {
            "account_id": "123456789012",
            "region": drs_simulator.region,
            "source_servers": [{"id": SHOP_DB[0], "hostname": "db-1", "launch_seconds": 1}],
            "staging_accounts": [
                {
                    "account_id": staging,
                    "source_servers": [{"id": erp, "hostname": "erp-1", "launch_seconds": 1}],
                }
            ],
        }
    )
    arn = f"arn:aws:drs:{drs_simulator.region}:{staging}:source-server/{erp}"
    extended = drs_simulator.client().create_extended_source_server(sourceServerArn=arn)["sourceServer"]
    [job_id] = start_jobs(drs_hook, [SHOP_DB[0], extended["sourceServerID"]])
    drs_simulator.advance(60)

    outcome = drs_hook.recovery_outcome(drs_hook.describe_jobs([job_id]))

    by_id = {result["sourceServerID"]: result for result in outcome.results}
    assert by_id[extended["sourceServerID"]]["stagingAccountID"] == staging
    assert by_id[extended["sourceServerID"]]["hostname"] == "erp-1"
    assert "stagingAccountID" not in by_id[SHOP_DB[0]]
