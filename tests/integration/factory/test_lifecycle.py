"""The end of a run (``dag.test()``): cleanup, report and notifications; DRS simulated, the rest on moto."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.recovery.report_html import render_report_html
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

    from tests.fixtures.moto import LocalAws

pytestmark = pytest.mark.integration

TOPIC = "dr-events"
TOPIC_ARN = f"arn:aws:sns:us-east-1:123456789012:{TOPIC}"
BUCKET = "dr-evidence"
DB = "s-0a000000000000001"
DB_REPLICA = "s-0a000000000000007"
APP = "s-0a000000000000003"
FAILING = "s-0c000000000000003"  # the sample fleet's server whose launch fails


#: Every event but rto_missed: ``dag.test()`` cannot finish a run whose DAG has a Deadline Alert
#: (Airflow 3.3 looks its alerts up by ID, which a DAG that was never serialized does not have);
#: the end-to-end tests send rto_missed on a real stack.
TESTED_EVENTS = "started, approval_requested, wave_failed, succeeded, failed"


def plan_text(name: str, cleanup: str, *, second_wave: str = APP, notify_events: str = TESTED_EVENTS) -> str:
    events = f"\n  events: [{notify_events}]" if notify_events else ""
    return f"""
plan: {name}
rto_target: 600
cleanup: {cleanup}
notify:
  sns_topic_arn: {TOPIC_ARN}{events}
report:
  s3_uri: s3://{BUCKET}/runs/
waves:
  - name: database
    servers: {{ids: [{DB}]}}
    optional_servers: {{ids: [{DB_REPLICA}]}}
  - name: app
    servers: {{ids: [{second_wave}]}}
"""


@pytest.fixture
def lifecycle_aws(local_aws_services: LocalAws) -> Any:
    """The topic (with an SQS queue that receives it), the bucket; returns the queue's URL."""
    sns, sqs, s3 = (local_aws_services.client(name) for name in ("sns", "sqs", "s3"))
    sns.create_topic(Name=TOPIC)
    queue_url = sqs.create_queue(QueueName="dr-events-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn)
    s3.create_bucket(Bucket=BUCKET)
    return queue_url


def received(local_aws: LocalAws, queue_url: str) -> list[dict[str, Any]]:
    """Every SNS message the queue got, oldest first: subject, attributes, body."""
    sqs = local_aws.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            envelope = json.loads(message["Body"])
            messages.append(
                {
                    "subject": envelope.get("Subject"),
                    "event": envelope["MessageAttributes"]["event"]["Value"],
                    "body": json.loads(envelope["Message"]),
                }
            )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def report_of(dag: DAG) -> dict[str, Any]:
    report = xcom_of(dag, "report")
    assert report is not None, "the report task left no report"
    return dict(report)


def bucket_keys(local_aws: LocalAws) -> list[str]:
    return [item["Key"] for item in local_aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def terminations(drs_simulator: Any) -> list[str]:
    return [
        i
        for call in drs_simulator.calls("TerminateRecoveryInstances")
        for i in call["request"]["recoveryInstanceIDs"]
    ]


def instances_left(drs_simulator: Any) -> dict[str, dict[str, Any]]:
    items = drs_simulator.client().describe_recovery_instances(filters={})["items"]
    return {item["recoveryInstanceID"]: item for item in items}


def report_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every ``(task_id, key)`` the report task pulls, as it pulls them (through the real Task SDK)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    reads: list[tuple[str, str]] = []
    pull = RuntimeTaskInstance.xcom_pull

    def counted(self: RuntimeTaskInstance, *args: Any, **kwargs: Any) -> Any:
        if self.task_id == "report":
            reads.append((str(kwargs.get("task_ids")), str(kwargs.get("key", "return_value"))))
        return pull(self, *args, **kwargs)

    monkeypatch.setattr(RuntimeTaskInstance, "xcom_pull", counted)
    return reads


def test_a_drill_cleans_up_exactly_its_instances_and_leaves_its_report_and_events(
    plan_dag: Callable[..., DAG],
    drs_simulator: Any,
    local_aws_services: LocalAws,
    lifecycle_aws: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dag = plan_dag("lifecycle", plan_text("lifecycle", "always"))
    reads = report_reads(monkeypatch)

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert (tasks["cleanup"], tasks["report"]) == ("success", "success")
    launched = {
        server["recoveryInstanceID"]
        for call in drs_simulator.calls("StartRecovery")
        for job in drs_simulator.client().describe_jobs(filters={"jobIDs": call["job_ids"]})["items"]
        for server in job["participatingServers"]
    }
    assert len(launched) == 3
    assert sorted(terminations(drs_simulator)) == sorted(launched)
    assert not launched & set(instances_left(drs_simulator))

    # The report pulls what it reads, once: when each task started, and the values its waves
    # and cleanup are made of; no error of a task that did not fail, no key a task never pushes.
    waves = ("database", "app")
    assert sorted(reads) == sorted(
        [(task, "task_started") for task in tasks if task != "report"]
        + [("preflight", "return_value"), ("cleanup", "return_value")]
        + [(f"{wave}.start_recovery", "return_value") for wave in waves]
        + [(f"{wave}.wait_for_recovery", "servers") for wave in waves]
    )

    report = report_of(dag)
    assert set(report) >= {
        "plan", "dag_id", "run_id", "mode", "state", "started", "ended",
        "rto_seconds", "rto_target", "rto_met", "waves", "cleanup",
    }  # fmt: skip
    assert (report["plan"], report["mode"], report["state"], report["rto_target"]) == (
        "lifecycle",
        "drill",
        "success",
        600,
    )
    assert report["rto_seconds"] > 0 and report["rto_met"] is True
    assert [wave["name"] for wave in report["waves"]] == ["database", "app"]
    database = report["waves"][0]
    assert database["state"] == "success" and len(database["job_ids"]) == 1
    assert database["duration_seconds"] > 0 and database["started"] < database["ended"]
    servers = {server["sourceServerID"]: server for server in database["servers"]}
    assert servers[DB]["hostname"] == "db-1" and servers[DB]["launchStatus"] == "LAUNCHED"
    assert servers[DB_REPLICA]["optional"] is True and servers[DB]["ec2InstanceID"].startswith("i-")
    assert report["cleanup"]["state"] == "success"
    assert sorted(report["cleanup"]["terminated"]) == sorted(launched) and report["cleanup"]["failed"] == []
    # The same document in S3, at <prefix><dag_id>/<run_id>.json, and its page beside it.
    key = f"runs/drs_plan_lifecycle/{report['run_id']}.json"
    page_key = key.removesuffix(".json") + ".html"
    s3 = local_aws_services.client("s3")
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert stored == report and report["location"] == f"s3://{BUCKET}/{key}"
    assert report["html_location"] == f"s3://{BUCKET}/{page_key}"
    page = s3.get_object(Bucket=BUCKET, Key=page_key)
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["Body"].read().decode() == render_report_html(report)
    assert bucket_keys(local_aws_services) == sorted([key, page_key])  # preflight's write probe is gone

    messages = received(local_aws_services, lifecycle_aws)
    assert [message["event"] for message in messages] == ["started", "succeeded"]
    started, succeeded = messages
    assert started["subject"] == "[DRS drill] lifecycle: run started"
    assert started["body"]["run_id"] == report["run_id"] and started["body"]["mode"] == "drill"
    assert succeeded["subject"].startswith("[DRS drill] lifecycle: run succeeded in ")
    assert succeeded["body"]["rto_seconds"] == report["rto_seconds"]
    assert succeeded["body"]["waves"] == {"database": "success", "app": "success"}
    assert succeeded["body"]["cleanup"] == "success"


@pytest.mark.parametrize(
    ("cleanup", "conf", "why"),
    [
        ("always", {"mode": "recovery", "confirm": "keepers"}, "a recovery run"),
        ("always", {"keep_instances": True}, "keep_instances"),
    ],
    ids=["confirmed-recovery", "keep-instances"],
)
def test_a_recovery_and_keep_instances_terminate_nothing(
    plan_dag: Callable[..., DAG],
    drs_simulator: Any,
    lifecycle_aws: str,
    cleanup: str,
    conf: dict[str, Any],
    why: str,
) -> None:
    dag = plan_dag("keepers", plan_text("keepers", cleanup))

    state, tasks = run_dag(dag, conf)

    assert state == "success", tasks
    assert tasks["cleanup"] == "skipped"
    assert terminations(drs_simulator) == []
    assert len(instances_left(drs_simulator)) == 3
    cleanup_report = report_of(dag)["cleanup"]
    assert cleanup_report["state"] == "skipped" and cleanup_report["terminated"] == []
    assert why in cleanup_report["reason"]


def test_a_failed_wave_fails_the_run_and_on_success_terminates_nothing(
    plan_dag: Callable[..., DAG], drs_simulator: Any, local_aws_services: LocalAws, lifecycle_aws: str
) -> None:
    dag = plan_dag("failing", plan_text("failing", "on_success", second_wave=FAILING))

    state, tasks = run_dag(dag)

    assert state == "failed", tasks  # the teardowns' success does not make it succeed
    assert tasks["app.wait_for_recovery"] == "failed"
    assert (tasks["cleanup"], tasks["report"]) == ("skipped", "success")
    assert terminations(drs_simulator) == []
    report = report_of(dag)
    assert report["state"] == "failed" and report["rto_seconds"] is None and report["rto_met"] is None
    app = report["waves"][1]
    assert app["state"] == "failed"
    [failed] = app["servers"]
    assert failed["launchStatus"] == "FAILED" and "InsufficientInstanceCapacity" in failed["rawError"]
    messages = received(local_aws_services, lifecycle_aws)
    assert [message["event"] for message in messages] == ["started", "wave_failed", "failed"]
    wave_failed = messages[1]
    assert wave_failed["subject"] == "[DRS drill] failing: wave app failed: lab-broken did not launch"
    assert [server["sourceServerID"] for server in wave_failed["body"]["failed_servers"]] == [FAILING]
    assert messages[2]["body"]["failed"] == ["app: failed"]


def test_preflight_refuses_a_missing_topic_and_bucket_before_anything_launches(
    plan_dag: Callable[..., DAG], drs_simulator: Any, local_aws_services: LocalAws
) -> None:
    dag = plan_dag("nowhere", plan_text("nowhere", "always"))

    state, tasks = run_dag(dag)

    assert state == "failed" and tasks["preflight"] == "failed"
    assert drs_simulator.calls() == []
    from drs_provider.exceptions import DrsPreflightError

    with pytest.raises(DrsPreflightError) as caught:
        dag.get_task("preflight").run_task({"params": {"mode": "drill"}, "dag_run": None})  # type: ignore[attr-defined]
    assert f"notify.sns_topic_arn: SNS topic {TOPIC_ARN} does not exist" in str(caught.value)
    assert f"report.s3_uri: S3 bucket {BUCKET} does not exist" in str(caught.value)


#: A bucket policy that refuses every report write (moto enforces a bucket policy's explicit Deny
#: on object writes, answering 403 Forbidden where AWS says AccessDenied).
DENY_REPORTS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoRunReports",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/runs/*",
        }
    ],
}


def deny_reports(local_aws: LocalAws) -> None:
    local_aws.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(DENY_REPORTS))


def delete_bucket(local_aws: LocalAws) -> None:
    local_aws.client("s3").delete_bucket(Bucket=BUCKET)  # empty: preflight removed its probe


@pytest.mark.parametrize(
    ("change", "aws_error"),
    [
        (delete_bucket, "NoSuchBucket: The specified bucket does not exist"),
        (deny_reports, "403: Forbidden"),
    ],
    ids=["bucket-deleted", "policy-denies-put"],
)
def test_a_report_s3_refuses_after_preflight_fails_the_report_task_and_stays_in_airflow(
    plan_dag: Callable[..., DAG],
    drs_simulator: Any,
    local_aws_services: LocalAws,
    lifecycle_aws: str,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[LocalAws], None],
    aws_error: str,
) -> None:
    dag = plan_dag("unkept", plan_text("unkept", "never"))
    # Once preflight has passed (its write probe included), the bucket goes away or turns the writes down.
    dag.get_task("preflight").on_success_callback = [lambda context: change(local_aws_services)]

    state, tasks = run_dag(dag)

    # A teardown: the evidence failing does not change the verdict on the recovery
    # (docs/reference/run-report.md).
    assert state == "success", tasks
    assert tasks["report"] == "failed"
    assert {tasks["database.wait_for_recovery"], tasks["app.wait_for_recovery"]} == {"success"}
    report = report_of(dag)  # the document is still the report's XCom
    key = f"runs/drs_plan_unkept/{report['run_id']}.json"
    assert (report["state"], [wave["state"] for wave in report["waves"]]) == ("success", ["success"] * 2)
    assert "location" not in report
    assert report["store_error"] == {"bucket": BUCKET, "key": key, "error": aws_error}
    assert xcom_of(dag, "report", "task_error") == (
        f"DrsReportNotStoredError: the run report was not stored: bucket {BUCKET}, key {key}: {aws_error}; "
        "the report is still this task's XCom (return_value) and in its log"
    )
    log = capsys.readouterr()
    assert "the run report, kept here as it was not stored:" in log.out + log.err
    assert json.dumps(report["waves"], default=str) in log.out + log.err
    if change is deny_reports:
        assert bucket_keys(local_aws_services) == []

    messages = received(local_aws_services, lifecycle_aws)
    assert [message["event"] for message in messages] == ["started", "succeeded"]
    final = messages[1]
    assert final["subject"].startswith("[DRS drill] unkept: run succeeded in ")
    assert final["subject"].endswith(", report NOT stored")
    assert final["body"]["report"] is None
    assert final["body"]["store_error"] == report["store_error"]


def test_preflight_refuses_a_report_bucket_that_denies_the_write_before_any_drs_call(
    plan_dag: Callable[..., DAG], drs_simulator: Any, local_aws_services: LocalAws, lifecycle_aws: str
) -> None:
    deny_reports(local_aws_services)
    dag = plan_dag("sealed", plan_text("sealed", "never"))

    state, tasks = run_dag(dag)

    assert state == "failed" and tasks["preflight"] == "failed"
    assert drs_simulator.calls() == []
    error = xcom_of(dag, "preflight", "task_error")
    assert (
        f"report.s3_uri: the run report cannot be written to S3 bucket {BUCKET} (probe key "
        f"runs/drs_plan_sealed/" in error
    )
    assert ".json.preflight-probe): 403: Forbidden" in error
    assert bucket_keys(local_aws_services) == []
