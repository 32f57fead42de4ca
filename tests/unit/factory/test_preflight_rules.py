"""The preflight's pure rules: concurrent-wave peaks and point-in-time parsing."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from drs_provider.recovery.concurrency import peak_concurrent, wave_ancestors


def brute_force_peak(weights: dict[str, int], ancestors: dict[str, set[str]]) -> int:
    names = list(weights)
    best = 0
    for size in range(1, len(names) + 1):
        for group in combinations(names, size):
            if all(a not in ancestors[b] and b not in ancestors[a] for a, b in combinations(group, 2)):
                best = max(best, sum(weights[name] for name in group))
    return best


@st.composite
def wave_graphs(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, set[str]]]:
    count = draw(st.integers(min_value=1, max_value=8))
    names = [f"w{index}" for index in range(count)]
    waves = []
    for index, name in enumerate(names):
        parents = draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
        waves.append({"name": name, "depends_on": parents})
    weights = {name: draw(st.integers(min_value=0, max_value=300)) for name in names}
    return weights, wave_ancestors(waves)


@settings(max_examples=200, deadline=None)
@given(wave_graphs())
def test_peak_is_the_heaviest_set_of_unrelated_waves(
    graph: tuple[dict[str, int], dict[str, set[str]]],
) -> None:
    weights, ancestors = graph
    assert peak_concurrent(weights, ancestors) == brute_force_peak(weights, ancestors)


def test_peak_of_a_chain_is_its_heaviest_wave_and_of_parallel_waves_their_sum() -> None:
    chain = wave_ancestors(
        [{"name": "a"}, {"name": "b", "depends_on": ["a"]}, {"name": "c", "depends_on": ["b"]}]
    )
    parallel = wave_ancestors([{"name": "a"}, {"name": "b"}, {"name": "c", "depends_on": ["a", "b"]}])

    assert peak_concurrent({"a": 100, "b": 300, "c": 200}, chain) == 300
    assert peak_concurrent({"a": 100, "b": 300, "c": 350}, parallel) == 400


def test_ancestors_are_transitive() -> None:
    found = wave_ancestors(
        [{"name": "a"}, {"name": "b", "depends_on": ["a"]}, {"name": "c", "depends_on": ["b"]}]
    )

    assert found == {"a": set(), "b": {"a"}, "c": {"a", "b"}}
