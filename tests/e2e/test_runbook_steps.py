"""Runbook steps on a real Airflow, driven only through the REST API (issue 9).

On the shared stack of each set-up (sqlite + LocalExecutor, PostgreSQL + Celery), DRS on the
module's simulator, SSM and Lambda on its moto, each as its own process. The three plans are
triggered together when the module starts and each test follows its own run:

1. an approval waits and nothing of its wave launches while it waits; approved through the
   REST API's HITL endpoint, the wave launches;
2. rejected, nothing of the wave or downstream launches and the run fails;
3. a required step that fails (an approval nobody answers in time) fails its wave and stops the
   wave downstream while the independent branch completes, where a post ``ssm_command`` runs
   on exactly that branch's recovered EC2 instances, an ``optional`` step that fails (again an
   approval left unanswered) does not fail its wave, and a Lambda gets the run's event;
4. plan text is data (issue 18): a plan whose approval question, SSM command and comment and
   Lambda payload name the scenario's connection password in templates gets its text to the
   approver, SSM and Lambda as written, and the password is nowhere in the run.

moto cannot make an SSM command or a Lambda fail (every command succeeds, every function answers
with its event), so the failing steps here are approvals; those kinds' failure paths are
tested against botocore's Stubber in ``tests/unit/operators/test_runbook.py``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from tools.processes import wait_until
from tools.wave_timing import succeeded

from drs_provider import local_aws
from tests.e2e.harness import WAITING_FOR_AN_ANSWER, Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 420.0
#: Seconds an unanswered approval waits (the shortest a plan allows).
UNANSWERED_TIMEOUT = 10


def server(number: int, hostname: str, launch_seconds: float = 30) -> dict[str, Any]:
    return {"id": f"s-rb{number:015d}", "hostname": hostname, "launch_seconds": launch_seconds}


FLEET = [
    server(1, "approve-db"),
    server(2, "approve-app"),
    server(3, "reject-db"),
    server(4, "reject-app"),
    server(5, "branch-db"),
    server(6, "branch-app"),
    server(7, "branch-files-1"),
    server(8, "branch-files-2"),
    server(9, "branch-web"),
    server(10, "literal-db"),
]
IDS = {entry["hostname"]: entry["id"] for entry in FLEET}


def wave(name: str, *hostnames: str, depends_on: list[str] | None = None, **steps: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "servers": {"ids": [IDS[h] for h in hostnames]}, **steps}
    if depends_on is not None:
        spec["depends_on"] = depends_on
    return spec


#: The scenario connection's password, which no plan text may reach.
SECRET = "rs-Secret-4f9Tq2Lw"
#: What a plan would write to read it, were plan text a template (the connection: SCENARIO's).
READ_SECRET = "{{ conn.e2e_runbook_steps.password }}"
LITERAL_QUESTION = f"Fail over? {READ_SECRET}"
#: '${#' opens a Jinja comment; 'run.sh' is what a template_ext would read as a file.
LITERAL_COMMANDS = [f"echo {READ_SECRET}", "test ${#HOSTS[@]} -gt 0", "run.sh"]
LITERAL_COMMENT = "{# kept #} " + READ_SECRET
LITERAL_PAYLOAD = {"secret": READ_SECRET, "file": "event.json"}

PLANS: dict[str, dict[str, Any]] = {
    "e2e_approve": {
        "plan": "e2e_approve",
        "waves": [
            wave("db", "approve-db", pre=[{"approval": {"message": "Fail the database over?"}}]),
            wave("app", "approve-app"),
        ],
    },
    "e2e_reject": {
        "plan": "e2e_reject",
        "waves": [
            wave("db", "reject-db", pre=[{"approval": {"message": "Fail the database over?"}}]),
            wave("app", "reject-app"),
        ],
    },
    "e2e_branches": {
        "plan": "e2e_branches",
        # the test reads the files wave's recovered instances once the run has ended
        "cleanup": "never",
        "waves": [
            wave(
                "db",
                "branch-db",
                depends_on=[],
                post=[
                    {
                        "approval": {
                            "name": "confirm_db",
                            "message": "Is the database healthy?",
                            "timeout": UNANSWERED_TIMEOUT,
                        }
                    }
                ],
            ),
            wave("app", "branch-app", depends_on=["db"]),
            wave(
                "files",
                "branch-files-1",
                "branch-files-2",
                depends_on=[],
                post=[
                    {
                        "ssm_command": {
                            "name": "check_mounts",
                            "document": "AWS-RunShellScript",
                            "parameters": {"commands": ["findmnt /srv"]},
                        }
                    },
                    {
                        "approval": {
                            "name": "tell_ops",
                            "message": "Files are back",
                            "timeout": UNANSWERED_TIMEOUT,
                            "optional": True,
                        }
                    },
                    {
                        "lambda": {
                            "name": "announce",
                            "function": "e2e-files-ready",
                            "payload": {"share": "/srv"},
                        }
                    },
                ],
            ),
            wave("web", "branch-web", depends_on=["files"]),
        ],
    },
    "rs_literal_text": {
        "plan": "rs_literal_text",
        "cleanup": "never",  # the test reads the wave's recovered instance once the run has ended
        "waves": [
            wave(
                "db",
                "literal-db",
                pre=[{"approval": {"message": LITERAL_QUESTION}}],
                post=[
                    {
                        "ssm_command": {
                            "name": "check",
                            "document": "AWS-RunShellScript",
                            "parameters": {"commands": LITERAL_COMMANDS},
                            "comment": LITERAL_COMMENT,
                        }
                    },
                    {"lambda": {"name": "announce", "function": "rs-echo", "payload": LITERAL_PAYLOAD}},
                ],
            )
        ],
    },
}


def dag_id(plan: str) -> str:
    return f"drs_plan_{plan}"


@dataclass
class StepsDeployment(Deployment):
    #: plan -> run id, triggered when the module starts
    runs: dict[str, str] = field(default_factory=dict)


def start_runs(deployment: StepsDeployment) -> None:
    """The runbook's function and documents on moto, then every plan's run, triggered at once."""
    local_aws.seed_runbook(deployment.moto_url, functions=["e2e-files-ready", "rs-echo"])
    deployment.runs.update({plan: deployment.rest.trigger(dag_id(plan), {}) for plan in PLANS})


SCENARIO = Scenario(
    "runbook_steps",
    lane="b",
    plans=PLANS,
    fleet=FLEET,
    speed=SPEED,
    moto=True,
    deployment_class=StepsDeployment,
    start=start_runs,
    conn_password=SECRET,
)


def launches(airflow: StepsDeployment, plan: str) -> list[dict[str, Any]]:
    """The StartRecovery calls of ``plan``'s DAG that DRS carried out."""
    return [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:dag_id") == dag_id(plan) and succeeded(call)
    ]


def recovered_instances(airflow: StepsDeployment, hostnames: set[str]) -> set[str]:
    """The EC2 instances DRS launched for these servers (DescribeRecoveryInstances)."""
    drs = airflow.drs()
    wanted = {IDS[hostname] for hostname in hostnames}
    items = drs.describe_recovery_instances(filters={})["items"]
    return {item["ec2InstanceID"] for item in items if item["sourceServerID"] in wanted}


def await_input(airflow: StepsDeployment, plan: str, task_id: str) -> None:
    """Wait until the approval waits for an answer and the scheduler has seen its worker leave.

    Airflow 3.3 fails a task that is resumed before the scheduler has processed the executor
    event of the try that parked it ("state mismatch", apache/airflow#66374 and #71580): an
    answer within about a second of the request can fail the approval. A person never answers
    that fast; a test does, so it also waits for that event in the scheduler's log.
    """
    run_id = airflow.runs[plan]
    wait_until(
        f"{task_id} of {plan} to wait for an answer",
        lambda: airflow.rest.task_states(dag_id(plan), run_id).get(task_id) in WAITING_FOR_AN_ANSWER,
        timeout=240,
        interval=0.5,
    )
    seen = (
        "Received executor event with state success for task instance "
        f"TaskInstanceKey(dag_id='{dag_id(plan)}', task_id='{task_id}'"
    )
    wait_until(
        f"the scheduler to see {task_id}'s worker leave",
        lambda: seen in airflow.stack.log_path("scheduler").read_text(errors="replace"),
        timeout=60,
        interval=0.2,
    )


def finish(airflow: StepsDeployment, plan: str) -> tuple[str, dict[str, str | None]]:
    run_id = airflow.runs[plan]
    state = airflow.rest.wait_for_run(dag_id(plan), run_id, timeout=RUN_TIMEOUT)
    return state, airflow.rest.task_states(dag_id(plan), run_id)


def test_an_approval_holds_its_wave_until_approved_through_the_rest_api(airflow: StepsDeployment) -> None:
    plan = "e2e_approve"
    await_input(airflow, plan, "db.pre_1_approval")
    assert launches(airflow, plan) == []  # nothing of the wave launches while it waits
    approved_at = time.time()

    airflow.rest.answer_approval(dag_id(plan), airflow.runs[plan], "db.pre_1_approval", "Approve")
    state, states = finish(airflow, plan)

    assert state == "success", states
    assert set(states.values()) == {"success"}, states
    started = launches(airflow, plan)
    assert sorted(call["request"]["tags"]["drs:wave"] for call in started) == ["app", "db"]
    assert all(call["time"] > approved_at for call in started)
    answer = airflow.rest.xcom(dag_id(plan), airflow.runs[plan], "db.pre_1_approval")
    assert answer["chosen_options"] == ["Approve"]


def test_a_rejected_approval_launches_nothing_and_fails_the_run(airflow: StepsDeployment) -> None:
    plan = "e2e_reject"
    await_input(airflow, plan, "db.pre_1_approval")

    airflow.rest.answer_approval(dag_id(plan), airflow.runs[plan], "db.pre_1_approval", "Reject")
    state, states = finish(airflow, plan)

    assert state == "failed", states
    assert states["db.pre_1_approval"] == "failed"
    for task in ("db.start_recovery", "db.wait_for_recovery", "app.start_recovery", "app.wait_for_recovery"):
        assert states[task] == "upstream_failed", (task, states)
    assert launches(airflow, plan) == []


def test_a_failing_step_stops_its_downstream_while_the_other_branch_runs_its_steps(
    airflow: StepsDeployment,
) -> None:
    plan = "e2e_branches"
    run_id = airflow.runs[plan]

    state, states = finish(airflow, plan)

    assert state == "failed", states
    # db recovered, but nobody confirmed it in time: the wave fails and app never starts
    assert states["db.wait_for_recovery"] == "success"
    assert states["db.confirm_db"] == "failed"
    assert states["app.start_recovery"] == states["app.wait_for_recovery"] == "upstream_failed"
    # the independent branch ran every step; its optional approval timed out and it went on
    for task in (
        "files.wait_for_recovery",
        "files.check_mounts",
        "files.tell_ops",
        "files.announce",
        "web.wait_for_recovery",
    ):
        assert states[task] == "success", (task, states)
    assert sorted(call["request"]["tags"]["drs:wave"] for call in launches(airflow, plan)) == [
        "db",
        "files",
        "web",
    ]
    outcome = airflow.rest.xcom(dag_id(plan), run_id, "files.tell_ops", key="step_outcome")
    assert outcome["state"] == "failed" and outcome["optional"] is True
    assert "HITLTimeoutError" in outcome["message"]
    # The health check ran on exactly the files wave's recovered EC2 instances.
    recovered = recovered_instances(airflow, {"branch-files-1", "branch-files-2"})
    [command] = [
        command
        for command in local_aws.client("ssm", airflow.moto_url).list_commands()["Commands"]
        if command["Parameters"] == {"commands": ["findmnt /srv"]}
    ]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert set(command["InstanceIds"]) == recovered and len(recovered) == 2
    # The Lambda got the run's event (moto's function answers with it).
    event = airflow.rest.xcom(dag_id(plan), run_id, "files.announce")
    assert (event["plan"], event["run_id"], event["wave"], event["step"]) == (
        plan,
        run_id,
        "files",
        "announce",
    )
    assert event["input"] == {"share": "/srv"}
    assert {server["ec2InstanceID"] for server in event["servers"]} == recovered


def run_path(plan: str, run_id: str) -> str:
    return f"/api/v2/dags/{quote(dag_id(plan), safe='')}/dagRuns/{quote(run_id, safe='')}"


def run_xcoms(airflow: StepsDeployment, plan: str, run_id: str) -> dict[str, Any]:
    """Every XCom of the run, ``{"<task>/<key>": value}``, read through the REST API."""
    listed = airflow.rest.request(
        "GET", f"{run_path(plan, run_id)}/taskInstances/~/xcomEntries", params={"limit": 100}
    )
    return {
        f"{entry['task_id']}/{entry['key']}": airflow.rest.xcom(
            dag_id(plan), run_id, entry["task_id"], entry["key"]
        )
        for entry in listed["xcom_entries"]
    }


def task_logs(airflow: StepsDeployment, plan: str, run_id: str) -> dict[str, Any]:
    """Every try's log of every task of the run, read through the REST API."""
    return {
        f"{ti['task_id']}/{attempt}": airflow.rest.task_log(dag_id(plan), run_id, ti["task_id"], attempt)
        for ti in airflow.rest.task_instances(dag_id(plan), run_id)
        for attempt in range(1, (ti["try_number"] or 0) + 1)
    }


def test_plan_text_arrives_as_written_and_the_connection_password_nowhere(airflow: StepsDeployment) -> None:
    plan = "rs_literal_text"
    run_id = airflow.runs[plan]
    approval = f"{run_path(plan, run_id)}/taskInstances/db.pre_1_approval/-1/hitlDetails"
    await_input(airflow, plan, "db.pre_1_approval")

    asked = airflow.rest.request("GET", approval)
    airflow.rest.answer_approval(dag_id(plan), run_id, "db.pre_1_approval", "Approve")
    state, states = finish(airflow, plan)

    assert state == "success", states
    # The approver reads the question as written.
    assert asked["subject"] == LITERAL_QUESTION
    # SSM gets the commands and the comment as written, on the wave's recovered instance.
    recovered = recovered_instances(airflow, {"literal-db"})
    [command] = [
        command
        for command in local_aws.client("ssm", airflow.moto_url).list_commands()["Commands"]
        if set(command["InstanceIds"]) == recovered
    ]
    assert command["Parameters"] == {"commands": LITERAL_COMMANDS}
    assert command["Comment"] == LITERAL_COMMENT
    # The function gets the payload as written (moto's function answers with its event).
    event = airflow.rest.xcom(dag_id(plan), run_id, "db.announce")
    assert event["input"] == LITERAL_PAYLOAD
    # The password is nowhere: not at the approver, SSM or Lambda, nor in XComs, task logs or
    # the task instances (their rendered fields included).
    places = {
        "approval": [asked, airflow.rest.request("GET", approval)],
        "ssm": command,
        "xcoms": run_xcoms(airflow, plan, run_id),
        "logs": task_logs(airflow, plan, run_id),
        "task instances": airflow.rest.task_instances(dag_id(plan), run_id),
    }
    assert [name for name, seen in places.items() if SECRET in json.dumps(seen, default=str)] == []
    assert len(places["logs"]) >= len(states)  # every task's log was read
