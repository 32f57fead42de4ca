"""The Recovery view's one action: terminate what a finished drill left running, and record it.

Everything else the view shows is read from Airflow; this action acts. It terminates exactly
what the ``cleanup`` task would have (:mod:`drs_provider.recovery.cleanup`: a drill instance that
one of the run's own jobs launched, found through the jobs' ``airflow:dag_id`` and
``airflow:run_id`` tags), through the run's own connection and region as ``preflight`` recorded
them, and waits a bounded time for the TERMINATE jobs. Then it records what it did in the run's
report: the ``report`` task's XCom is rewritten with the new ``cleanup`` entry (the earlier one
kept under ``earlier``), and so are the report's S3 objects (JSON and page) when the run stored them.

Refused (409), with nothing terminated: a run still going, a run that is not a drill, a run
whose preflight did not pass (it launched nothing), a run without a report, and a run DRS says
is a recovery, is still launching, or left nothing to terminate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.run import ResolvedRun
from drs_provider.recovery.run_record import PREFLIGHT_TASK, REPORT_TASK, RETURN_VALUE

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from sqlalchemy.orm import Session

#: Seconds the request waits for the TERMINATE jobs; DRS usually ends them within a minute or
#: two. Past it the report says ``terminating`` with the jobs, and the action can be sent again.
WAIT_SECONDS = 120.0
#: Seconds between DescribeJobs calls while it waits.
POLL_SECONDS = 2.0
#: How the report names who did it.
VIA = "recovery_view"
#: Run states in which a run has ended.
FINISHED_STATES = frozenset({"success", "failed"})


class ActionRefused(Exception):
    """The action was refused before anything was terminated; the message says why."""


@dataclass(frozen=True)
class Terminated:
    """What the action did: the report's new ``cleanup`` entry, and where the report now is."""

    cleanup: dict[str, Any]
    #: the S3 object rewritten, if the run stores its report there
    location: str | None
    #: why the S3 object could not be rewritten (the XCom was), if it could not
    store_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"cleanup": self.cleanup, "location": self.location, "store_error": self.store_error}


def _xcom(session: Session, dag_run: DagRun, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    row = session.scalar(
        select(XComModel).where(
            XComModel.dag_id == dag_run.dag_id,
            XComModel.run_id == dag_run.run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == -1,
            XComModel.key == RETURN_VALUE,
        )
    )
    return None if row is None else XComModel.deserialize_value(row)


def terminate_drill_instances(session: Session, dag_run: DagRun, user: str) -> Terminated:
    """Terminate what the finished drill ``dag_run`` launched and record it in its report.

    :raises ActionRefused: naming why, before any DRS call that changes anything.
    """
    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.cleanup import merge_entries, refusal
    from drs_provider.recovery.job_tags import JOB_LOOKBACK, run_tags

    state = str(getattr(dag_run.state, "value", dag_run.state))
    if state not in FINISHED_STATES:
        raise ActionRefused(f"the run is {state}: its instances are terminated only once it has ended")
    resolved = _xcom(session, dag_run, PREFLIGHT_TASK)
    if not isinstance(resolved, dict):
        raise ActionRefused("preflight did not pass, so this run launched nothing")
    run = ResolvedRun.from_json(resolved)
    if not run.is_drill:
        raise ActionRefused("a recovery run: its instances are the recovered production and stay")
    report = _xcom(session, dag_run, REPORT_TASK)
    if not isinstance(report, dict):
        raise ActionRefused(
            "the run has no report to record the action in (its report task did not run); "
            "use drs-plan cleanup --run instead"
        )
    hook = DrsHook(aws_conn_id=run.aws_conn_id or "aws_default", region_name=run.region)
    since = dag_run.run_after or dag_run.start_date
    tags, since = run_tags(dag_run.dag_id, dag_run.run_id), since - JOB_LOOKBACK if since else None
    # every account and region the run's waves launched in
    found = [
        (at, *at.run_cleanup_plan(tags, since=since)) for at in (hook.at(*place) for place in run.places())
    ]
    why = refusal([job for _, jobs, _ in found for job in jobs])
    if why:
        raise ActionRefused(why)
    if not any(plan.to_terminate for _, _, plan in found):
        left = "; ".join(f"{i}: {reason}" for _, _, plan in found for i, reason in plan.left_alone.items())
        raise ActionRefused(
            "this drill left no recovery instance to terminate" + (f" ({left})" if left else "")
        )
    entry = merge_entries(
        [at.carry_out_cleanup(plan, timeout=WAIT_SECONDS, waiter_delay=POLL_SECONDS) for at, _, plan in found]
    )
    entry.update(
        requested_by=user,
        requested_at=datetime.now(UTC).isoformat(),
        via=VIA,
        earlier=report.get("cleanup"),
    )
    report["cleanup"] = entry
    return _record(session, dag_run, report, run)


def _record(session: Session, dag_run: DagRun, report: dict[str, Any], run: ResolvedRun) -> Terminated:
    """The report with its new ``cleanup`` entry: the ``report`` task's XCom, and its S3 object."""
    from airflow.models.xcom import XComModel

    from drs_provider.operators.report_store import aws_error, put_report

    location = report.get("location")
    store_error = None
    if isinstance(location, str) and location.startswith("s3://"):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from drs_provider.hooks.lean_clients import lean_hook

        bucket, _, key = location.removeprefix("s3://").partition("/")
        try:
            put_report(lean_hook(S3Hook)(aws_conn_id=run.aws_conn_id or "aws_default"), report, bucket, key)
        except Exception as error:  # the XCom is still rewritten; the answer says what S3 said
            store_error = f"bucket {bucket}, key {key}: {aws_error(error)}"
    XComModel.set(
        RETURN_VALUE,
        report,
        dag_id=dag_run.dag_id,
        task_id=REPORT_TASK,
        run_id=dag_run.run_id,
        session=session,
    )
    return Terminated(
        cleanup=report["cleanup"],
        location=location if isinstance(location, str) else None,
        store_error=store_error,
    )
