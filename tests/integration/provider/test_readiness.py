"""Readiness of a hidden-problem fleet: one problem per plan, one healthy plan (docs/how-to/readiness.md).

Real boto3 against the in-process simulator (DRS) and moto (SSM, SNS), plans loaded from YAML
files as the DAG loads them, through :func:`check_plans`, the ``drs-plan ready`` command and
the operator's status-change notification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tools.processes import wait_until

from drs_provider.cli import main
from drs_provider.operators.readiness import DrsReadinessOperator, check_plans, status_changes
from drs_provider.plans.loader import load_plans

if TYPE_CHECKING:
    from pathlib import Path

    from drs_simulator.testing.plugin import DrsSimulatorHandle
    from tests.fixtures.moto import LocalAws

pytestmark = pytest.mark.integration

TOPIC = "arn:aws:sns:us-east-1:123456789012:readiness"


def server(number: int, hostname: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"s-0c{number:015d}", "hostname": hostname, "launch_seconds": 30, **extra}


HEALTHY = server(1, "healthy-db", tags={"App": "healthy"})
STALLED = server(2, "stalled-db", replication_state="STALLED")
LAGGING = server(3, "lagging-db", lag_seconds=7200)
RECOVERED = server(4, "recovered-db")
TAGGED = [server(5 + n, f"tagged-{n}", tags={"App": "tagged"}) for n in range(3)]
STEPPED = server(8, "stepped-db")
UNDRILLED = server(9, "undrilled-db")
FORGOTTEN = server(10, "forgotten-db")
LONER = server(11, "loner-db")  # replicates, no plan recovers it
MISSING_ID = "s-0c999999999999999"
FLEET = {
    "account_id": "123456789012",
    "region": "us-east-1",
    "source_servers": [HEALTHY, STALLED, LAGGING, RECOVERED, *TAGGED, STEPPED, UNDRILLED, FORGOTTEN, LONER],
}


def plan(name: str, servers: dict[str, Any], **keys: Any) -> dict[str, Any]:
    wave: dict[str, Any] = {"name": "db", "servers": servers}
    wave.update(keys.pop("wave", {}))
    return {"plan": name, "waves": [wave], **keys}


PLANS = {
    "healthy": plan("healthy", {"tags": {"App": "healthy"}}, rpo_target=3600, wave={"expect_servers": 1}),
    "missing": plan("missing", {"ids": [MISSING_ID]}),
    "stalled": plan("stalled", {"ids": [STALLED["id"]]}),
    "lagging": plan("lagging", {"ids": [LAGGING["id"]]}, rpo_target=900),
    "recovered": plan("recovered", {"ids": [RECOVERED["id"]]}),
    "tagged": plan("tagged", {"tags": {"App": "tagged"}}, wave={"expect_servers": 2}),
    "no_tags": plan("no_tags", {"tags": {"App": "gone"}}),
    "stepped": plan(
        "stepped",
        {"ids": [STEPPED["id"]]},
        wave={"post": [{"ssm_command": {"document": "No-Such-Document", "name": "smoke"}}]},
    ),
    "undrilled": plan("undrilled", {"ids": [UNDRILLED["id"]]}, drill_every=86400 * 90),
    "forgotten": plan("forgotten", {"ids": [FORGOTTEN["id"]]}),
    "unreported": plan(
        "unreported", {"ids": [HEALTHY["id"]]}, report={"s3_uri": "s3://no-such-bucket/runs/"}
    ),
}
EXPECTED = {
    "healthy": ("ready", []),
    "missing": ("not_ready", [("error", "server_missing", MISSING_ID)]),
    "stalled": ("not_ready", [("error", "replication_not_continuous", STALLED["id"])]),
    "lagging": (
        "not_ready",
        [("error", "lag_over_rpo", LAGGING["id"]), ("warning", "snapshot_too_old", LAGGING["id"])],
    ),
    "recovered": ("not_ready", [("error", "recovered_instance_live", RECOVERED["id"])]),
    "tagged": ("not_ready", [("error", "tags_count_changed", None)]),
    "no_tags": ("not_ready", [("error", "tags_select_none", None)]),
    "stepped": ("not_ready", [("error", "step_target_missing", None)]),
    "undrilled": ("at_risk", [("warning", "drill_overdue", UNDRILLED["id"])]),
    "forgotten": ("at_risk", [("warning", "stale_drill_instance", FORGOTTEN["id"])]),
    "unreported": ("not_ready", [("error", "report_bucket_missing", None)]),
}


@pytest.fixture
def plans_dir(tmp_path: Path) -> Path:
    for name, document in PLANS.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def launch(drs_simulator: DrsSimulatorHandle, server_id: str, *, drill: bool) -> None:
    client = drs_simulator.client()
    job = client.start_recovery(isDrill=drill, sourceServers=[{"sourceServerID": server_id}])["job"]
    wait_until(
        f"job {job['jobID']} to end",
        lambda: client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED",
        timeout=30,
        interval=0.05,
    )


@pytest.fixture
def fleet(drs_simulator: DrsSimulatorHandle, aws_conn: str) -> DrsSimulatorHandle:
    """The fleet with its hidden problems: a real recovery, a drill instance left two days. The
    clock then stands still, so that DRS's "now" is the one the checks are given."""
    drs_simulator.reset(FLEET)
    launch(drs_simulator, FORGOTTEN["id"], drill=True)
    drs_simulator.advance(2 * 86400)
    launch(drs_simulator, RECOVERED["id"], drill=False)
    drs_simulator.set_speed(0)
    return drs_simulator


def drs_now(fleet: DrsSimulatorHandle) -> datetime:
    """The simulator's time (it runs faster than the wall clock, and was moved two days on)."""
    return datetime.fromtimestamp(fleet.set_speed(0)["epoch"], UTC)


def summary(result: dict[str, Any]) -> dict[str, tuple[str, list[tuple[str, str, str | None]]]]:
    return {
        name: (entry["status"], sorted((f["severity"], f["code"], f["server"]) for f in entry["findings"]))
        for name, entry in result["plans"].items()
    }


def test_each_hidden_problem_gives_its_plan_exactly_its_code_and_launches_nothing(
    fleet: DrsSimulatorHandle, plans_dir: Path
) -> None:
    before = len(fleet.calls())
    result = check_plans(load_plans(plans_dir).plans, now=drs_now(fleet))

    assert summary(result) == {name: (status, sorted(codes)) for name, (status, codes) in EXPECTED.items()}
    calls = fleet.calls()[before:]
    assert {call["operation"] for call in calls} <= {
        "DescribeSourceServers",
        "DescribeRecoveryInstances",
        "DescribeJobs",
        "DescribeRecoverySnapshots",
        "ListStagingAccounts",
    }
    counts = {
        op: sum(call["operation"] == op for call in calls) for op in {call["operation"] for call in calls}
    }
    # batched across plans: one listing each; snapshots only for the two rpo_target plans' servers;
    # no staging account, so nothing listed beyond them
    assert counts == {
        "DescribeSourceServers": 1,
        "DescribeRecoveryInstances": 1,
        "DescribeJobs": 1,
        "DescribeRecoverySnapshots": 2,
        "ListStagingAccounts": 1,
    }
    [coverage] = result["coverage"]
    assert [entry["server"] for entry in coverage["uncovered"]] == [LONER["id"]]
    findings = {f["code"]: f for entry in result["plans"].values() for f in entry["findings"]}
    assert "replication STALLED" in findings["replication_not_continuous"]["message"]
    assert "lag 2h is over rpo_target 15m" in findings["lag_over_rpo"]["message"]
    assert "No-Such-Document" in findings["step_target_missing"]["message"]
    assert "select 3 source server(s), expect_servers is 2" in findings["tags_count_changed"]["message"]
    assert "never launched in a drill" in findings["drill_overdue"]["message"]
    assert datetime.fromisoformat(result["checked_at"]).tzinfo is not None


def test_a_connection_that_fails_makes_each_of_its_plans_not_ready(
    aws_conn: str, plans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9"}}
        ),
    )
    result = check_plans(load_plans(plans_dir).plans[:2])

    for entry in result["plans"].values():
        [finding] = entry["findings"]
        assert (entry["status"], finding["code"]) == ("not_ready", "connection_failed")
        assert "DRS in aws_default, us-east-1 cannot be read" in finding["message"]


def test_drs_plan_ready_names_the_server_and_exits_1(
    fleet: DrsSimulatorHandle, plans_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ready", "--plans-dir", str(plans_dir)]) == 1
    out = capsys.readouterr().out
    assert "healthy: ready" in out
    assert f"stalled: not ready\n  error replication_not_continuous (wave db server {STALLED['id']})" in out
    assert f"coverage: {LONER['id']} (loner-db) replicates" in out

    assert main(["ready", "--plans-dir", str(plans_dir), "--json"]) == 1
    assert summary(json.loads(capsys.readouterr().out))["healthy"] == ("ready", [])


def test_a_ready_folder_exits_0(fleet: DrsSimulatorHandle, tmp_path: Path) -> None:
    (tmp_path / "healthy.yaml").write_text(yaml.safe_dump(PLANS["healthy"]))
    assert main(["ready", "--plans-dir", str(tmp_path)]) == 0


def test_a_status_change_sends_one_readiness_changed_message(
    fleet: DrsSimulatorHandle, local_aws_services: LocalAws, tmp_path: Path
) -> None:
    sns, sqs = local_aws_services.client("sns"), local_aws_services.client("sqs")
    sns.create_topic(Name="readiness")
    url = sqs.create_queue(QueueName="readiness-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn)
    for name in ("stalled", "healthy"):
        (tmp_path / f"{name}.yaml").write_text(
            yaml.safe_dump({**PLANS[name], "notify": {"sns_topic_arn": TOPIC}})
        )
    operator = DrsReadinessOperator(task_id="check", plans_dir=str(tmp_path))
    plans = load_plans(tmp_path).plans
    current = check_plans(plans)
    previous = {"plans": {"stalled": {"status": "ready"}, "healthy": {"status": "ready"}}}

    assert status_changes(previous, current) == {"stalled": ("ready", "not_ready")}
    operator._announce(plans, previous, current, {"ti": _Ti()})  # type: ignore[arg-type]

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    [envelope] = [json.loads(message["Body"]) for message in messages]
    body = json.loads(envelope["Message"])
    assert envelope["Subject"] == "[DRS readiness] stalled: ready -> not ready"
    assert (body["event"], body["status"], body["previous_status"]) == (
        "readiness_changed",
        "not_ready",
        "ready",
    )
    assert [f["code"] for f in body["findings"]] == ["replication_not_continuous"]


class _Ti:
    run_id = "scheduled__2026-12-05T00:00:00+00:00"


def test_a_first_check_announces_only_plans_that_are_not_ready() -> None:
    current = {"plans": {"a": {"status": "ready"}, "b": {"status": "at_risk"}}}
    assert status_changes(None, current) == {"b": (None, "at_risk")}
    assert status_changes({"plans": {"a": {"status": "at_risk"}}}, current) == {
        "a": ("at_risk", "ready"),
        "b": (None, "at_risk"),
    }


def test_checked_at_is_now() -> None:
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert check_plans([], now=moment) == {"checked_at": moment.isoformat(), "plans": {}, "coverage": []}


def test_a_plan_across_two_regions_is_checked_in_each_and_reported_once(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, tmp_path: Path
) -> None:
    west = server(20, "west-db", region="us-west-2")
    east = server(21, "east-app", replication_state="STALLED")
    drs_simulator.reset({**FLEET, "source_servers": [west, east]})
    document = {
        "plan": "two_regions",
        "waves": [
            {"name": "db", "region": "us-west-2", "servers": {"ids": [west["id"]]}},
            {"name": "app", "servers": {"ids": [east["id"]]}},
        ],
    }
    (tmp_path / "two_regions.yaml").write_text(yaml.safe_dump(document))

    result = check_plans(load_plans(tmp_path).plans, now=drs_now(drs_simulator))

    # the west server is found in its own region (no unknown-server finding); the east one is
    # stalled there; one entry for the plan
    assert summary(result) == {
        "two_regions": ("not_ready", [("error", "replication_not_continuous", east["id"])])
    }
    assert sorted(entry["region"] for entry in result["coverage"]) == ["us-east-1", "us-west-2"]
