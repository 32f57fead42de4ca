"""Reading list, mapping, boolean and integer arguments as templates render them."""

from __future__ import annotations

import pytest

from drs_provider.template_values import as_bool, as_int, as_str_dict, as_str_list


@pytest.mark.parametrize(
    "value",
    [["a", "b"], ("a", "b"), '["a", "b"]', "['a', 'b']", " ['a', 'b', 'a'] "],
)
def test_lists_from_objects_json_and_python_literals(value):
    assert as_str_list(value, field="f") == ["a", "b"]


@pytest.mark.parametrize(("value", "expected"), [(None, []), ("", []), ("s-1", ["s-1"]), ("None", ["None"])])
def test_empty_and_single_values(value, expected):
    assert as_str_list(value, field="f") == expected


@pytest.mark.parametrize("value", [{"a": "b"}, 7, "[1, 2]", "['a', ''", "[None]"])
def test_bad_lists_name_the_field(value):
    with pytest.raises(ValueError, match=r"^wave\.ids: "):
        as_str_list(value, field="wave.ids")


@pytest.mark.parametrize("value", [{"Role": "db"}, '{"Role": "db"}', "{'Role': 'db'}"])
def test_mappings(value):
    assert as_str_dict(value, field="f") == {"Role": "db"}


@pytest.mark.parametrize("value", [["Role"], "{'Role': 1}", "[1]"])
def test_bad_mappings_name_the_field(value):
    with pytest.raises(ValueError, match=r"^wave\.tags: "):
        as_str_dict(value, field="wave.tags")


def test_booleans_and_integers():
    assert (
        as_bool("True", field="f") is True
        and as_bool(" false ", field="f") is False
        and as_bool(True, field="f")
    )
    assert as_int("42", field="f") == 42 and as_int(7, field="f") == 7
    with pytest.raises(ValueError, match="is_drill"):
        as_bool("yes", field="is_drill")
    with pytest.raises(ValueError, match="size"):
        as_int(True, field="size")
