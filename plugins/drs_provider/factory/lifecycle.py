"""Render what surrounds a plan's waves: the run's notifications, its RTO deadline, cleanup and report.

* ``notify``: ``started`` from ``preflight`` (``on_execute_callback``), ``wave_failed`` from every
  wave task (``on_failure_callback``), ``approval_requested`` from approval steps (HITL
  notifiers), ``succeeded``/``failed`` from ``report``, ``rto_missed`` from a Deadline Alert.
* ``cleanup`` (when the plan's policy is not ``never``) and ``report``: teardown tasks after
  every wave (docs/explanation/dag-and-waves.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drs_provider.constants import CLEANUP_TASK_ID, REPORT_TASK_ID
from drs_provider.plans.model import CLEANUP_NEVER, FAILBACK_CLEANUP_TERMINATE

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import BaseOperator
    from airflow.sdk.definitions.deadline import DeadlineAlert

    from drs_provider.notifications.sns import PlanEvents
    from drs_provider.plans.model import Plan


def plan_events(plan: Plan, aws: Mapping[str, Any]) -> PlanEvents | None:
    """Where the plan's events go, or None when it sends none."""
    if plan.notify is None:
        return None
    from drs_provider.notifications.sns import PlanEvents

    return PlanEvents(
        plan=plan.name,
        topic_arn=plan.notify.sns_topic_arn,
        events=plan.notify.events,
        aws_conn_id=aws.get("aws_conn_id"),
        region_name=aws.get("region_name"),
    )


def event_callbacks(events: PlanEvents | None, event: str, hook: str) -> dict[str, Any]:
    """``{hook: [notifier]}`` that sends ``event``, or nothing when the plan does not want it."""
    if events is None or not events.wants(event):
        return {}
    from drs_provider.notifications.sns import PlanEventNotifier

    return {hook: [PlanEventNotifier(event=event, events=events)]}


def rto_deadline(plan: Plan, events: PlanEvents | None) -> DeadlineAlert | None:
    """A Deadline Alert sending ``rto_missed`` once a run still going passes ``rto_target``.

    The deadline counts from when the run was queued, the closest reference Airflow offers to
    ``preflight``'s start (the report's RTO starts there, a second or two later).
    """
    if plan.rto_target is None or events is None or not events.wants("rto_missed"):
        return None
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    from drs_provider.notifications.sns import RtoDeadline, rto_missed

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(seconds=plan.rto_target),
        callback=AsyncCallback(rto_missed, kwargs=RtoDeadline(events, plan.rto_target).kwargs),
        name="rto_target",
    )


def render_lifecycle(
    plan: Plan, aws: Mapping[str, Any], events: PlanEvents | None, after: Sequence[BaseOperator]
) -> list[BaseOperator]:
    """``cleanup`` (if the plan has a policy) then ``report``, teardowns downstream of ``after``."""
    from drs_provider.operators.lifecycle import DrsPlanCleanupOperator, DrsPlanReportOperator

    tasks: list[BaseOperator] = []
    # A plan whose failbacks terminate the recovery-region instances asks for a cleanup too.
    if plan.cleanup != CLEANUP_NEVER or plan.failback_cleanup == FAILBACK_CLEANUP_TERMINATE:
        tasks.append(
            DrsPlanCleanupOperator(
                task_id=CLEANUP_TASK_ID,
                plan_name=plan.name,
                policy=plan.cleanup,
                failback_cleanup=plan.failback_cleanup,
                doc_md=(
                    f"Drills ({plan.cleanup}): terminates the drill instances this run launched. "
                    f"Failbacks ({plan.failback_cleanup}): see the plan's failback_cleanup."
                ),
                **aws,
            )
        )
    tasks.append(
        DrsPlanReportOperator(
            task_id=REPORT_TASK_ID,
            plan_name=plan.name,
            rto_target=plan.rto_target,
            s3_uri=plan.report_s3_uri,
            events=events,
            doc_md="The run report: per wave and server what happened, and the measured RTO.",
            **aws,
        )
    )
    for task in tasks:
        list(after) >> task
        task.as_teardown()
    if len(tasks) == 2:
        tasks[0] >> tasks[1]
    return tasks
