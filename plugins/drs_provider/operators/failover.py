"""The region failover ``drs_failover``: one confirmed action recovers many plans.

``select`` checks the run's parameters and picks the plans (by name, by plan ``tags``, or all)
before anything starts; each picked plan's ``recover_<plan>`` triggers a recovery run of the
plan's own DAG (its own preflight, report and Recovery page) and waits for it in the triggerer;
``summary`` gathers every plan's run, state and RTO, and the failover's own RTO.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.branch import BaseBranchOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import BaseOperator

from drs_provider.constants import (
    FAILOVER_DAG_ID,
    MODE_RECOVERY,
    REPORT_TASK_ID,
    dag_id_of,
    failover_plan_run_id,
)
from drs_provider.exceptions import DrsPreflightError, DrsProviderError, DrsReportNotStoredError
from drs_provider.hooks.lean_clients import lean_hook
from drs_provider.operators.plan_run import run_type_of
from drs_provider.operators.plan_task import PlanTextMixin
from drs_provider.operators.report_store import aws_error, put_json
from drs_provider.recovery.report import s3_location
from drs_provider.recovery.times import parse_time

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

#: What ``confirm`` must say: a failover recovers for real.
CONFIRM_WORD = "failover"
SELECT_TASK_ID = "select"
SUMMARY_TASK_ID = "summary"
#: XCom key of ``select``: the plans it picked, in plan order.
PICKED_XCOM_KEY = "plans"
#: The run parameters of ``drs_failover``.
FAILOVER_PARAMS = ("plans", "tags", "all", "confirm")


def plan_task_id(plan: str) -> str:
    return f"recover_{plan}"


class DrsFailoverSelectOperator(PlanTextMixin, BaseBranchOperator):
    """
    Check a failover's parameters and pick its plans; the other plans' tasks are skipped.

    Refuses, before any plan starts: a run not triggered by hand, ``confirm`` other than
    ``failover``, not exactly one of ``plans``/``tags``/``all``, unknown plan names (naming the
    closest), a selection of no plan. Plans the failover cannot run (``excluded``: an unknown
    ``after_plans``, a cycle) are named in the log and the summary, never started.

    :param plans: every plan of the deployment: ``name``, ``tags``, ``after_plans``, ``priority``.
    :param excluded: plan name -> why the failover cannot run it.
    """

    ui_color = "#ffe8e8"

    def __init__(
        self, *, plans: Sequence[Mapping[str, Any]], excluded: Mapping[str, str], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.plans = [dict(plan) for plan in plans]
        self.excluded = dict(excluded)

    def picked(self, params: Mapping[str, Any], run_type: str) -> list[str]:
        """The plans this run recovers, in plan order; raises with every problem at once."""
        problems = []
        if run_type != "manual":
            problems.append(f"a {run_type or 'non-manual'} run: a failover must be triggered by hand")
        if params.get("confirm") != CONFIRM_WORD:
            problems.append(
                f"confirm: a failover needs confirm={CONFIRM_WORD!r}, got {params.get('confirm')!r}"
            )
        names = [plan["name"] for plan in self.plans] + sorted(self.excluded)
        by_name, by_tags, everything = (
            params.get("plans") or [],
            params.get("tags") or {},
            bool(params.get("all")),
        )
        given = [key for key, value in (("plans", by_name), ("tags", by_tags), ("all", everything)) if value]
        if len(given) != 1:
            problems.append(
                "plans, tags, all: give exactly one (the plans by name, their tags, or all: true); "
                f"got {', '.join(given) or 'none'}"
            )
        for name in by_name:
            if name not in names:
                close = difflib.get_close_matches(str(name), names, n=1)
                problems.append(
                    f"plans: unknown plan {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                )
        chosen = [
            plan["name"]
            for plan in self.plans
            if everything
            or plan["name"] in by_name
            or (by_tags and all(plan["tags"].get(key) == value for key, value in by_tags.items()))
        ]
        left_out = [name for name in self.excluded if everything or name in by_name]
        if not chosen and not problems:
            problems.append(f"tags: no plan carries all of {by_tags}" if by_tags else "no plan selected")
        if problems:
            raise DrsPreflightError(FAILOVER_DAG_ID, problems)
        for name in left_out:
            self.log.warning("plan %s is not part of the failover: %s", name, self.excluded[name])
        self.log.info("failover of %d plan(s): %s", len(chosen), ", ".join(chosen))
        return chosen

    def choose_branch(self, context: Context) -> list[str]:
        chosen = self.picked(context.get("params") or {}, run_type_of(context))
        context["ti"].xcom_push(key=PICKED_XCOM_KEY, value=chosen)
        return [plan_task_id(name) for name in chosen]


class DrsFailoverPlanOperator(PlanTextMixin, TriggerDagRunOperator):
    """``recover_<plan>``: a confirmed recovery run of the plan's DAG, waited for in the triggerer.

    The run's ID is ``failover__<failover run ID>``, so the plan's Recovery page and its report name
    the failover that started it. A paused plan DAG fails the task at once, naming the DAG (its
    run would wait, queued, until someone unpaused it).
    """

    ui_color = "#ffd6d6"

    def __init__(self, *, plan_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("poke_interval", 5)
        super().__init__(
            trigger_dag_id=dag_id_of(plan_name),
            conf={"mode": MODE_RECOVERY, "confirm": plan_name},
            wait_for_completion=True,
            deferrable=True,
            fail_when_dag_is_paused=True,
            **kwargs,
        )
        self.plan_name = plan_name

    def execute(self, context: Context) -> Any:
        self.trigger_run_id = failover_plan_run_id(context["run_id"])
        return super().execute(context)


class DrsFailoverSummaryOperator(BaseOperator):
    """``summary``: every picked plan's run, state and RTO, and the failover's RTO; fails when a
    picked plan did not recover, or when the summary could not be stored (after recording it as
    its XCom).

    Stored like a run report: beside the reports of the picked plans that keep theirs in S3, at
    ``<s3_uri>drs_failover/<failover run_id>.json`` of each such ``report.s3_uri`` (once per
    place), through the plan's connection. So each plan's evidence has the failover it was part of.

    :param excluded: plans the failover cannot run, and why.
    :param report_places: plan -> ``(report.s3_uri, aws_conn_id)`` of the plans that store reports.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#fff0d6"

    def __init__(
        self,
        *,
        excluded: Mapping[str, str],
        report_places: Mapping[str, tuple[str, str | None]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.excluded = dict(excluded)
        self.report_places = dict(report_places or {})

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        picked = ti.xcom_pull(task_ids=SELECT_TASK_ID, key=PICKED_XCOM_KEY) or []
        started = getattr(context.get("dag_run"), "start_date", None)
        plans: dict[str, dict[str, Any]] = {}
        ends: list[datetime] = []
        for plan in picked:
            task_id = plan_task_id(plan)
            run_id = ti.xcom_pull(task_ids=task_id, key="trigger_run_id")
            entry: dict[str, Any] = {"run_id": run_id, "state": "not started", "rto_seconds": None}
            if run_id:
                entry["state"] = ti.get_dagrun_state(dag_id=dag_id_of(plan), run_id=run_id)
                report = ti.xcom_pull(dag_id=dag_id_of(plan), run_id=run_id, task_ids=REPORT_TASK_ID)
                if isinstance(report, dict):
                    entry["rto_seconds"] = report.get("rto_seconds")
                    begun = parse_time(str(report["started"])) if report.get("started") else None
                    if begun is not None and entry["rto_seconds"] is not None:
                        ends.append(begun + timedelta(seconds=float(entry["rto_seconds"])))
            plans[plan] = entry
        rto = (max(ends) - started).total_seconds() if ends and started else None
        summary = {
            "failover_run_id": context["run_id"],
            "plans": plans,
            "rto_seconds": rto,
            "excluded": self.excluded,
        }
        for plan, entry in plans.items():
            self.log.info(
                "%s: %s (run %s, RTO %s s)", plan, entry["state"], entry["run_id"], entry["rto_seconds"]
            )
        not_stored = self._store(summary, picked)
        failed = [plan for plan, entry in plans.items() if entry["state"] != "success"]
        if failed or not_stored:
            ti.xcom_push(key="return_value", value=summary)
        if failed:
            raise DrsProviderError(f"failover: plan(s) not recovered: {', '.join(failed)}")
        if not_stored:
            raise not_stored
        return summary

    def _store(self, summary: dict[str, Any], picked: Sequence[str]) -> DrsReportNotStoredError | None:
        """Write ``summary`` beside the picked plans' reports; ``locations`` once written, else
        ``store_errors`` (and the first error to raise)."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        places = dict.fromkeys(self.report_places[plan] for plan in picked if plan in self.report_places)
        locations: list[str] = []
        errors: list[dict[str, str]] = []
        for s3_uri, aws_conn_id in places:
            bucket, key = s3_location(s3_uri, FAILOVER_DAG_ID, str(summary["failover_run_id"]))
            try:
                put_json(lean_hook(S3Hook)(aws_conn_id=aws_conn_id or "aws_default"), summary, bucket, key)
            except Exception as error:  # whatever S3 or the hook raised: the failover must say so
                errors.append({"bucket": bucket, "key": key, "error": aws_error(error)})
                continue
            locations.append(f"s3://{bucket}/{key}")
            self.log.info("failover summary stored at s3://%s/%s", bucket, key)
        summary["locations"] = locations
        if errors:
            summary["store_errors"] = errors
            return DrsReportNotStoredError(**errors[0])
        return None
