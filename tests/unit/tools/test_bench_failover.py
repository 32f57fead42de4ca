"""The failover benchmark's rounds: the first waves' launches in turns of the job quota."""

from __future__ import annotations

import pytest

from tests.bench.failover import rounds

pytestmark = pytest.mark.unit


def test_launches_group_in_rounds_of_the_quota_with_when_their_jobs_ended() -> None:
    launches = [21.0, 20.0, 23.0, 85.0, 90.0]
    ends = [81.0, 80.0, 84.0, 146.0, 151.0]

    assert rounds(launches, ends, quota=3) == [(3, 20.0, 23.0, 80.0, 84.0), (2, 85.0, 90.0, 146.0, 151.0)]


def test_a_round_whose_jobs_have_not_ended_says_none() -> None:
    assert rounds([1.0, 2.0], [], quota=2) == [(2, 1.0, 2.0, None, None)]
