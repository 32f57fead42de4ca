"""Readiness on a real Airflow (contract 10): a hidden-problem fleet, one problem per plan and one
healthy plan, checked by a run of ``drs_readiness`` triggered through the REST API.

The module's simulator runs at real speed, so DRS's times are the wall clock's (snapshot ages).
Its ``check`` task returns exactly the expected status and codes per plan, launches nothing, and
the one plan with ``notify`` that is not ready sends one ``readiness_changed`` message. The shared
stack checks only when asked (``DRS_READINESS_SCHEDULE=none``), and this run names its plans, so
no other module's simulator is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from tools.processes import wait_until

from drs_provider.readiness import READINESS_DAG_ID, READINESS_TASK_ID
from drs_provider.simulator import local_aws
from tests.e2e.harness import Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RUN_TIMEOUT = 300.0
REGION = "us-east-1"
TOPIC_NAME = "e2e-readiness"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:{TOPIC_NAME}"


def server(number: int, hostname: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"s-e2r{number:014d}", "hostname": hostname, "launch_seconds": 3, **extra}


HEALTHY = server(1, "ready-db", tags={"Readiness": "healthy"})
STALLED = server(2, "ready-stalled", replication_state="STALLED")
LAGGING = server(3, "ready-lagging", lag_seconds=7200)
RECOVERED = server(4, "ready-recovered")
TAGGED = [server(5 + n, f"ready-tagged-{n}", tags={"Readiness": "tagged"}) for n in range(3)]
UNDRILLED = server(8, "ready-undrilled")
STEPPED = server(9, "ready-stepped")
MISSING_ID = "s-e2r99999999999999"


def plan(
    name: str, servers: dict[str, Any], wave: dict[str, Any] | None = None, **keys: Any
) -> dict[str, Any]:
    return {"plan": name, "waves": [{"name": "db", "servers": servers, **(wave or {})}], **keys}


PLANS = {
    "e2e_ready_healthy": plan(
        "e2e_ready_healthy", {"tags": {"Readiness": "healthy"}}, {"expect_servers": 1}, rpo_target=3600
    ),
    "e2e_ready_missing": plan("e2e_ready_missing", {"ids": [MISSING_ID]}),
    "e2e_ready_stalled": plan("e2e_ready_stalled", {"ids": [STALLED["id"]]}, notify={"sns_topic_arn": TOPIC}),
    "e2e_ready_lagging": plan("e2e_ready_lagging", {"ids": [LAGGING["id"]]}, rpo_target=900),
    "e2e_ready_recovered": plan("e2e_ready_recovered", {"ids": [RECOVERED["id"]]}),
    "e2e_ready_tagged": plan("e2e_ready_tagged", {"tags": {"Readiness": "tagged"}}, {"expect_servers": 2}),
    "e2e_ready_untagged": plan("e2e_ready_untagged", {"tags": {"Readiness": "nobody"}}),
    "e2e_ready_undrilled": plan("e2e_ready_undrilled", {"ids": [UNDRILLED["id"]]}, drill_every=86400 * 30),
    "e2e_ready_stepped": plan(
        "e2e_ready_stepped",
        {"ids": [STEPPED["id"]]},
        {"post": [{"ssm_command": {"name": "smoke", "document": "E2E-No-Such-Document"}}]},
    ),
}
EXPECTED: dict[str, tuple[str, list[tuple[str, str, str | None]]]] = {
    "e2e_ready_healthy": ("ready", []),
    "e2e_ready_missing": ("not_ready", [("error", "server_missing", MISSING_ID)]),
    "e2e_ready_stalled": ("not_ready", [("error", "replication_not_continuous", STALLED["id"])]),
    "e2e_ready_lagging": (
        "not_ready",
        [("error", "lag_over_rpo", LAGGING["id"]), ("warning", "snapshot_too_old", LAGGING["id"])],
    ),
    "e2e_ready_recovered": ("not_ready", [("error", "recovered_instance_live", RECOVERED["id"])]),
    "e2e_ready_tagged": ("not_ready", [("error", "tags_count_changed", None)]),
    "e2e_ready_untagged": ("not_ready", [("error", "tags_select_none", None)]),
    "e2e_ready_undrilled": ("at_risk", [("warning", "drill_overdue", UNDRILLED["id"])]),
    "e2e_ready_stepped": ("not_ready", [("error", "step_target_missing", None)]),
}


@dataclass
class ReadinessDeployment(Deployment):
    #: the drs_readiness run of this module
    runs: list[str] = field(default_factory=list)
    #: the SQS queue subscribed to the notify topic
    inbox: list[str] = field(default_factory=list)


def start_check(deployment: ReadinessDeployment) -> None:
    drs = deployment.drs()
    job = drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": RECOVERED["id"]}])["job"]
    wait_until(
        "the real recovery of the recovered plan's server",
        lambda: drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED",
        timeout=60,
    )
    sns, sqs = (local_aws.client(service, deployment.moto_url) for service in ("sns", "sqs"))
    sns.create_topic(Name=TOPIC_NAME)
    url = sqs.create_queue(QueueName=f"{TOPIC_NAME}-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn)
    deployment.inbox.append(url)
    deployment.runs.append(deployment.rest.trigger(READINESS_DAG_ID, {"plans": sorted(PLANS)}))


SCENARIO = Scenario(
    "readiness",
    plans=PLANS,
    fleet=[HEALTHY, STALLED, LAGGING, RECOVERED, *TAGGED, UNDRILLED, STEPPED],
    speed=1.0,
    moto=True,
    extra_dag_ids=[READINESS_DAG_ID],
    deployment_class=ReadinessDeployment,
    start=start_check,
)


def test_each_hidden_problem_gives_its_plan_exactly_its_codes_and_nothing_launches(
    airflow: ReadinessDeployment,
) -> None:
    [run_id] = airflow.runs
    assert airflow.rest.wait_for_run(READINESS_DAG_ID, run_id, timeout=RUN_TIMEOUT) == "success"
    result = airflow.rest.xcom(READINESS_DAG_ID, run_id, READINESS_TASK_ID)

    found = {
        name: (entry["status"], sorted((f["severity"], f["code"], f["server"]) for f in entry["findings"]))
        for name, entry in result["plans"].items()
    }
    assert found == {name: (status, sorted(codes)) for name, (status, codes) in EXPECTED.items()}
    # the module's own real recovery is the only launch its simulator ever saw
    assert len(airflow.simulator.calls("StartRecovery")) == 1
    assert {call["operation"] for call in airflow.simulator.calls()} <= {
        "StartRecovery",
        "DescribeJobs",
        "DescribeSourceServers",
        "DescribeRecoveryInstances",
        "DescribeRecoverySnapshots",
    }


def test_a_plan_that_is_not_ready_says_so_once_through_its_topic(airflow: ReadinessDeployment) -> None:
    [run_id] = airflow.runs
    assert airflow.rest.wait_for_run(READINESS_DAG_ID, run_id, timeout=RUN_TIMEOUT) == "success"
    sqs = local_aws.client("sqs", airflow.moto_url)
    [url] = airflow.inbox

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    [envelope] = [json.loads(message["Body"]) for message in messages]
    body = json.loads(envelope["Message"])
    assert envelope["Subject"] == "[DRS readiness] e2e_ready_stalled: not ready (first check)"
    assert (body["event"], body["plan"], body["status"], body["previous_status"]) == (
        "readiness_changed",
        "e2e_ready_stalled",
        "not_ready",
        None,
    )
    assert [finding["server"] for finding in body["findings"]] == [STALLED["id"]]
