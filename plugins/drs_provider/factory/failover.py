"""The DAG ``drs_failover``: every plan of the folder as one ``recover_<plan>`` task.

``after_plans`` become task edges, so a plan's recovery starts once the plans it names have
recovered (``none_failed_min_one_success``: an unpicked plan before it does not hold it back, a
failed one does). Plans the failover cannot run are left out and named: an ``after_plans`` entry
no plan of the folder has, a cycle of ``after_plans``, or a plan after one of those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from airflow.sdk import DAG

    from drs_provider.plans.model import Plan


def excluded_plans(plans: Sequence[Plan]) -> dict[str, str]:
    """Plan name -> why the failover cannot run it."""
    names = {plan.name for plan in plans}
    after = {plan.name: plan.after_plans for plan in plans}
    excluded: dict[str, str] = {}
    for plan in plans:
        unknown = [name for name in plan.after_plans if name not in names]
        if unknown:
            excluded[plan.name] = f"after_plans names no plan: {', '.join(unknown)}"
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for before in after.get(name, ()):
            if state.get(before) == 1:
                cycle = [*path[path.index(before) :], before]
                for member in cycle:
                    excluded.setdefault(member, f"after_plans cycle: {' -> '.join(cycle)}")
            elif before in after and state.get(before) is None:
                visit(before, [*path, before])
        state[name] = 2

    for plan in plans:
        if plan.name not in state:
            visit(plan.name, [plan.name])
    changed = True
    while changed:  # a plan after an excluded plan would wait forever
        changed = False
        for plan in plans:
            blocked = [name for name in plan.after_plans if name in excluded]
            if plan.name not in excluded and blocked:
                excluded[plan.name] = f"after {', '.join(blocked)}, which the failover cannot run"
                changed = True
    return excluded


def failover_dag(plans: Sequence[Plan]) -> DAG:
    """``drs_failover`` for these plans (see :mod:`drs_provider.operators.failover`)."""
    from airflow.sdk import DAG, Param

    from drs_provider.operators.failover import (
        FAILOVER_DAG_ID,
        SELECT_TASK_ID,
        SUMMARY_TASK_ID,
        DrsFailoverPlanOperator,
        DrsFailoverSelectOperator,
        DrsFailoverSummaryOperator,
        plan_task_id,
    )

    excluded = excluded_plans(plans)
    runnable = [plan for plan in plans if plan.name not in excluded]
    names = [plan.name for plan in plans]
    doc = [
        "# Region failover",
        "",
        "Recovers many plans in one action: conf `plans` (names), `tags` (plans whose `tags` include "
        'them) or `all: true`, with `confirm: "failover"`. Each plan runs as its own recovery run of '
        "its own DAG, after the plans its `after_plans` names.",
        "",
        *(
            f"- `{plan.name}`" + (f" after {', '.join(plan.after_plans)}" if plan.after_plans else "")
            for plan in runnable
        ),
        *(f"- `{name}`: **not in the failover**: {why}" for name, why in excluded.items()),
    ]
    with DAG(
        FAILOVER_DAG_ID,
        schedule=None,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=False,
        tags=["drs", "failover"],
        doc_md="\n".join(doc),
        params={
            "plans": Param(
                None,
                type=["null", "array"],
                items={"type": "string", "enum": names} if names else {"type": "string"},
                title="Plans",
                description="Recover these plans (or give tags, or all).",
            ),
            "tags": Param(
                None,
                type=["null", "object"],
                title="Tags",
                description="Recover the plans with all these tags.",
            ),
            "all": Param(False, type="boolean", title="All plans", description="Recover every plan."),
            "confirm": Param(
                None,
                type=["null", "string"],
                title="Confirm failover",
                description='Type "failover": every selected plan is really recovered.',
            ),
        },
    ) as dag:
        select = DrsFailoverSelectOperator(
            task_id=SELECT_TASK_ID,
            plans=[
                {"name": plan.name, "tags": dict(plan.tags), "after_plans": list(plan.after_plans)}
                for plan in runnable
            ],
            excluded=excluded,
            retries=0,
        )
        summary = DrsFailoverSummaryOperator(
            task_id=SUMMARY_TASK_ID,
            excluded=excluded,
            report_places={
                plan.name: (plan.report_s3_uri, plan.aws_conn_id) for plan in runnable if plan.report_s3_uri
            },
            trigger_rule="all_done",
            retries=0,
        )
        tasks: dict[str, Any] = {}
        # Higher priority plans start first, but a plan's own tasks (its preflight, its launches)
        # go before the failover starts yet more plans: the weights stay at the bottom, 1 for the
        # lowest priority. Above every plan task, the 40 starts of a 40-plan failover took the
        # worker's slots first, and the first launch waited for all of them.
        levels = sorted({plan.priority for plan in runnable})
        for plan in sorted(runnable, key=lambda plan: -plan.priority):
            tasks[plan.name] = DrsFailoverPlanOperator(
                task_id=plan_task_id(plan.name),
                plan_name=plan.name,
                trigger_rule="none_failed_min_one_success",
                priority_weight=1 + levels.index(plan.priority),
                weight_rule="absolute",
                retries=0,
            )
            select >> tasks[plan.name] >> summary
        for plan in runnable:
            for before in plan.after_plans:
                tasks[before] >> tasks[plan.name]
    return dag


def failover_dags(plans_dir: str | Path) -> dict[str, DAG]:
    """``{"drs_failover": DAG}`` for the valid plans of ``plans_dir`` (for a DAG file's globals)."""
    from drs_provider.factory.import_errors import load_buildable_plans

    dag = failover_dag(load_buildable_plans(plans_dir).plans)
    return {dag.dag_id: dag}
