"""Wave order: dependency first, stable, and a readable picture of parallel steps."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest

from drs_provider.exceptions import PlanError
from drs_provider.plans import (
    Plan,
    ServerSelector,
    Wave,
    load_plan_file,
    render_graph,
    render_mermaid,
    topological_waves,
    wave_steps,
)
from drs_provider.plans.graph import dependency_cycles
from tests.unit.plans.samples import SHOP_YAML, write

if TYPE_CHECKING:
    from pathlib import Path

SOME = ServerSelector(tags=MappingProxyType({"App": "x"}))


def plan_of(*waves: tuple[str, tuple[str, ...]]) -> Plan:
    return Plan(
        name="p",
        waves=tuple(Wave(name=name, servers=SOME, depends_on=deps) for name, deps in waves),
        source="p.yaml",
    )


def names(waves: list[Wave]) -> list[str]:
    return [wave.name for wave in waves]


def test_an_order_that_already_respects_dependencies_is_kept() -> None:
    plan = plan_of(("db", ()), ("app", ("db",)), ("reports", ()), ("web", ("app", "reports")))
    assert names(topological_waves(plan)) == ["db", "app", "reports", "web"]


def test_waves_listed_before_their_upstream_move_after_it() -> None:
    plan = plan_of(("web", ("app",)), ("app", ("db",)), ("db", ()), ("batch", ()))
    assert names(topological_waves(plan)) == ["db", "app", "web", "batch"]


def test_independent_waves_keep_their_listing_order() -> None:
    plan = plan_of(("c", ()), ("a", ()), ("b", ()))
    assert names(topological_waves(plan)) == ["c", "a", "b"]


def test_a_long_chain_listed_backwards_comes_out_in_dependency_order() -> None:
    count = 3000
    plan = plan_of(*((f"w{n}", (f"w{n - 1}",) if n else ()) for n in reversed(range(count))))
    assert names(topological_waves(plan)) == [f"w{n}" for n in range(count)]


def test_a_cycle_in_a_hand_built_plan_is_a_plan_error() -> None:
    plan = plan_of(("a", ("b",)), ("b", ("a",)), ("c", ()))
    with pytest.raises(PlanError, match=r"waves a, b can never start \(dependency cycle: a -> b -> a\)"):
        topological_waves(plan)


def test_an_unknown_upstream_in_a_hand_built_plan_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="unknown waves db"):
        topological_waves(plan_of(("app", ("db",))))


def test_dependency_cycles_are_spelled_in_dependency_order_from_the_first_listed_wave() -> None:
    # database -> web -> app -> database (each depends on the next); x <-> y; z alone
    dependencies = {
        "database": ["web"],
        "app": ["database"],
        "web": ["app", "reports"],
        "reports": [],
        "x": ["y"],
        "y": ["x"],
        "z": ["x"],
    }
    order = ["database", "app", "reports", "web", "x", "y", "z"]
    assert sorted(dependency_cycles(dependencies, order)) == [["database", "web", "app"], ["x", "y"]]


def test_dependency_cycles_of_an_acyclic_graph_is_empty() -> None:
    assert list(dependency_cycles({"a": [], "b": ["a"], "c": ["a", "b"]}, ["a", "b", "c"])) == []


def test_steps_group_waves_by_depth() -> None:
    plan = plan_of(("db", ()), ("app", ("db",)), ("reports", ()), ("web", ("app", "reports")), ("cache", ()))
    assert [names(step) for step in wave_steps(plan)] == [["db", "reports", "cache"], ["app"], ["web"]]


def test_render_graph_shows_steps_servers_and_dependencies() -> None:
    plan = Plan(
        name="shop",
        source="shop.yaml",
        waves=(
            Wave(
                name="database",
                servers=ServerSelector(ids=("s-0123456789abcdef0",), tags=MappingProxyType({"Role": "db"})),
                optional_servers=ServerSelector(tags=MappingProxyType({"Role": "replica"})),
                depends_on=(),
            ),
            Wave(name="reports", servers=SOME, depends_on=()),
            Wave(name="web", servers=ServerSelector(ids=("s-1", "s-2")), depends_on=("database", "reports")),
        ),
    )
    assert render_graph(plan, file="recovery_plans/shop.yaml") == (
        "plan shop (recovery_plans/shop.yaml): 3 waves in 2 steps\n"
        "waves in one step run in parallel; each wave starts once the waves it depends on have recovered\n"
        "\n"
        "step 1 (2 waves in parallel)\n"
        "  database  servers: 1 id + tags Role=db; optional: tags Role=replica\n"
        "            depends on: nothing (starts at once)\n"
        "  reports   servers: tags App=x\n"
        "            depends on: nothing (starts at once)\n"
        "\n"
        "step 2\n"
        "  web       servers: 2 ids\n"
        "            depends on: database, reports"
    )


def test_render_mermaid_draws_upstream_to_downstream() -> None:
    plan = Plan(
        name="p",
        source="p.yaml",
        waves=(
            Wave(
                name="web",
                servers=ServerSelector(tags=MappingProxyType({"Name": 'say "hi"'})),
                depends_on=("end",),
            ),
            Wave(
                name="end",
                servers=ServerSelector(ids=("s-1",)),
                optional_servers=ServerSelector(ids=("s-2",)),
                depends_on=(),
            ),
        ),
    )
    assert render_mermaid(plan) == (
        "flowchart LR\n"
        '    w_end["end<br/>1 id<br/>optional: 1 id"]\n'
        '    w_web["web<br/>tags Name=say #quot;hi#quot;"]\n'
        "    w_end --> w_web"
    )


def test_the_pictures_show_each_waves_steps_before_and_after_it(tmp_path: Path) -> None:
    plan = load_plan_file(write(tmp_path / "shop.yaml", SHOP_YAML))

    text = render_graph(plan)
    mermaid = render_mermaid(plan)

    assert (
        "before: 1. approval pre_1_approval: asks 'Fail the shop database over?', 1800 s to answer "
        "(recovery only)"
    ) in text
    assert "after:  1. ssm_command post_1_ssm_command: AWS-RunShellScript on the recovered instances" in text
    assert "2. lambda post_2_lambda: calls dr-switch-dns (optional)" in text
    assert "4. wait post_4_wait: 120 s" in text
    assert "before: approval pre_1_approval: asks" in mermaid
    assert "<br/>after: ssm_automation rotate_secrets: runbook Shop-RotateSecrets" in mermaid


def test_a_step_shows_the_modes_it_runs_in_when_they_are_not_its_kinds_default(tmp_path: Path) -> None:
    text = """\
plan: home
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef0]}
    post:
      - wait: {seconds: 5, modes: [failback]}
      - wait: {seconds: 6, modes: [recovery, failback, drill]}
      - approval: {message: Back home?, modes: [failback], optional: true}
"""
    graph = render_graph(load_plan_file(write(tmp_path / "home.yaml", text)))

    assert "1. wait post_1_wait: 5 s (failback only)" in graph
    assert "2. wait post_2_wait: 6 s\n" in graph  # every mode, the default, in another order
    assert (
        "3. approval post_3_approval: asks 'Back home?', 3600 s to answer (failback only) (optional)" in graph
    )
