"""The shape of a plan file as data: the one source of truth for the validator and the schema.

Each key of each object has a rule (text, integer, list, text map or nested object) with its
limits and a description. :mod:`.structure` checks raw YAML values against these rules and
:mod:`.schema` turns the same rules into the shipped JSON Schema, so the two cannot drift.
Rules that span several values (unique names, references, cycles, a server in two waves)
live in :mod:`.validation`.

The caps below (``max_items``, ``max_entries``) bound what one plan may hold. The dag-processor
reads every plan file inside one DAG import timeout, so a file's cost must stay small however
it was written: a broken cap is reported alone and ends the checks of that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drs_provider.plans.cron import SCHEDULE_PATTERN, schedule_problem
from drs_provider.plans.model import (
    MAX_SERVERS_PER_JOB_LIMIT,
    PLAN_NAME_PATTERN,
    RESERVED_WAVE_NAMES,
    SOURCE_SERVER_ID_PATTERN,
    WAVE_NAME_PATTERN,
)

if TYPE_CHECKING:
    from collections.abc import Callable

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"
# What Airflow allows in a connection ID, in ASCII so JSON Schema engines read it alike.
CONN_ID_PATTERN = r"^[A-Za-z0-9_#!()\-.:/\\]+$"

POLL_INTERVAL_RANGE = (1, 3600)  # seconds: at most an hour between DescribeJobs calls
TIMEOUT_RANGE = (60, 86400)  # seconds: a wave's jobs get between a minute and a day
TAG_KEY_LENGTH = (1, 128)  # AWS tag limits
TAG_VALUE_LENGTH = (0, 256)

# --- Caps: the most a plan may hold ----------------------------------------------------------
#: DRS's own recovery plans stop at 20 steps; a few hundred waves is far beyond any real plan.
MAX_WAVES = 300
#: Source server IDs in one selector. DRS replicates at most 300 source servers per account by
#: default and runs at most 500 servers across all active jobs (a wave launches all its servers
#: at once); beyond this, select servers by tags.
MAX_SERVERS_PER_SELECTOR = 1000
#: An AWS resource carries at most 50 tags, so a longer selector matches nothing.
MAX_TAGS = 50
# Runbook steps (a wave's ``pre`` and ``post`` lists) take their cap here, as ``max_items`` of
# each list, when they join the rules.


@dataclass(frozen=True)
class Text:
    """A string, optionally matching ``pattern`` (explained to people by ``hint``)."""

    description: str = ""
    pattern: str | None = None
    hint: str = ""
    min_length: int = 0
    max_length: int | None = None
    #: prefix the value must not start with, compared case-insensitively
    reserved_prefix: str | None = None
    #: values taken for something else, with the reason
    reserved: tuple[str, ...] = ()
    reserved_reason: str = ""
    #: replaces ``pattern`` in the validator with a check that explains itself; returns the
    #: problem or None, and must accept only values that ``pattern`` (shipped in the schema) matches
    check: Callable[[str], str | None] | None = None
    #: proposes a valid value close to an invalid one
    suggest: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Integer:
    """A whole number in ``minimum..maximum`` (booleans are not numbers)."""

    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""


@dataclass(frozen=True)
class ListOf:
    """A list whose items all follow ``items``; ``unique`` items may appear only once."""

    items: Rule
    description: str = ""
    min_items: int = 0
    #: a cap (see the module docstring): more items end the checks of the file
    max_items: int | None = None
    unique: bool = True
    #: what one item is called in messages
    noun: str = "item"


@dataclass(frozen=True)
class TextMap:
    """A mapping of text to text, such as AWS tags."""

    keys: Text
    values: Text
    description: str = ""
    #: a cap (see the module docstring): more entries end the checks of the file
    max_entries: int | None = None
    #: what one entry is called in messages
    noun: str = "entry"


@dataclass(frozen=True)
class Key:
    """One key of an object."""

    name: str
    rule: Rule
    required: bool = False


@dataclass(frozen=True)
class Object:
    """A mapping with a fixed set of keys; any other key is an error."""

    title: str
    keys: tuple[Key, ...]
    description: str = ""
    #: where its keys belong, said in a hint when a key is written in the wrong place
    where: str = ""
    #: at least one of these keys must be present and non-empty
    needs_one_of: tuple[str, ...] = ()
    #: how to write it, said when something else stands in its place
    shape_hint: str = ""

    def key(self, name: str) -> Key | None:
        for key in self.keys:
            if key.name == name:
                return key
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)


Rule = Text | Integer | ListOf | TextMap | Object

NAME_HINT = "a lowercase letter, then up to 50 lowercase letters, digits or underscores"


def suggest_name(text: str) -> str | None:
    """A valid plan or wave name close to ``text`` ('Web-Tier' -> 'web_tier'), if there is one."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    name = name.lstrip("0123456789_")[:51]
    return name if re.fullmatch(PLAN_NAME_PATTERN, name) else None


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
                noun="tag",
            ),
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
            "depends_on",
            ListOf(
                Text(description="The name of another wave in this plan.", min_length=1),
                description=(
                    "Waves that must recover first. Omitted: the wave listed before this one "
                    "(none for the first wave). []: no upstream wave, starts at once."
                ),
                max_items=MAX_WAVES,
                noun="wave",
            ),
        ),
        Key(
            "poll_interval",
            Integer(
                description="Seconds between checks of the wave's DRS jobs.",
                minimum=POLL_INTERVAL_RANGE[0],
                maximum=POLL_INTERVAL_RANGE[1],
                unit="seconds",
            ),
        ),
        Key(
            "timeout",
            Integer(
                description="Seconds the wave's DRS jobs may take to finish.",
                minimum=TIMEOUT_RANGE[0],
                maximum=TIMEOUT_RANGE[1],
                unit="seconds",
            ),
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
                maximum=MAX_SERVERS_PER_JOB_LIMIT,
            ),
        ),
        Key(
            "waves",
            ListOf(
                WAVE,
                description=f"The waves, at least one and at most {MAX_WAVES}.",
                min_items=1,
                max_items=MAX_WAVES,
                unique=False,
                noun="wave",
            ),
            required=True,
        ),
    ),
)

ALL_OBJECTS = (PLAN, WAVE, SELECTOR)
