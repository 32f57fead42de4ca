"""Read list and mapping arguments that may arrive as rendered template strings.

A templated field renders to a string unless the DAG renders native objects, so a list pulled
from XCom may arrive as ``['a', 'b']`` (Python literal), ``["a", "b"]`` (JSON) or the list
itself. These helpers accept all three and say which field was wrong otherwise.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from drs_provider.exceptions import DrsInputError


def _parse_text(text: str, field: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0] not in "[{(\"'":
        return stripped  # a bare value such as one ID
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError) as error:
        raise DrsInputError(f"{field}: cannot read {text!r} as a list or mapping: {error}") from None


def as_str_list(value: Any, *, field: str) -> list[str]:
    """
    ``value`` as a list of strings, without duplicates, order kept.

    Accepts ``None`` (empty), one string, a JSON or Python-literal list string, or any
    iterable of strings.
    """
    if isinstance(value, str):
        value = _parse_text(value, field)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not hasattr(value, "__iter__"):
        raise DrsInputError(f"{field}: expected a list of strings, got {type(value).__name__}: {value!r}")
    items = list(value)
    bad = [item for item in items if not isinstance(item, str) or not item]
    if bad:
        raise DrsInputError(f"{field}: expected non-empty strings, got {bad!r}")
    return list(dict.fromkeys(items))


def as_str_dict(value: Any, *, field: str) -> dict[str, str]:
    """``value`` as a mapping of strings; accepts ``None``, a mapping, or a JSON / Python-literal string."""
    if isinstance(value, str):
        value = _parse_text(value, field)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DrsInputError(f"{field}: expected a mapping of strings, got {type(value).__name__}: {value!r}")
    bad = {key: item for key, item in value.items() if not isinstance(key, str) or not isinstance(item, str)}
    if bad:
        raise DrsInputError(f"{field}: keys and values must be strings, got {bad!r}")
    return dict(value)


def as_bool(value: Any, *, field: str) -> bool:
    """``value`` as a boolean; accepts booleans and the strings true/false (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise DrsInputError(f"{field}: expected true or false, got {value!r}")


def as_int(value: Any, *, field: str) -> int:
    """``value`` as an integer; accepts integers and digit strings."""
    if isinstance(value, bool):
        raise DrsInputError(f"{field}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise DrsInputError(f"{field}: expected an integer, got {value!r}")
