"""The native plan mirror on a real Airflow (issue 22): ``drs_readiness``'s task ``native_plans``,
triggered through the REST API for this module's plans only.

After a readiness run the module's simulator holds a native recovery plan for the plan with
``native_plan: true``: its servers wave by wave, a wait as a WAIT step, tagged with the plan's
name; the plan without it has none. Started on the simulator as the DRS console would start it
(StartRecoveryPlanExecution, no Airflow involved), the native plan launches the waves' servers
one step after the other. Then the plan's YAML is rewritten in the stack's plans folder and a
second readiness run changes the same native plan in place (same ARN, steps by difference).

The tests run in order: the second and third build on the first run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from tools.processes import wait_until

from drs_provider.readiness import NATIVE_PLANS_TASK_ID, READINESS_DAG_ID
from tests.e2e.harness import Deployment, Scenario, write_plans

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RUN_TIMEOUT = 300.0
#: Simulated seconds per real second: the one-minute WAIT step takes six seconds.
SPEED = 10.0


def server(number: int, hostname: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"s-e2n{number:014d}", "hostname": hostname, "launch_seconds": 20, **extra}


DB = [server(1, "native-db-1", tags={"Mirror": "db"}), server(2, "native-db-2", tags={"Mirror": "db"})]
APP = server(3, "native-app")
WEB = server(4, "native-web")
PLAIN = server(5, "native-plain")

MIRRORED = "e2e_native_shop"
NOT_MIRRORED = "e2e_native_plain"
PLANS: dict[str, dict[str, Any]] = {
    MIRRORED: {
        "plan": MIRRORED,
        "native_plan": True,
        "cleanup": "always",
        "waves": [
            {"name": "db", "servers": {"tags": {"Mirror": "db"}}, "post": [{"wait": 30}]},
            {"name": "app", "servers": {"ids": [APP["id"]]}},
        ],
    },
    NOT_MIRRORED: {"plan": NOT_MIRRORED, "waves": [{"name": "db", "servers": {"ids": [PLAIN["id"]]}}]},
}
#: The rewrite: a web wave after app, and app's servers changed to web's and app's.
REWRITTEN: dict[str, Any] = {
    **PLANS[MIRRORED],
    "waves": [
        *PLANS[MIRRORED]["waves"][:1],
        {"name": "app", "servers": {"ids": [APP["id"], WEB["id"]]}},
        {"name": "web", "servers": {"ids": [PLAIN["id"]]}, "depends_on": ["app"]},
    ],
}


@dataclass
class NativeDeployment(Deployment):
    #: this module's drs_readiness runs, in order
    runs: list[str] = field(default_factory=list)


def start_readiness(deployment: NativeDeployment) -> None:
    deployment.runs.append(deployment.rest.trigger(READINESS_DAG_ID, {"plans": sorted(PLANS)}))


SCENARIO = Scenario(
    "native_plans",
    lane="b",
    plans=PLANS,
    fleet=[*DB, APP, WEB, PLAIN],
    speed=SPEED,
    extra_dag_ids=[READINESS_DAG_ID],
    deployment_class=NativeDeployment,
    start=start_readiness,
)


def finished_run(airflow: NativeDeployment, index: int) -> dict[str, Any]:
    """The ``index``-th readiness run of the module, once it succeeded: its native_plans XCom."""
    run_id = airflow.runs[index]
    state = airflow.rest.wait_for_run(READINESS_DAG_ID, run_id, timeout=RUN_TIMEOUT)
    assert state == "success", airflow.rest.task_states(READINESS_DAG_ID, run_id)
    result: dict[str, Any] = airflow.rest.xcom(READINESS_DAG_ID, run_id, NATIVE_PLANS_TASK_ID)
    return result


def native_plans(airflow: NativeDeployment) -> dict[str, dict[str, Any]]:
    """The simulator's native plans by the plan they mirror (tag drs:plan): ARN and steps."""
    drs = airflow.drs()
    found = {}
    for summary in drs.list_recovery_plans()["recoveryPlans"]:
        arn = summary["recoveryPlanArn"]
        tags = drs.list_tags_for_resource(resourceArn=arn)["tags"]
        steps = sorted(
            drs.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"],
            key=lambda step: step["stepOrder"],
        )
        found[tags.get("drs:plan", "")] = {
            "arn": arn,
            "name": summary["name"],
            "steps": [(step["stepName"], content(step)) for step in steps],
            "step_arns": [step["recoveryPlanStepArn"] for step in steps],
        }
    return found


def content(step: dict[str, Any]) -> object:
    """A WAIT step's minutes, or a SERVER step's (server ID, impact) in order."""
    configuration = step["configuration"]
    if "waitStepConfiguration" in configuration:
        return configuration["waitStepConfiguration"]["waitDurationMinutes"]
    return [
        (entry["serverArn"].rsplit("/", 1)[-1], entry.get("impactLevel", "CRITICAL"))
        for entry in configuration["serverStepConfiguration"]["servers"]
    ]


def critical(*servers: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["id"], "CRITICAL") for item in servers]


def test_a_readiness_run_mirrors_the_plan_wave_by_wave(airflow: NativeDeployment) -> None:
    result = finished_run(airflow, 0)

    assert result["plans"][MIRRORED]["native_plans"] == [MIRRORED]
    assert NOT_MIRRORED not in result["plans"]
    mirrors = native_plans(airflow)
    assert sorted(mirrors) == [MIRRORED]  # the plan without native_plan has none
    assert mirrors[MIRRORED]["name"] == MIRRORED
    assert mirrors[MIRRORED]["steps"] == [
        ("db", critical(*DB)),
        ("db-post_1_wait", 1),
        ("app", critical(APP)),
    ]


def test_the_native_plan_launches_the_waves_in_order_without_airflow(airflow: NativeDeployment) -> None:
    finished_run(airflow, 0)
    drs = airflow.drs()
    arn = native_plans(airflow)[MIRRORED]["arn"]

    # what an operator does in the DRS console when Airflow is down
    execution = drs.start_recovery_plan_execution(recoveryPlanArn=arn, mode="DRILL")["recoveryPlanExecution"]
    execution_arn = execution["recoveryPlanExecutionArn"]

    def status() -> str:
        found = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn)
        return str(found["recoveryPlanExecution"]["status"])

    wait_until(
        "the native plan's execution to end", lambda: status() not in {"CREATED", "IN_PROGRESS"}, timeout=120
    )
    assert status() == "COMPLETED"
    steps = sorted(
        drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=execution_arn)[
            "recoveryPlanExecutionSteps"
        ],
        key=lambda step: step["stepIndex"],
    )
    assert [step["stepName"] for step in steps] == ["db", "db-post_1_wait", "app"]
    assert {step["status"] for step in steps} == {"COMPLETED"}
    job_of = {
        step["stepName"]: {
            entry["jobID"] for entry in step["configuration"]["executionServerStepConfiguration"]["servers"]
        }
        for step in steps
        if "executionServerStepConfiguration" in step["configuration"]
    }
    [db_job], [app_job] = job_of["db"], job_of["app"]
    jobs = {job["jobID"]: job for job in drs.describe_jobs(filters={"jobIDs": [db_job, app_job]})["items"]}
    launched = {
        job_id: sorted(item["sourceServerID"] for item in job["participatingServers"])
        for job_id, job in jobs.items()
    }
    assert launched == {db_job: sorted(item["id"] for item in DB), app_job: [APP["id"]]}
    # app's job started only after db's had ended and the one-minute WAIT had passed
    db_end = datetime.fromisoformat(jobs[db_job]["endDateTime"])
    app_start = datetime.fromisoformat(jobs[app_job]["creationDateTime"])
    assert (app_start - db_end).total_seconds() >= 60
    assert all(job["initiatedBy"] == "START_DRILL" for job in jobs.values())
    instances = drs.describe_recovery_instances(
        filters={"sourceServerIDs": [item["id"] for item in (*DB, APP)]}
    )["items"]
    assert sorted(item["sourceServerID"] for item in instances) == sorted(item["id"] for item in (*DB, APP))
    assert all(item["isDrill"] for item in instances)


def test_a_rewritten_plan_updates_its_native_plan_in_place(airflow: NativeDeployment) -> None:
    finished_run(airflow, 0)
    before = native_plans(airflow)[MIRRORED]
    calls_before = len(airflow.simulator.calls())
    write_plans(airflow.stack.config.plans_dir, SCENARIO.documents({MIRRORED: REWRITTEN}))

    airflow.runs.append(airflow.rest.trigger(READINESS_DAG_ID, {"plans": sorted(PLANS)}))
    result = finished_run(airflow, 1)

    after = native_plans(airflow)
    assert sorted(after) == [MIRRORED]
    assert after[MIRRORED]["arn"] == before["arn"]  # the same native plan, changed
    assert after[MIRRORED]["steps"] == [
        ("db", critical(*DB)),
        ("db-post_1_wait", 1),
        ("app", critical(APP, WEB)),
        ("web", critical(PLAIN)),
    ]
    # db and its wait were kept as they were; app was redone and web appended
    assert after[MIRRORED]["step_arns"][:2] == before["step_arns"][:2]
    where = result["plans"][MIRRORED]["changes"][0].split(": ", 1)[0]
    assert result["plans"][MIRRORED]["changes"] == [
        f"{where}: {MIRRORED}: deleted step 3 app",
        f"{where}: {MIRRORED}: added step 3 app",
        f"{where}: {MIRRORED}: added step 4 web",
    ]
    operations = {call["operation"] for call in airflow.simulator.calls()[calls_before:]}
    assert not {"CreateRecoveryPlan", "DeleteRecoveryPlan"} & operations
