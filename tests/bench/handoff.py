"""Hand-off benchmark: a wave sensor deferred by a worker against one started in the triggerer.

The three-wave chain of ``tests/e2e/test_start_from_trigger.py``, built both ways with the
factory's switch (``build_dags(..., start_from_trigger=...)``), on one real Airflow stack
(SQLite, LocalExecutor, the end-to-end harness) and the DRS simulator as its own process. The
variants run alternately, one run at a time, so that both see the same machine load. Printed per
variant: StartRecovery to the wave sensor's first DescribeJobs, and the hand-off from a wave's
job end (and from the poll that saw it COMPLETED) to the next wave's StartRecovery, as medians.
Nothing is asserted but that every run succeeds::

    python -m tests.bench.handoff [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tools.airflow_stack import AirflowStack

from tests.e2e.conftest import POSTGRES_URL, REDIS_URL
from tests.e2e.harness import SharedStack, shared_stack_config
from tests.e2e.test_start_from_trigger import SCENARIO, VARIANTS, dag_id, figures, handoffs

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each variant (default 3)")
    args = parser.parse_args(argv)
    scenario = dataclasses.replace(SCENARIO, start=None)  # runs are triggered here, one at a time
    workdir = Path(tempfile.mkdtemp(prefix="drs-bench-handoff-"))
    started = time.monotonic()
    failed = 0
    try:
        config = shared_stack_config(
            workdir, "sqlite", [scenario], postgres_url=POSTGRES_URL, redis_url=REDIS_URL
        )
        with AirflowStack(config) as stack, contextlib.ExitStack() as resources:
            shared = SharedStack("sqlite", stack)
            shared.deploy_all([scenario], workdir / "scenarios", resources)
            deployment = shared.deployments[scenario.name]
            print(
                f"stack up in {time.monotonic() - started:.0f}s; {args.runs} runs of each variant", flush=True
            )
            for _ in range(args.runs):
                for variant in VARIANTS:
                    run_id = stack.rest.trigger(dag_id(variant), {})
                    state = stack.rest.wait_for_run(dag_id(variant), run_id, timeout=300)
                    failed += state != "success"
                    print(f"  {variant}: {run_id} {state}", flush=True)
            print()
            print(
                "Wave sensor start, three-wave chain (SQLite, LocalExecutor, defaults but poll_interval 1 s)"
            )
            for variant in VARIANTS:
                jobs, edges = handoffs(deployment, variant, runs=args.runs)
                print(figures(variant, jobs, edges))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
