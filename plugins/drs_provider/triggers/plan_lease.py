"""Triggers that watch a plan's lease (:mod:`drs_provider.recovery.lease`) from the triggerer.

* :class:`DrsPlanLeaseTrigger`: a drill's preflight waits here while another drill of the plan
  holds it, without a worker slot.
* :class:`DrsDrillApprovalTrigger`: a drill's approval waits here, as providers-standard's
  ``HITLTrigger`` does, and is also closed (answered "Reject") the moment a recovery preempts
  the drill. Airflow 3.3 would park the approval in ``awaiting_input`` instead, where nothing of
  the drill runs that could notice the recovery.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.triggers.hitl import HITLTrigger
from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async

from drs_provider.operators.plan_lease import drill_turn, preempted_by

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Seconds between two reads of the lease.
LEASE_POLL_SECONDS = 5.0
#: ``error_type`` of the approval event of a preempted drill.
PREEMPTED = "preempted"
#: Seconds an approval trigger that sees an answer waits before it fires (see
#: :meth:`DrsDrillApprovalTrigger.run`).
ANSWER_GRACE_SECONDS = 15.0


class DrsPlanLeaseTrigger(BaseTrigger):
    """Wait while another drill holds the plan; the event says ``take`` or ``refuse`` (a recovery holds it).

    :param plan_name: the plan.
    :param run_id: the waiting drill's run.
    :param poll_interval: seconds between two reads of the lease.
    """

    def __init__(self, *, plan_name: str, run_id: str, poll_interval: float = LEASE_POLL_SECONDS) -> None:
        super().__init__()
        self.plan_name = plan_name
        self.run_id = run_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"plan_name": self.plan_name, "run_id": self.run_id, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            verdict, holder = await sync_to_async(drill_turn)(self.plan_name, self.run_id)
            if verdict != "wait":
                yield TriggerEvent({"verdict": verdict, "holder": holder.run_id if holder else None})
                return
            await asyncio.sleep(self.poll_interval)


class DrsDrillApprovalTrigger(HITLTrigger):
    """``HITLTrigger`` for a drill's approval, closed with "Reject" when a recovery preempts the drill.

    :param plan_name: the plan.
    :param run_id: the drill run.
    :param reject_option: the option recorded as the answer when the drill is preempted.
    :param answer_grace: seconds between seeing an answer and firing with it.
    """

    def __init__(
        self,
        *,
        plan_name: str,
        run_id: str,
        reject_option: str,
        answer_grace: float = ANSWER_GRACE_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.run_id = run_id
        self.reject_option = reject_option
        self.answer_grace = answer_grace

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()
        own = {
            "plan_name": self.plan_name,
            "run_id": self.run_id,
            "reject_option": self.reject_option,
            "answer_grace": self.answer_grace,
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", {**kwargs, **own}

    async def _close_if_preempted(self) -> TriggerEvent | None:
        by = await sync_to_async(preempted_by)(self.plan_name, self.run_id)
        if by is None:
            return None
        from airflow.sdk.execution_time.hitl import update_hitl_detail_response

        await sync_to_async(update_hitl_detail_response)(
            ti_id=self.ti_id, chosen_options=[self.reject_option], params_input={}
        )
        self.log.info("approval closed: drill %s preempted by recovery %s", self.run_id, by)
        return TriggerEvent(
            {
                "error": f"preempted by recovery {by}",
                "error_type": PREEMPTED,
                "run_id": self.run_id,
                "preempted_by": by,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """HITLTrigger's loop, with the lease read first on every turn.

        An answer given while the task is deferred resumes it at once (Airflow 3.3's HITL
        endpoint), and the triggerer then cancels this trigger. Were it to fire too, its event
        would name a trigger row already deleted, whose ID SQLite hands to the next deferral: that
        task would be resumed with this answer (seen in the suite: a drill's approval resumed
        0.1 s after it deferred, then failed on Airflow's "state mismatch"). So an answer fires
        only after ``answer_grace`` seconds, when this trigger is still wanted: the answer came
        while the task was still deferring, and nothing else delivers it.
        """
        from airflow.sdk.timezone import utcnow

        while True:
            event = await self._close_if_preempted()
            if event is None and self.timeout_datetime and self.timeout_datetime < utcnow():
                event = await self._handle_timeout()
            if event is None:
                event = await self._handle_response()
                if event is not None:
                    await asyncio.sleep(self.answer_grace)
            if event is not None:
                yield event
                return
            await asyncio.sleep(self.poke_interval)
