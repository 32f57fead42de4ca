"""The end of a plan run: ``cleanup`` terminates what a drill launched, ``report`` leaves the evidence.

Both are Airflow teardown tasks after every wave: they run whatever happened, and their outcome
never changes the run's state (a run with a failed wave stays failed; a cleanup that fails, or a
report that S3 would not store, does not fail a run whose waves succeeded: the failed task, the
final event and the Recovery view say so instead).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from drs_provider.constants import (
    CLEANUP_TASK_ID,
    KEEP_INSTANCES_PARAM,
    MODE_PARAM,
    REPORT_TASK_ID,
    RETURN_VALUE_XCOM_KEY,
    TASK_STARTED_XCOM_KEY,
)
from drs_provider.exceptions import DrsCleanupError, DrsProviderError, DrsReportNotStoredError
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.lean_clients import lean_hook
from drs_provider.operators import failback_cleanup
from drs_provider.operators.plan_lease import preempted_by
from drs_provider.operators.plan_run import resolved_run, run_type_of
from drs_provider.operators.plan_task import PlanTaskMixin
from drs_provider.operators.pulled_xcoms import PulledXComs
from drs_provider.operators.report_store import aws_error, put_report, report_locations
from drs_provider.operators.trigger_identity import triggering_user
from drs_provider.plans.model import (
    CLEANUP_NEVER,
    CLEANUP_ON_SUCCESS,
    CLEANUP_POLICIES,
    FAILBACK_CLEANUP_TERMINATE,
)
from drs_provider.recovery.cleanup import CleanupPlan, merge_entries
from drs_provider.recovery.job_tags import JOB_LOOKBACK, run_tags
from drs_provider.recovery.report import build_report, final_state, s3_location
from drs_provider.recovery.run_record import ApprovalRecord, RunRecord, TaskRecord, step_kind
from drs_provider.recovery.times import parse_time
from drs_provider.recovery.wave_shapes import run_waves

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow.sdk import Context

    from drs_provider.notifications.sns import PlanEvents
    from drs_provider.recovery.run import ResolvedRun

#: States of a wave task that count as "the wave succeeded" for ``cleanup: on_success``.
SUCCEEDED_STATES = frozenset({"success", "skipped"})


def _run_task_states(context: Context) -> dict[str, str | None]:
    """``{task_id: state}`` of every task of this run, through the Task SDK."""
    ti = context["ti"]
    found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    states = found.get(ti.run_id) or {}
    return {str(task_id): (str(state) if state is not None else None) for task_id, state in states.items()}


class DrsPlanCleanupOperator(PlanTaskMixin, AwsBaseOperator[DrsHook]):
    """
    ``cleanup``: terminate exactly the recovery instances this drill's jobs launched.

    Never in a recovery run, whatever the plan says: that would destroy production. Skipped with
    the run parameter ``keep_instances``, and with ``policy`` ``on_success`` when a wave did not
    succeed, except in a drill that a recovery preempted: that one terminates whatever it
    launched (:mod:`drs_provider.recovery.lease`). The instances are found through this run's
    jobs (their ``airflow:dag_id`` and ``airflow:run_id`` tags); each is checked to be a drill
    instance launched by one of those jobs (another run's or a non-drill instance is left alone,
    and the result says so). They are terminated 200 per call; the task waits for the TERMINATE
    jobs and fails naming every instance it could not terminate.

    Returns ``{"state": "success" | "failed" | "skipped", "reason", "terminated", "failed",
    "left_alone", "jobs"}``.

    :param plan_name: the plan.
    :param policy: ``on_success`` or ``always``.
    :param waiter_delay: seconds between DescribeJobs polls of the TERMINATE jobs (at most 1 s
        against the simulator: ``DrsHook.poll_interval``).
    :param timeout: seconds to wait for them.
    """

    aws_hook_class = DrsHook
    ui_color = "#f4e3ff"
    preemptible = False  # a preempted drill's cleanup is what terminates its instances

    def __init__(
        self,
        *,
        plan_name: str,
        policy: str,
        failback_cleanup: str | None = None,
        waiter_delay: int = 5,
        timeout: int = 1800,
        **kwargs: Any,
    ) -> None:
        # ``never`` only for a plan whose failbacks clean up (failback_cleanup: terminate).
        never_ok = failback_cleanup == FAILBACK_CLEANUP_TERMINATE
        if policy not in CLEANUP_POLICIES or (policy == CLEANUP_NEVER and not never_ok):
            task_id = kwargs.get("task_id", CLEANUP_TASK_ID)
            raise ValueError(f"{task_id}: policy must be on_success or always, got {policy!r}")
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.policy = policy
        self.failback_cleanup = failback_cleanup
        self.waiter_delay = waiter_delay
        self.timeout = timeout

    def _skip_reason(
        self, context: Context, run: ResolvedRun | None, unfinished: Callable[[], list[str]]
    ) -> str | None:
        if run is None:
            return "preflight did not pass, so nothing was launched"
        if run.is_failback:
            return failback_cleanup.skip_reason(run, context.get("params") or {}, self.policy, unfinished)
        if not run.is_drill:
            return "a recovery run: its instances are the recovered production and stay"
        by = preempted_by(self.plan_name, context["ti"].run_id)
        if by is not None:
            self.log.warning(
                "drill preempted by recovery %s: every instance it launched is terminated, "
                "whatever cleanup and keep_instances say",
                by,
            )
            return None
        if (context.get("params") or {}).get(KEEP_INSTANCES_PARAM) is True:
            return "the run asked to keep its instances (keep_instances)"
        if self.policy == CLEANUP_ON_SUCCESS and (left := unfinished()):
            return f"cleanup: on_success, and not every wave succeeded ({', '.join(left[:5])} ...)"
        return None

    @staticmethod
    def _unfinished(context: Context) -> list[str]:
        """The run's tasks (but ``cleanup`` and ``report``) that did not succeed."""
        lifecycle = {CLEANUP_TASK_ID, REPORT_TASK_ID}
        states = {task: state for task, state in _run_task_states(context).items() if task not in lifecycle}
        return sorted(task for task, state in states.items() if state not in SUCCEEDED_STATES)

    def run_task(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        ti = context["ti"]
        run = resolved_run(context)
        # The run's task states, read once and only when a decision needs them.
        unfinished = functools.cache(lambda: self._unfinished(context))
        stopped = self._stop_unfinished_failbacks(context, run, unfinished)
        reason = self._skip_reason(context, run, unfinished)
        if reason:
            skipped = {
                "state": "skipped",
                "reason": reason,
                "terminated": [],
                "failed": [],
                "left_alone": [],
                "jobs": [],
                **({"stopped_failbacks": stopped} if stopped else {}),
            }
            self.log.info("cleanup skipped: %s", reason)
            ti.xcom_push(key=RETURN_VALUE_XCOM_KEY, value=skipped)
            raise AirflowSkipException(reason)
        entries = []
        for hook, plan in self._plans(context, run):
            for instance, why in plan.left_alone.items():
                self.log.warning("recovery instance %s left alone: %s", instance, why)
            if plan.to_terminate:
                self.log.info(
                    "terminating %d recovery instance(s) in %s: %s",
                    len(plan.to_terminate),
                    hook.conn_region_name,
                    ", ".join(plan.to_terminate),
                )
            else:
                self.log.info("this run left no recovery instance to terminate in %s", hook.conn_region_name)
            entries.append(hook.carry_out_cleanup(plan, timeout=self.timeout, waiter_delay=self.waiter_delay))
        result = merge_entries(entries)
        if stopped:
            result["stopped_failbacks"] = stopped
        if result["state"] == "terminating":
            ti.xcom_push(key=RETURN_VALUE_XCOM_KEY, value=result)
            waiting = ", ".join(result["jobs"])
            raise DrsProviderError(
                f"{self.task_id}: TERMINATE job(s) {waiting} not COMPLETED after {self.timeout} s"
            )
        if result["failed"]:
            ti.xcom_push(key=RETURN_VALUE_XCOM_KEY, value=result)
            raise DrsCleanupError(result["failed"], result["jobs"])
        return result

    def _stop_unfinished_failbacks(
        self, context: Context, run: ResolvedRun | None, unfinished: Callable[[], list[str]]
    ) -> list[str]:
        """A real failback that did not succeed: StopFailback where it started one on premises."""
        if run is None or not run.is_failback or run.failback_drill or not unfinished():
            return []
        return failback_cleanup.stop_unfinished_failbacks(self.hook, run, *self._run_jobs(context), self.log)

    @staticmethod
    def _run_jobs(context: Context) -> tuple[dict[str, str], datetime | None]:
        """The tags every DRS job of this run carries, and when its jobs may start at the earliest."""
        ti = context["ti"]
        dag_run = context.get("dag_run")
        since = getattr(dag_run, "run_after", None) or getattr(dag_run, "start_date", None)
        return run_tags(ti.dag_id, ti.run_id), since - JOB_LOOKBACK if since else None

    def _plans(self, context: Context, run: ResolvedRun | None) -> list[tuple[DrsHook, CleanupPlan]]:
        """What to terminate, per region (a drill's: one, its own; a failback's: :mod:`.failback_cleanup`)."""
        tags, since = self._run_jobs(context)
        if run is not None and run.is_failback:
            return failback_cleanup.cleanups(self.hook, run, tags, since, self.log) or [
                (self.hook, CleanupPlan())
            ]
        # Each account and region the run's waves launched in holds some of its instances.
        hooks = [self.hook.at(conn_id, region) for conn_id, region in run.places()] if run else [self.hook]
        return [(hook, hook.run_cleanup_plan(tags, since=since)[1]) for hook in hooks]


class DrsPlanReportOperator(PlanTaskMixin, AwsBaseOperator[S3Hook]):
    """
    ``report``: the run report as this task's XCom, and at ``s3_uri`` when set.

    Built with :func:`~drs_provider.recovery.report.build_report` from what the run's tasks left
    behind (read through the Task SDK: task states and durations, XComs), the same builder the
    Recovery view uses live. Sends ``succeeded`` or ``failed`` with the report's summary.

    ``location`` is set once the object is written. When S3 refuses it, the report gets
    ``store_error`` (bucket, key, AWS error) instead, the final event still goes out saying so,
    the document is kept as the XCom and in the log, and the task fails with
    :class:`~drs_provider.exceptions.DrsReportNotStoredError`.

    :param plan_name: the plan.
    :param rto_target: the plan's ``rto_target`` (seconds), if any.
    :param s3_uri: the plan's ``report.s3_uri``, if any.
    :param events: where the plan's events go (``notify``), if anywhere.
    """

    aws_hook_class = lean_hook(S3Hook)
    ui_color = "#e6ffe6"
    preemptible = False

    def __init__(
        self,
        *,
        plan_name: str,
        rto_target: int | None = None,
        s3_uri: str | None = None,
        events: PlanEvents | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.rto_target = rto_target
        self.s3_uri = s3_uri
        self.events = events

    def run_task(self, context: Context) -> dict[str, Any]:
        report = build_report(self.record(context))
        report["rto_target"] = self.rto_target
        report["rto_met"] = (
            None
            if report["rto_seconds"] is None or self.rto_target is None
            else report["rto_seconds"] <= self.rto_target
        )
        not_stored = self._store(report, self.s3_uri) if self.s3_uri else None
        self._announce(report)
        if not_stored is not None:
            # The evidence stays in Airflow: the XCom the Recovery view reads, and this log.
            self.log.error(
                "the run report, kept here as it was not stored:\n%s", json.dumps(report, default=str)
            )
            context["ti"].xcom_push(key=RETURN_VALUE_XCOM_KEY, value=report)
            raise not_stored
        return report

    def _store(self, report: dict[str, Any], s3_uri: str) -> DrsReportNotStoredError | None:
        """Write the report to its S3 object; ``location`` only once it is there, else ``store_error``."""
        bucket, key = s3_location(s3_uri, report["dag_id"], report["run_id"])
        locations = report_locations(bucket, key)
        try:
            put_report(self.hook, {**report, **locations}, bucket, key)
        except Exception as error:  # whatever S3 or the hook raised: the run must say so
            report["store_error"] = {"bucket": bucket, "key": key, "error": aws_error(error)}
            return DrsReportNotStoredError(**report["store_error"])
        report.update(locations)
        self.log.info(
            "run report stored at %s, its page at %s", locations["location"], locations["html_location"]
        )
        return None

    def record(self, context: Context) -> RunRecord:
        """Everything the run's tasks left behind, as the report builder takes it."""
        ti = context["ti"]
        dag = context["dag"]
        states = _run_task_states(context)
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        crumbs = RuntimeTaskInstance.get_task_breadcrumbs(ti.dag_id, ti.run_id)
        durations = {str(crumb["task_id"]): crumb for crumb in crumbs if crumb.get("map_index", -1) == -1}
        task_ids = [task.task_id for task in dag.tasks if task.task_id != self.task_id]
        # never ran: no XComs (a skipped task may have said why, as cleanup does)
        ran = {
            task_id for task_id in task_ids if states.get(task_id) not in (None, "upstream_failed", "removed")
        }
        xcoms = PulledXComs(ti, ran)
        tasks = {}
        for task_id in task_ids:
            started = xcoms.get((task_id, TASK_STARTED_XCOM_KEY))
            start = parse_time(str(started)) if started else None
            duration = (durations.get(task_id) or {}).get("duration")
            tasks[task_id] = TaskRecord(
                task_id=task_id,
                state=states.get(task_id),
                start_date=start,
                end_date=start + timedelta(seconds=float(duration))
                if start and duration is not None
                else None,
                operator=(durations.get(task_id) or {}).get("operator")
                or type(dag.get_task(task_id)).__name__,
            )
        dag_run = context["dag_run"]
        conf = dict(getattr(dag_run, "conf", None) or {})
        record = RunRecord(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            state=None,
            start_date=getattr(dag_run, "start_date", None),
            end_date=datetime.now(UTC),
            waves=run_waves(dag, conf.get(MODE_PARAM)),
            tasks=tasks,
            xcoms=xcoms,
            conf=conf,
            approvals=_approvals(dag, xcoms),
            triggered_by=triggering_user(context),
            run_type=run_type_of(context) or None,
            preempted_by=preempted_by(self.plan_name, ti.run_id),
        )
        return RunRecord(**{**record.__dict__, "state": final_state(record)})

    def _announce(self, report: Mapping[str, Any]) -> None:
        if self.events is None:
            return
        failed = [
            f"{wave['name']}: {wave['state']}"
            for wave in report["waves"]
            if wave["state"] not in ("success", "skipped")
        ]
        event = "succeeded" if report["state"] == "success" else "failed"
        rto = report["rto_seconds"]
        what = f"run {event}" + (f" in {rto:.0f} s" if rto is not None else "")
        store_error = report.get("store_error")
        if store_error:  # before the RTO note: SNS cuts a subject at 100 characters
            what += ", report NOT stored"
        if report.get("rto_met") is False:
            what += f", past its RTO target of {report['rto_target']} s"
        self.events.send(
            event,
            str(report["run_id"]),
            str(report["mode"]),
            what,
            state=report["state"],
            rto_seconds=rto,
            rto_target=report["rto_target"],
            rto_met=report["rto_met"],
            waves={wave["name"]: wave["state"] for wave in report["waves"]},
            failed=failed,
            cleanup=(report.get("cleanup") or {}).get("state"),
            report=report.get("location"),
            store_error=store_error,
        )


def _approvals(dag: Any, xcoms: Mapping[tuple[str, str], Any]) -> dict[str, ApprovalRecord]:
    """Each answered approval step, from its return value (the HITL response it resumed with)."""
    approvals = {}
    for task in dag.tasks:
        if step_kind(task.task_id, type(task).__name__) != "approval":
            continue
        answer = xcoms.get((task.task_id, RETURN_VALUE_XCOM_KEY))
        if not (isinstance(answer, dict) and "chosen_options" in answer):
            continue
        responder = answer.get("responded_by_user") or {}
        responded_at = answer.get("responded_at")
        approvals[task.task_id] = ApprovalRecord(
            task_id=task.task_id,
            subject=str(getattr(task, "subject", "") or ""),
            options=tuple(getattr(task, "options", ()) or ()),
            chosen_options=tuple(answer.get("chosen_options") or ()),
            responded_by=(responder.get("name") or responder.get("id"))
            if isinstance(responder, dict)
            else None,
            responded_at=parse_time(str(responded_at)) if isinstance(responded_at, str) else responded_at,
        )
    return approvals
