"""DRS native recovery plans on the simulator, through a boto3 client: build a plan, run it in
simulated time (speed 0 + advance), the limits and conflicts DRS refuses."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

APP_1 = "s-0a000000000000003"  # launch_seconds 60
WEB_1 = "s-0a000000000000005"  # launch_seconds 30
WEB_2 = "s-0a000000000000006"  # launch_seconds 35
BROKEN = "s-0c000000000000003"  # fail_launch with a rawError


def arn_of(drs: Any, server_id: str) -> str:
    (item,) = drs.describe_source_servers(filters={"sourceServerIDs": [server_id]})["items"]
    arn: str = item["arn"]
    return arn


def servers(drs: Any, *entries: str | tuple[str, str]) -> dict[str, Any]:
    """A SERVER step's configuration; an entry is a server ID, or (ID, impactLevel)."""
    listed = []
    for entry in entries:
        server_id, impact = (entry, "CRITICAL") if isinstance(entry, str) else entry
        listed.append({"serverArn": arn_of(drs, server_id), "impactLevel": impact})
    return {"serverStepConfiguration": {"servers": listed}}


def wait(minutes: int) -> dict[str, Any]:
    return {"waitStepConfiguration": {"waitDurationMinutes": minutes}}


def new_plan(drs: Any, name: str = "shop") -> str:
    arn: str = drs.create_recovery_plan(name=name, tags={"App": "shop"})["recoveryPlan"]["recoveryPlanArn"]
    return arn


def add_step(drs: Any, plan: str, name: str, configuration: dict[str, Any], **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = drs.create_recovery_plan_step(
        recoveryPlanArn=plan, stepName=name, configuration=configuration, **extra
    )["recoveryPlanStep"]
    return step


def execution_steps(drs: Any, execution: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=execution)[
        "recoveryPlanExecutionSteps"
    ]
    return steps


def status_of(drs: Any, execution: str) -> str:
    status: str = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution)[
        "recoveryPlanExecution"
    ]["status"]
    return status


def job_count(drs: Any) -> int:
    return len(drs.describe_jobs()["items"])


def test_a_plan_runs_its_steps_one_after_the_other_in_simulated_time(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    plan = new_plan(drs)
    assert drs.get_recovery_plan(recoveryPlanArn=plan)["recoveryPlan"]["status"] == "INVALID"
    add_step(drs, plan, "app", servers(drs, APP_1))
    add_step(drs, plan, "settle", wait(1))
    add_step(drs, plan, "web", servers(drs, WEB_1, (WEB_2, "OPTIONAL")))
    got = drs.get_recovery_plan(recoveryPlanArn=plan)["recoveryPlan"]
    assert got["status"] == "ACTIVE" and got["tags"] == {"App": "shop"}
    listed = drs.list_recovery_plan_steps(recoveryPlanArn=plan)["recoveryPlanSteps"]
    assert [(s["stepOrder"], s["stepName"]) for s in listed] == [(1, "app"), (2, "settle"), (3, "web")]

    started = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL", tags={"run": "1"})
    execution = started["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    assert started["recoveryPlanExecution"]["status"] == "CREATED"
    assert [s["status"] for s in execution_steps(drs, execution)] == ["NOT_STARTED"] * 3
    assert job_count(drs) == 0

    # T+1: the first step launches APP_1 (60 s): its job ends at 1 + 2 + 60 + 1 = 64.
    drs_simulator.advance(1)
    assert status_of(drs, execution) == "IN_PROGRESS"
    first, settle, web = execution_steps(drs, execution)
    assert (first["status"], settle["status"], web["status"]) == ("EXECUTING", "NOT_STARTED", "NOT_STARTED")
    (launched,) = first["configuration"]["executionServerStepConfiguration"]["servers"]
    (job,) = drs.describe_jobs()["items"]
    assert launched["jobID"] == job["jobID"] and job["initiatedBy"] == "START_DRILL"
    assert job["tags"] == {"run": "1"}

    drs_simulator.advance(62)  # T+63: the job has not ended yet
    assert execution_steps(drs, execution)[0]["status"] == "EXECUTING"
    drs_simulator.advance(1)  # T+64: first step done, the one-minute wait starts
    assert [s["status"] for s in execution_steps(drs, execution)] == ["COMPLETED", "WAITING", "NOT_STARTED"]
    drs_simulator.advance(59)  # T+123: still waiting, nothing else launched
    assert execution_steps(drs, execution)[1]["status"] == "WAITING"
    assert job_count(drs) == 1

    drs_simulator.advance(1)  # T+124: the wait is over, the web step launches
    assert [s["status"] for s in execution_steps(drs, execution)] == ["COMPLETED", "COMPLETED", "EXECUTING"]
    assert job_count(drs) == 2
    web_step = drs.get_recovery_plan_execution_step(
        recoveryPlanExecutionStepArn=web["recoveryPlanExecutionStepArn"]
    )
    assert web_step["recoveryPlanExecutionStep"]["attempt"] == 1

    drs_simulator.advance(2 + 35 + 1)  # the slower web server, then JOB_END
    done = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution)["recoveryPlanExecution"]
    assert done["status"] == "COMPLETED" and "completedAt" in done and done["tags"] == {"run": "1"}
    instances = drs.describe_recovery_instances()["items"]
    assert sorted(i["sourceServerID"] for i in instances) == sorted([APP_1, WEB_1, WEB_2])
    assert all(i["isDrill"] for i in instances)
    summaries = drs.list_recovery_plan_executions(recoveryPlanArn=plan)["recoveryPlanExecutions"]
    assert [(s["recoveryPlanExecutionArn"], s["status"]) for s in summaries] == [(execution, "COMPLETED")]
    # DRS never terminates what a plan launched.
    drs_simulator.advance(3600)
    assert len(drs.describe_recovery_instances()["items"]) == 3


def test_a_critical_failure_fails_the_execution_an_optional_one_does_not(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    optional = new_plan(drs, "optional")
    add_step(drs, optional, "both", servers(drs, WEB_1, (BROKEN, "OPTIONAL")))
    critical = new_plan(drs, "critical")
    add_step(drs, critical, "broken", servers(drs, BROKEN))
    add_step(drs, critical, "after", servers(drs, APP_1))

    run = drs.start_recovery_plan_execution(recoveryPlanArn=optional, mode="RECOVERY")
    execution = run["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    drs_simulator.advance(200)
    assert status_of(drs, execution) == "COMPLETED"
    (step,) = execution_steps(drs, execution)
    assert step["status"] == "COMPLETED" and step["errorDetail"]["code"] == "OPTIONAL_SERVER_LAUNCH_FAILED"
    (instance,) = drs.describe_recovery_instances()["items"]
    assert instance["sourceServerID"] == WEB_1 and not instance["isDrill"]

    run = drs.start_recovery_plan_execution(recoveryPlanArn=critical, mode="DRILL")
    execution = run["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    drs_simulator.advance(200)
    failed = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution)["recoveryPlanExecution"]
    assert failed["status"] == "FAILED" and "InsufficientInstanceCapacity" in failed["errorDetail"]["message"]
    assert [s["status"] for s in execution_steps(drs, execution)] == ["FAILED", "NOT_STARTED"]
    failed_steps = drs.list_recovery_plan_execution_steps(
        recoveryPlanExecutionArn=execution, filter={"status": "FAILED"}
    )["recoveryPlanExecutionSteps"]
    assert [s["stepName"] for s in failed_steps] == ["broken"]


def test_limits_are_refused_naming_the_field(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    plan = new_plan(drs)
    with pytest.raises(ClientError) as caught:  # a WAIT step cannot come first
        add_step(drs, plan, "pause", wait(5))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["fieldList"][0]["name"] == "configuration"

    too_many = [{"serverArn": arn_of(drs, WEB_1)}] * 101
    with pytest.raises(ClientError) as caught:  # 101 servers in a step: the model's own bound
        add_step(drs, plan, "many", {"serverStepConfiguration": {"servers": too_many}})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["fieldList"][0]["name"] == "configuration.serverStepConfiguration.servers"

    add_step(drs, plan, "first", servers(drs, WEB_1))
    for index in range(19):
        add_step(drs, plan, f"pause {index}", wait(1))
    with pytest.raises(ClientError) as caught:  # a 21st step
        add_step(drs, plan, "one too many", wait(1))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["fieldList"][0]["name"] == "recoveryPlanArn"
    assert "20 steps" in caught.value.response["Error"]["Message"]

    steps = drs.list_recovery_plan_steps(recoveryPlanArn=plan)["recoveryPlanSteps"]
    with pytest.raises(ClientError) as caught:  # deleting the first step would put a WAIT first
        drs.delete_recovery_plan_step(recoveryPlanStepArn=steps[0]["recoveryPlanStepArn"])
    assert caught.value.response["fieldList"][0]["name"] == "recoveryPlanStepArn"
    reordered = [s["recoveryPlanStepArn"] for s in reversed(steps)]
    with pytest.raises(ClientError) as caught:
        drs.reorder_recovery_plan_steps(recoveryPlanArn=plan, orderedStepArns=reordered)
    assert caught.value.response["fieldList"][0]["name"] == "orderedStepArns"


def test_more_than_100_servers_over_a_plan_are_refused(drs_simulator, drs):
    fleet = {
        "account_id": drs_simulator.account_id,
        "region": drs_simulator.region,
        "source_servers": [{"id": f"s-{index:017d}", "hostname": f"h{index}"} for index in range(101)],
    }
    drs_simulator.reset(fleet=fleet, speed=0)
    arns = [item["arn"] for item in drs.describe_source_servers()["items"]]
    plan = new_plan(drs)
    add_step(
        drs, plan, "most", {"serverStepConfiguration": {"servers": [{"serverArn": a} for a in arns[:100]]}}
    )
    with pytest.raises(ClientError) as caught:
        add_step(drs, plan, "the 101st", {"serverStepConfiguration": {"servers": [{"serverArn": arns[100]}]}})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "at most 100 source servers" in caught.value.response["fieldList"][0]["message"]


def test_one_execution_at_a_time_and_cancel_lets_the_running_step_finish(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    plan = new_plan(drs)
    add_step(drs, plan, "app", servers(drs, APP_1))
    add_step(drs, plan, "web", servers(drs, WEB_1))
    run = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    execution = run["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    with pytest.raises(ClientError) as caught:
        drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert caught.value.response["resourceId"] == execution
    with pytest.raises(ClientError) as caught:  # nor may its steps change under it
        add_step(drs, plan, "late", servers(drs, WEB_2))
    assert caught.value.response["Error"]["Code"] == "ConflictException"

    drs_simulator.advance(10)
    cancelled = drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=execution)
    assert cancelled["recoveryPlanExecution"]["status"] == "CANCELLING"
    drs_simulator.advance(60)  # the app step's job ends at 64
    assert status_of(drs, execution) == "CANCELLED"
    assert [s["status"] for s in execution_steps(drs, execution)] == ["COMPLETED", "NOT_STARTED"]
    assert [i["sourceServerID"] for i in drs.describe_recovery_instances()["items"]] == [APP_1]
    with pytest.raises(ClientError) as caught:
        drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=execution)
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    # Over now: a new execution may start.
    again = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    assert again["recoveryPlanExecution"]["status"] == "CREATED"


def test_update_in_place_reorder_tags_and_delete(drs_simulator, drs):
    drs_simulator.reset(speed=0)
    plan = new_plan(drs)
    first = add_step(drs, plan, "web", servers(drs, WEB_1))
    second = add_step(drs, plan, "app", servers(drs, APP_1))
    updated = drs.update_recovery_plan_step(
        recoveryPlanStepArn=first["recoveryPlanStepArn"],
        stepName="web tier",
        configuration=servers(drs, WEB_2),
    )["recoveryPlanStep"]
    assert updated["recoveryPlanStepArn"] == first["recoveryPlanStepArn"]
    assert updated["stepOrder"] == 1 and updated["createdAt"] == first["createdAt"]
    assert updated["configuration"] == servers(drs, WEB_2)
    got = drs.get_recovery_plan_step(recoveryPlanStepArn=first["recoveryPlanStepArn"])["recoveryPlanStep"]
    assert got["stepName"] == "web tier"

    reordered = drs.reorder_recovery_plan_steps(
        recoveryPlanArn=plan, orderedStepArns=[second["recoveryPlanStepArn"], first["recoveryPlanStepArn"]]
    )["recoveryPlanSteps"]
    assert [(s["stepName"], s["stepOrder"]) for s in reordered] == [("app", 1), ("web tier", 2)]
    renamed = drs.update_recovery_plan(recoveryPlanArn=plan, name="shop-v2", description="two tiers")
    assert renamed["recoveryPlan"]["name"] == "shop-v2"

    drs.tag_resource(resourceArn=plan, tags={"Owner": "ops"})
    assert drs.list_tags_for_resource(resourceArn=plan)["tags"] == {"App": "shop", "Owner": "ops"}
    assert [p["name"] for p in drs.list_recovery_plans()["recoveryPlans"]] == ["shop-v2"]

    assert drs.delete_recovery_plan_step(recoveryPlanStepArn=second["recoveryPlanStepArn"])[
        "recoveryPlanStepArn"
    ]
    assert drs.delete_recovery_plan(recoveryPlanArn=plan)["recoveryPlanArn"] == plan
    assert drs.list_recovery_plans()["recoveryPlans"] == []
    for call in (
        lambda: drs.get_recovery_plan(recoveryPlanArn=plan),
        lambda: drs.get_recovery_plan_step(recoveryPlanStepArn=first["recoveryPlanStepArn"]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_retried_create_with_the_same_client_token_creates_nothing_new(drs_simulator, drs):
    first = drs.create_recovery_plan(name="once", clientToken="token-1")["recoveryPlan"]
    again = drs.create_recovery_plan(name="once", clientToken="token-1")["recoveryPlan"]
    assert again["recoveryPlanArn"] == first["recoveryPlanArn"]
    assert len(drs.list_recovery_plans()["recoveryPlans"]) == 1
    new_plan(drs, "twice")
    pages = drs.get_paginator("list_recovery_plans").paginate(PaginationConfig={"PageSize": 1})
    assert [p["name"] for p in pages.build_full_result()["recoveryPlans"]] == ["once", "twice"]


def test_unknown_servers_and_an_invalid_plan_are_refused(drs_simulator, drs):
    plan = new_plan(drs)
    with pytest.raises(ClientError) as caught:
        drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    ghost = arn_of(drs, WEB_1).replace(WEB_1, "s-0ffffffffffffffff")
    with pytest.raises(ClientError) as caught:
        add_step(drs, plan, "ghost", {"serverStepConfiguration": {"servers": [{"serverArn": ghost}]}})
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_execution_cancelled_before_it_starts_launches_nothing_and_one_past_24_hours_fails(
    drs_simulator, drs
):
    drs_simulator.reset(speed=0)
    plan = new_plan(drs)
    add_step(drs, plan, "web", servers(drs, WEB_1))
    for index in range(19):  # 19 * 2 hours of waiting: more than a day
        add_step(drs, plan, f"pause {index}", wait(120))
    run = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    execution = run["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    cancelled = drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=execution)
    assert cancelled["recoveryPlanExecution"]["status"] == "CANCELLED"
    drs_simulator.advance(60)
    assert job_count(drs) == 0

    run = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    execution = run["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    drs_simulator.advance(24 * 3600)
    failed = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution)["recoveryPlanExecution"]
    assert failed["status"] == "FAILED" and failed["errorDetail"]["code"] == "TIMED_OUT"
    statuses = [s["status"] for s in execution_steps(drs, execution)]
    assert statuses.count("TIMED_OUT") == 1 and statuses[-1] == "NOT_STARTED"
    assert drs.delete_recovery_plan_execution(recoveryPlanExecutionArn=execution)["recoveryPlanExecutionArn"]
    assert drs.list_recovery_plan_executions(status="FAILED")["recoveryPlanExecutions"] == []
