"""The Airflow DAG ``drs_readiness``: whether every plan would recover right now, checked hourly
without launching anything.

Plans come from the same folder as ``drs_recovery_plans.py``'s; see
:mod:`drs_provider.factory.readiness`. (Airflow's safe mode parses only files that name both
"airflow" and "dag", as this docstring does.)
"""

from __future__ import annotations

from drs_provider.factory import plans_dir_for
from drs_provider.factory.readiness import readiness_dag

dag = readiness_dag(plans_dir_for(__file__))
