"""A drill's approval trigger: an answer fires only when nothing else delivered it.

Airflow's HITL endpoint resumes a deferred approval itself when a person answers; the trigger then
must not fire as well (its event would land on whichever task SQLite gives the trigger's ID next).
The lease and the HITL detail are read through the Task SDK's supervisor, which a unit test does
not have: those two reads are replaced here, the trigger's own loop runs as it is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from airflow.providers.standard.triggers import hitl as hitl_triggers
from airflow.sdk.api.datamodels._generated import HITLDetailResponse, HITLUser

from drs_provider.triggers import plan_lease
from drs_provider.triggers.plan_lease import DrsDrillApprovalTrigger

pytestmark = pytest.mark.unit

ANSWERED = HITLDetailResponse(
    response_received=True,
    responded_by_user=HITLUser(id="ops", name="ops"),
    responded_at=datetime(2026, 12, 6, tzinfo=UTC),
    chosen_options=["Approve"],
    params_input={},
)


def trigger(answer_grace: float) -> DrsDrillApprovalTrigger:
    return DrsDrillApprovalTrigger(
        ti_id=uuid4(),
        options=["Approve", "Reject"],
        params={},
        timeout_datetime=None,
        poke_interval=0.01,
        plan_name="app",
        run_id="manual__1",
        reject_option="Reject",
        answer_grace=answer_grace,
    )


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The lease preempts nothing; the HITL detail holds an answer. Returns the reads made."""
    reads: list[Any] = []
    monkeypatch.setattr(plan_lease, "preempted_by", lambda plan, run: reads.append(("lease", plan, run)))
    monkeypatch.setattr(
        hitl_triggers, "get_hitl_detail_content_detail", lambda ti_id: reads.append("hitl") or ANSWERED
    )
    return reads


async def first_event(subject: DrsDrillApprovalTrigger, within: float) -> Any:
    events = subject.run()
    try:
        return await asyncio.wait_for(anext(events), within)
    finally:
        await events.aclose()


def test_an_answer_fires_after_the_grace_when_the_trigger_is_still_wanted(answered: list[Any]) -> None:
    event = asyncio.run(first_event(trigger(answer_grace=0.05), within=5))

    assert event.payload["chosen_options"] == ["Approve"]
    assert answered == [("lease", "app", "manual__1"), "hitl"]


def test_an_answer_does_not_fire_while_the_endpoint_resumes_the_task(answered: list[Any]) -> None:
    """Cancelled within the grace (the triggerer drops a trigger whose task resumed): no event."""
    with pytest.raises(TimeoutError):
        asyncio.run(first_event(trigger(answer_grace=60), within=0.5))
    assert "hitl" in answered


def test_the_grace_survives_serialization() -> None:
    classpath, kwargs = trigger(answer_grace=7).serialize()

    assert classpath == "drs_provider.triggers.plan_lease.DrsDrillApprovalTrigger"
    assert DrsDrillApprovalTrigger(**kwargs).answer_grace == 7
