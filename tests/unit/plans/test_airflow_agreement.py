"""Rules the plan layer shares with Airflow, checked against Airflow itself.

The plan layer must not import Airflow, so it restates a few of Airflow's rules; these tests
keep the copies in step.
"""

from __future__ import annotations

import re

import pytest

from drs_provider.plans.model import RESERVED_WAVE_NAMES
from drs_provider.plans.values import CONN_ID_PATTERN


def test_the_dags_own_tasks_are_reserved_wave_names() -> None:
    from drs_provider.constants import PREFLIGHT_TASK_ID

    assert PREFLIGHT_TASK_ID in RESERVED_WAVE_NAMES


@pytest.mark.parametrize(
    "conn_id",
    [
        "aws_default",
        "aws-prod.eu:1",
        "team/dr#2",
        "a(b)!",
        "back\\slash",
        "has space",
        "tab\there",
        "semi;colon",
        "",
    ],
)
def test_connection_ids_follow_airflow(conn_id: str) -> None:
    from airflow.models.connection import RE_SANITIZE_CONN_ID

    assert bool(re.fullmatch(CONN_ID_PATTERN, conn_id)) == bool(RE_SANITIZE_CONN_ID.match(conn_id))
