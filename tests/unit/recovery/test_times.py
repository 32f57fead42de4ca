"""One parser for DRS timestamps and times people type; one formatter for DRS filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from drs_provider.recovery.times import format_drs_time, parse_duration, parse_time


def test_drs_time_round_trip_in_utc() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=timezone(timedelta(hours=2)))

    text = format_drs_time(moment)

    assert text == "2026-03-04T03:06:07.890000Z"
    assert parse_time(text) == moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-04T03:00:00Z", datetime(2026, 5, 4, 3, tzinfo=UTC)),
        ("2026-05-04 03:00", datetime(2026, 5, 4, 3, tzinfo=UTC)),
        ("  2026-03-04T03:06:07  ", datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC)),
        ("2026-05-04T05:00:00+02:00", datetime(2026, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_times_are_aware_and_naive_means_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)

    assert parsed == expected
    assert parsed.tzinfo is not None


def test_a_naive_moment_is_formatted_as_utc() -> None:
    assert format_drs_time(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"


def test_an_unreadable_time_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_time("last tuesday")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT0S", 0.0), ("PT1H2M5S", 3725.0), ("P1D", 86400.0), ("P1DT30M", 88200.0), ("PT0.5S", 0.5)],
)
def test_durations_as_drs_writes_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "P1Y", "1H", "PT1H2", "P1DT"])
def test_a_text_that_is_no_duration_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO-8601 duration"):
        parse_duration(text)
