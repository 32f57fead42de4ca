"""Tags found by ARN (jobs, source servers, recovery instances, recovery plans, plan executions):
TagResource, UntagResource and ListTagsForResource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_simulator import exceptions as errors
from drs_simulator.models.base import BackendBase

if TYPE_CHECKING:
    from drs_simulator.models.jobs import Job
    from drs_simulator.models.plan_executions import PlanExecution
    from drs_simulator.models.recovery_instances import RecoveryInstance
    from drs_simulator.models.recovery_plans import RecoveryPlan
    from drs_simulator.models.source_servers import SourceServer


class TagsBackend(BackendBase):
    def _tagged(self, arn: str) -> dict[str, str]:
        """The live tag dict of the resource ``arn`` names (mutating it retags the resource)."""
        self.tick()
        prefix = f"arn:aws:drs:{self.region}:{self.account_id}:"
        kind, _, resource_id = arn[len(prefix) :].partition("/") if arn.startswith(prefix) else ("", "", "")
        holder: Job | SourceServer | RecoveryInstance | RecoveryPlan | PlanExecution | None = None
        if kind == "job":
            holder = self.jobs.get(resource_id)
        elif kind == "source-server":
            holder = self.servers.get(resource_id)
        elif kind == "recovery-instance":
            holder = self.instances.get(resource_id)
        elif kind == "recovery-plan":
            holder = self.recovery_plans.get(arn)
        elif kind == "recovery-plan-execution":
            holder = self.plan_executions.get(arn)
        if holder is None:
            raise errors.ResourceNotFoundException(
                f"Resource not found: {arn} (account {self.account_id}, region {self.region})",
                resource_id=arn,
                resource_type={
                    "job": "JOB",
                    "source-server": "SOURCE_SERVER",
                    "recovery-instance": "RECOVERY_INSTANCE",
                    "recovery-plan": "RECOVERY_PLAN",
                    "recovery-plan-execution": "RECOVERY_PLAN_EXECUTION",
                }.get(kind, "UNKNOWN"),
            )
        return holder.tags

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": dict(self._tagged(params["resourceArn"]))}

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        self._tagged(params["resourceArn"]).update(params["tags"])
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._tagged(params["resourceArn"])
        for key in params["tagKeys"]:
            tags.pop(key, None)
        return {}
