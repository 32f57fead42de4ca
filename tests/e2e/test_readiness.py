"""Readiness on a real Airflow (contract 10): a hidden-problem fleet, one problem per plan and one
healthy plan, checked by a run of ``drs_readiness`` triggered through the REST API.

The module's simulator runs at real speed, so DRS's times are the wall clock's (snapshot ages).
Its ``check`` task returns exactly the expected status and codes per plan (a staging account's
server that a plan's tags select and that is not extended included), launches nothing, and
the one plan with ``notify`` that is not ready sends one ``readiness_changed`` message, and the
Recovery plans page shows it in a real browser (``admin``, who may read the ``drs_readiness`` DAG's
checks). The shared stack checks only when asked (``DRS_READINESS_SCHEDULE=none``), and this run
names its plans, so no other module's simulator is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from tools.processes import wait_until

from drs_provider import local_aws
from drs_provider.readiness import READINESS_DAG_ID, READINESS_TASK_ID
from tests.e2e.browser import screenshot
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
SCHEDULED = server(10, "ready-scheduled")
MISSING_ID = "s-e2r99999999999999"
#: A staging account's server, never extended into the module's account, whose tags only plan
#: e2e_ready_staging selects: DRS could not recover it from that plan.
STAGING_ACCOUNT = "444455556666"
STAGED = server(11, "ready-staged", tags={"Readiness": "staging"})
STAGED_ARN = f"arn:aws:drs:{REGION}:{STAGING_ACCOUNT}:source-server/{STAGED['id']}"


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
    "e2e_ready_staging": plan("e2e_ready_staging", {"tags": {"Readiness": "staging"}}),
    "e2e_ready_undrilled": plan("e2e_ready_undrilled", {"ids": [UNDRILLED["id"]]}, drill_every=86400 * 30),
    # a drill every night, but its DAG is paused (as Airflow creates new DAGs here)
    "e2e_ready_scheduled": plan("e2e_ready_scheduled", {"ids": [SCHEDULED["id"]]}, schedule="0 3 * * *"),
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
    # the finding's server is the staging server's ARN (what CreateExtendedSourceServer takes)
    "e2e_ready_staging": ("not_ready", [("error", "staging_server_not_extended", STAGED_ARN)]),
    "e2e_ready_undrilled": ("at_risk", [("warning", "drill_overdue", UNDRILLED["id"])]),
    "e2e_ready_stepped": ("not_ready", [("error", "step_target_missing", None)]),
    "e2e_ready_scheduled": ("at_risk", [("warning", "plan_paused", None)]),
}
#: The badge (CSS class, its colour) of each status on the plans page: green, amber, red.
BADGES = {"ready": "ok", "at_risk": "ask", "not_ready": "bad"}


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
    lane="b",
    plans=PLANS,
    fleet=[HEALTHY, STALLED, LAGGING, RECOVERED, *TAGGED, UNDRILLED, STEPPED, SCHEDULED],
    fleet_settings={"staging_accounts": [{"account_id": STAGING_ACCOUNT, "source_servers": [STAGED]}]},
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
        "ListStagingAccounts",
        "ListExtensibleSourceServers",
    }
    # the staging accounts listed once for the one account and region, its one staging account once
    assert len(airflow.simulator.calls("ListStagingAccounts")) == 1
    assert len(airflow.simulator.calls("ListExtensibleSourceServers")) == 1


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


def plan_row(frame: Any, name: str) -> Any:
    """The plans page's row of one plan."""
    return frame.locator(f'#plans tr[data-dag-id="drs_plan_{name}"]')


def test_browser_shows_each_plans_readiness_on_the_recovery_plans_page(
    airflow: ReadinessDeployment, page: Any
) -> None:
    [run_id] = airflow.runs
    assert airflow.rest.wait_for_run(READINESS_DAG_ID, run_id, timeout=RUN_TIMEOUT) == "success"
    result = airflow.rest.xcom(READINESS_DAG_ID, run_id, READINESS_TASK_ID)
    checked = datetime.fromisoformat(result["checked_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    page.goto(f"{airflow.stack.api_url}/plugin/recovery-plans")
    frame = page.frame_locator("iframe[title='Recovery plans']")
    frame.locator("#plans td.readiness").first.wait_for()

    # every plan of the module says what the check found, in words and in the badge's colour
    for name, (status, _) in EXPECTED.items():
        badge = plan_row(frame, name).locator("td.readiness .readiness-status")
        assert badge.inner_text() == status.replace("_", " "), name
        assert badge.get_attribute("class") == f"badge {BADGES[status]} readiness-status", name
    healthy = plan_row(frame, "e2e_ready_healthy").locator("td.readiness")
    assert healthy.locator(".checked-at").inner_text() == f"checked {checked}"
    # one check so far: one mark, green, titled with its time
    assert healthy.locator(".marks .mark").count() == 1
    assert healthy.locator(".marks .mark.ok").get_attribute("title") == f"{checked}: ready"
    assert healthy.locator("ul.findings li").count() == 0
    # a plan that is not ready names its finding's code and the server, as the check returned them
    stalled = plan_row(frame, "e2e_ready_stalled").locator("td.readiness")
    assert stalled.locator(".marks .mark.bad").get_attribute("title") == f"{checked}: not ready"
    [finding] = result["plans"]["e2e_ready_stalled"]["findings"]
    item = stalled.locator("ul.findings li")
    assert item.count() == 1
    assert item.locator(".badge.bad").inner_text() == "error"
    assert item.locator("code").inner_text() == "replication_not_continuous"
    assert f"server {STALLED['id']}" in item.locator(".muted").inner_text()
    assert finding["message"] and finding["message"] in item.inner_text()
    # a plan that would recover, worse than planned, is at risk: a warning, not an error
    undrilled = plan_row(frame, "e2e_ready_undrilled").locator("td.readiness")
    assert undrilled.locator(".marks .mark.ask").count() == 1
    item = undrilled.locator("ul.findings li")
    assert item.count() == 1
    assert item.locator(".badge.ask").inner_text() == "warning"
    assert item.locator("code").inner_text() == "drill_overdue"
    assert f"server {UNDRILLED['id']}" in item.locator(".muted").inner_text()
    screenshot(page, airflow, "readiness-plans")
