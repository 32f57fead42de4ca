"""The end of a run on a real Airflow, through the REST API only (issue 10): cleanup, report, SNS events.

On the shared stack of each set-up; DRS on the module's simulator, SNS, SQS and S3 on its moto,
each its own process. Ten plans are triggered together when the module starts; each test
follows its own run:

* a drill with ``cleanup: always`` terminates exactly its recovery instances (none is left), and
  leaves its report (every field of contract 6) in XCom and in S3;
* a confirmed recovery and a drill with ``keep_instances`` terminate nothing;
* a run with a failed wave ends ``failed`` and, with ``cleanup: on_success``, terminates nothing;
* a run still going past its ``rto_target`` sends ``rto_missed`` (a Deadline Alert);
* a report S3 refuses once preflight has passed fails the report task naming bucket, key and
  AWS error; the document stays in XCom and the task log without a ``location``, the final
  event says the report was not stored, and the Recovery view shows it on the run (issue 18);
* each plan's SNS topic feeds an SQS queue: the events arrive in order, subjects for people and
  JSON bodies for scripts;
* a drill whose plan names no ``cleanup`` policy terminates its instances although a wave failed
  (the default, ``always``);
* a drill whose second wave names another region launches each wave in its own region, and its
  cleanup terminates in both;
* a drill of a plan whose wave selects by tags a server a staging account replicates, extended
  into the module's account with those tags before the runs start, launches exactly the extended
  source server; its report names it and its ``stagingAccountID``, and cleanup terminates it;
* a drill with ``cleanup: never`` keeps its instance, which the Recovery view's "Terminate this
  drill's instances" then terminates through the real API server, confirmed, recorded in the
  report's XCom and S3 object; the action refuses a recovery run and a run still going.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import requests

from drs_provider import local_aws
from drs_provider.ui.addresses import URL_PREFIX, run_page_path, terminate_path
from tests.e2e.browser import screenshot
from tests.e2e.harness import Deployment, Scenario

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 420.0
ACCOUNT = "123456789012"
BUCKET = "e2e-evidence"
#: The bucket of plan e2e_unkept, whose policy refuses the run report (see SEALED_POLICY).
SEALED_BUCKET = "e2e-evidence-sealed"
#: Denies every report object (``<dag_id>/<run_id>.json``) under ``runs/`` and nothing else, so
#: preflight's probe beside it (``....json.preflight-probe``) is written and removed, and S3 turns
#: the report down only at the end of the run, as when a bucket's policy changes during a run.
#: moto enforces a bucket policy's explicit Deny, wildcards included, answering 403 Forbidden
#: (AWS says AccessDenied).
SEALED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoRunReports",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{SEALED_BUCKET}/runs/*.json",
        }
    ],
}


#: The region of the two-region plan's second wave.
WEST = "us-west-2"


def server(number: int, hostname: str, launch_seconds: float = 30, **extra: Any) -> dict[str, Any]:
    return {"id": f"s-lc{number:015d}", "hostname": hostname, "launch_seconds": launch_seconds, **extra}


FLEET = [
    server(1, "clean-db"),
    server(2, "clean-app"),
    server(3, "keep-db"),
    server(4, "recover-db"),
    server(5, "fail-db"),
    server(6, "fail-app", fail_launch="Volume vol-0aa could not be attached"),
    server(7, "slow-db"),
    server(8, "default-db"),
    server(9, "default-app", fail_launch="Subnet subnet-0bb has no free address"),
    server(10, "never-db"),
    server(11, "unkept-db"),
    server(12, "east-db"),
    # in another region than the fleet's (the connection's): its wave names it
    server(13, "west-app", region=WEST),
]
IDS = {entry["hostname"]: entry["id"] for entry in FLEET}
#: A staging account replicating one server for the module's account. The start hook extends it
#: (CreateExtendedSourceServer) with STAGING_TAGS, which plan e2e_staging's wave selects; the
#: extended server gets an ID of its own, known only then (LifecycleDeployment.extended).
STAGING_ACCOUNT = "444455556666"
STAGED = server(14, "staged-erp")
STAGING_TAGS = {"Staged": "e2e-erp"}
STAGING_ARN = f"arn:aws:drs:us-east-1:{STAGING_ACCOUNT}:source-server/{STAGED['id']}"
FLEET_SETTINGS = {"staging_accounts": [{"account_id": STAGING_ACCOUNT, "source_servers": [STAGED]}]}


def topic_arn(plan: str) -> str:
    return f"arn:aws:sns:us-east-1:{ACCOUNT}:{plan}-events"


def plan(name: str, cleanup: str | None, waves: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A plan of this module; ``cleanup`` None: the plan names no policy (the default)."""
    return {
        "plan": name,
        **({"cleanup": cleanup} if cleanup is not None else {}),
        "notify": {"sns_topic_arn": topic_arn(name)},
        "report": {"s3_uri": f"s3://{BUCKET}/runs/"},
        **extra,
        "waves": waves,
    }


def wave(name: str, *hostnames: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "servers": {"ids": [IDS[h] for h in hostnames]}, **extra}


PLANS: dict[str, dict[str, Any]] = {
    "e2e_clean": plan(
        "e2e_clean", "always", [wave("db", "clean-db"), wave("app", "clean-app")], rto_target=900
    ),
    "e2e_keep": plan("e2e_keep", "always", [wave("db", "keep-db")]),
    # Its second wave is in another region: it launches there and is cleaned up there.
    "e2e_two_regions": plan(
        "e2e_two_regions", "always", [wave("east", "east-db"), wave("west", "west-app", region=WEST)]
    ),
    "e2e_recover": plan("e2e_recover", "always", [wave("db", "recover-db")]),
    "e2e_fail": plan("e2e_fail", "on_success", [wave("db", "fail-db"), wave("app", "fail-app")]),
    # Waits for an answer nobody gives: past its RTO target at 60 s, the approval times out at 90 s.
    "e2e_slow": plan(
        "e2e_slow",
        "on_success",
        [wave("db", "slow-db", pre=[{"approval": {"message": "Go on?", "timeout": 90}}])],
        rto_target=60,
    ),
    # Recovers, then its report is refused by SEALED_POLICY.
    "e2e_unkept": plan(
        "e2e_unkept",
        "never",
        [wave("db", "unkept-db", poll_interval=1)],
        report={"s3_uri": f"s3://{SEALED_BUCKET}/runs/"},
    ),
    # No cleanup key: the default terminates what a drill launched, also when the drill failed.
    "e2e_default": plan("e2e_default", None, [wave("db", "default-db"), wave("app", "default-app")]),
    # Keeps its instances, which the Recovery view's action then terminates.
    "e2e_never": plan("e2e_never", "never", [wave("db", "never-db")]),
    # Recovers the staging account's server through its extended source server, selected by tags.
    "e2e_staging": plan("e2e_staging", "always", [{"name": "erp", "servers": {"tags": STAGING_TAGS}}]),
}
CONF: dict[str, dict[str, Any]] = {
    "e2e_keep": {"keep_instances": True},
    "e2e_recover": {"mode": "recovery", "confirm": "e2e_recover"},
}


@dataclass
class LifecycleDeployment(Deployment):
    runs: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    #: staging server ARN -> the ID of its extended source server in the module's account
    extended: dict[str, str] = field(default_factory=dict)

    def finish(self, plan: str) -> tuple[str, dict[str, str | None]]:
        dag_id, run_id = f"drs_plan_{plan}", self.runs[plan]
        state = self.stack.rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
        return state, self.stack.rest.task_states(dag_id, run_id)

    def report(self, plan: str) -> dict[str, Any]:
        report: dict[str, Any] = self.stack.rest.xcom(f"drs_plan_{plan}", self.runs[plan], "report")
        return report

    def log_lines(self, plan: str, task_id: str, try_number: int = 1) -> list[str]:
        """The messages of a try's task log as the REST API serves it, an exception's text included."""
        return self.stack.rest.log_lines(f"drs_plan_{plan}", self.runs[plan], task_id, try_number)

    def view(self, plan: str) -> dict[str, Any]:
        """The run's Recovery view model, from the plugin's JSON endpoint (as admin)."""
        path = run_page_path(f"drs_plan_{plan}", self.runs[plan])
        found: dict[str, Any] = self.stack.rest.request(
            "GET", path.replace(f"{URL_PREFIX}/runs/", f"{URL_PREFIX}/api/runs/", 1)
        )
        return found

    def page(self, plan: str, part: str = "") -> requests.Response:
        """The run's Recovery page, the HTML the UI's Recovery tab frames, or ``part`` of it (as admin)."""
        rest = self.stack.rest
        response = requests.get(
            rest.base_url + run_page_path(f"drs_plan_{plan}", self.runs[plan]) + part,
            headers={"Authorization": f"Bearer {rest.login()}"},
            timeout=30,
        )
        response.raise_for_status()
        return response

    def launched(self, plan: str) -> set[str]:
        """The recovery instances this plan's jobs launched (DescribeJobs on the simulator)."""
        job_ids = [
            job_id
            for call in self.simulator.calls("StartRecovery")
            if (call["request"].get("tags") or {}).get("airflow:dag_id") == f"drs_plan_{plan}"
            for job_id in call.get("job_ids") or ()
        ]
        jobs = self.drs().describe_jobs(filters={"jobIDs": job_ids})["items"] if job_ids else []
        return {
            s["recoveryInstanceID"]
            for job in jobs
            for s in job["participatingServers"]
            if s.get("recoveryInstanceID")
        }

    def terminated(self) -> set[str]:
        return {
            i
            for call in self.simulator.calls("TerminateRecoveryInstances")
            for i in call["request"]["recoveryInstanceIDs"]
        }

    def instances_left(self) -> set[str]:
        return {
            item["recoveryInstanceID"] for item in self.drs().describe_recovery_instances(filters={})["items"]
        }

    def events(self, plan: str) -> list[dict[str, Any]]:
        """Every SNS message of ``plan``'s topic its queue got, oldest first."""
        sqs = local_aws.client("sqs", self.moto_url)
        found = []
        while batch := sqs.receive_message(QueueUrl=self.queues[plan], MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append(
                    {
                        "subject": envelope.get("Subject"),
                        "event": envelope["MessageAttributes"]["event"]["Value"],
                        "body": json.loads(envelope["Message"]),
                    }
                )
                sqs.delete_message(QueueUrl=self.queues[plan], ReceiptHandle=message["ReceiptHandle"])
        return sorted(found, key=lambda message: message["body"]["time"])


def start_runs(deployment: LifecycleDeployment) -> None:
    """The topics, queues and bucket on moto, the staging server extended, then every plan's run,
    all triggered at once."""
    deployment.queues.update(subscribe_queues(deployment.moto_url))
    extended = deployment.drs().create_extended_source_server(sourceServerArn=STAGING_ARN, tags=STAGING_TAGS)
    deployment.extended[STAGING_ARN] = extended["sourceServer"]["sourceServerID"]
    deployment.runs.update(
        {name: deployment.rest.trigger(f"drs_plan_{name}", CONF.get(name, {})) for name in PLANS}
    )


def subscribe_queues(moto_url: str) -> dict[str, str]:
    """One SNS topic per plan, each feeding an SQS queue; the report buckets."""
    sns, sqs, s3 = (local_aws.client(service, moto_url) for service in ("sns", "sqs", "s3"))
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=SEALED_BUCKET)
    s3.put_bucket_policy(Bucket=SEALED_BUCKET, Policy=json.dumps(SEALED_POLICY))
    queues = {}
    for name in PLANS:
        sns.create_topic(Name=f"{name}-events")
        url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn(name), Protocol="sqs", Endpoint=arn)
        queues[name] = url
    return queues


SCENARIO = Scenario(
    "lifecycle",
    lane="b",
    plans=PLANS,
    fleet=FLEET,
    fleet_settings=FLEET_SETTINGS,
    speed=SPEED,
    moto=True,
    deployment_class=LifecycleDeployment,
    start=start_runs,
)


REPORT_FIELDS = {
    "plan", "dag_id", "run_id", "mode", "state", "started", "ended",
    "rto_seconds", "rto_target", "rto_met", "waves", "cleanup",
}  # fmt: skip
WAVE_FIELDS = {"name", "state", "started", "ended", "duration_seconds", "job_ids", "servers", "steps"}


def test_a_drill_terminates_exactly_its_instances_and_leaves_its_report(airflow: LifecycleDeployment) -> None:
    state, states = airflow.finish("e2e_clean")

    assert state == "success", states
    assert (states["cleanup"], states["report"]) == ("success", "success")
    launched = airflow.launched("e2e_clean")
    assert len(launched) == 2
    assert launched <= airflow.terminated()
    assert not launched & airflow.instances_left()

    report = airflow.report("e2e_clean")
    assert set(report) >= REPORT_FIELDS
    assert all(set(wave) >= WAVE_FIELDS for wave in report["waves"])
    assert (report["state"], report["mode"], report["rto_target"], report["rto_met"]) == (
        "success",
        "drill",
        900,
        True,
    )
    assert 0 < report["rto_seconds"] < 900
    assert report["simulator_speed"] == airflow.simulator.speed  # the servers' DRS times are simulated ones
    assert sorted(report["cleanup"]["terminated"]) == sorted(launched)
    servers = [server for wave in report["waves"] for server in wave["servers"]]
    assert {server["hostname"] for server in servers} == {"clean-db", "clean-app"}
    assert all(server["launchStatus"] == "LAUNCHED" and server["ec2InstanceID"] for server in servers)
    bucket, key = report["location"].removeprefix("s3://").split("/", 1)
    assert key == f"runs/drs_plan_e2e_clean/{report['run_id']}.json"
    s3 = local_aws.client("s3", airflow.moto_url)
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored == report
    # Its page beside it, and the same page downloaded from the Recovery view of the real api-server.
    assert report["html_location"] == f"s3://{bucket}/{key.removesuffix('.json')}.html"
    page = s3.get_object(Bucket=bucket, Key=f"{key.removesuffix('.json')}.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    html = page["Body"].read().decode()
    for fact in ("clean-db", "clean-app", "Nothing failed.", *launched, report["location"]):
        assert fact in html, fact
    download = airflow.page("e2e_clean", "/report.html")
    assert download.headers["content-disposition"].startswith('attachment; filename="drs_plan_e2e_clean__')
    assert download.text == html

    events = airflow.events("e2e_clean")
    assert [event["event"] for event in events] == ["started", "succeeded"]
    assert events[0]["subject"] == "[DRS drill] e2e_clean: run started"
    assert events[1]["body"]["rto_seconds"] == report["rto_seconds"]
    assert events[1]["body"]["report"] == report["location"]


def test_the_report_page_stored_in_s3_reads_in_a_browser(
    airflow: LifecycleDeployment, page: Any, tmp_path: Path
) -> None:
    """The failed drill's page, as an auditor gets it: fetched from S3 and opened from a file."""
    state, _ = airflow.finish("e2e_fail")
    assert state == "failed"
    report = airflow.report("e2e_fail")
    bucket, key = report["html_location"].removeprefix("s3://").split("/", 1)
    stored = tmp_path / "report.html"
    stored.write_bytes(
        local_aws.client("s3", airflow.moto_url).get_object(Bucket=bucket, Key=key)["Body"].read()
    )
    errors = [
        server["rawError"] for wave in report["waves"] for server in wave["servers"] if server["rawError"]
    ]
    assert errors, report

    refused: list[str] = []  # anything the page's own policy blocked, or a script error
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.goto(stored.as_uri())

    assert page.locator("h1").inner_text().split() == ["DRILL", "plan", "e2e_fail", "failed"]
    failures = page.locator("h2:has-text('What failed') + table")
    assert failures.is_visible()
    for error in errors:
        assert error in failures.inner_text()
    assert page.locator("table.facts").first.inner_text().count("Triggered by\tadmin") == 1
    # the inline style applies (the page's Content-Security-Policy allows it and nothing else)
    badge = page.locator("h1 .badge.failed")
    assert badge.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(251, 224, 224)"
    assert refused == []
    screenshot(page, airflow, "report-page-e2e_fail")


@pytest.mark.parametrize("plan", ["e2e_recover", "e2e_keep"])
def test_a_confirmed_recovery_and_a_kept_drill_terminate_nothing(
    airflow: LifecycleDeployment, plan: str
) -> None:
    state, states = airflow.finish(plan)

    assert state == "success", states
    assert states["cleanup"] == "skipped"
    launched = airflow.launched(plan)
    assert len(launched) == 1
    assert not launched & airflow.terminated()
    assert launched <= airflow.instances_left()
    report = airflow.report(plan)
    assert report["cleanup"]["state"] == "skipped"
    assert report["mode"] == ("recovery" if plan == "e2e_recover" else "drill")


def test_a_failed_wave_fails_the_run_and_on_success_terminates_nothing(airflow: LifecycleDeployment) -> None:
    state, states = airflow.finish("e2e_fail")

    assert state == "failed", states
    assert states["app.wait_for_recovery"] == "failed"
    assert (states["cleanup"], states["report"]) == ("skipped", "success")
    assert not airflow.launched("e2e_fail") & airflow.terminated()
    report = airflow.report("e2e_fail")
    assert (report["state"], report["rto_seconds"]) == ("failed", None)
    [failed] = report["waves"][1]["servers"]
    assert failed["rawError"] == "Volume vol-0aa could not be attached"

    events = airflow.events("e2e_fail")
    assert [event["event"] for event in events] == ["started", "wave_failed", "failed"]
    assert events[1]["subject"] == "[DRS drill] e2e_fail: wave app failed: fail-app did not launch"
    assert events[1]["body"]["failed_servers"][0]["rawError"] == "Volume vol-0aa could not be attached"
    assert events[2]["body"]["failed"] == ["app: failed"]


def test_a_report_s3_refuses_fails_its_task_and_the_run_says_so_everywhere(
    airflow: LifecycleDeployment,
) -> None:
    plan = "e2e_unkept"
    dag_id, run_id = f"drs_plan_{plan}", airflow.runs[plan]
    key = f"runs/{dag_id}/{run_id}.json"
    store_error = {"bucket": SEALED_BUCKET, "key": key, "error": "403: Forbidden"}
    not_stored = f"bucket {SEALED_BUCKET}, key {key}: 403: Forbidden"

    state, states = airflow.finish(plan)

    # preflight's probe went through; S3 refused only the report. The run's state stays what its
    # waves made it (docs/reference/run-report.md), the report task says the evidence is not kept.
    assert state == "success", states
    assert (states["preflight"], states["db.wait_for_recovery"], states["report"]) == (
        "success",
        "success",
        "failed",
    ), states
    error = airflow.rest.xcom(dag_id, run_id, "report", "task_error")
    assert error.startswith(f"DrsReportNotStoredError: the run report was not stored: {not_stored}; "), error
    lines = airflow.log_lines(plan, "report")
    assert any(
        f"DrsReportNotStoredError: the run report was not stored: {not_stored}" in line for line in lines
    )

    # The document is still in Airflow (XCom and log), and names no object: none was written.
    report = airflow.report(plan)
    assert (report["state"], [wave["state"] for wave in report["waves"]]) == ("success", ["success"])
    assert "location" not in report
    assert report["store_error"] == store_error
    [kept] = [line for line in lines if line.startswith("the run report, kept here as it was not stored:")]
    assert json.loads(kept.split("\n", 1)[1]) == report
    s3 = local_aws.client("s3", airflow.moto_url)
    assert s3.list_objects_v2(Bucket=SEALED_BUCKET).get("Contents", []) == []  # nor the probe left behind

    events = airflow.events(plan)
    assert [event["event"] for event in events] == ["started", "succeeded"]
    final = events[1]
    assert final["subject"].startswith(f"[DRS drill] {plan}: run succeeded in "), final["subject"]
    assert final["subject"].endswith(", report NOT stored"), final["subject"]
    assert (final["body"]["report"], final["body"]["store_error"]) == (None, store_error)

    view = airflow.view(plan)
    assert view["state"] == "success"
    assert (view["report"]["stored"], view["report"]["text"], view["report"]["location"]) == (
        False,
        "NOT stored",
        None,
    )
    assert view["report"]["error"] == f"not stored in S3: {not_stored}"
    assert {"where": "report", "message": f"not stored in S3: {not_stored}"} in view["failures"]
    page = airflow.page(plan).text
    assert '<span class="badge bad" id="report-state">report not stored</span>' in page
    assert f"not stored in S3: {not_stored}" in page


def test_a_run_past_its_rto_target_says_so_while_it_still_waits(airflow: LifecycleDeployment) -> None:
    state, states = airflow.finish("e2e_slow")

    assert state == "failed", states
    assert states["db.pre_1_approval"] == "failed"  # nobody answered
    assert airflow.launched("e2e_slow") == set()
    events = airflow.events("e2e_slow")
    kinds = [event["event"] for event in events]
    # The alarm comes while the run still waits on the approval, before the wave fails. Whether the
    # run's first tasks start before the 60 s target passes depends on how fast the machine starts
    # them, not on the product: on a loaded machine the alarm came before the approval was asked,
    # and even before "started" (sent as preflight starts; the alarm counts from the run's queueing).
    assert sorted(kinds) == sorted(["started", "approval_requested", "rto_missed", "wave_failed", "failed"])
    assert kinds.index("started") < kinds.index("approval_requested"), kinds
    assert kinds[-2:] == ["wave_failed", "failed"], kinds
    by_kind = {event["event"]: event for event in events}
    requested = by_kind["approval_requested"]["body"]
    assert requested["task_id"] == "db.pre_1_approval"
    assert requested["answer"]["method"] == "PATCH"
    assert requested["answer"]["url"].endswith("/taskInstances/db.pre_1_approval/-1/hitlDetails")
    assert "/dags/drs_plan_e2e_slow/" in requested["ui_url"]
    missed = by_kind["rto_missed"]
    assert missed["subject"] == "[DRS drill] e2e_slow: still running after its RTO target of 60 s"
    assert missed["body"]["run_id"] == airflow.runs["e2e_slow"]


def test_a_drill_with_no_cleanup_key_terminates_its_instances_also_when_it_failed(
    airflow: LifecycleDeployment,
) -> None:
    state, states = airflow.finish("e2e_default")

    assert state == "failed", states
    assert states["app.wait_for_recovery"] == "failed"
    assert (states["cleanup"], states["report"]) == ("success", "success")
    launched = airflow.launched("e2e_default")
    assert launched, "the db wave launched its server"
    assert launched <= airflow.terminated()
    assert not launched & airflow.instances_left()
    report = airflow.report("e2e_default")
    assert (report["state"], report["cleanup"]["state"]) == ("failed", "success")
    assert set(report["cleanup"]["terminated"]) == launched


def terminate(
    airflow: LifecycleDeployment, plan: str, body: dict[str, Any], run_id: str | None = None
) -> Any:
    """The Recovery view's "Terminate this drill's instances", posted through the API server as admin."""
    path = terminate_path(f"drs_plan_{plan}", run_id or airflow.runs[plan])
    return requests.post(
        f"{airflow.stack.api_url}{path}",
        headers={"Authorization": f"Bearer {airflow.rest.login()}"},
        json=body,
        timeout=180,
    )


def test_a_kept_drill_is_terminated_from_its_recovery_page_and_its_report_records_it(
    airflow: LifecycleDeployment,
) -> None:
    state, states = airflow.finish("e2e_never")
    run_id = airflow.runs["e2e_never"]

    assert state == "success", states
    assert "cleanup" not in states  # cleanup: never renders no cleanup task
    launched = airflow.launched("e2e_never")
    assert len(launched) == 1 and launched <= airflow.instances_left()
    page = requests.get(
        f"{airflow.stack.api_url}{run_page_path('drs_plan_e2e_never', run_id)}",
        headers={"Authorization": f"Bearer {airflow.rest.login()}"},
        timeout=30,
    )
    assert page.status_code == 200
    action = page.text.split('<div class="terminate"', 1)[1].split("</button>", 1)[0]
    assert f'data-confirm="{run_id}"' in action and "Terminate this drill" in action
    assert next(iter(launched)) in action

    # Not confirmed, or confirmed with another run's id: nothing is done.
    for body in ({}, {"confirm": "e2e_never"}, {"confirm": airflow.runs["e2e_recover"]}):
        refused = terminate(airflow, "e2e_never", body)
        assert refused.status_code == 400, refused.text
    # A recovery's instances are the recovered production: refused, confirmed or not.
    airflow.finish("e2e_recover")
    refused = terminate(airflow, "e2e_recover", {"confirm": airflow.runs["e2e_recover"]})
    assert refused.status_code == 409 and "a recovery run" in refused.json()["detail"], refused.text
    assert not (launched | airflow.launched("e2e_recover")) & airflow.terminated()

    done = terminate(airflow, "e2e_never", {"confirm": run_id})

    assert done.status_code == 200, done.text
    cleanup = done.json()["cleanup"]
    assert (cleanup["state"], set(cleanup["terminated"]), cleanup["failed"]) == ("success", launched, [])
    assert (cleanup["requested_by"], cleanup["via"]) == ("admin", "recovery_view")
    assert [set(call["request"]["recoveryInstanceIDs"]) for call in terminate_calls(airflow, launched)] == [
        launched
    ]
    assert not launched & airflow.instances_left()
    # The report records it: the report task's XCom and its S3 object alike.
    report = airflow.report("e2e_never")
    assert report["cleanup"] == cleanup
    assert report["cleanup"]["earlier"] is None  # cleanup: never: the run had no cleanup task
    assert report["state"] == "success"
    bucket, key = report["location"].removeprefix("s3://").split("/", 1)
    s3 = local_aws.client("s3", airflow.moto_url)
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored["cleanup"] == cleanup
    # and its page says who asked, and what went
    html = s3.get_object(Bucket=bucket, Key=key.removesuffix(".json") + ".html")["Body"].read().decode()
    assert "Requested by admin at" in " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert all(instance in html for instance in cleanup["terminated"])
    # Once done, nothing is left to do; and the page no longer offers it.
    again = terminate(airflow, "e2e_never", {"confirm": run_id})
    assert again.status_code == 409 and "left no recovery instance" in again.json()["detail"], again.text
    page = requests.get(
        f"{airflow.stack.api_url}{run_page_path('drs_plan_e2e_never', run_id)}",
        headers={"Authorization": f"Bearer {airflow.rest.login()}"},
        timeout=30,
    )
    assert 'class="terminate"' not in page.text
    assert len(terminate_calls(airflow, launched)) == 1


def test_the_terminate_action_refuses_a_run_still_going(airflow: LifecycleDeployment) -> None:
    # A recovery without confirm: preflight fails it before any DRS call, a few seconds from now.
    run_id = airflow.rest.trigger("drs_plan_e2e_never", {"mode": "recovery"})

    going = terminate(airflow, "e2e_never", {"confirm": run_id}, run_id=run_id)

    assert going.status_code == 409, going.text
    assert re.search(r"the run is (queued|running)", going.json()["detail"]), going.text
    assert airflow.rest.wait_for_run("drs_plan_e2e_never", run_id, timeout=RUN_TIMEOUT) == "failed"
    ended = terminate(airflow, "e2e_never", {"confirm": run_id}, run_id=run_id)
    assert ended.status_code == 409 and "preflight did not pass" in ended.json()["detail"], ended.text


def terminate_calls(airflow: LifecycleDeployment, instances: set[str]) -> list[dict[str, Any]]:
    """The TerminateRecoveryInstances calls that named any of ``instances``."""
    return [
        call
        for call in airflow.simulator.calls("TerminateRecoveryInstances")
        if set(call["request"]["recoveryInstanceIDs"]) & instances
    ]


def test_a_drill_across_two_regions_launches_and_cleans_up_each_wave_in_its_region(
    airflow: LifecycleDeployment,
) -> None:
    state, states = airflow.finish("e2e_two_regions")

    assert state == "success", states
    dag_id = "drs_plan_e2e_two_regions"
    launches = {
        call["region"]: [server["sourceServerID"] for server in call["request"]["sourceServers"]]
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:dag_id") == dag_id and not call.get("error")
    }
    assert launches == {"us-east-1": [IDS["east-db"]], WEST: [IDS["west-app"]]}
    report = airflow.report("e2e_two_regions")
    launched = {s["sourceServerID"]: s["recoveryInstanceID"] for w in report["waves"] for s in w["servers"]}
    terminated = {
        call["region"]: call["request"]["recoveryInstanceIDs"]
        for call in airflow.simulator.calls("TerminateRecoveryInstances")
        if set(call["request"]["recoveryInstanceIDs"]) & set(launched.values())
    }
    assert terminated == {"us-east-1": [launched[IDS["east-db"]]], WEST: [launched[IDS["west-app"]]]}
    assert sorted(report["cleanup"]["terminated"]) == sorted(launched.values())


def test_a_drill_recovers_a_staging_accounts_server_through_its_extended_source_server(
    airflow: LifecycleDeployment,
) -> None:
    state, states = airflow.finish("e2e_staging")

    assert state == "success", states
    extended = airflow.extended[STAGING_ARN]
    assert extended != STAGED["id"]  # an ID of its own in the module's account
    dag_id = "drs_plan_e2e_staging"
    launches = [
        [server["sourceServerID"] for server in call["request"]["sourceServers"]]
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:dag_id") == dag_id and not call.get("error")
    ]
    assert launches == [[extended]]
    report = airflow.report("e2e_staging")
    [server] = [server for wave in report["waves"] for server in wave["servers"]]
    assert (server["sourceServerID"], server["hostname"], server["launchStatus"]) == (
        extended,
        "staged-erp",
        "LAUNCHED",
    )
    assert server["stagingAccountID"] == STAGING_ACCOUNT
    launched = airflow.launched("e2e_staging")
    assert launched == {server["recoveryInstanceID"]}
    assert launched <= airflow.terminated()
    assert not launched & airflow.instances_left()
    assert report["cleanup"]["terminated"] == [server["recoveryInstanceID"]]
