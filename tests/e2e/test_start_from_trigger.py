"""Does ``start_from_trigger`` on the wave sensor shorten the hand-off between waves?

Each wave's ``wait_for_recovery`` either defers from a worker (the scheduler queues it, a worker
starts, runs ``execute()`` and defers) or starts in the triggerer (``start_from_trigger``: the
scheduler hands it straight to the triggerer). This module builds the same three-wave chain both
ways with the factory's own switch (``build_dags(..., start_from_trigger=...)``, one DAG file per
variant), runs them alternately on one stack (SQLite, LocalExecutor), and reports the medians
of each: StartRecovery to the first DescribeJobs of the wave's sensor, and the hand-off from a
wave's job end to the next wave's StartRecovery. It asserts only that both variants recover
every wave in order.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tools.airflow_stack import AirflowStack, SimulatorProcess, StackConfig
from tools.processes import tail
from tools.wave_timing import Handoff, format_handoffs, measure, median_handoff

from drs_provider.factory.render import WAVE_SENSOR_START_FROM_TRIGGER
from tests.e2e.conftest import owner_failed

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUNS_PER_VARIANT = 3
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


@pytest.fixture(scope="module")
def chain_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowStack, SimulatorProcess]]:
    workdir = tmp_path_factory.mktemp("e2e-start-from-trigger")
    plans_dir = workdir / "plans"
    dags = workdir / "dags"
    dags.mkdir()
    for variant, plan in VARIANTS.items():
        (plans_dir / variant).mkdir(parents=True)
        (plans_dir / variant / f"{plan}.yaml").write_text(
            yaml.safe_dump(chain_plan(plan, FIRST_SERVER[variant]))
        )
        (dags / f"drs_recovery_plans_{variant}.py").write_text(
            VARIANT_DAG_FILE.format(folder=variant, flag=FLAGS[variant])
        )
    servers = [
        {"id": f"s-e2e{base + index:014d}", "hostname": f"chain-{base + index}", "launch_seconds": 60}
        for base in FIRST_SERVER.values()
        for index in range(len(WAVES))
    ]
    fleet = workdir / "fleet.yaml"
    fleet.write_text(
        yaml.safe_dump({"account_id": "123456789012", "region": "us-east-1", "source_servers": servers})
    )
    with SimulatorProcess(fleet, speed=SPEED, log_path=workdir / "simulator.log") as simulator:
        config = StackConfig(
            home=workdir / "airflow",
            plans_dir=plans_dir,
            simulator_url=simulator.url,
            dags_folder=dags,
            expected_dag_ids=[f"drs_plan_{plan}" for plan in VARIANTS.values()],
        )
        with AirflowStack(config) as stack:
            yield stack, simulator


def test_start_from_trigger_hand_off_compared_with_worker_start(
    chain_stack: tuple[AirflowStack, SimulatorProcess],
    e2e_figures: list[str],
    e2e_handoffs: list[tuple[str, float, float | None]],
) -> None:
    stack, simulator = chain_stack
    run_ids: dict[str, list[str]] = {variant: [] for variant in VARIANTS}
    # Alternate the variants so that both see the same machine load.
    for _ in range(RUNS_PER_VARIANT):
        for variant, plan in VARIANTS.items():
            dag_id = f"drs_plan_{plan}"
            run_id = stack.rest.trigger(dag_id, {})
            state = stack.rest.wait_for_run(dag_id, run_id, timeout=300)
            states = stack.rest.task_states(dag_id, run_id)
            assert state == "success", (variant, states)
            assert set(states.values()) == {"success"}, (variant, states)
            run_ids[variant].append(run_id)

    calls = simulator.calls()
    for variant, plan in VARIANTS.items():
        jobs, edges = measure(simulator.url, calls, DEPENDENCIES, speed=SPEED, dag_id=f"drs_plan_{plan}")
        # Every wave of every run started once, after the wave before it had been seen COMPLETED.
        assert len(jobs) == len(WAVES) * RUNS_PER_VARIANT, (variant, jobs)
        assert len(edges) == len(DEPENDENCIES) * RUNS_PER_VARIANT, (variant, edges)
        assert all(_follows(edge) for edge in edges), (variant, edges)
        from_end, from_seen = median_handoff(edges)
        assert from_end is not None and from_seen is not None
        until_poll = [job.until_first_poll for job in jobs if job.until_first_poll is not None]
        assert len(until_poll) == len(jobs), (variant, jobs)
        print(f"{variant}:\n{format_handoffs(edges)}")
        if FLAGS[variant] == WAVE_SENSOR_START_FROM_TRIGGER:  # the plan DAGs' own set-up
            e2e_handoffs.extend(("sqlite", edge.from_job_end, edge.from_seen_completed) for edge in edges)
        e2e_figures.append(
            f"[sqlite] sensor {LABELS[variant]}: StartRecovery -> first DescribeJobs median "
            f"{statistics.median(until_poll):.1f}s over {len(until_poll)} waves; hand-off median "
            f"{from_end:.1f}s from job end, {from_seen:.1f}s from seen COMPLETED over {len(edges)}"
        )


def _follows(edge: Handoff) -> bool:
    return (
        edge.upstream_seen_completed is not None and edge.downstream_started >= edge.upstream_seen_completed
    )


@pytest.fixture(autouse=True)
def _logs_on_failure(
    request: pytest.FixtureRequest, chain_stack: tuple[AirflowStack, SimulatorProcess]
) -> Iterator[None]:
    started = time.monotonic()
    yield
    if owner_failed(request):
        stack, simulator = chain_stack
        print(f"\n===== process logs after {time.monotonic() - started:.0f}s =====")
        print(stack.log_tails(60))
        print(tail(Path(simulator.log_path), 30))
