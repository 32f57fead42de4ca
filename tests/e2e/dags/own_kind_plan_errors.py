"""The broken plans of ``$DRS_PLANS_DIR/own_kinds`` as an Airflow import error of this file (it
has no DAG), with the step kind ``shell`` of ``tests/e2e/own_step_kind.py`` registered first, as
in ``own_kind_plans.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.own_step_kind import register_shell

from drs_provider.factory import raise_for_broken_plans

register_shell()
raise_for_broken_plans(Path(os.environ["DRS_PLANS_DIR"]) / "own_kinds")
