"""Running a native recovery plan: Start/Get/List/Cancel/DeleteRecoveryPlanExecution and
List/GetRecoveryPlanExecutionStep.

An execution copies the plan's steps when it starts (later edits of the plan do not reach it) and
runs them one at a time in simulated time, through the same scheduler as jobs::

    T         execution CREATED, every step NOT_STARTED
    T+1       IN_PROGRESS; the first step starts
    SERVER    EXECUTING: one LAUNCH job for the step's servers (StartRecovery's own, isDrill per
              mode), then COMPLETED when that job has ended. A CRITICAL server that failed to
              launch fails the step and the execution; an OPTIONAL one does not (the step keeps an
              errorDetail naming it)
    WAIT      WAITING for waitDurationMinutes, then COMPLETED
    last      COMPLETED, completedAt

Cancelling lets the running step finish (CANCELLING), then the execution is CANCELLED and the
steps after it stay NOT_STARTED. An execution still running 24 simulated hours after it started
FAILED, its running step TIMED_OUT. Nothing an execution launched is ever terminated by it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from drs_simulator import exceptions as errors
from drs_simulator.models.launch_jobs import LaunchJobsBackend
from drs_simulator.models.plan_rules import DEFAULT_IMPACT, invalid
from drs_simulator.models.recovery_plans import RecoveryPlansBackend
from drs_simulator.models.wire import iso

EXECUTION_START_DELAY = 1.0  # simulated seconds from CREATED to IN_PROGRESS
MAX_EXECUTION_SECONDS = 24 * 3600
ACTIVE_STATUSES = frozenset({"CREATED", "IN_PROGRESS", "CANCELLING"})


@dataclass
class ExecutionStep:
    arn: str
    index: int  # 1-based, as stepIndex
    name: str
    #: SERVER step: [{serverArn, impactLevel, jobID once launched}]; None for a WAIT step
    servers: list[dict[str, Any]] | None
    wait_minutes: int | None
    created: float
    updated: float
    status: str = "NOT_STARTED"
    error: dict[str, str] | None = None


@dataclass
class PlanExecution:
    arn: str
    plan_arn: str
    mode: str
    tags: dict[str, str]
    started: float
    steps: list[ExecutionStep]
    #: source server ID -> the recovery snapshot StartRecoveryPlanExecution chose for it
    snapshots: dict[str, str]
    status: str = "CREATED"
    completed: float | None = None
    error: dict[str, str] | None = None
    #: index in ``steps`` of the step running (or last run); -1 before the first
    current: int = -1

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class PlanExecutionsBackend(RecoveryPlansBackend, LaunchJobsBackend):
    # -- lookups and rendering ----------------------------------------------------------------------

    def _execution(self, arn: str) -> PlanExecution:
        execution = self.plan_executions.get(arn)
        if execution is None:
            raise self._not_found("Recovery plan execution", arn, "RECOVERY_PLAN_EXECUTION")
        return execution

    @staticmethod
    def _execution_json(execution: PlanExecution, *, full: bool = True) -> dict[str, Any]:
        item: dict[str, Any] = {
            "recoveryPlanExecutionArn": execution.arn,
            "recoveryPlanArn": execution.plan_arn,
            "mode": execution.mode,
            "status": execution.status,
            "startedAt": iso(execution.started),
        }
        if execution.error is not None:
            item["errorDetail"] = dict(execution.error)
        if full:
            if execution.completed is not None:
                item["completedAt"] = iso(execution.completed)
            item["tags"] = dict(execution.tags)
        return item

    @staticmethod
    def _execution_step_json(step: ExecutionStep, *, full: bool = True) -> dict[str, Any]:
        configuration: dict[str, Any] = (
            {"executionServerStepConfiguration": {"servers": copy.deepcopy(step.servers)}}
            if step.servers is not None
            else {"waitStepConfiguration": {"waitDurationMinutes": step.wait_minutes}}
        )
        item: dict[str, Any] = {
            "recoveryPlanExecutionStepArn": step.arn,
            "stepIndex": step.index,
            "status": step.status,
            "stepName": step.name,
            "configuration": configuration,
        }
        if step.error is not None:
            item["errorDetail"] = dict(step.error)
        if full:
            item.update(attempt=1, createdAt=iso(step.created), updatedAt=iso(step.updated))
        return item

    # -- operations ---------------------------------------------------------------------------------

    def start_recovery_plan_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        self.tick(now)
        plan = self._plan(params["recoveryPlanArn"])
        earlier = self._repeated("StartRecoveryPlanExecution", params)
        if earlier in self.plan_executions:
            return {"recoveryPlanExecution": self._execution_json(self.plan_executions[earlier])}
        if plan.status != "ACTIVE":
            raise invalid("recoveryPlanArn", f"recovery plan {plan.arn} is INVALID: it has no SERVER step")
        self._refuse_while_running(plan, "start an execution")
        in_plan = {
            entry["serverArn"].rsplit("/", 1)[-1]
            for step in plan.steps
            for entry in (step.configuration.get("serverStepConfiguration") or {}).get("servers", [])
        }
        snapshots: dict[str, str] = {}
        for index, entry in enumerate(params.get("sourceServers") or []):
            if entry["sourceServerID"] not in in_plan:
                raise invalid(
                    f"sourceServers[{index}].sourceServerID",
                    f"source server {entry['sourceServerID']} is in no step of the plan",
                )
            snapshots[entry["sourceServerID"]] = entry["recoverySnapshotID"]
        arn = self._new_arn("recovery-plan-execution", "rpe-", self.plan_executions)
        steps = [
            self._copy_step(step.name, step.configuration, index, now)
            for index, step in enumerate(plan.steps)
        ]
        execution = PlanExecution(
            arn=arn,
            plan_arn=plan.arn,
            mode=params["mode"],
            tags=dict(params.get("tags") or {}),
            started=now,
            steps=steps,
            snapshots=snapshots,
        )
        self.plan_executions[arn] = execution
        for step in steps:
            self.execution_steps[step.arn] = step
        self._remember("StartRecoveryPlanExecution", params, arn)
        self._at(now + EXECUTION_START_DELAY, lambda when: self._begin(execution, when))
        self._at(now + MAX_EXECUTION_SECONDS, lambda when: self._time_out(execution, when))
        return {"recoveryPlanExecution": self._execution_json(execution)}

    def _copy_step(self, name: str, configuration: dict[str, Any], index: int, now: float) -> ExecutionStep:
        server = configuration.get("serverStepConfiguration")
        wait = configuration.get("waitStepConfiguration")
        return ExecutionStep(
            arn=self._new_arn("recovery-plan-execution-step", "rpes-", self.execution_steps),
            index=index + 1,
            name=name,
            servers=(
                [
                    {"serverArn": entry["serverArn"], "impactLevel": entry.get("impactLevel", DEFAULT_IMPACT)}
                    for entry in server["servers"]
                ]
                if server is not None
                else None
            ),
            wait_minutes=wait["waitDurationMinutes"] if wait is not None else None,
            created=now,
            updated=now,
        )

    def get_recovery_plan_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return {
            "recoveryPlanExecution": self._execution_json(self._execution(params["recoveryPlanExecutionArn"]))
        }

    def list_recovery_plan_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        plan_arn, status = params.get("recoveryPlanArn"), params.get("status")
        found = [
            execution
            for execution in sorted(self.plan_executions.values(), key=lambda e: e.started)
            if (plan_arn is None or execution.plan_arn == plan_arn)
            and (status is None or execution.status == status)
        ]
        return self._listing(
            "recoveryPlanExecutions", found, params, lambda e: self._execution_json(e, full=False)
        )

    def cancel_recovery_plan_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        execution = self._execution(params["recoveryPlanExecutionArn"])
        if not execution.active:
            raise errors.ConflictException(
                f"Recovery plan execution {execution.arn} is {execution.status}: there is nothing to cancel",
                resource_id=execution.arn,
                resource_type="RECOVERY_PLAN_EXECUTION",
            )
        if execution.status == "CREATED":  # no step has started: nothing to let finish
            self._finish(execution, "CANCELLED", self.clock.now())
        else:
            execution.status = "CANCELLING"
        return {"recoveryPlanExecution": self._execution_json(execution)}

    def delete_recovery_plan_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        execution = self._execution(params["recoveryPlanExecutionArn"])
        if execution.active:
            raise errors.ConflictException(
                f"Recovery plan execution {execution.arn} is {execution.status}: cancel it first",
                resource_id=execution.arn,
                resource_type="RECOVERY_PLAN_EXECUTION",
            )
        for step in execution.steps:
            del self.execution_steps[step.arn]
        del self.plan_executions[execution.arn]
        return {"recoveryPlanExecutionArn": execution.arn}

    def list_recovery_plan_execution_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        execution = self._execution(params["recoveryPlanExecutionArn"])
        status = (params.get("filter") or {}).get("status")
        found = [step for step in execution.steps if status is None or step.status == status]
        return self._listing(
            "recoveryPlanExecutionSteps", found, params, lambda s: self._execution_step_json(s, full=False)
        )

    def get_recovery_plan_execution_step(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        arn = params["recoveryPlanExecutionStepArn"]
        step = self.execution_steps.get(arn)
        if step is None:
            raise self._not_found("Recovery plan execution step", arn, "RECOVERY_PLAN_EXECUTION_STEP")
        return {"recoveryPlanExecutionStep": self._execution_step_json(step)}

    # -- the run, in simulated time (called by the scheduler) ------------------------------------------

    def _finish(
        self, execution: PlanExecution, status: str, when: float, error: dict[str, str] | None = None
    ) -> None:
        execution.status = status
        execution.completed = when
        execution.error = error

    def _begin(self, execution: PlanExecution, when: float) -> None:
        if execution.status != "CREATED":  # cancelled before it started
            return
        execution.status = "IN_PROGRESS"
        self._run_step(execution, 0, when)

    def _run_step(self, execution: PlanExecution, index: int, when: float) -> None:
        if execution.status == "CANCELLING":
            self._finish(execution, "CANCELLED", when)
            return
        if index == len(execution.steps):
            self._finish(execution, "COMPLETED", when)
            return
        execution.current = index
        step = execution.steps[index]
        step.updated = when
        if step.servers is None:
            step.status = "WAITING"
            assert step.wait_minutes is not None
            self._at(when + step.wait_minutes * 60, lambda at: self._step_done(execution, index, at, {}))
            return
        step.status = "EXECUTING"
        requested = []
        for entry in step.servers:
            server_id = entry["serverArn"].rsplit("/", 1)[-1]
            chosen = {"sourceServerID": server_id}
            if server_id in execution.snapshots:
                chosen["recoverySnapshotID"] = execution.snapshots[server_id]
            requested.append(chosen)
        try:
            job, end = self._launch_job(requested, execution.mode == "DRILL", dict(execution.tags), when)
        except errors.DrsError as refused:
            # StartRecovery's refusal (a server busy in another job, deleted, a quota): none launched.
            reason = f"{refused.code}: {refused.message}"
            self._step_done(execution, index, when, {entry["serverArn"]: reason for entry in step.servers})
            return
        for entry in step.servers:
            entry["jobID"] = job.id

        def job_ended(at: float) -> None:
            failed = {}
            for entry in step.servers or []:
                server_id = entry["serverArn"].rsplit("/", 1)[-1]
                if job.participants[server_id].launch_status != "LAUNCHED":
                    raw = [
                        item["eventData"].get("rawError", "")
                        for item in job.logs
                        if item["event"] == "LAUNCH_FAILED"
                        and item["eventData"]["sourceServerID"] == server_id
                    ]
                    failed[entry["serverArn"]] = raw[-1] if raw else "the launch did not succeed"
            self._step_done(execution, index, at, failed)

        # Scheduled after the job's own JOB_END at the same time, so the job reads COMPLETED.
        self._at(end, job_ended)

    def _step_done(self, execution: PlanExecution, index: int, when: float, failed: dict[str, str]) -> None:
        """The step at ``index`` has ended; ``failed``: server ARN -> why its launch failed."""
        if not execution.active or execution.current != index:  # timed out meanwhile
            return
        step = execution.steps[index]
        step.updated = when
        impact = {entry["serverArn"]: entry["impactLevel"] for entry in step.servers or []}
        critical = [arn for arn in failed if impact.get(arn) == "CRITICAL"]
        listed = "; ".join(f"{arn}: {why}" for arn, why in failed.items())
        if critical:
            step.status = "FAILED"
            step.error = {"code": "CRITICAL_SERVER_LAUNCH_FAILED", "message": listed}
            self._finish(
                execution,
                "FAILED",
                when,
                {
                    "code": "STEP_FAILED",
                    "message": f"Step {step.index} ({step.name}): a CRITICAL server did not launch: {listed}",
                },
            )
            return
        step.status = "COMPLETED"
        if failed:
            step.error = {"code": "OPTIONAL_SERVER_LAUNCH_FAILED", "message": listed}
        self._run_step(execution, index + 1, when)

    def _time_out(self, execution: PlanExecution, when: float) -> None:
        if not execution.active:
            return
        if execution.current >= 0:
            step = execution.steps[execution.current]
            step.status, step.updated = "TIMED_OUT", when
        self._finish(
            execution,
            "FAILED",
            when,
            {
                "code": "TIMED_OUT",
                "message": f"The execution ran longer than {MAX_EXECUTION_SECONDS // 3600} hours",
            },
        )
