"""Property tests: whatever a file holds, loading gives a Plan or a PlanError that says where.

Random YAML-ish documents, random text, and valid plans with one random change. A generated
valid plan loads, passes the JSON Schema, and round-trips through ``Plan.to_dict()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_provider.exceptions import PlanError
from drs_provider.plans import Plan, load_plan_file, plan_json_schema
from drs_provider.plans.model import RESERVED_WAVE_NAMES
from drs_provider.plans.rules import all_objects
from drs_provider.plans.structure import MAX_PROBLEMS

if TYPE_CHECKING:
    from pathlib import Path

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: messages about the file as a whole, which have no field path
WHOLE_FILE = (
    "the file is",
    "the top level must be",
    "YAML",
    "the document",
    "cannot read",
    "unsupported YAML",
    "'=' needs",
)

KNOWN_KEYS = sorted({name for obj in all_objects() for name in obj.names})

text = st.text(st.characters(codec="utf-8"), max_size=20)
scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | text
keys = st.sampled_from(KNOWN_KEYS) | text
yamlish = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5)
)

names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
server_ids = st.from_regex(r"s-[0-9a-zA-Z]{17}", fullmatch=True)
tag_keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30).filter(
    lambda key: not key.lower().startswith("aws:")
)
tag_values = st.text(st.characters(codec="utf-8"), max_size=30)
tags = st.dictionaries(tag_keys, tag_values, max_size=3)
#: launch settings any server of a wave may share (a private IP is one server's: drawn apart)
shared_launch = st.fixed_dictionaries(
    {},
    optional={
        "subnet_id": st.from_regex(r"subnet-[0-9a-f]{17}", fullmatch=True),
        "security_group_ids": st.lists(
            st.from_regex(r"sg-[0-9a-f]{8}", fullmatch=True), min_size=1, max_size=3, unique=True
        ),
        "copy_tags": st.booleans(),
        "launch_disposition": st.sampled_from(["STOPPED", "STARTED"]),
        "os_byol": st.booleans(),
        "copy_private_ip": st.just(False),
    },
)


@st.composite
def launch_settings(draw: st.DrawFn) -> dict[str, Any]:
    """Settings DRS can honour together: an instance type only with right-sizing off."""
    settings = draw(shared_launch)
    if draw(st.booleans()):
        settings.update(
            instance_type=draw(st.sampled_from(["m5.large", "c7i.metal-24xl"])), right_sizing="NONE"
        )
    elif draw(st.booleans()):
        settings["right_sizing"] = draw(st.sampled_from(["NONE", "BASIC", "IN_AWS"]))
    return settings


@st.composite
def valid_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan: unique wave names, each depending only on waves listed before it."""
    wave_names = draw(
        st.lists(
            names.filter(lambda name: name not in RESERVED_WAVE_NAMES), min_size=1, max_size=6, unique=True
        )
    )
    ids = iter(
        draw(st.lists(server_ids, min_size=2 * len(wave_names), max_size=2 * len(wave_names), unique=True))
    )
    waves = []
    for index, name in enumerate(wave_names):
        wave: dict[str, Any] = {"name": name}
        selector: dict[str, Any] = {}
        if draw(st.booleans()):
            selector["ids"] = [next(ids)]
        chosen_tags = draw(tags)
        if chosen_tags or not selector:
            # a tag unique to the wave, so no wave's tags include another's
            selector["tags"] = {**chosen_tags, "Wave": name}
        wave["servers"] = selector
        if draw(st.booleans()):
            wave["optional_servers"] = {"ids": [next(ids)]}
        if draw(st.booleans()):
            wave["depends_on"] = (
                draw(st.lists(st.sampled_from(wave_names[:index] or [name]), unique=True)) if index else []
            )
        if draw(st.booleans()):
            wave["poll_interval"] = draw(st.integers(1, 3600))
        if draw(st.booleans()):
            wave["timeout"] = draw(st.integers(60, 86400))
        if "tags" in selector and draw(st.booleans()):
            wave["expect_servers"] = draw(st.integers(1, 1000))
        if draw(st.booleans()):
            wave["launch"] = draw(launch_settings())
        if (
            "ids" in selector
            and not ("launch" in wave and "instance_type" in wave["launch"])
            and draw(st.booleans())
        ):
            # one address per wave, so no two servers share one
            own = {**draw(launch_settings()), "private_ip": f"10.0.{index}.10"}
            wave["launch_per_server"] = {selector["ids"][0]: own}
        waves.append(wave)
    plan: dict[str, Any] = {"plan": draw(names), "waves": waves}
    optional = {
        "description": text,
        "owner": text,
        "aws_conn_id": st.from_regex(r"[a-z_]{1,20}", fullmatch=True),
        "region": st.sampled_from(["us-east-1", "eu-central-1", "us-gov-west-1", "ap-southeast-2"]),
        "schedule": st.sampled_from(["@weekly", "0 3 * * 1", "*/30 * * * *", "0 0 1 JAN,JUL *"]),
        "max_servers_per_job": st.integers(1, 200),
        "rto_target": st.integers(60, 604800),
        "rpo_target": st.integers(1, 604800),
        "drill_every": st.integers(86400, 366 * 86400),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            plan[key] = draw(strategy)
    return plan


def load(path: Path, content: object) -> Plan | PlanError:
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8")
    try:
        return load_plan_file(path)
    except PlanError as error:
        return error


def assert_well_formed(error: PlanError, path: Path) -> None:
    assert error.issues, "a PlanError without issues"
    for issue in error.issues:
        assert issue.file == str(path)
        assert issue.message
        assert issue.path or issue.message.startswith(WHOLE_FILE), issue


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "plan.yaml"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(plan_json_schema())


@FUZZ
@given(document=yamlish)
def test_random_documents_load_or_fail_with_located_issues(document: object, plan_path: Path) -> None:
    result = load(plan_path, document)
    if isinstance(result, PlanError):
        assert_well_formed(result, plan_path)


@FUZZ
@given(raw=st.text(st.characters(codec="utf-8"), max_size=200))
def test_random_text_loads_or_fails_with_located_issues(raw: str, plan_path: Path) -> None:
    result = load(plan_path, raw)
    if isinstance(result, PlanError):
        assert_well_formed(result, plan_path)


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@FUZZ
@given(plan=valid_plans(), data=st.data())
def test_a_valid_plan_with_one_random_change_still_gives_located_issues(
    plan: dict[str, Any], data: st.DataObject, plan_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    target = data.draw(st.sampled_from(_paths(plan)))
    parent: Any = plan
    for part in target[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[target[-1]] = data.draw(yamlish)
    elif action == "delete":
        del parent[target[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(keys)] = data.draw(yamlish)
    else:
        parent.append(data.draw(yamlish))

    result = load(plan_path, plan)

    if isinstance(result, PlanError):
        assert_well_formed(result, plan_path)
    else:
        # What the loader accepts, the schema accepts: the schema is never stricter.
        assert list(validator.iter_errors(yaml.safe_load(plan_path.read_text(encoding="utf-8")))) == []


@FUZZ
@given(plan=valid_plans())
def test_a_valid_plan_loads_passes_the_schema_and_round_trips(
    plan: dict[str, Any], plan_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    assert list(validator.iter_errors(plan)) == []
    loaded = load(plan_path, plan)
    assert isinstance(loaded, Plan), str(loaded)

    written = loaded.to_dict()
    assert {key: value for key, value in written.items() if key != "waves"} == {
        key: value for key, value in plan.items() if key != "waves"
    }
    for index, (wave, original) in enumerate(zip(written["waves"], plan["waves"], strict=True)):  # type: ignore[call-overload]
        expected_depends = original.get("depends_on", [plan["waves"][index - 1]["name"]] if index else [])
        assert wave == {**original, "depends_on": expected_depends}

    again = load(plan_path, written)
    assert again == loaded


def overlaps_pairwise(selectors: list[tuple[str, dict[str, str]]]) -> dict[str, str]:
    """The tag-overlap rule by its definition: each selector against every earlier one."""
    found = {}
    for index, (path, tags) in enumerate(selectors):
        for other_path, other_tags in selectors[:index]:
            if other_tags.items() <= tags.items() or tags.items() <= other_tags.items():
                found[path] = other_path
                break
    return found


tag_sets = st.dictionaries(st.sampled_from("ABCD"), st.sampled_from("xy"), min_size=1, max_size=4)


@FUZZ
@given(selectors=st.lists(st.tuples(tag_sets, st.none() | tag_sets), min_size=1, max_size=12))
def test_tag_overlaps_found_through_anchors_are_those_of_every_pair(
    selectors: list[tuple[dict[str, str], dict[str, str] | None]], plan_path: Path
) -> None:
    waves: list[dict[str, Any]] = []
    flat: list[tuple[str, dict[str, str]]] = []
    for index, (required, optional) in enumerate(selectors):
        wave: dict[str, Any] = {"name": f"w{index}", "servers": {"tags": required}}
        flat.append((f"waves[{index}].servers.tags", required))
        if optional is not None:
            wave["optional_servers"] = {"tags": optional}
            flat.append((f"waves[{index}].optional_servers.tags", optional))
        waves.append(wave)
    outcome = load(plan_path, {"plan": "tags", "waves": waves})

    reported = {}
    capped = False
    if isinstance(outcome, PlanError):
        for issue in outcome.issues:
            if issue.message == f"{MAX_PROBLEMS} problems found, checking stopped: fix these first":
                capped = True  # a file's problems are capped: the ones reported must still be right
                continue
            # "... selected by waves[1].servers.tags (A=x) in wave 'w1'; ..."
            reported[issue.path] = issue.message.split(" by ", 1)[1].split(" (", 1)[0]
    expected = overlaps_pairwise(flat)
    if capped:
        assert len(reported) == MAX_PROBLEMS <= len(expected)
        assert reported == {path: expected[path] for path in reported}
    else:
        assert reported == expected


def test_a_top_level_key_that_is_a_mapping_is_located(plan_path: Path) -> None:
    """Found by the text fuzz above: ``{{}}`` gave an issue with neither a path nor a place."""
    result = load(plan_path, "{{}}")
    assert isinstance(result, PlanError)
    assert_well_formed(result, plan_path)
    assert "the top level must be a mapping with plain-text keys" in str(result)
