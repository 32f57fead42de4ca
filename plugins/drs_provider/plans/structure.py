"""Check raw YAML values against the rules in :mod:`.rules`, collecting every problem.

The checker never stops at the first problem. It returns the checked values (text, ints,
tuples, dicts) so later steps can go on with whatever was valid; a value that broke its rule
comes back as :data:`INVALID`. It stops in two cases only, by raising :class:`StopChecking`:
a cap of the rules is broken (a list longer than a plan may hold), or
:data:`MAX_PROBLEMS` problems were found. Either bounds the work one hostile file can cause.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from drs_provider.plans.rule_kinds import (
    Boolean,
    Integer,
    Json,
    ListOf,
    MapOf,
    Object,
    OneKeyOf,
    Text,
    TextMap,
)
from drs_provider.plans.rules import all_objects
from drs_provider.plans.yaml_source import UNREADABLE, format_path

if TYPE_CHECKING:
    from drs_provider.plans.rule_kinds import Rule
    from drs_provider.plans.yaml_source import FieldPath, SourceMap


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: Stands for a value that broke its rule (already reported).
INVALID: Final = _Invalid()

#: Problems reported per file before checking stops: a person fixes the first ones first, and
#: messages cost work (suggestions compare names), which a file must not multiply without end.
MAX_PROBLEMS = 20


class StopChecking(Exception):
    """Raised by :class:`Checker` once nothing more about the file is worth checking."""


@dataclass(frozen=True)
class Problem:
    """A rule broken at ``path`` (a tuple of keys and indexes)."""

    path: FieldPath
    message: str
    #: where it was found, when that differs from where ``path`` was first written
    line: int | None = None


def describe(value: object) -> str:
    """Name a YAML value's type and value for a message: ``boolean true``, ``integer 5``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {_short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):
        return f"date {value.isoformat()}"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounds(low: int | None, high: int | None, unit: str) -> str:
    """``between 1 and 3600 seconds``; a range open on one side says only its other end."""
    unit = f" {unit}" if unit else ""
    if high is None:
        return f"at least {low}{unit}"
    if low is None:
        return f"at most {high}{unit}"
    return f"between {low} and {high}{unit}"


def _where_key_belongs(key: str) -> list[str]:
    """Where ``key`` is valid (read now: a step kind registered later has its keys too)."""
    return [obj.where for obj in all_objects() if key in obj.names]


def unknown_key_message(obj: Object, key: str) -> str:
    """Say that ``key`` is not valid in ``obj``, with the likely intended key or place."""
    close = difflib.get_close_matches(key, obj.names, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    elsewhere = [place for place in _where_key_belongs(key) if place != obj.where]
    if elsewhere:
        return f"unknown key {key!r} here (it belongs {' or '.join(elsewhere)})"
    return f"unknown key {key!r} (valid keys: {', '.join(obj.names)})"


@dataclass
class Checker:
    """Checks values against rules; collects :attr:`problems` instead of raising."""

    source: SourceMap
    problems: list[Problem] = field(default_factory=list)
    #: paths the YAML reader already reported, so no rule repeats it (an unquoted `on:` key)
    reported: set[FieldPath] = field(default_factory=set)
    #: checking stopped because :data:`MAX_PROBLEMS` problems were found
    stopped_at_max_problems: bool = False

    def report(self, path: FieldPath, message: str, line: int | None = None) -> None:
        """Record a problem; raises :class:`StopChecking` once :data:`MAX_PROBLEMS` are recorded."""
        self.problems.append(Problem(path, message, line))
        if len(self.problems) >= MAX_PROBLEMS:
            self.stopped_at_max_problems = True
            raise StopChecking

    def cap(self, path: FieldPath, count: int, noun: str, limit: int) -> StopChecking:
        """Record that ``path`` holds ``count`` {noun}s, more than ``limit``; raise the result."""
        plural = noun if noun.endswith("s") else f"{noun}s"
        self.problems.append(
            Problem(
                path,
                f"{count} {plural}, more than the {limit} allowed; the rest of this file was not checked",
            )
        )
        return StopChecking()

    def check(self, rule: Rule, value: object, path: FieldPath) -> object:
        """Return ``value`` checked and converted, or :data:`INVALID` after reporting why."""
        if value is UNREADABLE:
            return INVALID  # the reader has reported it
        if isinstance(rule, Object):
            return self._object(rule, value, path)
        if isinstance(rule, OneKeyOf):
            return self._one_key_of(rule, value, path)
        if isinstance(rule, ListOf):
            return self._list(rule, value, path)
        if isinstance(rule, TextMap):
            return self._text_map(rule, value, path)
        if isinstance(rule, MapOf):
            return self._map_of(rule, value, path)
        if isinstance(rule, Integer):
            return self._integer(rule, value, path)
        if isinstance(rule, Boolean):
            return self._boolean(value, path)
        if isinstance(rule, Json):
            return self._json(value, path)
        return self._text(rule, value, path, what="")

    def _wrong_type(self, path: FieldPath, expected: str, value: object, hint: str = "") -> _Invalid:
        message = f"expected {expected}, got {describe(value)}"
        plain = self.source.plain_text.get(path)
        if hint:
            message += f"; {hint}"
        elif expected == "a string" and plain is not None and value is not None:
            kind = describe(value).split()[0]
            article = "an" if kind[0] in "aeiou" else "a"
            message += f"; unquoted, YAML reads {plain!r} as {article} {kind}: put it in quotes"
        elif expected == "a string" and value is None:
            message += '; write "" for empty text'
        elif expected == "an integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            message += "; remove the quotes"
        elif expected == "a list" and value is None:
            message += "; write [] for an empty list"
        elif expected == "a list" and isinstance(value, str | int):
            message += f"; write [{value}] for a list"
        elif expected == "a list" and isinstance(value, dict):
            message += "; start each item on its own line with '- '"
        self.report(path, message)
        return INVALID

    def _object(self, rule: Object, value: object, path: FieldPath) -> object:
        if rule.shorthand is not None and not isinstance(value, dict | list):
            value = {rule.shorthand: value}  # `wait: 120` is `wait: {seconds: 120}`
        if not isinstance(value, dict):
            hint = rule.shape_hint
            if isinstance(value, str) and re.search(r"^[\w-]+:\S", value):
                hint = f"put a space after the ':' in {value.split(':')[0]}:"  # `name:web` is one string
            return self._wrong_type(path, f"a mapping ({rule.title})", value, hint)
        checked: dict[str, object] = {}
        for key, item in value.items():
            key_rule = rule.key(key)
            if key_rule is None:
                if (*path, key) not in self.reported:
                    self.report((*path, key), unknown_key_message(rule, key))
                continue
            checked[key] = self.check(key_rule.rule, item, (*path, key))
        for key_rule in rule.keys:
            if key_rule.required and key_rule.name not in value:
                self.report((*path, key_rule.name), f"required key {key_rule.name!r} is missing")
        if rule.needs_one_of and not any(
            value.get(name) and value.get(name) is not UNREADABLE for name in rule.needs_one_of
        ):
            given = " or ".join(repr(name) for name in rule.needs_one_of)
            self.report(path, f"selects no servers: give a non-empty {given}")
        return checked

    def _one_key_of(self, rule: OneKeyOf, value: object, path: FieldPath) -> object:
        """``{kind: body}`` -> ``(kind, checked body)``."""
        listed = ", ".join(rule.names)
        if isinstance(value, str) and rule.kind(value) is not None:
            return self._wrong_type(path, f"a mapping ({rule.noun})", value, f"write '{value}: {{...}}'")
        if not isinstance(value, dict):
            return self._wrong_type(path, f"a mapping with one key, the {rule.noun} kind ({listed})", value)
        if len(value) != 1:
            keys = ", ".join(repr(key) for key in value) or "none"
            hint = ""
            if any(rule.kind(str(key)) is not None for key in value):
                hint = f"; put the {rule.noun}'s settings under its kind, indented, or start another '- '"
            self.report(path, f"a {rule.noun} has exactly one key, its kind ({listed}); got {keys}{hint}")
            return INVALID
        ((kind, body),) = value.items()
        kind_rule = rule.kind(kind) if isinstance(kind, str) else None
        if kind_rule is None:
            close = difflib.get_close_matches(str(kind), rule.names, n=1, cutoff=0.6)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            self.report(
                (*path, kind), f"unknown {rule.noun} kind {kind!r}{guess}; {rule.noun} kinds: {listed}"
            )
            return INVALID
        checked = self.check(kind_rule.rule, {} if body is None else body, (*path, kind))
        return INVALID if checked is INVALID else (kind, checked)

    def _list(self, rule: ListOf, value: object, path: FieldPath) -> object:
        if not isinstance(value, list):
            return self._wrong_type(path, "a list", value)
        if rule.cap and rule.max_items is not None and len(value) > rule.max_items:
            raise self.cap(path, len(value), rule.noun, rule.max_items)
        if len(value) < rule.min_items:
            self.report(
                path, f"needs at least {rule.min_items} {rule.noun}{'s' if rule.min_items > 1 else ''}"
            )
        if rule.max_items is not None and len(value) > rule.max_items:
            self.report(path, f"has {len(value)} {rule.noun}s; at most {rule.max_items} are allowed")
            return INVALID
        items: list[object] = []
        first_index: dict[object, int] = {}
        for index, item in enumerate(value):
            checked = self.check(rule.items, item, (*path, index))
            if rule.unique and isinstance(checked, str):
                if checked in first_index:
                    first = format_path((*path, first_index[checked]))
                    self.report((*path, index), f"{checked!r} is listed twice (first at {first})")
                    checked = INVALID
                else:
                    first_index[checked] = index
            items.append(checked)
        return tuple(items)

    def _text_map(self, rule: TextMap, value: object, path: FieldPath) -> object:
        if not isinstance(value, dict):
            return self._wrong_type(path, "a mapping of tag keys to values", value)
        if rule.max_entries is not None and len(value) > rule.max_entries:
            self.report(path, f"has {len(value)} entries; at most {rule.max_entries} are allowed")
        checked: dict[str, str] = {}
        valid = True
        for key, item in value.items():
            key_ok = self._text(rule.keys, key, (*path, key), what="key ") is not INVALID
            checked_value = self._text(rule.values, item, (*path, key), what="value ")
            if key_ok and isinstance(checked_value, str):
                checked[key] = checked_value
            else:
                valid = False
        return checked if valid else INVALID

    def _map_of(self, rule: MapOf, value: object, path: FieldPath) -> object:
        if not isinstance(value, dict):
            return self._wrong_type(path, f"a mapping of {rule.noun}", value)
        checked: dict[str, object] = {}
        valid = True
        for key, item in value.items():
            key_ok = self._text(rule.keys, key, (*path, key), what="key ") is not INVALID
            checked_value = self.check(rule.values, item, (*path, key))
            if key_ok and checked_value is not INVALID:
                checked[key] = checked_value
            else:
                valid = False
        return checked if valid else INVALID

    def _boolean(self, value: object, path: FieldPath) -> object:
        if not isinstance(value, bool):
            return self._wrong_type(path, "true or false", value)
        return value

    def _json(self, value: object, path: FieldPath) -> object:
        """A mapping of JSON values; YAML's dates, binary data and other types are refused."""
        if not isinstance(value, dict):
            return self._wrong_type(path, "a mapping", value)
        valid = True

        def visit(item: object, where: FieldPath) -> None:
            nonlocal valid
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not isinstance(key, str):
                        self.report((*where, str(key)), f"keys must be strings, got {describe(key)}")
                        valid = False
                    else:
                        visit(inner, (*where, key))
            elif isinstance(item, list):
                for index, inner in enumerate(item):
                    visit(inner, (*where, index))
            elif item is not None and not isinstance(item, str | int | float | bool):
                self.report(where, f"expected a JSON value, got {describe(item)}; put it in quotes")
                valid = False

        visit(value, path)
        return value if valid else INVALID

    def _integer(self, rule: Integer, value: object, path: FieldPath) -> object:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema's integer type accepts 30.0 too
        if isinstance(value, bool) or not isinstance(value, int):
            return self._wrong_type(path, "an integer", value)
        low, high = rule.minimum, rule.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            self.report(path, f"must be {_bounds(low, high, rule.unit)}, got {value}")
            return INVALID
        return value

    def _text(self, rule: Text, value: object, path: FieldPath, *, what: str) -> object:
        if not isinstance(value, str):
            return self._wrong_type(path, "a string", value)
        problem = self._text_problem(rule, value)
        if problem:
            self.report(path, f"{what}{problem}")
            return INVALID
        return value

    @staticmethod
    def _text_problem(rule: Text, value: str) -> str | None:
        shown = repr(_short(value))
        if len(value) < rule.min_length:
            return "must not be empty" if rule.min_length == 1 else f"must be at least {rule.min_length} long"
        if rule.max_length is not None and len(value) > rule.max_length:
            return f"{shown} is {len(value)} characters long; at most {rule.max_length} are allowed"
        if rule.choices and value not in rule.choices:
            close = difflib.get_close_matches(value, rule.choices, n=1, cutoff=0.6)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            return f"{shown} is not one of {', '.join(rule.choices)}{guess}"
        if value in rule.reserved:
            return f"{shown} is reserved ({rule.reserved_reason}); choose another name"
        if rule.reserved_prefix and value.lower().startswith(rule.reserved_prefix):
            return f"{shown} must not start with {rule.reserved_prefix!r} (reserved by AWS)"
        if rule.check is not None:
            return rule.check(value)
        if rule.pattern and not re.fullmatch(rule.pattern, value):
            hint = f": {rule.hint}" if rule.hint else f" (pattern {rule.pattern})"
            suggestion = rule.suggest(value) if rule.suggest else None
            if suggestion and suggestion != value:
                hint += f" (did you mean {suggestion!r}?)"
            return f"{shown} is not valid{hint}"
        return None
