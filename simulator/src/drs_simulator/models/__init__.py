"""State and behaviour of the simulated DRS: one :class:`DrsBackend` per account + region.

Split by resource, the way moto splits its EC2 backend; each resource backend is a mixin over
:class:`~.base.BackendBase` and :class:`DrsBackend` combines them.

- ``base``: state of one account + region, and the simulated-time scheduler that changes it
- ``source_servers``: source servers (DescribeSourceServers)
- ``recovery_snapshots``: point-in-time snapshots (DescribeRecoverySnapshots)
- ``jobs``: job records, lifecycle and log (DescribeJobs, DescribeJobLogItems)
- ``launch_jobs``: StartRecovery and the launch timeline
- ``recovery_instances``: DescribeRecoveryInstances, TerminateRecoveryInstances,
  DisconnectRecoveryInstance, DeleteRecoveryInstance
- ``replication``: replication changing over simulated time; StartReplication, StopReplication,
  DisconnectSourceServer, DeleteSourceServer
- ``failback``: ReverseReplication, the Failback Client, StartFailbackLaunch, StopFailback
- ``launch_configurations``: GetLaunchConfiguration, UpdateLaunchConfiguration
- ``launch_templates``: the servers' EC2 launch templates, on the EC2 endpoint (``--ec2-endpoint``)
- ``replication_configurations``: GetReplicationConfiguration
- ``recovery_plans``: native recovery plans and their steps (Create/Get/List/Update/Delete,
  ReorderRecoveryPlanSteps); ``plan_rules``: the limits a plan's steps keep
- ``plan_executions``: running a plan in simulated time (StartRecoveryPlanExecution, its reads,
  CancelRecoveryPlanExecution, DeleteRecoveryPlanExecution)
- ``quotas``: quota and conflict checks a new job must pass
- ``tags``: TagResource, UntagResource, ListTagsForResource
- ``backend``: :class:`DrsBackend` and the operation table
- ``faults``: the fault-injection set
- ``simulator``: :class:`Simulator`, the whole state behind one lock, with the call log
- ``wire``: timestamps, IDs, pages and date filters shared by every resource
"""

from __future__ import annotations

from drs_simulator.models.backend import OPERATIONS, DrsBackend
from drs_simulator.models.faults import DEFAULT_FAIL_ERROR, FAULT_KEYS, Faults
from drs_simulator.models.jobs import JOB_END_DELAY, JOB_START_DELAY, Job, Participant
from drs_simulator.models.launch_jobs import CONVERSION_END_SHARE, SNAPSHOT_SHARE
from drs_simulator.models.quotas import (
    QUOTA_CONCURRENT_JOBS,
    QUOTA_SERVERS_IN_ACTIVE_JOBS,
    QUOTA_SERVERS_PER_JOB,
)
from drs_simulator.models.recovery_instances import TERMINATE_SECONDS, RecoveryInstance
from drs_simulator.models.recovery_snapshots import (
    SNAPSHOT_HISTORY,
    SNAPSHOT_INTERVAL,
    SNAPSHOT_RETENTION,
    SNAPSHOT_SECONDS,
    Snapshot,
)
from drs_simulator.models.simulator import Simulator
from drs_simulator.models.source_servers import (
    RECOVERABLE_STATES,
    UNRECOVERABLE_STATES,
    SourceServer,
)
from drs_simulator.models.wire import MAX_PAGE, iso, paginate, parse_iso

__all__ = [
    "CONVERSION_END_SHARE",
    "DEFAULT_FAIL_ERROR",
    "FAULT_KEYS",
    "JOB_END_DELAY",
    "JOB_START_DELAY",
    "MAX_PAGE",
    "OPERATIONS",
    "QUOTA_CONCURRENT_JOBS",
    "QUOTA_SERVERS_IN_ACTIVE_JOBS",
    "QUOTA_SERVERS_PER_JOB",
    "RECOVERABLE_STATES",
    "SNAPSHOT_HISTORY",
    "SNAPSHOT_INTERVAL",
    "SNAPSHOT_RETENTION",
    "SNAPSHOT_SECONDS",
    "SNAPSHOT_SHARE",
    "TERMINATE_SECONDS",
    "UNRECOVERABLE_STATES",
    "DrsBackend",
    "Faults",
    "Job",
    "Participant",
    "RecoveryInstance",
    "Simulator",
    "Snapshot",
    "SourceServer",
    "iso",
    "paginate",
    "parse_iso",
]
