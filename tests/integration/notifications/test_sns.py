"""Run events through the amazon provider's SNS to an SQS queue on moto: what a subscriber gets."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.exceptions import DrsJobFailedError, FailedServer
from drs_provider.notifications.sns import PlanEventNotifier, PlanEvents, RtoDeadline, rto_missed

if TYPE_CHECKING:
    from tests.fixtures.moto import LocalAws

pytestmark = pytest.mark.integration

TOPIC = "arn:aws:sns:us-east-1:123456789012:dr-events"


@pytest.fixture
def inbox(aws_conn: str, local_aws_services: LocalAws) -> Any:
    """The topic, an SQS queue subscribed to it; returns a function reading what arrived."""
    sns, sqs = local_aws_services.client("sns"), local_aws_services.client("sqs")
    sns.create_topic(Name="dr-events")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn)

    def read() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        envelopes = [json.loads(message["Body"]) for message in messages]
        return [
            {
                "subject": envelope["Subject"],
                "attributes": {k: v["Value"] for k, v in envelope["MessageAttributes"].items()},
                "body": json.loads(envelope["Message"]),
            }
            for envelope in envelopes
        ]

    return read


def events(aws_conn: str, **kwargs: Any) -> PlanEvents:
    return PlanEvents("shop", TOPIC, aws_conn_id=aws_conn, region_name="us-east-1", **kwargs)


def failed_wave_context() -> dict[str, Any]:
    failed = FailedServer("s-0a000000000000004", "drsjob-0a000000000000002", "FAILED", "app-2", "no capacity")
    ti = SimpleNamespace(
        task_id="app.wait_for_recovery", run_id="manual__1", dag_id="drs_plan_shop", try_number=1
    )
    ti.xcom_pull = lambda **_: {"mode": "recovery"}  # what preflight resolved
    return {"ti": ti, "exception": DrsJobFailedError([failed])}


def test_a_failed_wave_reaches_a_subscriber_naming_its_servers(aws_conn: str, inbox: Any) -> None:
    PlanEventNotifier(event="wave_failed", events=events(aws_conn)).notify(failed_wave_context())

    [message] = inbox()
    assert message["subject"] == "[DRS RECOVERY] shop: wave app failed: app-2 did not launch"
    assert message["attributes"] == {"event": "wave_failed", "plan": "shop"}
    body = message["body"]
    assert (body["event"], body["run_id"], body["mode"], body["wave"]) == (
        "wave_failed",
        "manual__1",
        "recovery",
        "app",
    )
    assert body["failed_servers"] == [
        {
            "sourceServerID": "s-0a000000000000004",
            "hostname": "app-2",
            "jobID": "drsjob-0a000000000000002",
            "launchStatus": "FAILED",
            "rawError": "no capacity",
        }
    ]
    assert body["error"].startswith("DrsJobFailedError: 1 required source server(s) failed to launch")


def test_an_event_the_plan_does_not_want_is_not_sent(aws_conn: str, inbox: Any) -> None:
    quiet = events(aws_conn, events=("succeeded", "failed"))

    PlanEventNotifier(event="wave_failed", events=quiet).notify(failed_wave_context())

    assert inbox() == []


def test_the_rto_deadline_speaks_only_while_the_run_still_goes(aws_conn: str, inbox: Any) -> None:
    kwargs = RtoDeadline(events(aws_conn), 600).kwargs
    json.dumps(kwargs)  # a Deadline Alert stores its callback's kwargs as JSON

    asyncio.run(rto_missed({"dag_run": {"dag_run_id": "manual__1", "state": "success"}}, **kwargs))
    asyncio.run(
        rto_missed({"dag_run": {"dag_run_id": "manual__2", "state": "running", "conf": {}}}, **kwargs)
    )

    [message] = inbox()
    assert message["subject"] == "[DRS drill] shop: still running after its RTO target of 600 s"
    assert (message["body"]["run_id"], message["body"]["rto_target"]) == ("manual__2", 600)
