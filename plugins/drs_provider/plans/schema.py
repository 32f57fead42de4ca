"""The JSON Schema (draft 2020-12) of a plan file, generated from :mod:`.rules`.

The same rules drive the validator, so the schema and the validator agree on structure. The
schema cannot say everything (wave references, cycles, a server in two waves, the finer cron
check); editors use it for completion and early hints, and ``drs-plan lint`` has the last
word. It is shipped as ``schema.json`` beside this module; regenerate it with
``drs-plan schema > plugins/drs_provider/plans/schema.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drs_provider.plans.rule_kinds import (
    Boolean,
    Integer,
    Json,
    ListOf,
    MapOf,
    Object,
    OneKeyOf,
    Rule,
    Text,
    TextMap,
)
from drs_provider.plans.rules import PLAN
from drs_provider.plans.wave_rules import LAUNCH, SELECTOR, STEP, WAVE

SCHEMA_FILE = Path(__file__).with_name("schema.json")
SCHEMA_ID = "urn:airflow-provider-drs:recovery-plan:v2"


def _defs() -> dict[str, Rule]:
    """The rules written once under ``$defs`` and referred to elsewhere: each step kind's too."""
    defs: dict[str, Rule] = {SELECTOR.title: SELECTOR, WAVE.title: WAVE, LAUNCH.title: LAUNCH, "step": STEP}
    defs.update((key.name, key.rule) for key in STEP.kinds)
    return defs


def plan_json_schema() -> dict[str, Any]:
    """The plan file's JSON Schema as a dict (the step kinds registered now); with the built-in
    kinds, equal to the shipped ``schema.json``."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "AWS DRS recovery plan (airflow-provider-drs, schema v2)",
    }
    schema.update(_object(PLAN))
    schema["$defs"] = {name: _defined(rule) for name, rule in _defs().items()}
    return schema


def schema_text() -> str:
    """``plan_json_schema()`` as the text of ``schema.json``."""
    return json.dumps(plan_json_schema(), indent=2) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    for name, defined in _defs().items():
        if rule is defined:
            return {"$ref": f"#/$defs/{name}"}
    return _defined(rule)


def _defined(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, Object):
        return _object(rule)
    if isinstance(rule, OneKeyOf):
        return _one_key_of(rule)
    if isinstance(rule, ListOf):
        return _list(rule)
    if isinstance(rule, TextMap):
        return _text_map(rule)
    if isinstance(rule, MapOf):
        return _described(
            rule,
            {"type": "object", "propertyNames": _text(rule.keys), "additionalProperties": _rule(rule.values)},
        )
    if isinstance(rule, Integer):
        return _integer(rule)
    if isinstance(rule, Boolean):
        return _described(rule, {"type": "boolean"})
    if isinstance(rule, Json):
        return _described(rule, {"type": "object"})
    return _text(rule)


def _one_key_of(rule: OneKeyOf) -> dict[str, Any]:
    alternatives = [
        {
            "type": "object",
            "properties": {key.name: _rule(key.rule)},
            "required": [key.name],
            "additionalProperties": False,
        }
        for key in rule.kinds
    ]
    return _described(rule, {"oneOf": alternatives})


def _described(rule: Rule, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": rule.description, **schema} if rule.description else schema


def _object(rule: Object) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {key.name: _rule(key.rule) for key in rule.keys},
        "additionalProperties": False,
    }
    required = [key.name for key in rule.keys if key.required]
    if required:
        schema["required"] = required
    if rule.needs_one_of:
        schema["anyOf"] = [
            {"required": [name], "properties": {name: _non_empty(rule, name)}} for name in rule.needs_one_of
        ]
    if rule.shorthand is not None:
        key = rule.key(rule.shorthand)
        assert key is not None
        return _described(rule, {"oneOf": [_defined(key.rule), schema]})
    return _described(rule, schema)


def _non_empty(rule: Object, name: str) -> dict[str, Any]:
    key = rule.key(name)
    if key is not None and isinstance(key.rule, TextMap):
        return {"minProperties": 1}
    return {"minItems": 1}


def _list(rule: ListOf) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": _rule(rule.items)}
    if rule.min_items:
        schema["minItems"] = rule.min_items
    if rule.max_items is not None:
        schema["maxItems"] = rule.max_items
    if rule.unique:
        schema["uniqueItems"] = True
    return _described(rule, schema)


def _text_map(rule: TextMap) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "propertyNames": _text(rule.keys),
        "additionalProperties": _text(rule.values),
    }
    if rule.max_entries is not None:
        schema["maxProperties"] = rule.max_entries
    return _described(rule, schema)


def _integer(rule: Integer) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.maximum is not None:
        schema["maximum"] = rule.maximum
    return _described(rule, schema)


def _text(rule: Text) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if rule.choices:
        schema["enum"] = list(rule.choices)
    if rule.default is not None:
        schema["default"] = rule.default
    if rule.min_length:
        schema["minLength"] = rule.min_length
    if rule.max_length is not None:
        schema["maxLength"] = rule.max_length
    if rule.pattern:
        schema["pattern"] = rule.pattern
    excluded: list[dict[str, Any]] = []
    if rule.reserved:
        excluded.append({"enum": list(rule.reserved)})
    if rule.reserved_prefix:
        # case-insensitive "does not start with", written without regex flags for ECMA-262
        prefix = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in rule.reserved_prefix)
        excluded.append({"pattern": f"^{prefix}"})
    if len(excluded) == 1:
        schema["not"] = excluded[0]
    elif excluded:
        schema["allOf"] = [{"not": item} for item in excluded]
    return _described(rule, schema)
