"""Read YAML text into plain values, remembering where each value was written.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word and forgets line
numbers. Plans are edited by hand under pressure, so this reader composes the node tree with
the safe loader, builds the values itself, and reports duplicate keys, unsupported tags and
runaway aliases as problems with a line number instead of losing them.

The reader bounds its own work, since the dag-processor reads every plan within one import
timeout: before composing anything it counts the document's values from libyaml's event stream
(about five times cheaper than composing them) and gives up beyond :data:`MAX_VALUES`; building
stops at :data:`MAX_VALUES` values with aliases expanded, and at :data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from collections.abc import Iterator

#: One step into a document: a mapping key or a sequence index.
PathPart = str | int
FieldPath = tuple[PathPart, ...]

#: Values (scalars, lists, mappings) a document may hold, aliases expanded. A plan at every cap
#: of the rules is far below it; expanding aliases can blow a small file up exponentially
#: ("billion laughs").
MAX_VALUES = 20_000
#: Levels of nesting: a plan is about ten deep (plan, waves, a wave, a selector, its tags).
MAX_DEPTH = 32

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_VALUE_TAG = "tag:yaml.org,2002:value"


class _Unreadable:
    def __repr__(self) -> str:
        return "UNREADABLE"


#: Stands for a value that could not be read (already reported as a problem).
UNREADABLE = _Unreadable()

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def format_path(path: FieldPath) -> str:
    """Render a path the way messages show it: ``waves[1].servers.ids[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


@dataclass(frozen=True)
class SourceProblem:
    """A problem found while reading the YAML itself, before any plan rule."""

    path: FieldPath
    message: str
    line: int | None


@dataclass
class SourceMap:
    """Where each value of a document was written (1-based lines), and its raw text."""

    lines: dict[FieldPath, int] = field(default_factory=dict)
    #: the text of plain (unquoted) scalars, to explain surprises such as ``on`` -> true
    plain_text: dict[FieldPath, str] = field(default_factory=dict)

    def line_of(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


@dataclass
class Document:
    """A parsed YAML document: its value (``None`` for an empty file), positions, problems."""

    value: object
    source: SourceMap
    problems: list[SourceProblem]


class _TooLarge(Exception):
    pass


class _Builder:
    """Builds plain Python values from a composed node tree."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._loader = loader
        self.source = SourceMap()
        self.problems: list[SourceProblem] = []
        self._count = 0
        self._active: set[int] = set()

    def problem(self, path: FieldPath, message: str, node: yaml.Node | None = None) -> None:
        line = node.start_mark.line + 1 if node is not None else self.source.line_of(path)
        self.problems.append(SourceProblem(path, message, line))

    def build(self, node: yaml.Node, path: FieldPath) -> object:
        self._count += 1
        if self._count > MAX_VALUES:
            raise _TooLarge
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self._active:
            self.problem(path, "an alias refers to the value that contains it", node)
            return UNREADABLE
        if len(self._active) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            self.problem(path, f"nested more than {MAX_DEPTH} levels deep", node)
            return UNREADABLE
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: yaml.Node, path: FieldPath) -> object:
        if node.tag == _STR_TAG:
            return node.value  # what the safe constructor returns for text, without its bookkeeping
        try:
            value = self._loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            if node.tag == _VALUE_TAG:  # a bare '=' has a YAML 1.1 type no safe loader builds
                self.problem(path, f"{node.value!r} needs quotes to be read as text", node)
            else:
                self.problem(path, f"unsupported YAML tag {node.tag!r}", node)
            return UNREADABLE
        if isinstance(node, yaml.ScalarNode) and not node.style:
            self.source.plain_text[path] = node.value
        return value

    def _sequence(self, node: yaml.SequenceNode, path: FieldPath) -> object:
        if node.tag != _SEQ_TAG:
            self.problem(path, f"unsupported YAML tag {node.tag!r}", node)
            return UNREADABLE
        return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> object:
        if node.tag != _MAP_TAG:
            self.problem(path, f"unsupported YAML tag {node.tag!r}", node)
            return UNREADABLE
        # Merge keys (``<<: *defaults``) fill in only what the mapping does not set itself. They
        # are built first so that the mapping's own keys keep their own line numbers.
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for key, value in self._merged(value_node, path):
                    result.setdefault(key, value)
        first_line: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            if key in first_line:
                message = f"duplicate key {key!r} (also on line {first_line[key]}); write each key once"
                self.problem((*path, _part(key)), message, key_node)
                continue
            first_line[key] = line
            self.source.lines[(*path, _part(key))] = line
            result[key] = self.build(value_node, (*path, _part(key)))
        return result

    def _merged(self, node: yaml.Node, path: FieldPath) -> Iterator[tuple[object, object]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problem(path, "a merge key ('<<') must refer to a mapping", source)
                continue
            built = self.build(source, path)
            if isinstance(built, dict):
                yield from built.items()

    def _key(self, key_node: yaml.Node, path: FieldPath) -> object:
        if not isinstance(key_node, yaml.ScalarNode):
            message = (
                "a key must be plain text, not a list or mapping"
                if path
                # at the top there is no field to name, so the message says where
                else "the top level must be a mapping with plain-text keys: one is a list or mapping"
            )
            self.problem(path, message, key_node)
            return None
        if key_node.tag == _STR_TAG:
            return key_node.value
        try:
            key = self._loader.construct_object(key_node, deep=True)
        except yaml.YAMLError as error:
            self.problem(path, f"unsupported YAML key: {_first_line(error)}", key_node)
            return None
        if not isinstance(key, str):
            # YAML 1.1 reads `on:`/`no:` as booleans and `1:` as a number. Say so, and go on
            # with the text as written so the rest of the mapping is still checked.
            self.problem(
                (*path, key_node.value),
                f"key {key_node.value!r} is read as {_kind(key)}, not text; quote it",
                key_node,
            )
            return str(key_node.value)
        return key


def _part(key: object) -> PathPart:
    return key if isinstance(key, str) else str(key)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


_VALUE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _too_many_values(text: str) -> int | None:
    """The line where the document passes :data:`MAX_VALUES` values (0: unknown), or None.

    Syntax errors are left to the composer, which reports them with their place.
    """
    loader = _Loader(text)
    try:
        count = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _VALUE_EVENTS):
                count += 1
                if count > MAX_VALUES:
                    mark = event.start_mark
                    return mark.line + 1 if mark is not None else 0
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def parse_yaml(text: str) -> Document:
    """Parse one YAML document safely (only standard tags; nothing is executed).

    Never raises for bad input: syntax errors, several documents, duplicate keys, documents
    that are too large or too deep and so on come back as :attr:`Document.problems`, each with
    a line number where one is known.
    """
    line = _too_many_values(text)
    if line is not None:
        message = f"the document holds more than {MAX_VALUES} values; a plan needs far fewer"
        return Document(None, SourceMap(), [SourceProblem((), message, line or None)])
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else None
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = error.problem or error.context or "invalid YAML"
            detail = f"{where}{problem}"
            if error.context and error.problem:
                detail = f"{where}{problem} ({error.context})"
            return Document(None, SourceMap(), [SourceProblem((), f"YAML syntax error at {detail}", line)])
        except yaml.YAMLError as error:
            return Document(None, SourceMap(), [SourceProblem((), f"YAML error: {_first_line(error)}", None)])
        if node is None:
            return Document(None, SourceMap(), [])
        builder = _Builder(loader)
        try:
            value = builder.build(node, ())
        except _TooLarge:
            return Document(
                None,
                builder.source,
                [SourceProblem((), f"the document expands to more than {MAX_VALUES} values", None)],
            )
        return Document(value, builder.source, builder.problems)
    finally:
        loader.dispose()
