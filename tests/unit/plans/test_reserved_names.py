"""Wave names that would collide with the DAG's own tasks are refused before any DAG is built."""

from __future__ import annotations

from drs_provider.plans.model import RESERVED_WAVE_NAMES


def test_the_dags_own_tasks_are_reserved_wave_names() -> None:
    from drs_provider.operators.preflight import PREFLIGHT_TASK_ID

    assert PREFLIGHT_TASK_ID in RESERVED_WAVE_NAMES
