"""The tags that tie a DRS job to the Airflow run that started it, and the checks on users' tags.

Every job a plan run starts carries ``airflow:dag_id`` and ``airflow:run_id`` (and the task and
chunk), so a retry finds the jobs it already started, the clean-up finds what a run launched,
and readiness and the guard name the run behind a recovery instance. Plain data: no Airflow.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from drs_provider.constants import TAG_DAG_ID, TAG_KEY_LENGTH, TAG_RUN_ID, TAG_VALUE_LENGTH
from drs_provider.exceptions import DrsInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Tag key prefixes a caller's job tags may not use (AWS's own, and the identity tags').
RESERVED_TAG_PREFIXES = ("aws:", "airflow:")

#: What AWS allows in tag keys and values; anything else is replaced in values the provider makes.
_TAG_CHARACTERS = re.compile(r"[^\w .:/=+\-@]", re.UNICODE)
#: How far before a run's ``run_after`` its jobs are looked for (clock skew, manual dates).
JOB_LOOKBACK = timedelta(days=1)


def tag_value(raw: str) -> str:
    """
    ``raw`` as a valid AWS tag value that stays the same on every retry.

    Characters AWS does not allow become ``_``; an overlong value is cut and suffixed with a
    hash of the original so two different values cannot end up with the same tag.
    """
    cleaned = _TAG_CHARACTERS.sub("_", raw)
    if cleaned == raw and len(raw) <= TAG_VALUE_LENGTH[1]:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"{cleaned[: TAG_VALUE_LENGTH[1] - 17]}-{digest}"


def run_tags(dag_id: str | None, run_id: str) -> dict[str, str]:
    """The tags that find every DRS job a DAG run started (any DAG's run ``run_id`` without ``dag_id``)."""
    tags = {TAG_RUN_ID: tag_value(run_id)}
    if dag_id is not None:
        tags[TAG_DAG_ID] = tag_value(dag_id)
    return tags


def validate_job_tags(tags: Mapping[str, str], *, field: str) -> None:
    """Reject caller tags that AWS would refuse or that collide with the identity tags."""
    problems = []
    for key, value in tags.items():
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            problems.append(f"key {key!r} uses a reserved prefix ({', '.join(RESERVED_TAG_PREFIXES)})")
        if not TAG_KEY_LENGTH[0] <= len(key) <= TAG_KEY_LENGTH[1] or _TAG_CHARACTERS.search(key):
            problems.append(f"key {key!r} is not a valid AWS tag key")
        if len(value) > TAG_VALUE_LENGTH[1] or _TAG_CHARACTERS.search(value):
            problems.append(f"value {value!r} of {key!r} is not a valid AWS tag value")
    if problems:
        raise DrsInputError(f"{field}: " + "; ".join(problems))
