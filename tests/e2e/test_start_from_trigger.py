"""Both ways a wave sensor can start recover every wave in order.

Each wave's ``wait_for_recovery`` either defers from a worker (the scheduler queues it, a worker
starts, runs ``execute()`` and defers) or starts in the triggerer (``start_from_trigger``: the
scheduler hands it straight to the triggerer). This module builds the same three-wave chain both
ways with the factory's own switch (``build_dags(..., start_from_trigger=...)``, one DAG file per
variant, each building a plans folder of its own), runs both on the shared stack of each set-up,
and asserts that every wave of both started once, after the wave before it was seen COMPLETED.

Which way hands off faster is a benchmark, not a test: ``make bench`` runs
``tests/bench/handoff.py``, which alternates several runs of each variant and reports the medians.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import pytest
from tools.wave_timing import Handoff, format_handoffs, measure, median_handoff

from drs_provider.factory.render import WAVE_SENSOR_START_FROM_TRIGGER
from tests.e2e.harness import Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 300.0
WAVES = ("first", "second", "third")
DEPENDENCIES = {"second": ["first"], "third": ["second"]}

#: One DAG file per variant, each building the plans of its own folder with the factory's switch.
VARIANT_DAG_FILE = '''\
"""Airflow DAGs of the plans in $DRS_PLANS_DIR/{folder}, wave sensors built with start_from_trigger={flag}."""

import os
from pathlib import Path

from drs_provider.factory import build_dags

globals().update(build_dags(Path(os.environ["DRS_PLANS_DIR"]) / "{folder}", start_from_trigger={flag}))
'''


def chain_plan(name: str, first_server: int) -> dict[str, Any]:
    """Three waves in a row, each with one server of the fleet, from ``first_server`` on."""
    return {
        "plan": name,
        "description": "Three waves in a row",
        "waves": [
            {"name": wave, "servers": {"ids": [f"s-e2e{first_server + index:014d}"]}, "poll_interval": 1}
            for index, wave in enumerate(WAVES)
        ],
    }


VARIANTS = {"worker": "e2e_chain", "start_from_trigger": "e2e_chain_from_trigger"}
LABELS = {"worker": "deferred by a worker", "start_from_trigger": "with start_from_trigger"}
FLAGS = {"worker": False, "start_from_trigger": True}
FIRST_SERVER = {"worker": 101, "start_from_trigger": 201}


FLEET = [
    {"id": f"s-e2e{base + index:014d}", "hostname": f"chain-{base + index}", "launch_seconds": 60}
    for base in FIRST_SERVER.values()
    for index in range(len(WAVES))
]


def dag_id(variant: str) -> str:
    return f"drs_plan_{VARIANTS[variant]}"


@dataclass
class ChainDeployment(Deployment):
    #: variant -> run id, triggered when the stack starts
    runs: dict[str, str] = field(default_factory=dict)


def start_runs(deployment: ChainDeployment) -> None:
    deployment.runs.update({variant: deployment.rest.trigger(dag_id(variant), {}) for variant in VARIANTS})


SCENARIO = Scenario(
    "start_from_trigger",
    plan_folders={
        variant: {plan: chain_plan(plan, FIRST_SERVER[variant])} for variant, plan in VARIANTS.items()
    },
    fleet=FLEET,
    speed=SPEED,
    dag_files={
        f"drs_recovery_plans_{variant}.py": VARIANT_DAG_FILE.format(folder=variant, flag=FLAGS[variant])
        for variant in VARIANTS
    },
    deployment_class=ChainDeployment,
    start=start_runs,
)


def handoffs(airflow: Deployment, variant: str, runs: int) -> tuple[list[Any], list[Handoff]]:
    """The variant's jobs and hand-offs from the call log, checked: every wave of each of ``runs``
    runs started once, after the wave before it had been seen COMPLETED."""
    jobs, edges = measure(
        airflow.simulator.url, airflow.simulator.calls(), DEPENDENCIES, speed=SPEED, dag_id=dag_id(variant)
    )
    assert len(jobs) == len(WAVES) * runs, (variant, jobs)
    assert len(edges) == len(DEPENDENCIES) * runs, (variant, edges)
    assert all(follows(edge) for edge in edges), (variant, edges)
    until_poll = [job.until_first_poll for job in jobs if job.until_first_poll is not None]
    assert len(until_poll) == len(jobs), (variant, jobs)
    return jobs, edges


def follows(edge: Handoff) -> bool:
    return (
        edge.upstream_seen_completed is not None and edge.downstream_started >= edge.upstream_seen_completed
    )


def figures(variant: str, jobs: list[Any], edges: list[Handoff]) -> str:
    """One line: StartRecovery to first poll and the hand-off, medians."""
    from_end, from_seen = median_handoff(edges)
    until_poll = [job.until_first_poll for job in jobs if job.until_first_poll is not None]
    return (
        f"sensor {LABELS[variant]}: StartRecovery -> first DescribeJobs median "
        f"{statistics.median(until_poll):.1f}s over {len(until_poll)} waves; hand-off median "
        f"{from_end:.1f}s from job end, {from_seen:.1f}s from seen COMPLETED over {len(edges)}"
    )


def test_both_sensor_starts_recover_every_wave_in_order(
    airflow: ChainDeployment,
    e2e_figures: list[str],
    e2e_handoffs: list[tuple[str, float, float | None]],
) -> None:
    for variant, run_id in airflow.runs.items():
        state = airflow.rest.wait_for_run(dag_id(variant), run_id, timeout=RUN_TIMEOUT)
        states = airflow.rest.task_states(dag_id(variant), run_id)
        assert state == "success", (variant, states)
        assert set(states.values()) == {"success"}, (variant, states)

    for variant in VARIANTS:
        jobs, edges = handoffs(airflow, variant, runs=1)
        print(f"{variant}:\n{format_handoffs(edges)}")
        if FLAGS[variant] == WAVE_SENSOR_START_FROM_TRIGGER:  # the plan DAGs' own set-up
            e2e_handoffs.extend(
                (airflow.backend, edge.from_job_end, edge.from_seen_completed) for edge in edges
            )
        e2e_figures.append(f"[{airflow.backend}] {figures(variant, jobs, edges)}")
