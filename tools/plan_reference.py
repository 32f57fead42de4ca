"""Every key of a plan file as Markdown, generated from the plan rules (``docs/reference/plan-keys.md``).

The rules in :mod:`drs_provider.plans.rules` and :mod:`drs_provider.plans.wave_rules` (each step
kind's with the kind) are what ``drs-plan lint`` checks and what ``drs-plan schema`` prints; this
renders the same rules for people, one table per object, so the key reference cannot drift from
the checks. ``tests/unit/tools/test_plan_reference.py`` fails while the committed page differs.

    python -m tools.plan_reference            # writes docs/reference/plan-keys.md (make plan-reference)
    python -m tools.plan_reference --check    # exit 1 when the committed page is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from drs_provider.plans.rule_kinds import (
    Boolean,
    Integer,
    Json,
    Key,
    ListOf,
    MapOf,
    Object,
    OneKeyOf,
    Rule,
    Text,
    TextMap,
)
from drs_provider.plans.rules import PLAN

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGE = REPO_ROOT / "docs" / "reference" / "plan-keys.md"
REGENERATE = "make plan-reference  (or: .venv/bin/python -m tools.plan_reference)"

HEADER = """\
# Plan keys

<!-- Generated from the plan rules by `make plan-reference` (tools/plan_reference.py): do not edit. -->

Every key a plan file may hold, one table per mapping, generated from the rules that
`drs-plan lint` checks and `drs-plan schema` ships as JSON Schema
(`plugins/drs_provider/plans/rules.py`, `wave_rules.py`, and each step kind's module under
`plugins/drs_provider/steps/`). A path such as `waves[].servers.tags` reads: under each wave, the
`tags` of its `servers`. *Allowed* gives the values the rules accept; checks across keys (wave
references and cycles, a server in two waves, unique names, the cron fields) are in
[the plan format](plan-format.md#validation), and the caps of a file in [limits](limits.md).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(text: str) -> str:
    """Text for a Markdown cell outside code: ``<plan>`` stays text, never an HTML tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(obj: Object) -> str:
    if obj is PLAN:
        return "The plan (top level)"
    if obj.title.endswith(" step"):
        return f"{_code(obj.title.removesuffix(' step'))} step"
    return _code(obj.title) if " " not in obj.title else obj.title


def _code(text: str) -> str:
    if "|" in text:
        # a table cell ends at any |, even one escaped inside a code span (Python-Markdown shows
        # the backslash): such a value is written as HTML, every sign in it an entity so that
        # Markdown reads nothing into it (emphasis, backslash escapes)
        return "<code>" + "".join(c if c.isalnum() or c == " " else f"&#{ord(c)};" for c in text) + "</code>"
    # a code span holding a backtick needs a longer fence
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _anchor(obj: Object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", obj.title.lower()).strip("-")


def _object_of(rule: Rule) -> Object | None:
    """The mapping a key's value is, or holds (a list's items, a map's values)."""
    if isinstance(rule, Object):
        return rule
    if isinstance(rule, ListOf):
        return _object_of(rule.items)
    if isinstance(rule, MapOf):
        return _object_of(rule.values)
    return None


def _type(rule: Rule) -> str:
    if isinstance(rule, Text):
        return "text"
    if isinstance(rule, Integer):
        return "integer"
    if isinstance(rule, Boolean):
        return "boolean"
    if isinstance(rule, Json):
        return "mapping of any values"
    if isinstance(rule, ListOf):
        return f"list of {_type(rule.items)}"
    if isinstance(rule, TextMap):
        return "mapping of text to text"
    if isinstance(rule, MapOf):
        return f"mapping of text to {_type(rule.values)}"
    if isinstance(rule, OneKeyOf):
        return f"[{rule.noun}](#{rule.noun})"
    return f"[{rule.title}](#{_anchor(rule)})"


def _text_limits(rule: Text) -> list[str]:
    limits = []
    if rule.choices:
        limits.append("one of " + ", ".join(_code(choice) for choice in rule.choices))
    if rule.pattern and rule.check is None:
        limits.append(f"matches {_code(rule.pattern)}")
    elif rule.pattern:
        limits.append(f"matches {_code(rule.pattern)}, checked field by field")
    if rule.min_length and rule.max_length is not None:
        limits.append(f"{rule.min_length} to {rule.max_length} characters")
    elif rule.max_length is not None:
        limits.append(f"at most {rule.max_length} characters")
    elif rule.min_length:
        limits.append(f"at least {rule.min_length} character{'s' if rule.min_length > 1 else ''}")
    if rule.reserved_prefix:
        limits.append(f"not starting with {_code(rule.reserved_prefix)}")
    if rule.reserved:
        limits.append("not " + ", ".join(_code(name) for name in rule.reserved))
    return limits


def _limits(rule: Rule) -> list[str]:
    if isinstance(rule, Text):
        return _text_limits(rule)
    if isinstance(rule, Integer):
        unit = f" {rule.unit}" if rule.unit else ""
        if rule.minimum is not None and rule.maximum is not None:
            return [f"{rule.minimum}..{rule.maximum}{unit}"]
        if rule.minimum is not None:
            return [f"{rule.minimum} or more{unit}"]
        if rule.maximum is not None:
            return [f"at most {rule.maximum}{unit}"]
        return []
    if isinstance(rule, ListOf):
        limits = []
        if rule.min_items and rule.max_items is not None:
            limits.append(f"{rule.min_items} to {rule.max_items} items")
        elif rule.max_items is not None:
            limits.append(f"at most {rule.max_items} items")
        elif rule.min_items:
            limits.append(f"at least {rule.min_items} item{'s' if rule.min_items > 1 else ''}")
        if rule.unique:
            limits.append("no item twice")
        inner = _limits(rule.items)
        if inner:
            limits.append("each: " + "; ".join(inner))
        return limits
    if isinstance(rule, TextMap):
        limits = []
        if rule.max_entries is not None:
            limits.append(f"at most {rule.max_entries} entries")
        keys, values = _text_limits(rule.keys), _text_limits(rule.values)
        if keys:
            limits.append("keys: " + "; ".join(keys))
        if values:
            limits.append("values: " + "; ".join(values))
        return limits
    if isinstance(rule, MapOf):
        keys = _text_limits(rule.keys)
        return ["keys: " + "; ".join(keys)] if keys else []
    return []


def _row(path: str, key: Key) -> str:
    rule = key.rule
    default = rule.default if isinstance(rule, Text) and rule.default is not None else ""
    description = rule.description
    if not description and isinstance(rule, ListOf | MapOf):
        inner = rule.items if isinstance(rule, ListOf) else rule.values
        description = getattr(inner, "description", "")
    cells = [
        _code(path),
        _type(rule),
        "yes" if key.required else "",
        _code(default) if default else "",
        "; ".join(_limits(rule)),
        _prose(description),
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _visit(rule: Rule, path: str, places: dict[int, tuple[Object, list[str]]], order: list[int]) -> None:
    """Record every object under ``rule`` with each path it appears at, parents first."""
    if isinstance(rule, OneKeyOf):
        for kind in rule.kinds:
            _visit(kind.rule, f"{path}.{kind.name}", places, order)
        return
    if isinstance(rule, ListOf):
        _visit(rule.items, f"{path}[]", places, order)
        return
    if isinstance(rule, MapOf):
        _visit(rule.values, f"{path}.<{rule.keys.description.rstrip('.').lower() or 'key'}>", places, order)
        return
    if not isinstance(rule, Object):
        return
    if id(rule) in places:
        if path not in places[id(rule)][1]:
            places[id(rule)][1].append(path)
        return
    places[id(rule)] = (rule, [path])
    order.append(id(rule))
    for key in rule.keys:
        _visit(key.rule, f"{path}.{key.name}" if path else key.name, places, order)


def _steps_section(rule: OneKeyOf) -> list[str]:
    kinds = ", ".join(
        f"[{_code(kind.name)}](#{_anchor(kind.rule)})" for kind in rule.kinds if isinstance(kind.rule, Object)
    )
    return [
        f"## {rule.noun.capitalize()} {{#{rule.noun}}}",
        "",
        f"{_prose(rule.description)} The kinds: {kinds}.",
        "",
    ]


def _find_steps(rule: Rule) -> OneKeyOf | None:
    seen: set[int] = set()
    stack = [rule]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OneKeyOf):
            return current
        if isinstance(current, ListOf):
            stack.append(current.items)
        elif isinstance(current, MapOf):
            stack.append(current.values)
        elif isinstance(current, Object):
            stack.extend(key.rule for key in current.keys)
    return None


def render() -> str:
    """The page, from the rules as they are now (the built-in step kinds and any registered)."""
    places: dict[int, tuple[Object, list[str]]] = {}
    order: list[int] = []
    _visit(PLAN, "", places, order)
    steps = _find_steps(PLAN)
    kinds = steps.kinds if steps is not None else ()
    first_kind = next((kind.rule for kind in kinds if isinstance(kind.rule, Object)), None)
    lines = [HEADER]
    for object_id in order:
        obj, paths = places[object_id]
        if steps is not None and obj is first_kind:
            lines.extend(_steps_section(steps))
        prefix = paths[0]
        lines.append(f"## {_title(obj)} {{#{_anchor(obj)}}}")
        lines.append("")
        if obj is not PLAN:
            lines.append("At " + ", ".join(_code(path) for path in paths) + ".")
            lines.append("")
        if obj.description:
            lines.append(_prose(obj.description))
            lines.append("")
        notes = []
        if obj.needs_one_of:
            names = ", ".join(_code(name) for name in obj.needs_one_of)
            notes.append(f"At least one of {names}, not empty.")
        if obj.shorthand is not None:
            notes.append(f"Also written as a bare value: that value is its {_code(obj.shorthand)}.")
        if notes:
            lines.append(" ".join(notes))
            lines.append("")
        lines.append("| key | type | required | default | allowed | description |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for key in obj.keys:
            lines.append(_row(f"{prefix}.{key.name}" if prefix else key.name, key))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed page differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE.relative_to(REPO_ROOT)} is out of date: run {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
