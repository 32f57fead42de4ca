"""What the provider calls, and the IAM actions each call needs.

The operations every plan run, failback, readiness check and plan feature calls (botocore's
service and operation names), how an operation becomes its IAM action (:func:`action_of`), and
the dependent actions AWS also checks (:data:`DEPENDENT_ACTIONS`). :mod:`.grants` says which a
plan needs; the package turns them into a policy.
"""

from __future__ import annotations

from drs_provider.constants import RUN_MODES
from drs_provider.plans.model import NOTIFY_EVENTS

MODE_READINESS = "readiness"
#: What ``--mode`` takes: each mode a plan DAG run may have (:data:`~drs_provider.constants.RUN_MODES`,
#: also the policy when no mode is given), and readiness.
MODES = (*RUN_MODES, MODE_READINESS)
POLICY_VERSION = "2012-10-17"

#: An API operation: the service as botocore names it, and the operation.
Operation = tuple[str, str]
#: A statement's conditions: ``(operator, key, value)``, all of which must hold.
Conditions = tuple[tuple[str, str, str], ...]


#: IAM service prefixes that differ from botocore's service names.
SERVICE_PREFIXES = {"service-quotas": "servicequotas"}
#: Operations authorized by an action not named after them.
ACTION_NAMES: dict[Operation, str] = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "HeadBucket"): "s3:ListBucket",
}
#: What AWS also checks the caller for when DRS carries an operation out: DRS launches and
#: terminates EC2 resources, and reverses replication, with the caller's permissions, so a role
#: lacking these starts jobs that fail. The "Dependent actions" of the Service Authorization Reference,
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticdisasterrecovery.html
DEPENDENT_ACTIONS: dict[str, tuple[str, ...]] = {
    "drs:StartRecovery": (
        "drs:CreateRecoveryInstanceForDrs",
        "drs:ListTagsForResource",
        "ec2:AttachVolume",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:CreateVolume",
        "ec2:DeleteLaunchTemplateVersions",
        "ec2:DeleteSnapshot",
        "ec2:DeleteVolume",
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceAttribute",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSubnets",
        "ec2:DescribeVolumes",
        "ec2:DetachVolume",
        "ec2:ModifyInstanceAttribute",
        "ec2:ModifyLaunchTemplate",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RunInstances",
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:TerminateInstances",
        "iam:PassRole",
    ),
    "drs:ReverseReplication": (
        "drs:DescribeReplicationConfigurationTemplates",
        "drs:DescribeSourceServers",
        "ec2:DescribeInstances",
    ),
    "drs:TerminateRecoveryInstances": (
        "drs:DescribeSourceServers",
        "ec2:DeleteVolume",
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:TerminateInstances",
    ),
}
#: StartRecovery (and a failback's StartFailbackLaunch) tags every job it creates
#: (``airflow:dag_id``, ``airflow:run_id``, ...). DRS authorizes tags given to a resource-creating
#: call as ``drs:TagResource`` on the new resource, with ``drs:CreateAction`` naming the call (DRS
#: User Guide, "Grant permission to tag resources during creation",
#: https://docs.aws.amazon.com/drs/latest/userguide/supported-iam-actions-tagging.html): granted
#: for that alone, so the role cannot retag jobs that exist.
TAG_ON_START = "drs:TagResource"


def action_of(service: str, operation: str) -> str:
    """The IAM action that authorizes ``operation`` of ``service`` (botocore's names)."""
    return ACTION_NAMES.get((service, operation)) or f"{SERVICE_PREFIXES.get(service, service)}:{operation}"


def dependent_actions(action: str) -> tuple[str, ...]:
    """What AWS also checks the caller for when it carries ``action`` out (:data:`DEPENDENT_ACTIONS`)."""
    return DEPENDENT_ACTIONS.get(action, ())


# --- what the provider calls ---------------------------------------------------------------

#: DRS reads of every plan run: preflight (the plan's servers, the jobs holding servers, live
#: recovery instances), start_recovery (its own earlier jobs, adopted on a retry),
#: wait_for_recovery and its trigger (jobs; the verdict's servers, recovery instances and job
#: logs); a drill's cleanup reads jobs and recovery instances too.
RUN_READS: tuple[Operation, ...] = (
    ("drs", "DescribeJobLogItems"),
    ("drs", "DescribeJobs"),
    ("drs", "DescribeRecoveryInstances"),
    # preflight and start_recovery of a run given point_in_time: any run may be
    ("drs", "DescribeRecoverySnapshots"),
    ("drs", "DescribeSourceServers"),
)
#: DRS reads of readiness, once per account and region: servers, recovery instances, their jobs,
#: the staging accounts and their servers not yet extended (readiness goes on without these two,
#: but then cannot tell a staging server a wave means from a server that is not there).
READINESS_READS: tuple[Operation, ...] = (
    ("drs", "DescribeJobs"),
    ("drs", "DescribeRecoveryInstances"),
    ("drs", "DescribeSourceServers"),
    ("drs", "ListExtensibleSourceServers"),
    ("drs", "ListStagingAccounts"),
)
#: The account's DRS quotas (preflight, a launch waiting for capacity, readiness), read from
#: Service Quotas unless Airflow's ``[drs]`` config gives them.
QUOTA_READ: Operation = ("service-quotas", "GetServiceQuota")
START_RECOVERY: Operation = ("drs", "StartRecovery")
#: A drill's instances are terminated: by its ``cleanup`` task, or later by the Recovery page's
#: Terminate or ``drs-plan cleanup`` with the plan's connection. A recovery's never are, but by
#: a failback that brought them home with ``failback_cleanup: terminate``.
TERMINATE: Operation = ("drs", "TerminateRecoveryInstances")
#: DRS reads of a failback run: a plan run's but the snapshots (a failback launches the latest data
#: its reversed replication copied; preflight refuses ``point_in_time``). They span two regions:
#: the recovery region's recovery instances and servers, the origin region's FAILBACK servers
#: (and preflight's probe that DRS is initialised there), jobs and job logs where the launch ran.
FAILBACK_READS: tuple[Operation, ...] = tuple(
    operation for operation in RUN_READS if operation != ("drs", "DescribeRecoverySnapshots")
)
#: A failback's writes besides StartRecovery: ReverseReplication of each recovery instance (and
#: of the instance launched at home: re-protection); for on-premises origins StartFailbackLaunch,
#: and StopFailback of a launch that failed. Whether a server's origin is EC2 or a data centre is
#: DRS's to say, not the plan's: a failback policy grants both ways home.
REVERSE_REPLICATION: Operation = ("drs", "ReverseReplication")
FAILBACK_LAUNCH: Operation = ("drs", "StartFailbackLaunch")
STOP_FAILBACK: Operation = ("drs", "StopFailback")
#: ``failback_cleanup: terminate`` stops the FAILBACK servers copying from the recovery-region
#: instances before it terminates them.
STOP_REPLICATION: Operation = ("drs", "StopReplication")
#: ``native_plan: true``: the ``drs_readiness`` task ``native_plans`` (and ``drs-plan
#: export-native``) keeps DRS native recovery plans in step: it lists the plans and their tags to
#: find the plan's own (tag ``drs:plan``), reads them and their steps, creates, updates, retags and
#: deletes plans and steps. It never starts one: launching it is a person's act in the console.
NATIVE_PLAN_READS: tuple[Operation, ...] = (
    ("drs", "GetRecoveryPlan"),
    ("drs", "ListRecoveryPlanSteps"),
    ("drs", "ListRecoveryPlans"),
    ("drs", "ListTagsForResource"),
)
NATIVE_PLAN_WRITES: tuple[Operation, ...] = (
    ("drs", "CreateRecoveryPlan"),
    ("drs", "CreateRecoveryPlanStep"),
    ("drs", "DeleteRecoveryPlan"),
    ("drs", "DeleteRecoveryPlanStep"),
    # CreateRecoveryPlan's tags, and tags brought back in line on an existing native plan
    ("drs", "TagResource"),
    ("drs", "UpdateRecoveryPlan"),
)
#: The events of a plan run (``drs_readiness`` sends the others).
RUN_EVENTS = frozenset(NOTIFY_EVENTS) - {"readiness_changed"}
READINESS_EVENTS = frozenset({"readiness_changed"})
