"""Run events as SNS messages: subjects a person reads, JSON bodies a script parses, never a failed task."""

from __future__ import annotations

import json

import pytest

from drs_provider.notifications.sns import SUBJECT_LIMIT, PlanEventNotifier, PlanEvents, subject_line

TOPIC = "arn:aws:sns:us-east-1:123456789012:dr-events"
EVENTS = PlanEvents("shop", TOPIC, aws_conn_id=None, region_name="us-east-1")


def test_subjects_say_drill_or_recovery_and_fit_sns() -> None:
    assert subject_line("drill", "shop", "run started") == "[DRS drill] shop: run started"
    assert subject_line("recovery", "shop", "run started") == "[DRS RECOVERY] shop: run started"
    long = subject_line("drill", "shop", "x" * 200)
    assert len(long) == SUBJECT_LIMIT and long.endswith("...")


def test_the_body_is_json_with_the_run_and_the_details() -> None:
    subject, body = EVENTS.message("wave_failed", "manual__1", "drill", "wave app failed", wave="app")

    assert subject == "[DRS drill] shop: wave app failed"
    data = json.loads(body)
    assert {key: data[key] for key in ("event", "plan", "dag_id", "run_id", "mode", "wave")} == {
        "event": "wave_failed",
        "plan": "shop",
        "dag_id": "drs_plan_shop",
        "run_id": "manual__1",
        "mode": "drill",
        "wave": "app",
    }
    assert data["time"].endswith("+00:00")
    assert EVENTS.attributes("wave_failed") == {"event": "wave_failed", "plan": "shop"}


def test_a_message_that_cannot_be_sent_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    # No AWS behind this connection at all: publishing fails, the caller goes on.
    unreachable = PlanEvents("shop", TOPIC, aws_conn_id="no_such_connection", region_name="us-east-1")

    assert unreachable.send("started", "manual__1", "drill", "run started") is False
    assert "could not send the started event of plan shop" in caplog.text


def test_only_task_events_have_a_notifier() -> None:
    with pytest.raises(ValueError, match="'succeeded' is not sent from a task"):
        PlanEventNotifier(event="succeeded", events=EVENTS)
