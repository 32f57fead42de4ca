"""``make demo-failback``: recover a plan, then fail it back home, on a real Airflow and the simulator.

The demo plan ``orders`` (``tools/failback_demo/plans/``: db, then app) protects EC2 machines of
us-east-1 in us-west-2 (``tools/failback_demo/fleet.yaml``). The demo starts the same stack as
``make demo`` (:mod:`tools.demo`), triggers a confirmed recovery of the plan, shows its progress
and report, then triggers a confirmed failback and shows its progress and report: each server's
copy back, its launch at home, and where it came home from. A failback wave's jobs run in the
origin region, and the progress reads them there (:mod:`tools.demo_watcher`).

The plan lives apart from ``dags/recovery_plans``: the tests enumerate the plans there, and its
fleet file would not be a plan. Exit status: 0 when both runs succeeded, 1 when one failed (the
failback is not triggered after a failed recovery) or Airflow did not start, 130 when interrupted.
``--keep-up`` leaves everything running afterwards, until Ctrl-C.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tools.demo import REPO_ROOT, DemoRuns, main, parser

if TYPE_CHECKING:
    from collections.abc import Sequence

DEMO_DIR = REPO_ROOT / "tools" / "failback_demo"
PLANS_DIR = DEMO_DIR / "plans"
FLEET = DEMO_DIR / "fleet.yaml"
PLAN = "orders"


def failback_runs(plan: str) -> DemoRuns:
    """A confirmed recovery of ``plan``, then a confirmed failback (both need its name)."""
    return DemoRuns(
        confs=({"mode": "recovery", "confirm": plan}, {"mode": "failback", "confirm": plan}),
        summary="a recovery, then a failback,",
        closing="`--keep-up` keeps Airflow up after the failback, to explore both runs in the UI.",
    )


def run(argv: Sequence[str] | None = None) -> int:
    options = parser(
        "python -m tools.demo_failback",
        "Recover a plan, then fail it back home, on a real local Airflow against the DRS simulator.",
        plan=PLAN,
        plans_dir=PLANS_DIR,
        fleet=FLEET,
    )
    return main(argv, failback_runs, options)


if __name__ == "__main__":
    sys.exit(run())
