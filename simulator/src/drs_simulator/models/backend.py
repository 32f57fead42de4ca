"""The backend of one account + region: every resource backend combined, and the operation table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_simulator.models.failback import FailbackBackend
from drs_simulator.models.jobs import JobsBackend
from drs_simulator.models.launch_configurations import LaunchConfigurationsBackend
from drs_simulator.models.launch_jobs import LaunchJobsBackend
from drs_simulator.models.plan_executions import PlanExecutionsBackend
from drs_simulator.models.recovery_instances import RecoveryInstancesBackend
from drs_simulator.models.recovery_snapshots import RecoverySnapshotsBackend
from drs_simulator.models.replication import ReplicationBackend
from drs_simulator.models.replication_configurations import ReplicationConfigurationsBackend
from drs_simulator.models.source_servers import SourceServersBackend
from drs_simulator.models.staging import StagingBackend
from drs_simulator.models.tags import TagsBackend

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from drs_simulator.clock import SimulatedClock
    from drs_simulator.fleet import Quotas, ServerSpec
    from drs_simulator.models.faults import Faults
    from drs_simulator.models.launch_templates import Ec2LaunchTemplates


class DrsBackend(
    PlanExecutionsBackend,
    LaunchJobsBackend,
    FailbackBackend,
    RecoveryInstancesBackend,
    ReplicationBackend,
    JobsBackend,
    RecoverySnapshotsBackend,
    StagingBackend,
    SourceServersBackend,
    LaunchConfigurationsBackend,
    ReplicationConfigurationsBackend,
    TagsBackend,
):
    """Everything DRS holds for one account in one region."""

    def __init__(
        self,
        account_id: str,
        region: str,
        servers: Iterable[ServerSpec],
        quotas: Quotas,
        clock: SimulatedClock,
        faults: Callable[[], Faults],
        ec2: Callable[[], Ec2LaunchTemplates | None] = lambda: None,
        regions: Callable[[str], DrsBackend] | None = None,
        staging: Callable[[], Mapping[str, DrsBackend]] = lambda: {},
    ) -> None:
        super().__init__(account_id, region, quotas, clock, faults, ec2, regions, staging)
        self._add_source_servers(servers)


OPERATIONS: dict[str, str] = {
    "DescribeSourceServers": "describe_source_servers",
    "StartRecovery": "start_recovery",
    "DescribeJobs": "describe_jobs",
    "DescribeJobLogItems": "describe_job_log_items",
    "DescribeRecoverySnapshots": "describe_recovery_snapshots",
    "DescribeRecoveryInstances": "describe_recovery_instances",
    "TerminateRecoveryInstances": "terminate_recovery_instances",
    "TagResource": "tag_resource",
    "UntagResource": "untag_resource",
    "ListTagsForResource": "list_tags_for_resource",
    "GetLaunchConfiguration": "get_launch_configuration",
    "UpdateLaunchConfiguration": "update_launch_configuration",
    "GetReplicationConfiguration": "get_replication_configuration",
    "ReverseReplication": "reverse_replication",
    "StartReplication": "start_replication",
    "StopReplication": "stop_replication",
    "StartFailbackLaunch": "start_failback_launch",
    "StopFailback": "stop_failback",
    "DisconnectRecoveryInstance": "disconnect_recovery_instance",
    "DeleteRecoveryInstance": "delete_recovery_instance",
    "DisconnectSourceServer": "disconnect_source_server",
    "DeleteSourceServer": "delete_source_server",
    "ListStagingAccounts": "list_staging_accounts",
    "ListExtensibleSourceServers": "list_extensible_source_servers",
    "CreateExtendedSourceServer": "create_extended_source_server",
    "CreateRecoveryPlan": "create_recovery_plan",
    "GetRecoveryPlan": "get_recovery_plan",
    "ListRecoveryPlans": "list_recovery_plans",
    "UpdateRecoveryPlan": "update_recovery_plan",
    "DeleteRecoveryPlan": "delete_recovery_plan",
    "CreateRecoveryPlanStep": "create_recovery_plan_step",
    "GetRecoveryPlanStep": "get_recovery_plan_step",
    "ListRecoveryPlanSteps": "list_recovery_plan_steps",
    "UpdateRecoveryPlanStep": "update_recovery_plan_step",
    "DeleteRecoveryPlanStep": "delete_recovery_plan_step",
    "ReorderRecoveryPlanSteps": "reorder_recovery_plan_steps",
    "StartRecoveryPlanExecution": "start_recovery_plan_execution",
    "GetRecoveryPlanExecution": "get_recovery_plan_execution",
    "ListRecoveryPlanExecutions": "list_recovery_plan_executions",
    "CancelRecoveryPlanExecution": "cancel_recovery_plan_execution",
    "DeleteRecoveryPlanExecution": "delete_recovery_plan_execution",
    "ListRecoveryPlanExecutionSteps": "list_recovery_plan_execution_steps",
    "GetRecoveryPlanExecutionStep": "get_recovery_plan_execution_step",
}
"""Implemented DRS operations -> the DrsBackend method carrying each out."""
