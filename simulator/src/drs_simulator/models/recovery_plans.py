"""Native recovery plans and their steps: Create/Get/List/Update/DeleteRecoveryPlan,
Create/Get/List/Update/DeleteRecoveryPlanStep and ReorderRecoveryPlanSteps.

A plan is an ordered list of steps, each a SERVER step (source servers to launch, each CRITICAL or
OPTIONAL) or a WAIT step (minutes). Its status is ACTIVE once it has a SERVER step, else INVALID.
Plan-wide limits are in :mod:`.plan_rules`; running a plan is :mod:`.plan_executions`.

ARNs are the simulator's own shapes (the DRS documentation shows none): ``recovery-plan/rp-...``
and ``recovery-plan-step/rps-...``, each with 17 characters after the prefix, like job IDs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.models.base import BackendBase
from drs_simulator.models.plan_rules import (
    MAX_PLANS_PER_REGION,
    MAX_STEPS_PER_PLAN,
    QUOTA_PLANS_PER_REGION,
    StepShape,
    check_steps,
    invalid,
    shape_of,
)
from drs_simulator.models.wire import iso, random_alnum

if TYPE_CHECKING:
    from drs_simulator.models.plan_executions import PlanExecution


@dataclass
class PlanStep:
    arn: str
    plan_arn: str
    name: str
    #: RecoveryPlanStepConfiguration as the caller gave it (a union: server or wait step)
    configuration: dict[str, Any]
    created: float
    updated: float

    @property
    def shape(self) -> StepShape:
        return shape_of(self.name, self.configuration)


@dataclass
class RecoveryPlan:
    arn: str
    name: str
    description: str | None
    tags: dict[str, str]
    created: float
    updated: float
    steps: list[PlanStep] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "ACTIVE" if any(not step.shape.wait for step in self.steps) else "INVALID"


class RecoveryPlansBackend(BackendBase):
    # -- lookups ----------------------------------------------------------------------------------

    def _not_found(self, what: str, arn: str, resource_type: str) -> errors.ResourceNotFoundException:
        return errors.ResourceNotFoundException(
            f"{what} {arn} not found in account {self.account_id} region {self.region}",
            resource_id=arn,
            resource_type=resource_type,
        )

    def _plan(self, arn: str) -> RecoveryPlan:
        plan = self.recovery_plans.get(arn)
        if plan is None:
            raise self._not_found("Recovery plan", arn, "RECOVERY_PLAN")
        return plan

    def _step(self, arn: str) -> PlanStep:
        step = self.plan_steps.get(arn)
        if step is None:
            raise self._not_found("Recovery plan step", arn, "RECOVERY_PLAN_STEP")
        return step

    def _running_execution(self, plan: RecoveryPlan) -> PlanExecution | None:
        return next((e for e in self.plan_executions.values() if e.plan_arn == plan.arn and e.active), None)

    def _refuse_while_running(self, plan: RecoveryPlan, refused: str) -> None:
        """ConflictException: a running execution follows the plan as it was when it started, and
        DRS lets no one change what it runs from under it."""
        running = self._running_execution(plan)
        if running is not None:
            raise errors.ConflictException(
                f"Cannot {refused}: recovery plan {plan.arn} has execution {running.arn} in progress",
                resource_id=running.arn,
                resource_type="RECOVERY_PLAN_EXECUTION",
            )

    def _repeated(self, operation: str, params: dict[str, Any]) -> str | None:
        """The ARN an earlier call with this ``clientToken`` created, if it still exists."""
        token = params.get("clientToken")
        return self.client_tokens.get((operation, token)) if token else None

    def _remember(self, operation: str, params: dict[str, Any], arn: str) -> None:
        token = params.get("clientToken")
        if token:
            self.client_tokens[(operation, token)] = arn

    def _check_servers(self, configuration: dict[str, Any], field_name: str) -> None:
        """Every server of a SERVER step must be a source server of this account and region."""
        server = configuration.get("serverStepConfiguration")
        for index, entry in enumerate(server["servers"] if server else []):
            arn = entry["serverArn"]
            server_id = arn.rsplit("/", 1)[-1]
            known = self.servers.get(server_id)
            if known is None or known.arn != arn:
                raise errors.ResourceNotFoundException(
                    f"Source server {arn} ({field_name}.serverStepConfiguration.servers[{index}]) not "
                    f"found in account {self.account_id} region {self.region}",
                    resource_id=arn,
                    resource_type="SOURCE_SERVER",
                )

    # -- rendering ------------------------------------------------------------------------------

    @staticmethod
    def _plan_summary(plan: RecoveryPlan) -> dict[str, Any]:
        return {
            "recoveryPlanArn": plan.arn,
            "name": plan.name,
            "status": plan.status,
            "createdAt": iso(plan.created),
            "updatedAt": iso(plan.updated),
        }

    def _plan_json(self, plan: RecoveryPlan) -> dict[str, Any]:
        item = self._plan_summary(plan)
        if plan.description is not None:
            item["description"] = plan.description
        item["tags"] = dict(plan.tags)
        return item

    @staticmethod
    def _step_json(plan: RecoveryPlan, step: PlanStep) -> dict[str, Any]:
        return {
            "recoveryPlanStepArn": step.arn,
            "stepOrder": plan.steps.index(step) + 1,
            "stepName": step.name,
            "configuration": copy.deepcopy(step.configuration),
            "createdAt": iso(step.created),
            "updatedAt": iso(step.updated),
        }

    def _listing(self, key: str, items: list[Any], params: dict[str, Any], render: Any) -> dict[str, Any]:
        """A List* answer: the model names its list ``key`` where Describe* calls say ``items``."""
        answer = self.page(items, params, render)
        answer[key] = answer.pop("items")
        return answer

    # -- plans ----------------------------------------------------------------------------------

    def create_recovery_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        earlier = self._repeated("CreateRecoveryPlan", params)
        if earlier in self.recovery_plans:
            return {"recoveryPlan": self._plan_json(self.recovery_plans[earlier])}
        if len(self.recovery_plans) >= MAX_PLANS_PER_REGION:
            raise errors.ServiceQuotaExceededException(
                f"A region holds at most {MAX_PLANS_PER_REGION} recovery plans",
                quota_code=QUOTA_PLANS_PER_REGION,
                resource_type="RECOVERY_PLAN",
            )
        now = self.clock.now()
        arn = self._new_arn("recovery-plan", "rp-", self.recovery_plans)
        plan = RecoveryPlan(
            arn=arn,
            name=params["name"],
            description=params.get("description"),
            tags=dict(params.get("tags") or {}),
            created=now,
            updated=now,
        )
        self.recovery_plans[arn] = plan
        self._remember("CreateRecoveryPlan", params, arn)
        return {"recoveryPlan": self._plan_json(plan)}

    def _new_arn(self, kind: str, prefix: str, taken: dict[str, Any]) -> str:
        while True:
            arn = self.arn(kind, prefix + random_alnum(17))
            if arn not in taken:
                return arn

    def get_recovery_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return {"recoveryPlan": self._plan_json(self._plan(params["recoveryPlanArn"]))}

    def list_recovery_plans(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plans = sorted(self.recovery_plans.values(), key=lambda plan: plan.created)
        return self._listing("recoveryPlans", plans, params, self._plan_summary)

    def update_recovery_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan = self._plan(params["recoveryPlanArn"])
        if "name" in params:
            plan.name = params["name"]
        if "description" in params:
            plan.description = params["description"]
        plan.updated = self.clock.now()
        return {"recoveryPlan": self._plan_json(plan)}

    def delete_recovery_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan = self._plan(params["recoveryPlanArn"])
        self._refuse_while_running(plan, f"delete recovery plan {plan.arn}")
        for step in plan.steps:
            del self.plan_steps[step.arn]
        del self.recovery_plans[plan.arn]
        # Its executions stay readable: they are the record of what was launched.
        return {"recoveryPlanArn": plan.arn}

    # -- steps ----------------------------------------------------------------------------------

    def create_recovery_plan_step(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan = self._plan(params["recoveryPlanArn"])
        earlier = self._repeated("CreateRecoveryPlanStep", params)
        if earlier in self.plan_steps:
            return {"recoveryPlanStep": self._step_json(plan, self.plan_steps[earlier])}
        self._refuse_while_running(plan, "add a step")
        configuration = params["configuration"]
        order = params.get("stepOrder")
        if order is not None and order > len(plan.steps) + 1:
            raise invalid(
                "stepOrder", f"must be at most {len(plan.steps) + 1}: the plan has {len(plan.steps)} steps"
            )
        position = len(plan.steps) if order is None else order - 1
        shapes = [step.shape for step in plan.steps]
        shapes.insert(position, shape_of(params["stepName"], configuration))
        # A full plan is the plan's fault, not the new step's: name the plan then.
        check_steps(shapes, "recoveryPlanArn" if len(shapes) > MAX_STEPS_PER_PLAN else "configuration")
        self._check_servers(configuration, "configuration")
        now = self.clock.now()
        step = PlanStep(
            arn=self._new_arn("recovery-plan-step", "rps-", self.plan_steps),
            plan_arn=plan.arn,
            name=params["stepName"],
            configuration=copy.deepcopy(configuration),
            created=now,
            updated=now,
        )
        plan.steps.insert(position, step)
        plan.updated = now
        self.plan_steps[step.arn] = step
        self._remember("CreateRecoveryPlanStep", params, step.arn)
        return {"recoveryPlanStep": self._step_json(plan, step)}

    def get_recovery_plan_step(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        step = self._step(params["recoveryPlanStepArn"])
        return {"recoveryPlanStep": self._step_json(self.recovery_plans[step.plan_arn], step)}

    def list_recovery_plan_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan = self._plan(params["recoveryPlanArn"])
        return self._listing(
            "recoveryPlanSteps", plan.steps, params, lambda step: self._step_json(plan, step)
        )

    def update_recovery_plan_step(self, params: dict[str, Any]) -> dict[str, Any]:
        """Change a step's name or configuration in place: it keeps its ARN and its place."""
        self.tick()
        step = self._step(params["recoveryPlanStepArn"])
        plan = self.recovery_plans[step.plan_arn]
        self._refuse_while_running(plan, f"update step {step.arn}")
        name = params.get("stepName", step.name)
        configuration = params.get("configuration", step.configuration)
        shapes = [shape_of(name, configuration) if s is step else s.shape for s in plan.steps]
        check_steps(shapes, "configuration")
        self._check_servers(configuration, "configuration")
        step.name = name
        step.configuration = copy.deepcopy(configuration)
        step.updated = plan.updated = self.clock.now()
        return {"recoveryPlanStep": self._step_json(plan, step)}

    def delete_recovery_plan_step(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        step = self._step(params["recoveryPlanStepArn"])
        plan = self.recovery_plans[step.plan_arn]
        self._refuse_while_running(plan, f"delete step {step.arn}")
        check_steps([s.shape for s in plan.steps if s is not step], "recoveryPlanStepArn")
        plan.steps.remove(step)
        del self.plan_steps[step.arn]
        plan.updated = self.clock.now()
        return {"recoveryPlanStepArn": step.arn}

    def reorder_recovery_plan_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan = self._plan(params["recoveryPlanArn"])
        self._refuse_while_running(plan, "reorder the steps")
        wanted: list[str] = params["orderedStepArns"]
        current = {step.arn: step for step in plan.steps}
        if len(set(wanted)) != len(wanted) or set(wanted) != set(current):
            raise invalid(
                "orderedStepArns",
                f"must list each of the plan's {len(current)} steps exactly once",
            )
        ordered = [current[arn] for arn in wanted]
        check_steps([step.shape for step in ordered], "orderedStepArns")
        plan.steps = ordered
        plan.updated = self.clock.now()
        return {"recoveryPlanSteps": [self._step_json(plan, step) for step in ordered]}
