"""Wave order: a stable topological order, parallel steps, and pictures of the plan (text, Mermaid)."""

from __future__ import annotations

import graphlib
import heapq
from typing import TYPE_CHECKING, TypeVar

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.steps.registry import kind_of

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator, Mapping, Sequence

    from drs_provider.plans.model import Plan, ServerSelector, Step, Wave

Node = TypeVar("Node", bound="Hashable")


def dependency_cycles(
    dependencies: Mapping[Node, Sequence[Node]], order: Sequence[Node]
) -> Iterator[list[Node]]:
    """Yield dependency cycles, each as ``[a, b, c]``: a depends on b, b on c, c on a.

    Each cycle starts at its node that comes first in ``order``. Cycles found later share no
    node with earlier ones. Every search is linear (the standard library's :mod:`graphlib`);
    callers stop iterating when they have reported enough.

    :param dependencies: each node's upstream nodes; every upstream node is a key too
    :param order: every node, in the order cycles should start from
    """
    position = {node: index for index, node in enumerate(order)}
    remaining: dict[Node, Sequence[Node]] = dict(dependencies)
    while remaining:
        try:
            graphlib.TopologicalSorter(remaining).prepare()
        except graphlib.CycleError as error:
            # graphlib lists a cycle from upstream to downstream with the first node repeated.
            downstream: list[Node] = error.args[1][:-1]
            cycle = downstream[::-1]
            first = min(range(len(cycle)), key=lambda index: position[cycle[index]])
            yield cycle[first:] + cycle[:first]
            members = set(cycle)
            remaining = {
                node: [upstream for upstream in upstreams if upstream not in members]
                for node, upstreams in remaining.items()
                if node not in members
            }
        else:
            return


def topological_waves(plan: Plan) -> list[Wave]:
    """Every wave after the waves it depends on; among ready waves, the one listed first.

    A plan whose listing order already respects its dependencies comes back unchanged. The
    order comes from :mod:`graphlib` with a heap of ready waves: O(n log n) in the waves.

    :raises PlanError: if the waves depend on each other in a cycle or on unknown waves
        (impossible for a loaded plan, which was validated)
    """
    index = {wave.name: position for position, wave in enumerate(plan.waves)}
    unknown = sorted({name for wave in plan.waves for name in wave.depends_on} - set(index))
    if unknown:
        message = f"waves depend on unknown waves {', '.join(unknown)}"
        raise PlanError([PlanIssue(plan.source, "waves", message)])
    sorter = graphlib.TopologicalSorter({wave.name: wave.depends_on for wave in plan.waves})
    try:
        sorter.prepare()
    except graphlib.CycleError:
        cycle = next(dependency_cycles({wave.name: wave.depends_on for wave in plan.waves}, list(index)))
        stuck = ", ".join(sorted(cycle, key=index.__getitem__))
        chain = " -> ".join([*cycle, cycle[0]])
        message = f"waves {stuck} can never start (dependency cycle: {chain})"
        raise PlanError([PlanIssue(plan.source, "waves", message)]) from None
    ordered: list[Wave] = []
    ready: list[int] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, index[name])
        wave = plan.waves[heapq.heappop(ready)]
        ordered.append(wave)
        sorter.done(wave.name)
    return ordered


def wave_steps(plan: Plan) -> list[list[Wave]]:
    """Waves grouped by depth: step 1 has no upstream wave, step n waits for one in step n-1.

    Waves in one step never depend on each other, so they run in parallel. (The DAG starts
    each wave as soon as its own upstream waves are done, not when the whole step before is.)
    """
    ordered = topological_waves(plan)
    depth: dict[str, int] = {}
    for wave in ordered:
        depth[wave.name] = 1 + max((depth[name] for name in wave.depends_on), default=0)
    steps: list[list[Wave]] = [[] for _ in range(max(depth.values(), default=0))]
    for wave in ordered:
        steps[depth[wave.name] - 1].append(wave)
    return steps


def describe_selector(selector: ServerSelector) -> str:
    """``3 ids + tags Role=db, App=shop``: what a selector picks, in one short phrase."""
    parts = []
    if selector.ids:
        parts.append(f"{len(selector.ids)} id{'s' if len(selector.ids) != 1 else ''}")
    if selector.tags:
        parts.append("tags " + ", ".join(f"{key}={value}" for key, value in selector.tags.items()))
    return " + ".join(parts) or "nothing"


def describe_step(step: Step) -> str:
    """``ssm_command check_db: AWS-RunShellScript on the recovered instances``: one step in a phrase,
    with the modes it runs in when they are not its kind's default (``(failback only)``)."""
    modes = "" if step.has_default_modes else f" ({', '.join(step.modes)} only)"
    optional = " (optional)" if step.optional else ""
    return f"{step.kind} {step.name}: {kind_of(step).describe(step)}{modes}{optional}"


def render_graph(plan: Plan, *, file: str | None = None) -> str:
    """The plan's waves as text: numbered steps, what each wave recovers and waits for."""
    steps = wave_steps(plan)
    where = f" ({file})" if file else ""
    count = len(plan.waves)
    lines = [
        f"plan {plan.name}{where}: {count} wave{'s' if count != 1 else ''} in {len(steps)} "
        f"step{'s' if len(steps) != 1 else ''}",
        "waves in one step run in parallel; each wave starts once the waves it depends on have recovered",
    ]
    width = max(len(wave.name) for wave in plan.waves)
    for number, step in enumerate(steps, start=1):
        parallel = f" ({len(step)} waves in parallel)" if len(step) > 1 else ""
        lines.append("")
        lines.append(f"step {number}{parallel}")
        for wave in step:
            servers = f"servers: {describe_selector(wave.servers)}"
            if wave.optional_servers is not None:
                servers += f"; optional: {describe_selector(wave.optional_servers)}"
            lines.append(f"  {wave.name.ljust(width)}  {servers}")
            upstream = ", ".join(wave.depends_on) if wave.depends_on else "nothing (starts at once)"
            lines.append(f"  {' ' * width}  depends on: {upstream}")
            for phase, steps_ in (("before", wave.pre), ("after", wave.post)):
                for number, item in enumerate(steps_, start=1):
                    label = f"{phase}:" if number == 1 else ""
                    lines.append(f"  {' ' * width}  {label:<7} {number}. {describe_step(item)}")
    return "\n".join(lines)


def render_mermaid(plan: Plan) -> str:
    """The plan as a Mermaid flowchart (upstream --> downstream), for runbooks and READMEs."""
    lines = ["flowchart LR"]
    for wave in topological_waves(plan):
        label = "".join(f"before: {describe_step(step)}<br/>" for step in wave.pre)
        label += f"{wave.name}<br/>{describe_selector(wave.servers)}"
        if wave.optional_servers is not None:
            label += f"<br/>optional: {describe_selector(wave.optional_servers)}"
        label += "".join(f"<br/>after: {describe_step(step)}" for step in wave.post)
        # Node IDs get a prefix: a wave may be called "end", which Mermaid reserves.
        lines.append(f'    w_{wave.name}["{_mermaid_text(label)}"]')
    for wave in plan.waves:
        lines.extend(f"    w_{upstream} --> w_{wave.name}" for upstream in wave.depends_on)
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")
