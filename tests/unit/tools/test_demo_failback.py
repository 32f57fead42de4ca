"""``make demo-failback``'s own parts: its plan and fleet, the runs it triggers, how a run is named,
a failback's progress words and report, and the watcher reading each wave's jobs in its region
(against the in-process simulator in two regions)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from tools.demo import parser, plan_region, plan_waves
from tools.demo_failback import FLEET, PLAN, PLANS_DIR, failback_runs
from tools.demo_report import DrillResult, format_report, home_text, is_failback, run_label
from tools.demo_view import COPYING_BACK, failback_wave_state, wave_progress
from tools.demo_watcher import DrillWatcher, drs_client, job_region

from drs_simulator.fleet import load_fleet

RECORDING = json.loads((Path(__file__).parent / "shop_drill_recording.json").read_text())
WAVES = ["database", "app", "web"]
RECOVERY_REGION, ORIGIN_REGION = "us-west-2", "us-east-1"


def test_the_demo_plan_recovers_its_two_waves_in_the_recovery_region_from_ec2_machines_of_the_origin() -> (
    None
):
    assert plan_waves(PLANS_DIR, PLAN) == ("drs_plan_orders", ["db", "app"])
    assert plan_region(PLANS_DIR, PLAN, FLEET) == RECOVERY_REGION
    servers = load_fleet(FLEET).source_servers
    assert len(servers) == 4
    for server in servers:
        assert (server.region, server.origin.region) == (RECOVERY_REGION, ORIGIN_REGION)
    # The fleet file sits beside the plans directory, never in it (it would be a broken plan).
    assert FLEET.parent == PLANS_DIR.parent


def test_the_demo_recovers_then_fails_back_both_confirmed_by_the_plans_name() -> None:
    runs = failback_runs("orders")
    assert runs.confs == (
        {"mode": "recovery", "confirm": "orders"},
        {"mode": "failback", "confirm": "orders"},
    )
    args = parser(plan=PLAN, plans_dir=PLANS_DIR, fleet=FLEET).parse_args(["--plan", "other"])
    assert (args.plan, args.plans_dir, args.fleet) == ("other", PLANS_DIR, FLEET)


@pytest.mark.parametrize(
    ("conf", "label"),
    [
        (None, "Drill"),
        ({}, "Drill"),
        ({"mode": "drill"}, "Drill"),
        ({"mode": "recovery", "confirm": "orders"}, "Recovery"),
        ({"mode": "failback", "confirm": "orders"}, "Failback"),
        ({"mode": "failback", "confirm": "orders", "failback_drill": True}, "Failback drill"),
        ({"mode": "recovery", "failback_drill": True}, "Recovery"),
    ],
)
def test_a_run_is_named_by_its_mode(conf: dict[str, Any] | None, label: str) -> None:
    assert run_label(conf) == label
    assert is_failback(conf) == label.startswith("Failback")


@pytest.mark.parametrize(
    ("home_region", "region"),
    [
        (ORIGIN_REGION, ORIGIN_REGION),  # a failback wave: where start_recovery launched it
        (None, RECOVERY_REGION),  # other runs push no home_region
        ("", RECOVERY_REGION),
        (["us-east-1"], RECOVERY_REGION),  # never trusts an XCom of another shape
    ],
)
def test_a_waves_jobs_are_read_in_its_home_region_else_the_plans(home_region: object, region: str) -> None:
    assert job_region(home_region, RECOVERY_REGION) == region


@pytest.mark.parametrize(
    ("state", "start_state", "word"),
    [
        ("starting", "deferred", COPYING_BACK),
        ("starting", "running", "starting"),
        ("recovering", "success", "launching home"),
        ("recovered", "success", "home"),
        ("failed", "failed", "failed"),
        ("waiting", None, "waiting"),
    ],
)
def test_a_failback_waves_state_says_where_its_servers_are_on_their_way_home(
    state: str, start_state: str | None, word: str
) -> None:
    assert failback_wave_state(state, start_state) == word


def test_a_finished_failback_wave_keeps_its_end_under_its_own_word() -> None:
    final = copy.deepcopy(RECORDING["final"])
    drill = wave_progress(WAVES, final["task_instances"], final["jobs_by_wave"])
    failback = wave_progress(WAVES, final["task_instances"], final["jobs_by_wave"], failback=True)
    assert [wave.state for wave in failback] == ["passed", "home", "home", "home"]
    assert [wave.ended for wave in failback] == [wave.ended for wave in drill]


def failback_result(conf: dict[str, Any]) -> DrillResult:
    """The recorded shop run as if it had been ``conf``, its database wave come home."""
    final = copy.deepcopy(RECORDING["final"])
    final["run"]["conf"] = conf
    database = [
        {
            "sourceServerID": "s-0a000000000000001",
            "hostname": "db-1",
            "launchStatus": "LAUNCHED",
            "recoveryInstanceID": "i-0000000000000home",
            "ec2InstanceID": "i-0000000000000home",
            "failbackSourceServerID": "s-0f000000000000001",
            "originEnvironment": "AWS",
            "originRegion": ORIGIN_REGION,
            "failedBackFrom": "i-00000000000000away",
        },
        {"sourceServerID": "s-0a000000000000002", "hostname": "db-2", "originEnvironment": "ON_PREMISES"},
    ]
    return DrillResult(
        plan="shop",
        dag_id="drs_plan_shop",
        run=final["run"],
        waves=wave_progress(WAVES, final["task_instances"], final["jobs_by_wave"], failback=True),
        servers={"database": database},
    )


def test_a_failback_report_names_where_each_server_came_home_and_from_which_instance() -> None:
    lines = format_report(failback_result({"mode": "failback", "confirm": "shop"})).splitlines()

    assert lines[0].startswith("Failback of plan 'shop' SUCCEEDED  (drs_plan_shop, run ")
    servers = lines[lines.index("Servers:") + 1 :]
    assert servers[0].split() == [
        "wave", "server", "source", "server", "home", "home", "instance", "failed", "back", "from", "status"
    ]  # fmt: skip
    assert servers[1].split() == [
        "database", "db-1", "s-0a000000000000001", ORIGIN_REGION, "i-0000000000000home",
        "i-00000000000000away", "LAUNCHED",
    ]  # fmt: skip
    assert servers[2].split() == ["database", "db-2", "s-0a000000000000002", "on", "premises", "-", "-", "-"]
    assert lines[-1].startswith("Time: failback ")


def test_a_recovery_report_says_recovery_and_keeps_the_drills_server_columns() -> None:
    lines = format_report(failback_result({"mode": "recovery", "confirm": "shop"})).splitlines()

    assert lines[0].startswith("Recovery of plan 'shop' SUCCEEDED")
    header = lines[lines.index("Servers:") + 1]
    assert header.split() == ["wave", "server", "source", "server", "recovery", "instance", "status"]
    assert lines[-1].startswith("Time: recovery ")


def test_an_unjudged_failback_entry_has_no_home_yet() -> None:
    assert home_text({"originRegion": ORIGIN_REGION}) == ORIGIN_REGION
    assert home_text({"originEnvironment": "ON_PREMISES"}) == "on premises"
    assert home_text({}) == "-"


TWO_REGIONS = {
    "account_id": "123456789012",
    "region": ORIGIN_REGION,
    "source_servers": [
        {"id": "s-0d000000000000001", "hostname": "away-db", "region": RECOVERY_REGION, "launch_seconds": 10},
        {"id": "s-0d000000000000002", "hostname": "home-app", "launch_seconds": 10},
    ],
}


def test_the_watcher_reads_each_waves_jobs_in_the_region_they_run_in(drs_simulator: Any) -> None:
    drs_simulator.reset(fleet=TWO_REGIONS, speed=0)
    away = drs_client(drs_simulator.url, RECOVERY_REGION)
    home = drs_client(drs_simulator.url, ORIGIN_REGION)
    away_job = away.start_recovery(sourceServers=[{"sourceServerID": "s-0d000000000000001"}])["job"]
    home_job = home.start_recovery(sourceServers=[{"sourceServerID": "s-0d000000000000002"}])["job"]
    drs_simulator.advance(60)
    made: list[str] = []

    def client_in(region: str) -> Any:
        made.append(region)
        return drs_client(drs_simulator.url, region)

    watcher = DrillWatcher(
        stack=None,  # type: ignore[arg-type]
        drs=away,
        dag_id="drs_plan_orders",
        run_id="r",
        waves=["db", "app"],
        client_in=client_in,
    )
    watcher.job_ids = {"db": [away_job["jobID"]], "app": [home_job["jobID"]]}
    watcher.regions = {"db": RECOVERY_REGION, "app": ORIGIN_REGION}
    watcher.jobs_by_wave = watcher._describe_jobs()

    assert [job["jobID"] for job in watcher.jobs_by_wave["db"]] == [away_job["jobID"]]
    assert [job["jobID"] for job in watcher.jobs_by_wave["app"]] == [home_job["jobID"]]
    results = watcher.server_results()
    assert {wave: [s["hostname"] for s in servers] for wave, servers in results.items()} == {
        "db": ["away-db"],
        "app": ["home-app"],
    }
    assert all(s["launchStatus"] == "LAUNCHED" for servers in results.values() for s in servers)
    assert made == [ORIGIN_REGION]  # one client per other region, made once


def test_a_watcher_without_a_way_to_reach_another_region_says_so() -> None:
    watcher = DrillWatcher(
        stack=None,  # type: ignore[arg-type]
        drs=drs_client("http://127.0.0.1:9", RECOVERY_REGION),
        dag_id="d",
        run_id="r",
        waves=[],
    )
    with pytest.raises(ValueError, match=f"no DRS client for {ORIGIN_REGION}, only for {RECOVERY_REGION}"):
        watcher.client(ORIGIN_REGION)
