"""The least-privilege IAM policy of recovery plans (``drs-plan iam-policy``): generated from what
the provider calls, not guessed.

This module is the one place that knows

* which AWS API operations the provider calls, by mode (:data:`MODES`) and by what a plan uses:
  every plan run reads DRS and starts recovery jobs, a drill also terminates what it launched, a
  failback reverses replication, launches home (StartRecovery in an EC2 origin's region,
  StartFailbackLaunch on premises) and cleans up, readiness only reads; ``notify`` adds SNS,
  ``report`` adds S3, ``failback_cleanup: terminate`` adds StopReplication, ``rpo_target`` and
  ``launch`` add readiness look-ups, ``native_plan: true`` adds readiness's native recovery
  plan calls. A step kind declares its own calls in its module
  (:attr:`~drs_provider.steps.registry.StepKind.calls`, granted in the step's ``modes``, and
  preflight's look-ups of :attr:`~drs_provider.steps.registry.StepKind.needs`, in every mode), so
  that a kind stays one module;
* which IAM actions an operation needs (:func:`action_of`): ``<prefix>:<Operation>`` unless
  :data:`ACTION_NAMES` says otherwise, and the dependent actions AWS also checks
  (:data:`DEPENDENT_ACTIONS`);
* which resources a grant can honestly be narrowed to: a plan's report objects under its S3
  prefix, its ``notify`` topic, the Lambda functions its steps name. Anything else is ``*``.

``tests/integration/factory/test_iam_policy.py`` holds it to the truth: real plan runs and
readiness checks against the DRS simulator and moto, whose call logs must name exactly the
actions granted here.

Like the plan layer it imports neither Airflow nor boto3, so ``drs-plan iam-policy`` runs anywhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_provider.constants import FAILOVER_DAG_ID, MODE_DRILL, MODE_FAILBACK, MODE_RECOVERY, RUN_MODES
from drs_provider.plans.model import FAILBACK_CLEANUP_TERMINATE, NOTIFY_EVENTS
from drs_provider.recovery.launch import needs_template
from drs_provider.recovery.report import s3_location
from drs_provider.steps import kind_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from drs_provider.plans.model import Plan, Step
    from drs_provider.steps.registry import AwsCall

MODE_READINESS = "readiness"
#: What ``--mode`` takes: each mode a plan DAG run may have (:data:`~drs_provider.constants.RUN_MODES`,
#: also the policy when no mode is given), and readiness.
MODES = (*RUN_MODES, MODE_READINESS)
POLICY_VERSION = "2012-10-17"

#: An API operation: the service as botocore names it, and the operation.
Operation = tuple[str, str]
#: A statement's conditions: ``(operator, key, value)``, all of which must hold.
Conditions = tuple[tuple[str, str, str], ...]

# --- operations and their IAM actions -----------------------------------------------------

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


@dataclass(frozen=True)
class Grant:
    """One IAM action on one resource, and the statement (its Sid) that says what it is for."""

    sid: str
    action: str
    resource: str = "*"
    condition: Conditions = ()


def _grants(sid: str, operations: Iterable[Operation], resource: str = "*") -> list[Grant]:
    """Each operation's action on ``resource``, and its dependent actions (on ``*``: they name
    resources DRS makes) in a statement of their own, ``<sid>DependentActions``."""
    grants = []
    for service, operation in operations:
        action = action_of(service, operation)
        grants.append(Grant(sid, action, resource))
        grants += [Grant(f"{sid}DependentActions", needed) for needed in dependent_actions(action)]
    return grants


def _partition(region: str | None) -> str:
    """The ARN partition of a region (``aws`` when the plan names none)."""
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# A Lambda function as a step names it: name, partial ARN or ARN, with an optional qualifier.
_FUNCTION = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9\-_.]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9\-_]+))?$"
)


def function_arn(function: str, region: str | None) -> str:
    """The ARN IAM checks when ``function`` is invoked or looked up as named; what the name leaves
    open (region: the plan's, else any; account) is ``*``. A qualifier stays: IAM checks the
    qualified ARN of a qualified call."""
    found = _FUNCTION.match(function)
    if found is None:  # the plan validator accepts no other form; grant nothing wider than named
        return f"arn:{_partition(region)}:lambda:*:*:function:{function}"
    parts = found.groupdict()
    partition = parts["partition"] or _partition(parts["region"] or region)
    arn = f"arn:{partition}:lambda:{parts['region'] or region or '*'}:{parts['account'] or '*'}"
    arn += f":function:{parts['name']}"
    return f"{arn}:{parts['qualifier']}" if parts["qualifier"] else arn


def _step_resource(call: AwsCall, step: Step, plan: Plan) -> str:
    """What a step's call acts on, where the policy can name it (a Lambda function); else ``*``."""
    value = getattr(step, call.resource, None) if call.resource else None
    if call.service == "lambda" and isinstance(value, str):
        return function_arn(value, plan.region)
    return "*"


def _step_grants(plan: Plan, mode: str | None) -> list[Grant]:
    """What the plan's steps need: preflight's (and readiness's) look-ups of what they name, and,
    in a run of ``mode`` (None: readiness, no step runs), what the tasks of the steps that run in
    it call. Preflight looks up every step's resources, whatever its ``modes``."""
    grants = []
    for wave in plan.waves:
        for _, step in wave.steps:
            kind = kind_of(step)
            calls = [need.lookup for need in kind.needs]
            if mode in step.modes:
                calls += [call for call in kind.calls if call.when is None or getattr(step, call.when, None)]
            for call in calls:
                sid = f"{SERVICE_PREFIXES.get(call.service, call.service).capitalize()}Steps"
                grants += _grants(sid, [(call.service, call.operation)], _step_resource(call, step, plan))
    return grants


def _notify_grants(plan: Plan, events: frozenset[str]) -> list[Grant]:
    """The topic is looked up (preflight, readiness); published to when the plan wants ``events``."""
    if plan.notify is None:
        return []
    topic = plan.notify.sns_topic_arn
    operations = [("sns", "GetTopicAttributes")]
    if events & set(plan.notify.events):
        operations.append(("sns", "Publish"))
    return _grants("SnsNotify", operations, topic)


def _report_grants(plan: Plan, *, running: bool) -> list[Grant]:
    """A run writes its report (and preflight's probe, removed at once; a page that could not be
    kept is removed too) under ``<s3_uri><dag_id>/``; readiness only looks the bucket up."""
    if plan.report_s3_uri is None:
        return []
    # Every object a run writes sits beside its report <prefix><dag_id>/<run_id>.json.
    bucket, report_key = s3_location(plan.report_s3_uri, plan.dag_id, "*")
    partition = _partition(plan.region)
    if not running:
        return _grants("S3ReportBucket", [("s3", "HeadBucket")], f"arn:{partition}:s3:::{bucket}")
    objects = f"arn:{partition}:s3:::{bucket}/{report_key.removesuffix('.json')}"
    return _grants("S3ReportObjects", [("s3", "PutObject"), ("s3", "DeleteObject")], objects)


def _failover_summary_grants(plan: Plan) -> list[Grant]:
    """A region failover that recovers ``plan`` stores its summary beside the plan's reports, at
    ``<s3_uri>drs_failover/<run_id>.json``, through the plan's connection."""
    if plan.report_s3_uri is None:
        return []
    bucket, key = s3_location(plan.report_s3_uri, FAILOVER_DAG_ID, "*")
    objects = f"arn:{_partition(plan.region)}:s3:::{bucket}/{key.removesuffix('.json')}"
    return _grants("S3FailoverSummary", [("s3", "PutObject")], objects)


def _tag_on_start(sid: str, plan: Plan, operation: Operation) -> Grant:
    """Tagging the jobs ``operation`` creates, as it creates them (:data:`TAG_ON_START`)."""
    return Grant(
        sid,
        TAG_ON_START,
        f"arn:{_partition(plan.region)}:drs:*:*:job/*",
        (("StringEquals", "drs:CreateAction", operation[1]),),
    )


def _failback_grants(plan: Plan) -> list[Grant]:
    """What a failback calls besides a run's reads and StartRecovery (EC2 origins launch home with
    it, in the origin region): reversing, the on-premises launch, and cleanup. Cleanup terminates
    a rehearsal's (``failback_drill``) drill instances at home, and with ``failback_cleanup:
    terminate`` the recovery region's instances, once their FAILBACK servers' replication stopped."""
    grants = _grants("DrsFailback", [REVERSE_REPLICATION, FAILBACK_LAUNCH, STOP_FAILBACK])
    grants.append(_tag_on_start("DrsTagFailbackJobsAtStart", plan, FAILBACK_LAUNCH))
    cleanup = [TERMINATE]
    if plan.failback_cleanup == FAILBACK_CLEANUP_TERMINATE:
        cleanup.append(STOP_REPLICATION)
    return grants + _grants("DrsFailbackCleanup", cleanup)


def _run_grants(plan: Plan, mode: str) -> list[Grant]:
    """What a plan DAG run of ``mode`` (one of :data:`RUN_MODES`) calls."""
    reads = FAILBACK_READS if mode == MODE_FAILBACK else RUN_READS
    grants = _grants("DrsRead", reads) + _grants("DrsStartRecovery", [START_RECOVERY])
    grants.append(_tag_on_start("DrsTagJobsAtStart", plan, START_RECOVERY))
    if mode == MODE_DRILL:
        grants += _grants("DrsTerminateDrillInstances", [TERMINATE])
    if mode == MODE_FAILBACK:
        grants += _failback_grants(plan)
    grants += _grants("ServiceQuotasRead", [QUOTA_READ])
    grants += _notify_grants(plan, RUN_EVENTS)
    grants += _report_grants(plan, running=True)
    if mode == MODE_RECOVERY:  # drs_failover recovers plans; it never fails them back
        grants += _failover_summary_grants(plan)
    return grants + _step_grants(plan, mode)


def _readiness_grants(plan: Plan) -> list[Grant]:
    """What the ``drs_readiness`` DAG (and ``drs-plan ready``) calls to check ``plan``."""
    operations = list(READINESS_READS)
    if plan.rpo_target is not None:
        operations.append(("drs", "DescribeRecoverySnapshots"))  # the newest snapshot's age
    if plan.declares_launch:
        operations.append(("drs", "GetLaunchConfiguration"))
    grants = _grants("DrsRead", operations)
    settings = [s for wave in plan.waves for s in (wave.launch, *wave.launch_per_server.values()) if s]
    if any(needs_template(s) for s in settings):
        grants += _grants("Ec2ReadLaunchTemplates", [("ec2", "DescribeLaunchTemplateVersions")])
    grants += _grants("ServiceQuotasRead", [QUOTA_READ])
    if plan.native_plan:
        grants += _grants("DrsNativePlans", [*NATIVE_PLAN_READS, *NATIVE_PLAN_WRITES])
    grants += _notify_grants(plan, READINESS_EVENTS)
    grants += _report_grants(plan, running=False)
    return grants + _step_grants(plan, None)


def plan_grants(plan: Plan, mode: str) -> list[Grant]:
    """Every grant ``plan`` needs in ``mode`` (one of :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (modes: {', '.join(MODES)})")
    return _readiness_grants(plan) if mode == MODE_READINESS else _run_grants(plan, mode)


# --- the policy document -------------------------------------------------------------------

#: Statements in this order; others (a kind's own service) after them, by Sid.
STATEMENT_ORDER = (
    "DrsRead",
    "DrsStartRecovery",
    "DrsStartRecoveryDependentActions",
    "DrsTagJobsAtStart",
    "DrsFailback",
    "DrsFailbackDependentActions",
    "DrsTagFailbackJobsAtStart",
    "DrsTerminateDrillInstances",
    "DrsTerminateDrillInstancesDependentActions",
    "DrsFailbackCleanup",
    "DrsFailbackCleanupDependentActions",
    "DrsNativePlans",
    "Ec2ReadLaunchTemplates",
    "ServiceQuotasRead",
    "SnsNotify",
    "S3ReportObjects",
    "S3ReportBucket",
)


def _rank(sid: str) -> tuple[int, str]:
    return (STATEMENT_ORDER.index(sid) if sid in STATEMENT_ORDER else len(STATEMENT_ORDER), sid)


def _unique(grants: Iterable[Grant]) -> list[Grant]:
    """Each action on each resource once, in the statement that comes first (an action both a
    dependency and called directly is listed where it is called)."""
    kept: dict[tuple[str, str, Conditions], Grant] = {}
    for grant in sorted(grants, key=lambda g: _rank(g.sid)):
        kept.setdefault((grant.action, grant.resource, grant.condition), grant)
    return list(kept.values())


def _statement(
    sid: str, actions: Sequence[str], resources: Sequence[str], condition: Conditions
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources[0] if len(resources) == 1 else sorted(resources),
    }
    for operator, key, value in condition:
        statement.setdefault("Condition", {}).setdefault(operator, {})[key] = value
    return statement


def statements(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    """IAM statements granting exactly ``grants``: in each Sid's statement, the actions that act on
    the same resources together (a second statement ``<Sid>2`` where they differ)."""
    by_sid: dict[tuple[str, Conditions], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for grant in _unique(grants):
        by_sid[(grant.sid, grant.condition)][grant.action].add(grant.resource)
    result = []
    for sid, condition in sorted(by_sid, key=lambda key: (_rank(key[0]), key[1])):
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for action, on in by_sid[(sid, condition)].items():
            groups[tuple(sorted(on))].append(action)
        ordered = sorted(groups.items(), key=lambda group: (sorted(group[1]), group[0]))
        for number, (resources, actions) in enumerate(ordered, start=1):
            name = sid if number == 1 else f"{sid}{number}"
            result.append(_statement(name, actions, resources, condition))
    return result


def iam_policy(plans: Iterable[Plan], modes: Sequence[str] = RUN_MODES) -> dict[str, Any]:
    """The IAM policy document that lets ``plans`` do everything they do in ``modes``, and no more."""
    grants = [grant for plan in plans for mode in modes for grant in plan_grants(plan, mode)]
    return {"Version": POLICY_VERSION, "Statement": statements(grants)}


def granted_actions(policy: dict[str, Any]) -> set[str]:
    """Every action ``policy`` grants on some resource."""
    return {action for statement in policy["Statement"] for action in statement["Action"]}
