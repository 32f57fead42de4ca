"""The ``drs_readiness`` task ``native_plans``: every plan with ``native_plan: true`` mirrored into
DRS native recovery plans, so the DRS console can still launch its servers wave by wave when
Airflow itself is down.

Each run resolves the plan's servers (:mod:`drs_provider.hooks.native_plan_servers`), maps them
(:func:`~drs_provider.recovery.native_plan.native_plans`) and brings each account and region in
line by difference (:meth:`~drs_provider.hooks.drs_native_plans.DrsNativePlansMixin.sync_native_plans`).
A plan that does not opt in is never touched, not even its native plans of an earlier opt-in.

The task returns::

    {"plans": {"<plan>": {"native_plans": [names], "changes": ["<where>: <what>", ...]}},
     "targets": {"<plan>": [{"aws_conn_id", "region"}, ...]}}

``targets`` is where each plan may hold native plans: the next run reads it back, so a plan whose
waves moved to another account or region has its native plans deleted where they no longer
belong (there is no listing of every region to find them otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_provider.exceptions import DrsNativePlanSyncError, NativePlanFailure
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.native_plan_servers import RESOLVE_ERRORS, resolve_plan_servers
from drs_provider.operators.plan_folder import PlanFolderOperator
from drs_provider.operators.report_store import aws_error
from drs_provider.readiness import NATIVE_PLANS_TASK_ID
from drs_provider.recovery.native_plan import Target, native_plans

if TYPE_CHECKING:
    from airflow.sdk import Context

    from drs_provider.plans.model import Plan


@dataclass
class Mirror:
    """One plan's pass: the native plans it now has, what changed, where it may hold native plans,
    and where they could not be brought in line."""

    native_plans: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    failures: list[NativePlanFailure] = field(default_factory=list)


def mirror_plan(plan: Plan, earlier: Sequence[Target] = (), default_conn_id: str = "aws_default") -> Mirror:
    """Bring ``plan``'s native plans in line in every target its waves name, and delete them in
    the ``earlier`` targets (where an earlier run left some) that its waves no longer name.

    A target whose waves could not be resolved is left as it is (a partial view must not delete
    steps); a target that fails does not stop the others.
    """
    mirror = Mirror()
    resolved = resolve_plan_servers(plan, default_conn_id)
    wanted = native_plans(plan, resolved.servers, resolved.targets)
    for failure in resolved.failures:
        mirror.failures.append(NativePlanFailure(plan.name, str(failure.target), str(failure)))
    hooks = dict(resolved.hooks)
    for target in earlier:
        if target not in hooks:
            hooks[target] = DrsHook(aws_conn_id=target.aws_conn_id, region_name=target.region)
    named = set(resolved.targets.values())
    for target, hook in hooks.items():
        if target in resolved.failed_targets:
            mirror.targets.append(target)  # unknown what it should hold: it may still hold some
            continue
        mine = [native for native in wanted if native.target == target]
        try:
            done = hook.sync_native_plans(plan.name, mine)
        except RESOLVE_ERRORS as error:
            mirror.failures.append(NativePlanFailure(plan.name, str(target), aws_error(error)))
            mirror.targets.append(target)
            continue
        mirror.changes += [f"{target}: {line}" for line in done]
        mirror.native_plans += [native.name for native in mine]
        if target in named:
            mirror.targets.append(target)
    return mirror


def targets_json(targets: Sequence[Target]) -> list[dict[str, str | None]]:
    return [{"aws_conn_id": target.aws_conn_id, "region": target.region} for target in targets]


def earlier_targets(previous: object) -> dict[str, list[Target]]:
    """Plan -> the targets the previous run recorded (nothing when it recorded none)."""
    recorded = previous.get("targets") if isinstance(previous, Mapping) else None
    if not isinstance(recorded, Mapping):
        return {}
    return {
        str(name): [
            Target(entry.get("aws_conn_id"), entry.get("region"))
            for entry in entries
            if isinstance(entry, Mapping)
        ]
        for name, entries in recorded.items()
        if isinstance(entries, list)
    }


class DrsNativePlansOperator(PlanFolderOperator):
    """Mirror every ``native_plan: true`` plan of a folder into DRS native recovery plans.

    Plans whose file does not load are skipped (the ``check`` task reports them). A failing plan
    or target does not stop the others; the task then fails naming each plan, target and cause
    (:class:`~drs_provider.exceptions.DrsNativePlanSyncError`).
    """

    ui_color = "#e8eef4"

    def execute(self, context: Context) -> dict[str, Any]:
        plans = self.run_plans(context, "not mirrored")
        previous = context["ti"].xcom_pull(task_ids=NATIVE_PLANS_TASK_ID, include_prior_dates=True)
        earlier = earlier_targets(previous)
        mirrored = [plan for plan in plans if plan.native_plan]
        # What this run does not look at is remembered as it was, so a run for some plans only
        # (the ``plans`` param) does not forget where the others' native plans are.
        result: dict[str, Any] = {
            "plans": {},
            "targets": {name: targets_json(targets) for name, targets in earlier.items()},
        }
        failures: list[NativePlanFailure] = []
        for plan in mirrored:
            try:
                mirror = mirror_plan(plan, earlier.get(plan.name, ()))
            except Exception as error:  # anything else (a connection Airflow lacks): the next plan
                failures.append(NativePlanFailure(plan.name, "every account and region", aws_error(error)))
                continue
            result["plans"][plan.name] = {"native_plans": mirror.native_plans, "changes": mirror.changes}
            result["targets"][plan.name] = targets_json(mirror.targets)
            counts = (len(mirror.native_plans), len(mirror.changes))
            self.log.info("%s: %d native plan(s), %d change(s)", plan.name, *counts)
            for line in mirror.changes:
                self.log.info("  %s", line)
            failures += mirror.failures
        if not mirrored:
            self.log.info("no plan here has native_plan: true; nothing to mirror")
        if failures:
            raise DrsNativePlanSyncError(failures)
        return result
