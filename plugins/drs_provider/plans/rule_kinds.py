"""The kinds of rule a key of a plan file can have: text, integer, list, map, nested object.

A rule holds a value's limits and its description. :mod:`.rules` builds the plan's tables from
these kinds; :mod:`.structure` checks raw YAML values against them and :mod:`.schema` turns them
into the shipped JSON Schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Text:
    """A string, optionally matching ``pattern`` (explained to people by ``hint``)."""

    description: str = ""
    pattern: str | None = None
    hint: str = ""
    min_length: int = 0
    max_length: int | None = None
    #: prefix the value must not start with, compared case-insensitively
    reserved_prefix: str | None = None
    #: values taken for something else, with the reason
    reserved: tuple[str, ...] = ()
    reserved_reason: str = ""
    #: replaces ``pattern`` in the validator with a check that explains itself; returns the
    #: problem or None, and must accept only values that ``pattern`` (shipped in the schema) matches
    check: Callable[[str], str | None] | None = None
    #: proposes a valid value close to an invalid one
    suggest: Callable[[str], str | None] | None = None
    #: the only values allowed (an enum)
    choices: tuple[str, ...] = ()
    #: what an absent key means (shown in the schema as ``default``; the model applies it)
    default: str | None = None


@dataclass(frozen=True)
class Integer:
    """A whole number in ``minimum..maximum`` (booleans are not numbers)."""

    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""


@dataclass(frozen=True)
class Boolean:
    """``true`` or ``false`` (not ``"yes"``, not ``1``)."""

    description: str = ""


@dataclass(frozen=True)
class Json:
    """A mapping of any JSON values (strings, numbers, booleans, null, lists, mappings)."""

    description: str = ""


@dataclass(frozen=True)
class ListOf:
    """A list whose items all follow ``items``; ``unique`` items may appear only once."""

    items: Rule
    description: str = ""
    min_items: int = 0
    max_items: int | None = None
    #: ``max_items`` bounds what a plan may hold (see the module docstring): more items end the
    #: checks of the file. Otherwise they are reported and the list is left out.
    cap: bool = False
    unique: bool = True
    #: what one item is called in messages
    noun: str = "item"


@dataclass(frozen=True)
class TextMap:
    """A mapping of text to text, such as AWS tags."""

    keys: Text
    values: Text
    description: str = ""
    max_entries: int | None = None


@dataclass(frozen=True)
class MapOf:
    """A mapping of text keys to values that follow ``values``."""

    keys: Text
    values: Rule
    description: str = ""
    #: what the mapping holds, in messages ("parameter names to lists of values")
    noun: str = "names to values"


@dataclass(frozen=True)
class Key:
    """One key of an object."""

    name: str
    rule: Rule
    required: bool = False


@dataclass(frozen=True)
class Object:
    """A mapping with a fixed set of keys; any other key is an error."""

    title: str
    keys: tuple[Key, ...]
    description: str = ""
    #: where its keys belong, said in a hint when a key is written in the wrong place
    where: str = ""
    #: at least one of these keys must be present and non-empty
    needs_one_of: tuple[str, ...] = ()
    #: how to write it, said when something else stands in its place
    shape_hint: str = ""
    #: a value that is not a mapping is read as ``{shorthand: value}`` (``wait: 120``)
    shorthand: str | None = None

    def key(self, name: str) -> Key | None:
        for key in self.keys:
            if key.name == name:
                return key
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)


@dataclass(frozen=True)
class OneKeyOf:
    """A mapping with exactly one key, which names the kind: ``{approval: {...}}``.

    The kinds are read each time they are needed, not fixed when the rule is made: step kinds
    are registered (:mod:`drs_provider.steps`), and one registered later must count too.
    """

    #: returns each kind's name and rule
    registered: Callable[[], tuple[Key, ...]]
    description: str = ""
    #: what one value is called in messages
    noun: str = "item"

    @property
    def kinds(self) -> tuple[Key, ...]:
        return self.registered()

    def kind(self, name: str) -> Key | None:
        for key in self.kinds:
            if key.name == name:
                return key
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.kinds)


Rule = Text | Integer | Boolean | Json | ListOf | TextMap | MapOf | Object | OneKeyOf
