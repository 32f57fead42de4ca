"""The waves of a plan DAG, each a :class:`~drs_provider.recovery.run_record.WaveShape`, in dependency
order, read from any DAG object (the SDK's in a task, the serialized one in the API server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import FAILBACK_REVERSE_GROUP, MODE_FAILBACK
from drs_provider.plans.graph import wave_steps
from drs_provider.plans.model import Plan, ServerSelector, Wave
from drs_provider.recovery.run_record import START_TASK, WaveShape

if TYPE_CHECKING:
    from collections.abc import Sequence


def wave_depths(shapes: Sequence[WaveShape], dag_id: str) -> dict[str, int]:
    """The dependency graph's step (1, 2, ...) of each wave, as ``drs-plan graph`` numbers them."""
    # The DAG was rendered from a validated plan: its waves and edges are that plan's.
    plan = Plan(
        name=dag_id,
        source=dag_id,
        waves=tuple(Wave(name=s.name, servers=ServerSelector(), depends_on=s.depends_on) for s in shapes),
    )
    return {wave.name: number for number, step in enumerate(wave_steps(plan), 1) for wave in step}


def in_dependency_order(shapes: Sequence[WaveShape], dag_id: str) -> tuple[WaveShape, ...]:
    """Waves step by step (as :func:`wave_depths` numbers them), by name within a step."""
    depths = wave_depths(shapes, dag_id)
    return tuple(sorted(shapes, key=lambda shape: (depths.get(shape.name, 0), shape.name)))


def _flat_tasks(group: Any) -> list[Any]:
    tasks = []
    for child in group.children.values():
        tasks.extend(_flat_tasks(child) if hasattr(child, "children") else [child])
    return tasks


def _in_dependency_order(tasks: Sequence[Any]) -> list[str]:
    """Task ids of one group, each after its upstream tasks inside the group."""
    ids = [task.task_id for task in tasks]
    upstream = {task.task_id: set(task.upstream_task_ids) & set(ids) for task in tasks}
    ordered: list[str] = []
    while len(ordered) < len(ids):
        ready = [task_id for task_id in ids if task_id not in ordered and upstream[task_id] <= set(ordered)]
        ordered.append(ready[0] if ready else next(task_id for task_id in ids if task_id not in ordered))
    return ordered


def dag_waves(dag: Any, *, reversed_failback: bool = False) -> tuple[WaveShape, ...]:
    """The waves of a plan DAG (every top-level task group holding a ``start_recovery`` task), in
    dependency order. ``dag`` is any DAG object (the SDK's in a task, the serialized one in the
    API server): only its task groups, tasks and upstream IDs are read.

    :param reversed_failback: the waves of the reversed failback instead (the groups inside
        ``failback-reverse``, docs/how-to/failback.md); none when the DAG has no such group
    """
    parent = dag.task_group
    if reversed_failback:
        parent = parent.children.get(FAILBACK_REVERSE_GROUP)
        if parent is None:
            return ()
    groups = [
        child
        for child in parent.children.values()
        if hasattr(child, "children") and f"{child.group_id}.{START_TASK}" in dag.task_dict
    ]
    prefix = f"{FAILBACK_REVERSE_GROUP}." if reversed_failback else ""
    name_of = {group.group_id: group.group_id.removeprefix(prefix) for group in groups}
    wave_of = {task.task_id: group.group_id for group in groups for task in _flat_tasks(group)}
    shapes = []
    for group in groups:
        tasks = _flat_tasks(group)
        upstream_waves = {
            name_of[wave_of[upstream]]
            for task in tasks
            for upstream in task.upstream_task_ids
            if upstream in wave_of and wave_of[upstream] != group.group_id
        }
        shapes.append(
            WaveShape(
                name_of[group.group_id],
                tuple(_in_dependency_order(tasks)),
                tuple(sorted(upstream_waves)),
                group=group.group_id if reversed_failback else None,
            )
        )
    return in_dependency_order(shapes, dag.dag_id)


def has_reversed_failback(dag: Any) -> bool:
    """Whether the DAG holds its waves a second time, reversed, for failbacks."""
    return FAILBACK_REVERSE_GROUP in dag.task_group.children


def run_waves(dag: Any, mode: str | None) -> tuple[WaveShape, ...]:
    """The waves a run of ``mode`` goes through: the reversed ones for a failback of a DAG that
    has them, else the wave groups."""
    return dag_waves(dag, reversed_failback=mode == MODE_FAILBACK and has_reversed_failback(dag))
