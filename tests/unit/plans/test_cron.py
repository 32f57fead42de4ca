"""The cheap schedule check agrees with croniter (what Airflow uses) on what it accepts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drs_provider.plans.cron import SCHEDULE_PRESETS, schedule_problem

croniter = pytest.importorskip("croniter")

GOOD = [
    "0 3 * * 1",
    "*/15 * * * *",
    "0 0 1 */3 *",
    "5,35 2-4 * * MON-FRI",
    "0 6 1-7 * mon",
    "0 12 * JAN,JUL *",
    "0 0 L * *",
    "0 3 ? * SUN",
    "0 3 * * MON#2",
    "0 3 * * 7",
    "0-59/10 0-23/2 1-31 1-12 0-6",
    "0 3 10/5 * *",
    "0 22 * * FRI-MON",  # wraps around the week
]

BAD = [
    ("* * * * *,?", "'?' stands alone in its field"),
    ("* * * * MON#2,FRI", "(the nth weekday) stands alone in its field"),
    ("0 3 * *", "expected 5 fields"),
    ("0 3 * * 1 2026", "expected 5 fields"),
    ("60 * * * *", "minute field '60': 60 is out of range 0..59"),
    ("0 24 * * *", "hour field '24'"),
    ("0 0 0 * *", "day-of-month field '0'"),
    ("0 0 32 * *", "day-of-month field '32'"),
    ("0 0 * 13 *", "month field '13'"),
    ("0 0 * * 8", "day-of-week field '8'"),
    ("0 0 * FOO *", "'FOO' is not a number 1..12 or JAN..DEC"),
    ("*/0 * * * *", "a step must be at least 1"),
    ("0 0 * * MON#6", "'#6' must be #1 to #5"),
    ("a b c d e", "minute field 'a'"),
    ("0 0 * * 1-", "is not a value, range"),
]


@pytest.mark.parametrize("expression", GOOD)
def test_good_expressions_pass_here_and_in_croniter(expression: str) -> None:
    assert schedule_problem(expression) is None
    assert croniter.croniter.is_valid(expression)


@pytest.mark.parametrize(("expression", "fragment"), BAD)
def test_bad_expressions_fail_here_and_in_croniter(expression: str, fragment: str) -> None:
    problem = schedule_problem(expression)
    assert problem is not None and fragment in problem
    assert not croniter.croniter.is_valid(expression)


@pytest.mark.parametrize("preset", SCHEDULE_PRESETS)
def test_presets_pass(preset: str) -> None:
    assert schedule_problem(preset) is None


_TOKENS = ["*", "?", "L", "0", "1", "5", "7", "12", "13", "23", "31", "59", "60", "MON", "jan", "FRI", "x"]
_items = st.builds(
    lambda start, end, step: start + (f"-{end}" if end else "") + (f"/{step}" if step else ""),
    st.sampled_from(_TOKENS),
    st.none() | st.sampled_from(_TOKENS),
    st.none() | st.sampled_from(["0", "1", "2", "15"]),
) | st.builds(
    lambda day, nth: f"{day}#{nth}", st.sampled_from(["MON", "1", "7"]), st.sampled_from(["1", "5", "6"])
)
_fields = st.lists(_items, min_size=1, max_size=3).map(",".join)


@settings(max_examples=150, deadline=None)
@given(fields=st.lists(_fields, min_size=5, max_size=5))
def test_whatever_passes_here_passes_croniter(fields: list[str]) -> None:
    """Never accept a schedule that Airflow would then reject when it builds the DAG."""
    expression = " ".join(fields)
    if schedule_problem(expression) is None:
        assert croniter.croniter.is_valid(expression), expression
