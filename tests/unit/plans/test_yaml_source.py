"""The YAML reader: safe, strict about duplicates, and it never raises for bad input."""

from __future__ import annotations

import pytest

from drs_provider.plans.yaml_source import MAX_DEPTH, MAX_VALUES, UNREADABLE, format_path, parse_yaml


def test_values_and_lines() -> None:
    document = parse_yaml("a: 1\nb:\n  - x\n  - {c: true}\n")
    assert document.value == {"a": 1, "b": ["x", {"c": True}]}
    assert document.problems == []
    assert document.source.line_of(("b", 1, "c")) == 4
    assert document.source.line_of(("b", 0)) == 3
    assert document.source.line_of(("b", 7, "nope")) == 2  # nearest known ancestor


def test_duplicate_keys_are_problems_and_the_first_value_stays() -> None:
    document = parse_yaml("a: 1\nb: 2\na: 3\n")
    assert document.value == {"a": 1, "b": 2}
    (problem,) = document.problems
    assert (problem.path, problem.line) == (("a",), 3)
    assert "duplicate key 'a' (also on line 1)" in problem.message


def test_a_merge_does_not_count_as_a_duplicate() -> None:
    document = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert document.problems == []
    assert document.value == {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}


def test_a_merge_of_a_scalar_is_a_problem() -> None:
    document = parse_yaml("use:\n  <<: 5\n  y: 3\n")
    assert "must refer to a mapping" in document.problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !custom {x: 1}\n",
        "a: !!set {x, y}\n",
    ],
)
def test_no_tag_beyond_the_standard_ones_is_accepted(text: str) -> None:
    document = parse_yaml(text)
    assert document.value == {"a": UNREADABLE}
    assert "unsupported YAML" in document.problems[0].message


def test_alias_bombs_are_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    document = parse_yaml("\n".join(lines) + "\n")
    assert document.value is None
    assert f"more than {MAX_VALUES} values" in document.problems[0].message


def test_a_document_with_too_many_values_is_refused_where_it_passes_the_cap() -> None:
    text = "waves:\n" + "".join(f"  - w{i}\n" for i in range(MAX_VALUES + 10))
    document = parse_yaml(text)
    assert document.value is None
    (problem,) = document.problems
    assert problem.message == f"the document holds more than {MAX_VALUES} values; a plan needs far fewer"
    # Three values come before the items (the top mapping, the key, the list): the one past
    # the cap is item MAX_VALUES - 3, written on the line after it.
    assert problem.line == MAX_VALUES - 1


def test_nesting_deeper_than_the_cap_is_a_problem_with_its_line() -> None:
    depth = MAX_DEPTH + 5
    text = "plan: x\nwaves:\n" + "".join("  " * level + f"- k{level}:\n" for level in range(depth))
    document = parse_yaml(text)
    (problem,) = document.problems
    assert problem.message == f"nested more than {MAX_DEPTH} levels deep"
    # The top mapping and waves are levels 1 and 2; each "- kN:" line adds two (a mapping in a
    # list), so the mapping of "- k15:" on line 18 is level 33.
    assert MAX_DEPTH == 32
    assert problem.line == 18
    assert len(problem.path) == MAX_DEPTH
    assert document.value is not None and document.value["plan"] == "x"  # type: ignore[index]


def test_a_self_referencing_alias_is_a_problem() -> None:
    document = parse_yaml("a: &x [1, *x]\n")
    assert "refers to the value that contains it" in document.problems[0].message


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    document = parse_yaml("[" * 5000 + "]" * 5000)
    assert document.problems, "expected a problem"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: [1\n", "YAML syntax error at line 2, column 1"),
        ("a: 1\n---\nb: 2\n", "YAML syntax error"),
        ("a: 'x\n", "YAML syntax error"),
        ("\t- a\n", "YAML syntax error at line 1"),
    ],
)
def test_syntax_errors_say_where(text: str, fragment: str) -> None:
    document = parse_yaml(text)
    assert document.value is None
    assert fragment in document.problems[0].message


def test_an_empty_document_has_no_value_and_no_problem() -> None:
    assert parse_yaml("# only a comment\n").value is None
    assert parse_yaml("").problems == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("waves", 1, "servers", "ids", 0), "waves[1].servers.ids[0]"),
        (("plan",), "plan"),
        (("tags", "aws:x"), "tags['aws:x']"),
        (("1",), "['1']"),
        ((), ""),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_a_key_set_beside_a_merge_keeps_its_own_line() -> None:
    document = parse_yaml("base: &b\n  x: 1\n  y: 2\nuse:\n  y: 3\n  <<: *b\n")
    assert document.value == {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}
    assert document.source.line_of(("use", "y")) == 5
    assert document.source.line_of(("use", "x")) == 2  # from the anchor
