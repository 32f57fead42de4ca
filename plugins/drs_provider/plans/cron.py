"""A cheap check of a plan's ``schedule``: an Airflow preset or a five-field cron expression.

This catches the mistakes people make (wrong field count, out-of-range numbers, typos in
month or weekday names) without importing Airflow or a cron library, so the plan model stays
free of both. Airflow still has the last word when it builds the timetable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Airflow's cron presets, plus ``@once``.
SCHEDULE_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")

# Loose shape shipped in the JSON Schema; `schedule_problem` is the real check.
SCHEDULE_PATTERN = r"^\s*(@[a-z]+|\S+(\s+\S+){4})\s*$"

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0

    def number(self, text: str) -> int | None:
        upper = text.upper()
        if upper in self.names:
            return self.names.index(upper) + self.names_start
        if text.isdigit():
            return int(text)
        return None


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS, 1),
    _Field("day-of-week", 0, 7, _WEEKDAYS, 0),
)

_ITEM = re.compile(r"^(?P<range>\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(?P<step>[0-9]+))?$")


def schedule_problem(schedule: str) -> str | None:
    """Return why ``schedule`` is not a usable schedule, or ``None`` if it is fine."""
    text = schedule.strip()
    if text.startswith("@"):
        if text == "@continuous":
            return (
                "'@continuous' would start a new drill as soon as the last one ends; "
                "use a cron expression or a preset such as '@weekly'"
            )
        if text in SCHEDULE_PRESETS:
            return None
        return f"unknown preset {text!r} (presets: {', '.join(SCHEDULE_PRESETS)})"
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return (
            f"{text!r} is not a cron expression: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    for field, value in zip(_FIELDS, fields, strict=True):
        problem = _field_problem(field, value)
        if problem:
            return f"{text!r}: {field.name} field {value!r}: {problem}"
    return None


def _field_problem(field: _Field, value: str) -> str | None:
    items = value.split(",")
    for item in items:
        if item == "?" and field.name in ("day-of-month", "day-of-week"):
            if len(items) > 1:
                return "'?' stands alone in its field, not in a list"
            continue
        if item == "L" and field.name == "day-of-month":
            continue
        if field.name == "day-of-week" and "#" in item:
            if len(items) > 1:
                return f"{item!r} (the nth weekday) stands alone in its field, not in a list"
            # nth weekday of the month, e.g. MON#2 for the second Monday
            day, _, nth = item.partition("#")
            problem = _value_problem(field, day)
            if problem:
                return problem
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                return f"'#{nth}' must be #1 to #5"
            continue
        problem = _item_problem(field, item)
        if problem:
            return problem
    return None


def _item_problem(field: _Field, item: str) -> str | None:
    match = _ITEM.match(item)
    if not match:
        return f"{item!r} is not a value, range (a-b), step (*/n) or list (a,b)"
    step = match["step"]
    if step is not None and int(step) == 0:
        return "a step must be at least 1"
    if match["range"] == "*":
        return None
    start, _, end = match["range"].partition("-")
    for part in (start, end) if end else (start,):
        problem = _value_problem(field, part)
        if problem:
            return problem
    # A backwards range wraps around (FRI-MON is Friday to Monday), as croniter reads it.
    return None


def _value_problem(field: _Field, text: str) -> str | None:
    number = field.number(text)
    if number is None:
        names = f" or {field.names[0]}..{field.names[-1]}" if field.names else ""
        return f"{text!r} is not a number {field.low}..{field.high}{names}"
    if not field.low <= number <= field.high:
        return f"{number} is out of range {field.low}..{field.high}"
    return None
