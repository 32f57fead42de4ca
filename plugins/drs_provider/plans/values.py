"""What one value of a plan must look like: patterns, ranges and caps, and why a value breaks them.

The rules of :mod:`.rules` and :mod:`.wave_rules` are built from these; tests and tools read the
same limits here.
"""

from __future__ import annotations

import re

from drs_provider.constants import MAX_TAGS_PER_RESOURCE, SOURCE_SERVER_ID_PATTERN

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
#: seconds: a minute (servers already copied back) to a week (terabytes over a thin link)
FAILBACK_SYNC_TIMEOUT_RANGE = (60, 7 * 86400)
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
