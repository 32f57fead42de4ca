"""Run records of a two-wave plan (``db`` then ``app``), as Airflow would hold them at some moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from drs_provider.recovery.run_record import ApprovalRecord, RunRecord, TaskRecord, WaveShape

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DAG_ID = "drs_plan_shop"
RUN_ID = "manual__2026-12-01T10:00:00+00:00"
DB_IDS = ["s-0a000000000000001", "s-0a000000000000002"]
APP_IDS = ["s-0a000000000000003"]
WAVES = (
    WaveShape("db", ("db.pre_1_approval", "db.start_recovery", "db.wait_for_recovery"), ()),
    WaveShape("app", ("app.start_recovery", "app.wait_for_recovery", "app.post_1_lambda"), ("db",)),
)
OPERATORS = {
    "preflight": "DrsPlanPreflightOperator",
    "db.pre_1_approval": "ApprovalOperator",
    "db.start_recovery": "DrsPlanWaveStartOperator",
    "db.wait_for_recovery": "DrsJobSensor",
    "app.start_recovery": "DrsPlanWaveStartOperator",
    "app.wait_for_recovery": "DrsJobSensor",
    "app.post_1_lambda": "LambdaInvokeFunctionOperator",
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def task(task_id: str, state: str | None, start: float | None = None, end: float | None = None) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        state=state,
        start_date=at(start) if start is not None else None,
        end_date=at(end) if end is not None else None,
        operator=OPERATORS.get(task_id),
        try_number=1 if start is not None else 0,
    )


def server(server_id: str, hostname: str, status: str = "LAUNCHED", **extra: Any) -> dict[str, Any]:
    launched = status == "LAUNCHED"
    return {
        "sourceServerID": server_id,
        "hostname": hostname,
        "recoveryInstanceID": f"i-{server_id[-8:]}" if launched else None,
        "ec2InstanceID": f"i-{server_id[-8:]}" if launched else None,
        "launchStatus": status,
        "jobID": "drsjob-0000000000000000a",
        "optional": False,
        **extra,
    }


PREFLIGHT_XCOM = {
    "plan": "shop",
    "mode": "drill",
    "is_drill": True,
    "waves": {
        "db": {"run": True, "source_server_ids": DB_IDS, "optional_source_server_ids": []},
        "app": {"run": True, "source_server_ids": APP_IDS, "optional_source_server_ids": []},
    },
}
DRS_JOB_LINK = {
    "region_name": "eu-west-1",
    "aws_domain": "aws.amazon.com",
    "job_id": "drsjob-0000000000000000a",
}
APPROVED = ApprovalRecord(
    "db.pre_1_approval",
    "Fail the shop database over?",
    options=("Approve", "Reject"),
    chosen_options=("Approve",),
    responded_by="alice",
    responded_at=at(8),
)


def succeeded_run() -> RunRecord:
    """Every wave recovered: preflight 0-2 s, db 2-40 s, app 40-61 s (its lambda step last)."""
    return RunRecord(
        dag_id=DAG_ID,
        run_id=RUN_ID,
        state="success",
        start_date=at(0),
        end_date=at(62),
        waves=WAVES,
        tasks={
            "preflight": task("preflight", "success", 0, 2),
            "db.pre_1_approval": task("db.pre_1_approval", "success", 2, 9),
            "db.start_recovery": task("db.start_recovery", "success", 9, 11),
            "db.wait_for_recovery": task("db.wait_for_recovery", "success", 11, 40),
            "app.start_recovery": task("app.start_recovery", "success", 40, 42),
            "app.wait_for_recovery": task("app.wait_for_recovery", "success", 42, 58),
            "app.post_1_lambda": task("app.post_1_lambda", "success", 58, 61),
        },
        xcoms={
            ("preflight", "return_value"): PREFLIGHT_XCOM,
            ("db.start_recovery", "return_value"): ["drsjob-0000000000000000a"],
            ("db.start_recovery", "drs_job"): DRS_JOB_LINK,
            ("db.wait_for_recovery", "servers"): [server(DB_IDS[0], "db-1"), server(DB_IDS[1], "db-2")],
            ("app.start_recovery", "return_value"): ["drsjob-0000000000000000b"],
            ("app.wait_for_recovery", "servers"): [server(APP_IDS[0], "app-1")],
        },
        approvals={"db.pre_1_approval": APPROVED},
    )


def failed_run() -> RunRecord:
    """db-2 failed to launch: the db wave failed, app never started."""
    run = succeeded_run()
    tasks = dict(run.tasks)
    tasks["db.wait_for_recovery"] = task("db.wait_for_recovery", "failed", 11, 30)
    for task_id in ("app.start_recovery", "app.wait_for_recovery", "app.post_1_lambda"):
        tasks[task_id] = task(task_id, "upstream_failed", 30, 30)  # Airflow stamps both dates
    xcoms = {key: value for key, value in run.xcoms.items() if not key[0].startswith("app.")}
    xcoms[("db.wait_for_recovery", "servers")] = [
        server(DB_IDS[0], "db-1"),
        server(DB_IDS[1], "db-2", "FAILED", rawError="Disk /dev/xvdb could not be attached"),
    ]
    return replace(
        run,
        state="failed",
        end_date=at(31),
        tasks=tasks,
        xcoms=xcoms,
        errors={"db.wait_for_recovery": "DrsJobFailedError: 1 of 2 required servers did not launch"},
    )


def waiting_run() -> RunRecord:
    """The db wave's approval waits for an answer, 20 s into the run."""
    run = succeeded_run()
    tasks = {
        "preflight": task("preflight", "success", 0, 2),
        "db.pre_1_approval": task("db.pre_1_approval", "awaiting_input", 2),
        **{
            task_id: task(task_id, None)
            for shape in WAVES
            for task_id in shape.task_ids
            if task_id != "db.pre_1_approval"
        },
    }
    return replace(
        run,
        state="running",
        end_date=None,
        tasks=tasks,
        xcoms={("preflight", "return_value"): PREFLIGHT_XCOM},
        approvals={
            "db.pre_1_approval": replace(APPROVED, chosen_options=None, responded_by=None, responded_at=None)
        },
    )
