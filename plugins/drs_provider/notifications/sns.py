"""A plan's events as SNS messages: a subject a person reads in a mail client, a JSON body for scripts.

Events (docs/reference/notifications.md, ``notify.events``) and who sends them:

============================  ========================================================
``started``                   ``preflight``, as it starts (first try only)
``approval_requested``        every approval step, as it starts waiting (a HITL notifier)
``wave_failed``               any task of a wave that fails (its ``on_failure_callback``)
``rto_missed``                a Deadline Alert, when a still-running run passes ``rto_target``
``succeeded`` / ``failed``    ``report``, with the report's summary
``readiness_changed``         ``drs_readiness``'s ``check``, when the plan's status changed
============================  ========================================================

Every message carries the message attributes ``event`` and ``plan`` (for subscription filter
policies) and a body ``{"event", "plan", "dag_id", "run_id", "mode", "time", ...}``. A message
that cannot be sent is logged, never raised: a notification must not fail a wave.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.amazon.aws.hooks.sns import SnsHook
from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

from drs_provider.constants import MODE_DRILL, MODE_RECOVERY, PREFLIGHT_TASK_ID, dag_id_of
from drs_provider.exceptions import DrsJobFailedError
from drs_provider.hooks.lean_clients import lean_hook
from drs_provider.plans.model import NOTIFY_EVENTS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

log = logging.getLogger(__name__)

#: SNS limits a subject to 100 characters.
SUBJECT_LIMIT = 100


def subject_line(mode: str | None, plan: str, what: str) -> str:
    """``[DRS drill] shop: wave database failed``; a recovery says so in capitals."""
    tag = {MODE_RECOVERY: "DRS RECOVERY", "readiness": "DRS readiness"}.get(mode or "", "DRS drill")
    text = f"[{tag}] {plan}: {what}"
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class PlanEvents:
    """Where one plan's events go (``notify`` in the plan) and how to reach SNS."""

    plan: str
    topic_arn: str
    events: tuple[str, ...] = NOTIFY_EVENTS
    aws_conn_id: str | None = "aws_default"
    region_name: str | None = None

    def wants(self, event: str) -> bool:
        return event in self.events

    def message(
        self, event: str, run_id: str, mode: str | None, what: str, **details: Any
    ) -> tuple[str, str]:
        """The subject and the JSON body of one event."""
        body = {
            "event": event,
            "plan": self.plan,
            "dag_id": dag_id_of(self.plan),
            "run_id": run_id,
            "mode": mode,
            "time": _now(),
            **details,
        }
        return subject_line(mode, self.plan, what), json.dumps(body, default=str)

    def attributes(self, event: str) -> dict[str, str]:
        return {"event": event, "plan": self.plan}

    def send(self, event: str, run_id: str, mode: str | None, what: str, **details: Any) -> bool:
        """Publish one event if the plan wants it; False (logged) when it could not be sent."""
        if not self.wants(event):
            return False
        try:
            subject, body = self.message(event, run_id, mode, what, **details)
            lean_hook(SnsHook)(aws_conn_id=self.aws_conn_id, region_name=self.region_name).publish_to_target(
                target_arn=self.topic_arn,
                message=body,
                subject=subject,
                message_attributes=self.attributes(event),
            )
        except Exception:  # a notification never fails the run
            log.exception("could not send the %s event of plan %s to %s", event, self.plan, self.topic_arn)
            return False
        log.info("sent the %s event of plan %s to %s", event, self.plan, self.topic_arn)
        return True


def run_mode(context: Mapping[str, Any]) -> str:
    """The run's mode: what preflight resolved, else what the run asked for (drill unless recovery)."""
    ti = context.get("ti")
    resolved = None
    if ti is not None:
        try:
            resolved = ti.xcom_pull(task_ids=PREFLIGHT_TASK_ID, map_indexes=-1)
        except Exception:  # no result yet (preflight itself), or none at all
            resolved = None
    if isinstance(resolved, dict) and resolved.get("mode"):
        return str(resolved["mode"])
    params = context.get("params") or {}
    return MODE_RECOVERY if params.get("mode") == MODE_RECOVERY else MODE_DRILL


def _api_base_url() -> str:
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback="http://localhost:8080").rstrip("/")


def _started(events: PlanEvents, context: Mapping[str, Any]) -> dict[str, Any] | None:
    ti = context["ti"]
    if getattr(ti, "try_number", 1) not in (None, 0, 1):
        return None  # a retry of preflight is not a new run
    params = context.get("params") or {}
    return {
        "what": "run started",
        "waves": list(params.get("waves") or []) or "all",
        "point_in_time": params.get("point_in_time"),
    }


def _approval_requested(events: PlanEvents, context: Mapping[str, Any]) -> dict[str, Any] | None:
    ti = context["ti"]
    task = context.get("task")
    base = _api_base_url()
    dag, run, task_id = (quote(str(part), safe="") for part in (ti.dag_id, ti.run_id, ti.task_id))
    link = None
    if task is not None and hasattr(task, "generate_link_to_ui_from_context"):
        try:
            link = task.generate_link_to_ui_from_context(context=context, base_url=base)
        except Exception:
            link = None
    return {
        "what": f"approval waits: {ti.task_id}",
        "task_id": ti.task_id,
        "question": getattr(task, "subject", None),
        "ui_url": link or f"{base}/dags/{dag}/runs/{run}/tasks/{task_id}",
        "answer": {
            "method": "PATCH",
            "url": f"{base}/api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task_id}/-1/hitlDetails",
            "body": {"chosen_options": ["Approve"], "params_input": {}},
            "options": ["Approve", "Reject"],
        },
    }


def _wave_failed(events: PlanEvents, context: Mapping[str, Any]) -> dict[str, Any] | None:
    ti = context["ti"]
    wave, _, task = str(ti.task_id).partition(".")
    error = context.get("exception")
    details: dict[str, Any] = {
        "wave": wave,
        "task_id": ti.task_id,
        "error": f"{type(error).__name__}: {error}",
    }
    if isinstance(error, DrsJobFailedError):
        details["failed_servers"] = [
            {
                "sourceServerID": server.source_server_id,
                "hostname": server.hostname,
                "jobID": server.job_id,
                "launchStatus": server.launch_status,
                "rawError": server.raw_error,
            }
            for server in error.failed
        ]
        names = ", ".join(server.hostname or server.source_server_id for server in error.failed)
        details["what"] = f"wave {wave} failed: {names} did not launch"
    else:
        details["what"] = f"wave {wave} failed at {task}"
    return details


#: How each event is described from a task's context (the report and the deadline send their own).
CONTEXT_EVENTS: dict[str, Callable[[PlanEvents, Mapping[str, Any]], dict[str, Any] | None]] = {
    "started": _started,
    "approval_requested": _approval_requested,
    "wave_failed": _wave_failed,
}


class PlanEventNotifier(SnsNotifier):
    """The amazon provider's :class:`SnsNotifier` sending one event of a plan run (see the module docstring).

    Used as a task callback (``on_execute_callback``, ``on_failure_callback``) and as a HITL
    notifier. The message is composed from the task's context when the event happens.

    :param event: ``started``, ``approval_requested`` or ``wave_failed``.
    :param events: where the plan's events go.
    """

    # Plan text is data (as for the plan DAG's operators, ``PlanTextMixin``): the topic and the
    # connection come from the plan file, and the message is composed in ``notify`` from the task.
    template_fields: Sequence[str] = ()

    def __init__(self, *, event: str, events: PlanEvents, **kwargs: Any) -> None:
        if event not in CONTEXT_EVENTS:
            raise ValueError(f"{event!r} is not sent from a task (task events: {', '.join(CONTEXT_EVENTS)})")
        super().__init__(
            aws_conn_id=events.aws_conn_id,
            region_name=events.region_name,
            target_arn=events.topic_arn,
            message="",
            **kwargs,
        )
        self.event = event
        self.events = events

    def notify(self, context: Any) -> None:
        if not self.events.wants(self.event):
            return
        try:
            details = CONTEXT_EVENTS[self.event](self.events, context)
        except Exception:  # never fail the task over its notification
            log.exception("could not compose the %s event of plan %s", self.event, self.events.plan)
            return
        if details is None:
            return
        what = str(details.pop("what"))
        self.events.send(self.event, str(context["ti"].run_id), run_mode(context), what, **details)


@dataclass(frozen=True)
class RtoDeadline:
    """The arguments of :func:`rto_missed` (a Deadline Alert callback's kwargs must be JSON)."""

    events: PlanEvents
    rto_target: int
    kwargs: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "kwargs",
            {
                "plan": self.events.plan,
                "topic_arn": self.events.topic_arn,
                "events": list(self.events.events),
                "aws_conn_id": self.events.aws_conn_id,
                "region_name": self.events.region_name,
                "rto_target": self.rto_target,
            },
        )


async def rto_missed(
    context: Mapping[str, Any],
    *,
    plan: str,
    topic_arn: str,
    events: Sequence[str],
    aws_conn_id: str | None,
    region_name: str | None,
    rto_target: int,
) -> None:
    """Deadline Alert callback (runs in the triggerer): a run still going has passed its RTO target."""
    import asyncio

    dag_run = context.get("dag_run") or {}
    if dag_run.get("state") not in (None, "running", "queued"):
        log.info(
            "run %s of plan %s has ended (%s): no rto_missed",
            dag_run.get("dag_run_id"),
            plan,
            dag_run.get("state"),
        )
        return
    target = PlanEvents(plan, topic_arn, tuple(events), aws_conn_id, region_name)
    conf = dag_run.get("conf") or {}
    mode = MODE_RECOVERY if conf.get("mode") == MODE_RECOVERY else MODE_DRILL
    await asyncio.to_thread(
        target.send,
        "rto_missed",
        str(dag_run.get("dag_run_id") or ""),
        mode,
        f"still running after its RTO target of {rto_target} s",
        rto_target=rto_target,
        queued_at=dag_run.get("queued_at"),
        deadline=(context.get("deadline") or {}).get("deadline_time"),
    )
