"""DRS native recovery plans in :class:`~drs_provider.hooks.drs.DrsHook`: the ones a plan owns
(tagged ``drs:plan``), and bringing them in line with what the plan maps to
(:mod:`drs_provider.recovery.native_plan`), by difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import TAG_NATIVE_PLAN
from drs_provider.exceptions import DrsProviderError
from drs_provider.recovery.native_plan import kept_steps

if TYPE_CHECKING:
    from collections.abc import Sequence

    # Type-checked as the hook it is mixed into; a plain class at run time.
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook as _HookBase

    from drs_provider.recovery.native_plan import NativePlan
else:
    _HookBase = object


class DrsNativePlansMixin(_HookBase):
    """Native recovery plans: list a plan's, and make them what it maps to."""

    def native_plans_of(self, plan_name: str) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """The native plans tagged ``drs:plan=<plan_name>`` by name (each GetRecoveryPlan's
        ``recoveryPlan`` with its ``tags``), and the names of every other native plan here."""
        owned: dict[str, dict[str, Any]] = {}
        others: set[str] = set()
        for page in self.conn.get_paginator("list_recovery_plans").paginate():
            for summary in page.get("recoveryPlans", []):
                arn = summary["recoveryPlanArn"]
                tags = self.conn.list_tags_for_resource(resourceArn=arn).get("tags") or {}
                if tags.get(TAG_NATIVE_PLAN) != plan_name:
                    others.add(summary["name"])
                    continue
                found = self.conn.get_recovery_plan(recoveryPlanArn=arn)["recoveryPlan"]
                owned[found["name"]] = {**found, "tags": tags}
        return owned, others

    def native_plan_steps(self, recovery_plan_arn: str) -> list[dict[str, Any]]:
        paginator = self.conn.get_paginator("list_recovery_plan_steps")
        steps = [
            step
            for page in paginator.paginate(recoveryPlanArn=recovery_plan_arn)
            for step in page.get("recoveryPlanSteps", [])
        ]
        return sorted(steps, key=lambda step: step["stepOrder"])

    def sync_native_plans(self, plan_name: str, wanted: Sequence[NativePlan]) -> list[str]:
        """Make this region's native plans of ``plan_name`` exactly ``wanted``: create the missing,
        update a description, tags or steps that differ, delete the ones no longer wanted.

        Steps change by difference: the steps that already match from the first stay; the rest are
        deleted from the last back and the wanted ones appended in order, so DRS accepts every
        call (see :func:`~drs_provider.recovery.native_plan.kept_steps`).

        :return: what was done, one line a change
        :raises DrsProviderError: a wanted name is taken by a native plan that is not the plan's
        """
        owned, others = self.native_plans_of(plan_name)
        taken = sorted(native.name for native in wanted if native.name in others)
        if taken:
            raise DrsProviderError(
                f"native recovery plans named {', '.join(taken)} exist in {self.conn_region_name} "
                f"without the tag {TAG_NATIVE_PLAN}={plan_name}: rename or delete them first"
            )
        done: list[str] = []
        for native in wanted:
            tags = dict(native.tags)
            current = owned.get(native.name)
            if current is None:
                arn = self.conn.create_recovery_plan(
                    name=native.name, description=native.description, tags=tags
                )["recoveryPlan"]["recoveryPlanArn"]
                steps: list[dict[str, Any]] = []
                done.append(f"created native plan {native.name}")
            else:
                arn = current["recoveryPlanArn"]
                if current.get("description") != native.description:
                    self.conn.update_recovery_plan(recoveryPlanArn=arn, description=native.description)
                    done.append(f"{native.name}: description updated")
                if any(current["tags"].get(key) != value for key, value in tags.items()):
                    self.conn.tag_resource(resourceArn=arn, tags=tags)
                    done.append(f"{native.name}: tags updated")
                steps = self.native_plan_steps(arn)
            kept = kept_steps(steps, native)
            for step in reversed(steps[kept:]):
                self.conn.delete_recovery_plan_step(recoveryPlanStepArn=step["recoveryPlanStepArn"])
                done.append(f"{native.name}: deleted step {step['stepOrder']} {step['stepName']}")
            for request in native.step_requests()[kept:]:
                self.conn.create_recovery_plan_step(recoveryPlanArn=arn, **request)
                done.append(f"{native.name}: added step {request['stepOrder']} {request['stepName']}")
        names = {native.name for native in wanted}
        for name, current in sorted(owned.items()):
            if name not in names:
                self.conn.delete_recovery_plan(recoveryPlanArn=current["recoveryPlanArn"])
                done.append(f"deleted native plan {name}")
        return done
