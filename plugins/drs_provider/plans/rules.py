"""The shape of a plan file as data: the one source of truth for the validator and the schema.

Each key of each object has a rule (a kind of :mod:`.rule_kinds`: text, integer, list, text
map or nested object) with its limits and a description: the plan's own keys here, a wave's in
:mod:`.wave_rules`, the limits of single values in :mod:`.values`. :mod:`.structure` checks raw YAML
values against these rules and :mod:`.schema` turns the same rules into the shipped JSON
Schema, so the two cannot drift. Rules that span several values (unique names, references,
cycles, a server in two waves) live in :mod:`.validation`. Each step kind's rule is declared
with the kind in :mod:`drs_provider.steps`; :data:`~.wave_rules.STEP` reads them from the registry.

Some limits are caps (``ListOf(cap=True)``): they bound what one plan may hold. The
dag-processor reads every plan file inside one DAG import timeout, so a file's cost must stay
small however it was written: a broken cap is reported alone and ends the checks of that file.
"""

from __future__ import annotations

from drs_provider.constants import MAX_SERVERS_PER_START_RECOVERY
from drs_provider.plans.cron import SCHEDULE_PATTERN, schedule_problem
from drs_provider.plans.model import (
    CLEANUP_DEFAULT,
    CLEANUP_POLICIES,
    FAILBACK_CLEANUP_DEFAULT,
    FAILBACK_CLEANUP_POLICIES,
    FAILBACK_ORDER_DEFAULT,
    FAILBACK_ORDERS,
    FAILBACK_SYNC_TIMEOUT_DEFAULT,
    NOTIFY_EVENTS,
    PLAN_NAME_PATTERN,
)
from drs_provider.plans.names import NAME_HINT, suggest_name
from drs_provider.plans.rule_kinds import Boolean, Integer, Key, ListOf, Object, Text, TextMap
from drs_provider.plans.values import (
    DRILL_EVERY_RANGE,
    FAILBACK_SYNC_TIMEOUT_RANGE,
    MAX_RECOVERY_ALLOWED,
    MAX_WAVES,
    RECOVERY_ALLOWED_ENTRY_PATTERN,
    RPO_TARGET_RANGE,
    RTO_TARGET_RANGE,
    S3_URI_PATTERN,
    SNS_TOPIC_ARN_PATTERN,
    recovery_allowed_problem,
)
from drs_provider.plans.wave_rules import LAUNCH, SELECTOR, WAVE, conn_id_rule, region_rule
from drs_provider.steps.common import seconds
from drs_provider.steps.registry import step_kinds

NOTIFY = Object(
    title="notify",
    description=(
        "Send the plan's events (its runs' and drs_readiness's) as SNS messages (subject for "
        "people, JSON body for scripts)."
    ),
    where="under 'notify'",
    shape_hint="write 'sns_topic_arn: arn:aws:sns:...' under it",
    keys=(
        Key(
            "sns_topic_arn",
            Text(
                description="The SNS topic.",
                pattern=SNS_TOPIC_ARN_PATTERN,
                hint="an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:dr-events",
            ),
            required=True,
        ),
        Key(
            "events",
            ListOf(
                Text(description="An event of the plan.", choices=NOTIFY_EVENTS),
                min_items=1,
                description="Which events to send (default all).",
            ),
        ),
    ),
)
REPORT = Object(
    title="report",
    description="Also store each run's report as JSON, at <s3_uri><dag_id>/<run_id>.json.",
    where="under 'report'",
    shape_hint="write 's3_uri: s3://bucket/prefix/' under it",
    keys=(
        Key(
            "s3_uri",
            Text(
                description="s3://bucket/ or s3://bucket/prefix/ (a prefix ends with /).",
                pattern=S3_URI_PATTERN,
                hint="s3://bucket/ or s3://bucket/prefix/ (ending with /)",
            ),
            required=True,
        ),
    ),
)

PLAN = Object(
    title="plan",
    description="An AWS Elastic Disaster Recovery plan: waves of source servers with dependencies.",
    where="at the top level of the plan",
    shape_hint="a plan is a mapping with at least 'plan' and 'waves'",
    keys=(
        Key(
            "plan",
            Text(
                description="Plan name, unique across plans; the DAG is drs_plan_<plan>.",
                pattern=PLAN_NAME_PATTERN,
                hint=NAME_HINT,
                suggest=suggest_name,
            ),
            required=True,
        ),
        Key("description", Text(description="What the plan recovers.")),
        Key("owner", Text(description="Who owns the plan (the DAG owner).")),
        Key("aws_conn_id", conn_id_rule("Airflow AWS connection to use (default aws_default).")),
        Key("region", region_rule("AWS region of the DRS source servers; else the connection's region.")),
        Key(
            "schedule",
            Text(
                description=(
                    "When to run drills: a cron expression ('0 3 * * 1') or a preset such as "
                    "'@weekly'. Scheduled runs are always drills."
                ),
                pattern=SCHEDULE_PATTERN,
                check=schedule_problem,
            ),
        ),
        Key(
            "max_servers_per_job",
            Integer(
                description="Largest DRS job; bigger waves are split into several jobs.",
                minimum=1,
                maximum=MAX_SERVERS_PER_START_RECOVERY,
            ),
        ),
        Key(
            "tags",
            TextMap(
                keys=Text(description="Label key.", min_length=1, max_length=128),
                values=Text(description="Label value.", min_length=0, max_length=256),
                description=(
                    "Labels of the plan: a region failover (drs_failover, conf tags) recovers every "
                    "plan whose tags include all the given ones."
                ),
                max_entries=50,
            ),
        ),
        Key(
            "after_plans",
            ListOf(
                Text(
                    description="The name of another plan.",
                    pattern=PLAN_NAME_PATTERN,
                    hint=NAME_HINT,
                ),
                description=(
                    "In a region failover (drs_failover): plans whose recovery must succeed before "
                    "this plan's recovery starts."
                ),
                max_items=100,
                cap=True,
                noun="plan",
            ),
        ),
        Key(
            "priority",
            Integer(
                description=(
                    "When waves wait for the account's DRS capacity: recoveries go before drills, "
                    "and among them higher priority first (default 0)."
                ),
                minimum=-1000,
                maximum=1000,
            ),
        ),
        Key(
            "rto_target",
            seconds(
                "Seconds a run may take (preflight to the last wave's last step): the "
                "report says whether it met them; a run passing them sends rto_missed.",
                RTO_TARGET_RANGE,
            ),
        ),
        Key(
            "rpo_target",
            seconds(
                "Seconds of data the plan may lose: drs_readiness reports a server whose "
                "replication lag, or whose newest recovery snapshot's age, is larger.",
                RPO_TARGET_RANGE,
            ),
        ),
        Key(
            "drill_every",
            seconds(
                "Seconds between drills: drs_readiness reports the plan when its servers were "
                "last launched in a drill longer ago than this.",
                DRILL_EVERY_RANGE,
            ),
        ),
        Key(
            "cleanup",
            Text(
                description="Drills only: when the run terminates the recovery instances it "
                "launched: always (default: at the end of the drill, also when it failed), "
                "on_success (only when every wave succeeded) or never.",
                choices=CLEANUP_POLICIES,
                default=CLEANUP_DEFAULT,
            ),
        ),
        Key("notify", NOTIFY),
        Key("report", REPORT),
        Key(
            "recovery_allowed",
            ListOf(
                Text(
                    description="An Airflow user name, or role:<name> for every user of that role.",
                    pattern=RECOVERY_ALLOWED_ENTRY_PATTERN,
                    check=recovery_allowed_problem,
                    max_length=512,
                ),
                description=(
                    "Who may start a run that is not a drill (a recovery): Airflow user names and "
                    "role:<name> entries, matched against the user who triggered the run. Omitted: "
                    "everyone who may trigger the DAG."
                ),
                min_items=1,
                max_items=MAX_RECOVERY_ALLOWED,
                noun="entry",
            ),
        ),
        Key(
            "failback_order",
            Text(
                description="Failbacks only: the order the waves go home in: plan (default: wave by "
                "wave as the plan orders them) or reverse (the last wave first).",
                choices=FAILBACK_ORDERS,
                default=FAILBACK_ORDER_DEFAULT,
            ),
        ),
        Key(
            "failback_cleanup",
            Text(
                description="Failbacks only: what becomes of the recovery-region instances: keep "
                "(default: they stay) or terminate (once the whole failback succeeded).",
                choices=FAILBACK_CLEANUP_POLICIES,
                default=FAILBACK_CLEANUP_DEFAULT,
            ),
        ),
        Key(
            "failback_sync_timeout",
            seconds(
                "Failbacks only: seconds a wave waits for its servers' reversed replication to "
                f"reach CONTINUOUS (default {FAILBACK_SYNC_TIMEOUT_DEFAULT}).",
                FAILBACK_SYNC_TIMEOUT_RANGE,
            ),
        ),
        Key(
            "native_plan",
            Boolean(
                description="true: drs_readiness keeps a DRS native recovery plan in step with this "
                "plan (one per account and region, tagged drs:plan), so the DRS console can launch "
                "its servers wave by wave when Airflow is down (default false)."
            ),
        ),
        Key(
            "waves",
            ListOf(
                WAVE,
                description=f"The waves, at least one and at most {MAX_WAVES}.",
                min_items=1,
                max_items=MAX_WAVES,
                cap=True,
                unique=False,
                noun="wave",
            ),
            required=True,
        ),
    ),
)


def all_objects() -> tuple[Object, ...]:
    """Every object a plan file may hold, each step kind's included (as registered now)."""
    return (PLAN, WAVE, SELECTOR, LAUNCH, NOTIFY, REPORT, *(kind.rule for kind in step_kinds()))
