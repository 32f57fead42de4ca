"""Airflow DAGs of the plans in ``$DRS_PLANS_DIR/own_kinds``, with the step kind ``shell`` of
``tests/e2e/own_step_kind.py`` registered first (docs/how-to/approvals-and-checks.md "A new step
kind": a kind of your own is registered in both DAG files, ahead of ``build_dags`` and
``raise_for_broken_plans``).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.own_step_kind import register_shell

from drs_provider.factory import build_dags

register_shell()
globals().update(build_dags(Path(os.environ["DRS_PLANS_DIR"]) / "own_kinds"))
