"""The rules of a wave: its name, its server selectors, its launch settings and its runbook steps.

See :mod:`.rules` for how rules are read; the plan's own keys are there.
"""

from __future__ import annotations

from drs_provider.constants import SOURCE_SERVER_ID_PATTERN, TAG_KEY_LENGTH, TAG_VALUE_LENGTH
from drs_provider.plans.model import (
    LAUNCH_DISPOSITIONS,
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
from drs_provider.plans.values import (
    CONN_ID_PATTERN,
    INSTANCE_TYPE_PATTERN,
    IPV4_PATTERN,
    MAX_SECURITY_GROUPS,
    MAX_SERVERS_PER_SELECTOR,
    MAX_STEPS_PER_PHASE,
    MAX_TAGS,
    MAX_WAVES,
    POLL_INTERVAL_RANGE,
    REGION_PATTERN,
    SECURITY_GROUP_ID_PATTERN,
    SUBNET_ID_PATTERN,
    TIMEOUT_RANGE,
    private_ip_problem,
    region_problem,
    server_id_problem,
)
from drs_provider.steps.common import seconds
from drs_provider.steps.registry import step_kinds

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


def conn_id_rule(description: str) -> Text:
    """An Airflow connection ID (a plan's, or one wave's)."""
    return Text(
        description=description,
        pattern=CONN_ID_PATTERN,
        hint="an Airflow connection ID: letters, digits and _ # ! ( ) - . : / \\ only",
        min_length=1,
        max_length=250,
    )


def region_rule(description: str) -> Text:
    """An AWS region (a plan's, or one wave's)."""
    return Text(description=description, pattern=REGION_PATTERN, check=region_problem)


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
        Key(
            "aws_conn_id",
            conn_id_rule("Airflow AWS connection of this wave's DRS (another account); else the plan's."),
        ),
        Key("region", region_rule("AWS region of this wave's DRS source servers; else the plan's.")),
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
