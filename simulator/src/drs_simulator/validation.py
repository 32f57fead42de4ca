"""Request (and, in strict mode, response) validation against the botocore model's shapes.

Checks what a Smithy/Coral service checks before the operation runs: required members, JSON types,
string and list/map lengths, numeric ranges, ``pattern`` (not anchored, as Smithy says; lengths bound
the match) and enum values. Unknown members are ignored, as AWS services ignore them.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import Shape

Problem = tuple[str, str]  # (field name, message)


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a pattern Python cannot compile is not checked
        return None


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate(shape: Shape, value: Any, path: str = "", *, check_required: bool = True) -> list[Problem]:
    """Every problem with ``value`` as an instance of ``shape``; an empty list when it conforms."""
    problems: list[Problem] = []
    _check(shape, value, path, problems, check_required)
    return problems


def _check(shape: Shape, value: Any, path: str, out: list[Problem], required: bool) -> None:
    kind = shape.type_name
    meta = shape.metadata
    name = path or "<root>"
    if value is None:
        return
    if kind == "structure":
        if not isinstance(value, dict):
            out.append((name, f"Member must be an object, got {_show(value)}"))
            return
        if required:
            for req in meta.get("required", []):
                if value.get(req) is None:
                    out.append((_join(path, req), "Member must not be null"))
        if meta.get("union"):
            present = [k for k in value if k in shape.members and value[k] is not None]
            if len(present) != 1:
                out.append((name, f"Exactly one member must be set, got {len(present)}"))
        for key, sub in value.items():
            member = shape.members.get(key)
            if member is not None:
                _check(member, sub, _join(path, key), out, required)
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append((name, f"Member must be a list, got {_show(value)}"))
            return
        _length(meta, len(value), name, out, "Member must have length")
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", out, required)  # type: ignore[attr-defined]
        return
    if kind == "map":
        if not isinstance(value, dict):
            out.append((name, f"Member must be an object, got {_show(value)}"))
            return
        _length(meta, len(value), name, out, "Member must have number of entries")
        for key, item in value.items():
            _check(shape.key, key, f"{path}.<key {key!r}>", out, required)  # type: ignore[attr-defined]
            _check(shape.value, item, f"{path}[{key!r}]", out, required)  # type: ignore[attr-defined]
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append((name, f"Member must be a string, got {_show(value)}"))
            return
        if shape.enum:
            if value not in shape.enum:
                out.append(
                    (name, f"Value {_show(value)} must satisfy enum value set: [{', '.join(shape.enum)}]")
                )
            return
        if not _length(meta, len(value), name, out, "Member must have length"):
            return
        pattern = meta.get("pattern")
        if pattern:
            compiled = _regex(pattern)
            if compiled is not None and compiled.search(value) is None:
                out.append((name, f"Value {_show(value)} must satisfy regular expression pattern: {pattern}"))
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((name, f"Member must be an integer, got {_show(value)}"))
            return
        _range(meta, value, name, out)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            out.append((name, f"Member must be a number, got {_show(value)}"))
            return
        _range(meta, value, name, out)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append((name, f"Member must be a boolean, got {_show(value)}"))
        return
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            out.append((name, f"Member must be a timestamp, got {_show(value)}"))
        return
    if kind == "blob" and not isinstance(value, str):
        out.append((name, f"Member must be base64 text, got {_show(value)}"))


def _length(meta: dict[str, Any], length: int, name: str, out: list[Problem], what: str) -> bool:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and length < low:
        out.append((name, f"{what} greater than or equal to {low}"))
        return False
    if high is not None and length > high:
        out.append((name, f"{what} less than or equal to {high}"))
        return False
    return True


def _range(meta: dict[str, Any], value: float, name: str, out: list[Problem]) -> None:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        out.append((name, f"Member must have value greater than or equal to {low}"))
    if high is not None and value > high:
        out.append((name, f"Member must have value less than or equal to {high}"))


def summary(problems: list[Problem]) -> str:
    """The ``message`` of a ValidationException, in the style AWS services use."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(f"{name}: {message}" for name, message in problems)
    return f"{count} validation {noun} detected: {details}"
