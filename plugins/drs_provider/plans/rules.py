"""The shape of a plan file as data: the one source of truth for the validator and the schema.

Each key of each object has a rule (a kind of :mod:`.rule_kinds`: text, integer, list, text
map or nested object) with its limits and a description. :mod:`.structure` checks raw YAML
values against these rules and :mod:`.schema` turns the same rules into the shipped JSON
Schema, so the two cannot drift. Rules that span several values (unique names, references,
cycles, a server in two waves) live in :mod:`.validation`. Each step kind's rule is declared
with the kind in :mod:`drs_provider.steps`; :data:`STEP` reads them from the registry.

Some limits are caps (``ListOf(cap=True)``): they bound what one plan may hold. The
dag-processor reads every plan file inside one DAG import timeout, so a file's cost must stay
small however it was written: a broken cap is reported alone and ends the checks of that file.
"""

from __future__ import annotations

import re

from drs_provider.constants import (
    MAX_SERVERS_PER_START_RECOVERY,
    MAX_TAGS_PER_RESOURCE,
    SOURCE_SERVER_ID_PATTERN,
    TAG_KEY_LENGTH,
    TAG_VALUE_LENGTH,
)
from drs_provider.plans.cron import SCHEDULE_PATTERN, schedule_problem
from drs_provider.plans.model import (
    CLEANUP_DEFAULT,
    CLEANUP_POLICIES,
    LAUNCH_DISPOSITIONS,
    NOTIFY_EVENTS,
    PLAN_NAME_PATTERN,
    RESERVED_WAVE_NAMES,
    RIGHT_SIZING_METHODS,
    WAVE_NAME_PATTERN,
)
from drs_provider.plans.names import NAME_HINT, suggest_name
from drs_provider.plans.rule_kinds import (
    Boolean,
    Integer,
    Key,
    ListOf,
    MapOf,
    Object,
    OneKeyOf,
    Text,
    TextMap,
)
from drs_provider.steps.common import seconds
from drs_provider.steps.registry import step_kinds

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"
# What Airflow allows in a connection ID, in ASCII so JSON Schema engines read it alike.
CONN_ID_PATTERN = r"^[A-Za-z0-9_#!()\-.:/\\]+$"

#: Steps in one wave's ``pre`` or ``post`` list (DRS's own recovery plans stop at 20 steps).
MAX_STEPS_PER_PHASE = 20

RTO_TARGET_RANGE = (60, 7 * 86400)  # seconds: a minute to a week
#: seconds: a second to a week. DRS replicates continuously, so an RPO of seconds is a real target.
RPO_TARGET_RANGE = (1, 7 * 86400)
#: seconds: a day to a year (a leap year's 366 days, so "yearly" always fits)
DRILL_EVERY_RANGE = (86400, 366 * 86400)
SNS_TOPIC_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
)
# A bucket name (3..63 of a-z 0-9 . -) and an optional key prefix ending with a slash.
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/([^\s]*/)?$"

#: A ``recovery_allowed`` entry: a user name, or ``role:<name>``; no spaces around it. Airflow keeps
#: the triggering user's name in 512 characters.
RECOVERY_ALLOWED_ENTRY_PATTERN = r"^(?!role:$)\S(.*\S)?$"
MAX_RECOVERY_ALLOWED = 100

#: EC2 instance types: a family, a dot, a size (m5.large, u-6tb1.metal, c7i.metal-24xl).
INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"
#: EC2 subnet and security group IDs: 8 hex digits (older resources) or 17.
SUBNET_ID_PATTERN = r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$"
SECURITY_GROUP_ID_PATTERN = r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
#: An IPv4 address in dotted decimal, each number 0..255 without leading zeros.
IPV4_PATTERN = rf"^({_OCTET}\.){{3}}{_OCTET}$"
#: Security groups on one network interface: EC2's quota is 5 by default and 16 at most.
MAX_SECURITY_GROUPS = 16

POLL_INTERVAL_RANGE = (1, 3600)  # seconds: at most an hour between DescribeJobs calls
TIMEOUT_RANGE = (60, 86400)  # seconds: a wave's jobs get between a minute and a day

# --- Caps: the most a plan may hold (``cap=True``; the steps of a phase: MAX_STEPS_PER_PHASE) ---
#: DRS's own recovery plans stop at 20 steps; a few hundred waves is far beyond any real plan.
MAX_WAVES = 300
#: Source server IDs in one selector. DRS replicates at most 300 source servers per account by
#: default and runs at most 500 servers across all active jobs (a wave launches all its servers
#: at once); beyond this, select servers by tags.
MAX_SERVERS_PER_SELECTOR = 1000
#: An AWS resource carries at most 50 tags, so a longer selector matches nothing.
MAX_TAGS = MAX_TAGS_PER_RESOURCE


def server_id_problem(value: str) -> str | None:
    """Why ``value`` is not a DRS source server ID (None if it is one), said precisely."""
    if re.fullmatch(SOURCE_SERVER_ID_PATTERN, value):
        return None
    shown = repr(value if len(value) <= 60 else value[:57] + "...")
    if value.startswith("i-"):
        detail = "that is an EC2 instance ID; use the DRS source server ID (s-...) of that instance"
    elif value != value.strip():
        detail = "it has spaces or line breaks around it"
    elif not value.startswith("s-"):
        detail = "a source server ID starts with 's-'"
    elif len(value) != 19:
        detail = f"it has {len(value) - 2} characters after 's-'; a source server ID has 17"
    else:
        detail = "after 's-' only letters and digits may follow"
    return f"{shown} is not a DRS source server ID: {detail} (e.g. s-0123456789abcdef0)"


def region_problem(value: str) -> str | None:
    """Why ``value`` is not an AWS region name (None if it is one)."""
    if re.fullmatch(REGION_PATTERN, value):
        return None
    shown = repr(value if len(value) <= 60 else value[:57] + "...")
    zone = re.fullmatch(r"([a-z]{2}(-[a-z]+)+-[0-9]{1,2})[a-z]", value)
    if zone:
        return f"{shown} is an availability zone; give its region, {zone[1]!r}"
    return f"{shown} is not an AWS region name such as us-east-1"


def recovery_allowed_problem(value: str) -> str | None:
    """Why ``value`` is not a ``recovery_allowed`` entry (None if it is one)."""
    if re.fullmatch(RECOVERY_ALLOWED_ENTRY_PATTERN, value):
        return None
    if value == "role:":
        return "'role:' names no role: write role:<name>, e.g. role:admin"
    return f"{value!r} has spaces or line breaks around it, or is blank"


def private_ip_problem(value: str) -> str | None:
    """Why ``value`` is not an IPv4 address a launch template takes (None if it is one)."""
    if re.fullmatch(IPV4_PATTERN, value):
        return None
    shown = repr(value if len(value) <= 60 else value[:57] + "...")
    return f"{shown} is not an IPv4 address such as 10.0.1.25"


SERVER_ID = Text(
    description="A DRS source server ID.", pattern=SOURCE_SERVER_ID_PATTERN, check=server_id_problem
)

SELECTOR = Object(
    title="selector",
    description=(
        "Source servers by ID and/or by tags. Tags match servers carrying ALL of them and are "
        "resolved when the run starts."
    ),
    where="under 'servers' or 'optional_servers'",
    needs_one_of=("ids", "tags"),
    shape_hint="write 'ids: [...]' and/or 'tags: {Key: value}' under it",
    keys=(
        Key(
            "ids",
            ListOf(
                SERVER_ID,
                description="Source server IDs.",
                max_items=MAX_SERVERS_PER_SELECTOR,
                cap=True,
                noun="server ID",
            ),
        ),
        Key(
            "tags",
            TextMap(
                keys=Text(
                    description="Tag key.",
                    min_length=TAG_KEY_LENGTH[0],
                    max_length=TAG_KEY_LENGTH[1],
                    reserved_prefix="aws:",
                ),
                values=Text(
                    description="Tag value.", min_length=TAG_VALUE_LENGTH[0], max_length=TAG_VALUE_LENGTH[1]
                ),
                description="Tags a server must ALL carry to be selected.",
                max_entries=MAX_TAGS,
            ),
        ),
    ),
)

LAUNCH = Object(
    title="launch",
    description=(
        "The DRS launch settings the plan relies on: drs_readiness reports any other setting in DRS "
        "(launch_config_drift) and drs-plan apply-launch makes DRS match. Instance type, subnet, "
        "security groups and private IP live in the server's EC2 launch template (its default "
        "version), the rest in its DRS launch configuration."
    ),
    where="under 'launch' or a server of 'launch_per_server'",
    shape_hint="write settings such as 'instance_type: m5.large' under it",
    keys=(
        Key(
            "instance_type",
            Text(
                description="EC2 instance type of the recovery instance (needs right_sizing: NONE).",
                pattern=INSTANCE_TYPE_PATTERN,
                hint="an EC2 instance type such as m5.large",
                max_length=64,
            ),
        ),
        Key(
            "subnet_id",
            Text(
                description="The subnet the recovery instance launches in.",
                pattern=SUBNET_ID_PATTERN,
                hint="a subnet ID such as subnet-0123456789abcdef0",
            ),
        ),
        Key(
            "security_group_ids",
            ListOf(
                Text(
                    description="A security group ID.",
                    pattern=SECURITY_GROUP_ID_PATTERN,
                    hint="a security group ID such as sg-0123456789abcdef0",
                ),
                description="Security groups of the recovery instance's primary network interface.",
                min_items=1,
                max_items=MAX_SECURITY_GROUPS,
                noun="security group",
            ),
        ),
        Key(
            "private_ip",
            Text(
                description=(
                    "Private IPv4 address of the recovery instance (one server's: under "
                    "launch_per_server only; not with copy_private_ip: true)."
                ),
                pattern=IPV4_PATTERN,
                check=private_ip_problem,
            ),
        ),
        Key(
            "copy_private_ip",
            Boolean(description="Launch with the source server's private IP address (DRS copyPrivateIp)."),
        ),
        Key(
            "copy_tags",
            Boolean(description="Give the recovery instance the source server's tags (DRS copyTags)."),
        ),
        Key(
            "launch_disposition",
            Text(
                description="The recovery instance's state once launched (DRS launchDisposition).",
                choices=LAUNCH_DISPOSITIONS,
            ),
        ),
        Key(
            "right_sizing",
            Text(
                description=(
                    "How DRS chooses the instance type (DRS targetInstanceTypeRightSizingMethod): NONE "
                    "keeps the launch template's; BASIC and IN_AWS overwrite it."
                ),
                choices=RIGHT_SIZING_METHODS,
            ),
        ),
        Key(
            "os_byol",
            Boolean(description="Bring your own OS licence (DRS licensing.osByol)."),
        ),
    ),
)

WAVE_NAME = Text(
    description="Wave name, unique in the plan.",
    pattern=WAVE_NAME_PATTERN,
    hint=NAME_HINT,
    suggest=suggest_name,
    reserved=tuple(sorted(RESERVED_WAVE_NAMES)),
    reserved_reason="the DAG has a task of that name",
)


def _step_rules() -> tuple[Key, ...]:
    """Each registered step kind under its name, read when a step is checked or the schema made."""
    return tuple(Key(kind.name, kind.rule) for kind in step_kinds())


STEP = OneKeyOf(
    description="One runbook step: a mapping with one key, the step kind.",
    noun="step",
    registered=_step_rules,
)


def _steps(description: str) -> ListOf:
    return ListOf(STEP, description=description, unique=False, max_items=MAX_STEPS_PER_PHASE, noun="step")


WAVE = Object(
    title="wave",
    description="Servers recovered together, after every wave in depends_on.",
    where="in a wave",
    shape_hint="each wave is a mapping with at least 'name' and 'servers'",
    keys=(
        Key("name", WAVE_NAME, required=True),
        Key("servers", SELECTOR, required=True),
        Key(
            "optional_servers",
            SELECTOR,
        ),
        Key(
            "expect_servers",
            Integer(
                description=(
                    "How many servers servers.tags must select: drs_readiness reports the wave when "
                    "its tags select another number. Needs tags under servers."
                ),
                minimum=1,
            ),
        ),
        Key(
            "depends_on",
            ListOf(
                Text(description="The name of another wave in this plan.", min_length=1),
                description=(
                    "Waves that must recover first. Omitted: the wave listed before this one "
                    "(none for the first wave). []: no upstream wave, starts at once."
                ),
                max_items=MAX_WAVES,
                cap=True,
                noun="wave",
            ),
        ),
        Key(
            "poll_interval",
            seconds("Seconds between checks of the wave's DRS jobs (default 1).", POLL_INTERVAL_RANGE),
        ),
        Key(
            "timeout",
            seconds("Seconds the wave's DRS jobs may take to finish.", TIMEOUT_RANGE),
        ),
        Key("launch", LAUNCH),
        Key(
            "launch_per_server",
            MapOf(
                keys=Text(
                    description="A source server of this wave.",
                    pattern=SOURCE_SERVER_ID_PATTERN,
                    check=server_id_problem,
                ),
                values=LAUNCH,
                description=(
                    "Launch settings of single servers of the wave, each overriding the wave's "
                    "launch setting by setting."
                ),
                noun="source server IDs to launch settings",
            ),
        ),
        Key("pre", _steps("Steps run in order before the wave's StartRecovery.")),
        Key("post", _steps("Steps run in order after every required server of the wave LAUNCHED.")),
    ),
)

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
        Key(
            "aws_conn_id",
            Text(
                description="Airflow AWS connection to use (default aws_default).",
                pattern=CONN_ID_PATTERN,
                hint="an Airflow connection ID: letters, digits and _ # ! ( ) - . : / \\ only",
                min_length=1,
                max_length=250,
            ),
        ),
        Key(
            "region",
            Text(
                description="AWS region of the DRS source servers; else the connection's region.",
                pattern=REGION_PATTERN,
                check=region_problem,
            ),
        ),
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
