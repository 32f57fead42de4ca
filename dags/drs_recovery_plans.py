"""Every recovery plan in ``recovery_plans/`` as an Airflow DAG ``drs_plan_<plan>``.

Plans come from ``$DRS_PLANS_DIR`` if set. A broken plan file never hides the others: it is
left out here and reported as an import error by ``drs_recovery_plan_errors.py``.
"""

from __future__ import annotations

from drs_provider.factory import build_dags, plans_dir_for

globals().update(build_dags(plans_dir_for(__file__)))
