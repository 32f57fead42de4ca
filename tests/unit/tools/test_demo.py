"""The demo's progress view and report, on data recorded from a real drill of the shop plan.

Also the demo's DRS side (a failed wave's servers) against the in-process simulator.

``shop_drill_recording.json`` holds what ``python -m tools.demo`` saw during one run on Airflow
3.3.2 against the simulator: REST API v2 dag runs and task instances, DescribeJobs items, and the
``wait_for_recovery`` XComs, at three moments (database recovering, web recovering, finished).
"""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tools.demo import DEFAULT_PLANS_DIR, plan_step_tasks, plan_waves, unpause_plans
from tools.demo_report import DrillResult, failure_reason, format_report, instance_text
from tools.demo_view import (
    ProgressView,
    ServerCounts,
    format_progress,
    parse_time,
    server_counts,
    wave_progress,
    wave_state,
)
from tools.demo_watcher import DrillWatcher, drs_client

RECORDING = json.loads((Path(__file__).parent / "shop_drill_recording.json").read_text())
WAVES = ["database", "app", "web"]
DAG_ID = "drs_plan_shop"


def moment(name: str) -> dict[str, Any]:
    return copy.deepcopy(RECORDING[name])


def task(snapshot: dict[str, Any], task_id: str) -> dict[str, Any]:
    return next(ti for ti in snapshot["task_instances"] if ti["task_id"] == task_id)


def by_name(progress: list[Any]) -> dict[str, Any]:
    return {step.name: step for step in progress}


def test_the_demo_drills_the_three_tier_example_plan_in_dependency_order() -> None:
    assert plan_waves(DEFAULT_PLANS_DIR, "shop") == (DAG_ID, WAVES)


def test_an_unknown_plan_is_refused_with_the_plans_that_exist() -> None:
    with pytest.raises(SystemExit, match=r"no valid plan 'nope'.*shop"):
        plan_waves(DEFAULT_PLANS_DIR, "nope")


class UnpausingRest:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def wait_for_dag(self, dag_id: str, timeout: float) -> dict[str, Any]:
        self.calls.append(("wait", dag_id))
        return {"dag_id": dag_id}

    def unpause(self, dag_id: str) -> None:
        self.calls.append(("unpause", dag_id))


def test_the_demo_unpauses_every_plan_its_scheduled_drill_included() -> None:
    rest = UnpausingRest()

    unpaused = unpause_plans(rest, DEFAULT_PLANS_DIR)  # type: ignore[arg-type]

    assert sorted(unpaused) == ["drs_plan_portal", "drs_plan_shop", "drs_plan_shop_weekly_drill"]
    assert [call for call in rest.calls if call[0] == "unpause"] == [("unpause", dag) for dag in unpaused]
    assert rest.calls.index(("wait", "drs_plan_shop_weekly_drill")) < rest.calls.index(
        ("unpause", "drs_plan_shop_weekly_drill")
    )


@pytest.mark.parametrize(
    ("start", "wait", "expected"),
    [
        (None, None, "waiting"),
        ("scheduled", None, "starting"),
        ("running", None, "starting"),
        ("up_for_retry", None, "starting"),
        ("success", None, "recovering"),
        ("success", "deferred", "recovering"),
        ("success", "success", "recovered"),
        ("failed", "upstream_failed", "failed"),
        ("success", "failed", "failed"),
        ("upstream_failed", "upstream_failed", "not run"),
    ],
)
def test_a_wave_state_reads_its_two_tasks(start: str | None, wait: str | None, expected: str) -> None:
    assert wave_state(start, wait) == expected


def test_servers_are_counted_per_launch_status() -> None:
    jobs = [
        {"participatingServers": [{"launchStatus": "LAUNCHED"}, {"launchStatus": "IN_PROGRESS"}]},
        {"participatingServers": [{"launchStatus": "FAILED"}, {}]},
    ]
    counts = server_counts(jobs)
    assert counts == ServerCounts(launched=1, failed=1, total=4)
    assert counts.describe() == "1/4 launched, 1 failed"
    assert ServerCounts().describe() == "-"


def test_progress_while_the_database_wave_recovers() -> None:
    snapshot = moment("mid_database")
    progress = by_name(wave_progress(WAVES, snapshot["task_instances"], snapshot["jobs_by_wave"]))
    assert list(progress) == ["preflight", *WAVES]
    assert progress["preflight"].state == "passed"
    assert progress["database"].state == "recovering"
    assert progress["database"].servers == ServerCounts(launched=1, failed=0, total=3)
    assert (progress["app"].state, progress["web"].state) == ("waiting", "waiting")
    assert progress["app"].started is None

    started = parse_time(task(snapshot, "database.start_recovery")["start_date"])
    assert started is not None
    now = started + timedelta(seconds=12.34)
    lines = format_progress(DAG_ID, snapshot["run"], list(progress.values()), now)
    run_elapsed = (now - parse_time(snapshot["run"]["start_date"])).total_seconds()  # type: ignore[operator]
    assert lines[0] == f"{DAG_ID}  running  {run_elapsed:.1f}s  run {snapshot['run']['dag_run_id']}"
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["database"] == ["database", "recovering", "1/3", "launched", "-", "12.3s"]
    assert rows["app"] == ["app", "waiting", "-", "-", "-"]
    assert rows["preflight"][:2] == ["preflight", "passed"]


def test_progress_while_the_web_wave_recovers() -> None:
    snapshot = moment("mid_web")
    progress = by_name(wave_progress(WAVES, snapshot["task_instances"], snapshot["jobs_by_wave"]))
    assert [progress[wave].state for wave in WAVES] == ["recovered", "recovered", "recovering"]
    assert progress["database"].servers.describe() == "3/3 launched"
    assert progress["web"].servers == ServerCounts(launched=0, failed=0, total=2)
    # A finished wave's clock stops at its last task's end.
    wait_end = parse_time(task(snapshot, "database.wait_for_recovery")["end_date"])
    assert progress["database"].ended == wait_end
    later = datetime.now(UTC)
    assert progress["database"].elapsed(later) == progress["database"].elapsed(later + timedelta(hours=1))


def final_result(snapshot: dict[str, Any], servers: dict[str, Any]) -> DrillResult:
    return DrillResult(
        plan="shop",
        dag_id=DAG_ID,
        run=snapshot["run"],
        waves=wave_progress(WAVES, snapshot["task_instances"], snapshot["jobs_by_wave"]),
        servers=servers,
        failed_tasks=sorted(ti["task_id"] for ti in snapshot["task_instances"] if ti["state"] == "failed"),
        startup_seconds=20.2,
        total_seconds=65.4,
    )


def test_the_report_of_a_successful_drill() -> None:
    snapshot = moment("final")
    result = final_result(snapshot, RECORDING["servers"])
    assert result.succeeded
    report = format_report(result)
    lines = report.splitlines()
    assert lines[0] == f"Drill of plan 'shop' SUCCEEDED  ({DAG_ID}, run {snapshot['run']['dag_run_id']})"

    steps = lines[lines.index("Waves (times UTC):") + 1 : lines.index("Servers:")]
    rows = {line.split()[0]: line.split() for line in steps if line.strip()}
    assert rows["wave"] == ["wave", "state", "start", "end", "duration", "servers"]
    for wave in WAVES:
        start = parse_time(task(snapshot, f"{wave}.start_recovery")["start_date"])
        end = parse_time(task(snapshot, f"{wave}.wait_for_recovery")["end_date"])
        assert start is not None and end is not None
        assert rows[wave][:5] == [
            wave,
            "recovered",
            start.strftime("%H:%M:%S"),
            end.strftime("%H:%M:%S"),
            f"{(end - start).total_seconds():.1f}s",
        ]

    server_lines = [line.split() for line in lines if "LAUNCHED" in line]
    reported = {line[1]: line for line in server_lines}
    assert set(reported) == {"db-1", "db-2", "db-replica-1", "app-1", "app-2", "web-1", "web-2"}
    for wave, servers in RECORDING["servers"].items():
        for server in servers:
            line = reported[server["hostname"]]
            # DRS recovery instances are EC2 instances: one ID unless DRS reports two.
            assert server["ec2InstanceID"] == server["recoveryInstanceID"]
            assert line[:5] == [
                wave,
                server["hostname"],
                server["sourceServerID"],
                server["recoveryInstanceID"],
                "LAUNCHED",
            ]
    assert reported["db-replica-1"][-1] == "(optional)"
    run_seconds = (
        parse_time(snapshot["run"]["end_date"]) - parse_time(snapshot["run"]["start_date"])  # type: ignore[operator]
    ).total_seconds()
    assert lines[-1] == (
        f"Time: drill {run_seconds:.1f}s (run start to end); "
        "Airflow and simulator start-up 20.2s; demo total 1m05s"
    )
    assert "Failed tasks" not in report and "Launch errors" not in report


def test_the_report_of_a_failed_drill_names_the_server_and_its_error() -> None:
    snapshot = moment("final")
    snapshot["run"]["state"] = "failed"
    task(snapshot, "web.wait_for_recovery")["state"] = "failed"
    web_job = snapshot["jobs_by_wave"]["web"][0]
    web_job["participatingServers"][1]["launchStatus"] = "FAILED"
    servers = copy.deepcopy(RECORDING["servers"])
    failed = servers["web"][1]
    failed.update(launchStatus="FAILED", recoveryInstanceID=None, ec2InstanceID=None)
    failed["rawError"] = "Launch template refers to a subnet that does not exist"

    result = final_result(snapshot, servers)
    result.failure_reasons = {
        "web.wait_for_recovery": failure_reason(
            [
                {"level": "info", "event": "Trigger fired event"},
                {
                    "level": "error",
                    "event": "Task failed with exception",
                    "error_detail": [
                        {
                            "exc_type": "DrsJobFailedError",
                            "exc_value": "1 required source server(s) failed to launch:\n"
                            f"  - {failed['sourceServerID']} (web-2): FAILED",
                        }
                    ],
                },
                {"level": "info", "event": "Task instance in failure state"},
            ]
        )
        or ""
    }
    report = format_report(result)
    lines = report.splitlines()
    assert lines[0].startswith("Drill of plan 'shop' FAILED")
    web_row = next(line.split() for line in lines if line.startswith("  web ") and "failed" in line)
    assert web_row[-4:] == ["1/2", "launched,", "1", "failed"]
    failed_row = next(line.split() for line in lines if failed["hostname"] in line and "FAILED" in line)
    assert failed_row == ["web", failed["hostname"], failed["sourceServerID"], "-", "FAILED"]
    assert f"  {failed['hostname']}: {failed['rawError']}" in lines
    assert lines[lines.index("Failed tasks:") + 1 :][:2] == [
        "  web.wait_for_recovery: DrsJobFailedError: 1 required source server(s) failed to launch:",
        f"      - {failed['sourceServerID']} (web-2): FAILED",
    ]


def test_a_pipe_gets_one_line_per_change() -> None:
    out = io.StringIO()
    view = ProgressView(out, interactive=False)
    first = moment("mid_database")
    progress = wave_progress(WAVES, first["task_instances"], first["jobs_by_wave"])
    view.show(DAG_ID, first["run"], progress, since=14.2)
    view.show(DAG_ID, first["run"], progress, since=15.3)
    lines = out.getvalue().splitlines()
    assert lines == [
        "[ 14.2s] preflight: passed, servers -",
        "[ 14.2s] database: recovering, servers 1/3 launched",
        "[ 14.2s] app: waiting, servers -",
        "[ 14.2s] web: waiting, servers -",
    ]
    later = moment("mid_web")
    later_progress = wave_progress(WAVES, later["task_instances"], later["jobs_by_wave"])
    view.show(DAG_ID, later["run"], later_progress, since=40.0)
    assert out.getvalue().splitlines()[4:] == [
        "[ 40.0s] database: recovered, servers 3/3 launched",
        "[ 40.0s] app: recovered, servers 2/2 launched",
        "[ 40.0s] web: recovering, servers 0/2 launched",
    ]


def test_a_terminal_gets_the_block_redrawn_in_place() -> None:
    out = io.StringIO()
    view = ProgressView(out, interactive=True, width=60)
    snapshot = moment("mid_database")
    progress = wave_progress(WAVES, snapshot["task_instances"], snapshot["jobs_by_wave"])
    view.show(DAG_ID, snapshot["run"], progress, since=1.0)
    first_block = out.getvalue()
    assert "\x1b[" not in first_block
    assert max(len(line) for line in first_block.splitlines()) < 60, "no line may wrap"
    block_lines = len(first_block.splitlines())
    view.show(DAG_ID, snapshot["run"], progress, since=2.0)
    # Up over the previous block and clear it, then the new block.
    assert out.getvalue()[len(first_block) :].startswith(f"\x1b[{block_lines}F\x1b[J")


def test_an_unjudged_wave_is_reported_from_drs_with_each_servers_error(drs_simulator: Any) -> None:
    """Without the wave's ``servers`` XCom, the demo judges what DRS says (the simulator, via boto3)."""
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(fail_servers={"s-0a000000000000004": "Insufficient capacity in us-east-1a"})
    client = drs_client(drs_simulator.url, drs_simulator.region)
    job = client.start_recovery(
        isDrill=True,
        sourceServers=[{"sourceServerID": "s-0a000000000000003"}, {"sourceServerID": "s-0a000000000000004"}],
    )["job"]
    drs_simulator.advance(600)
    watcher = DrillWatcher(stack=None, drs=client, dag_id=DAG_ID, run_id="r", waves=["app"])  # type: ignore[arg-type]
    watcher.job_ids = {"app": [job["jobID"]]}
    watcher.jobs_by_wave = watcher._describe_jobs()
    assert server_counts(watcher.jobs_by_wave["app"]) == ServerCounts(launched=1, failed=1, total=2)

    (results,) = [watcher.server_results()["app"]]
    by_host = {server["hostname"]: server for server in results}
    assert set(by_host) == {"app-1", "app-2"}
    assert by_host["app-1"]["launchStatus"] == "LAUNCHED"
    assert by_host["app-1"]["ec2InstanceID"]
    assert by_host["app-1"].get("rawError") is None
    assert by_host["app-2"]["launchStatus"] == "FAILED"
    assert by_host["app-2"]["rawError"] == "Insufficient capacity in us-east-1a"


def test_a_failure_reason_falls_back_to_the_last_error_line() -> None:
    assert (
        failure_reason([{"level": "error", "event": "first"}, {"level": "error", "event": "last"}]) == "last"
    )
    assert failure_reason(["plain text lines when the log could not be parsed"]) is None


def test_an_ec2_instance_is_shown_only_when_it_differs_from_the_recovery_instance() -> None:
    assert instance_text("i-0123456789abcdef0", "i-0123456789abcdef0") == "i-0123456789abcdef0"
    assert instance_text("i-0123456789abcdef0", "i-0fedcba9876543210") == (
        "i-0123456789abcdef0 (EC2 i-0fedcba9876543210)"
    )
    assert instance_text(None, None) == "-"


SHOP_STEPS = {"database": (["database.approve_failover"], ["database.check_database"])}


def with_steps(snapshot: dict[str, Any], **states: str | None) -> list[dict[str, Any]]:
    """The snapshot's task instances with the shop database wave's two steps in these states."""
    steps = [("database.approve_failover", states["approve"]), ("database.check_database", states["check"])]
    return [
        *snapshot["task_instances"],
        *(
            {"task_id": task_id, "state": state, "start_date": None, "end_date": None}
            for task_id, state in steps
        ),
    ]


@pytest.mark.parametrize(
    ("approve", "check", "start", "wait", "expected", "steps"),
    [
        ("awaiting_input", None, None, None, "awaiting approval", "0/2 done"),
        ("success", None, "running", None, "starting", "1/2 done"),
        ("success", "running", "success", "success", "after steps", "1/2 done"),
        ("success", "success", "success", "success", "recovered", "2/2 done"),
        ("success", "failed", "success", "success", "failed", "1/2 done"),
        # A drill skips a recovery-only approval: it leaves the count.
        ("skipped", "running", "success", "success", "after steps", "0/1 done, 1 skipped"),
        ("skipped", "success", "success", "success", "recovered", "1/1 done, 1 skipped"),
    ],
)
def test_a_wave_with_steps_is_where_its_tasks_say(
    approve: str, check: str | None, start: str | None, wait: str | None, expected: str, steps: str
) -> None:
    snapshot = moment("final")
    for ti in snapshot["task_instances"]:
        if ti["task_id"] == "database.start_recovery":
            ti["state"] = start
        if ti["task_id"] == "database.wait_for_recovery":
            ti["state"] = wait
    progress = by_name(
        wave_progress(WAVES, with_steps(snapshot, approve=approve, check=check), {}, SHOP_STEPS)
    )

    assert (progress["database"].state, progress["database"].steps) == (expected, steps)


def test_the_report_shows_the_runs_steps_rto_and_cleanup() -> None:
    snapshot = moment("final")
    report = {
        "rto_seconds": 45.2,
        "rto_target": 1800,
        "rto_met": True,
        "waves": [
            {
                "name": "database",
                "steps": [
                    {"name": "approve_failover", "kind": "approval", "state": "success",
                     "message": "not asked in a drill run (it stops recovery runs)"},
                    {"name": "check_database", "kind": "ssm_command", "state": "success", "message": None},
                ],
            }
        ],
        "cleanup": {"state": "success", "terminated": ["i-1", "i-2", "i-3"], "failed": []},
        "location": "s3://dr-evidence/shop/drs_plan_shop/run.json",
    }  # fmt: skip
    result = final_result(snapshot, RECORDING["servers"])
    result.report = report

    lines = format_report(result).splitlines()

    steps = lines[lines.index("Runbook steps:") + 1 :]
    assert steps[0].split() == ["wave", "step", "kind", "state", "note"]
    assert steps[1].split()[:4] == ["database", "approve_failover", "approval", "success"]
    assert "not asked in a drill run" in steps[1]
    assert steps[2].split() == ["database", "check_database", "ssm_command", "success"]
    assert (
        "RTO (preflight start to the last wave's last task): 45.2s against a target of 30m00s: met" in lines
    )
    assert "Cleanup: success, terminated 3 recovery instance(s)" in lines
    assert "Report stored at s3://dr-evidence/shop/drs_plan_shop/run.json" in lines


def test_the_demo_knows_each_waves_steps_from_the_plan() -> None:
    assert plan_step_tasks(DEFAULT_PLANS_DIR, "shop") == {**SHOP_STEPS, "app": ([], []), "web": ([], [])}
