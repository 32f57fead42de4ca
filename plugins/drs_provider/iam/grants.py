"""Which grants (action, resource, Sid) a plan needs in each mode, from what it uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drs_provider.constants import FAILOVER_DAG_ID, MODE_DRILL, MODE_FAILBACK, MODE_RECOVERY
from drs_provider.iam.actions import (
    FAILBACK_LAUNCH,
    FAILBACK_READS,
    MODE_READINESS,
    MODES,
    NATIVE_PLAN_READS,
    NATIVE_PLAN_WRITES,
    QUOTA_READ,
    READINESS_EVENTS,
    READINESS_READS,
    REVERSE_REPLICATION,
    RUN_EVENTS,
    RUN_READS,
    SERVICE_PREFIXES,
    START_RECOVERY,
    STOP_FAILBACK,
    STOP_REPLICATION,
    TAG_ON_START,
    TERMINATE,
    Conditions,
    Operation,
    action_of,
    dependent_actions,
)
from drs_provider.plans.model import FAILBACK_CLEANUP_TERMINATE
from drs_provider.recovery.launch import needs_template
from drs_provider.recovery.report import s3_location
from drs_provider.steps import kind_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from drs_provider.plans.model import Plan, Step
    from drs_provider.steps.registry import AwsCall


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
