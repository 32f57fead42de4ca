"""The Airflow DAG ``drs_failover``: one confirmed action recovers many plans (by name, by plan
tags, or all).

Plans come from the same folder as ``drs_recovery_plans.py``'s; see
:mod:`drs_provider.factory.failover`. (Airflow's safe mode parses only files that name both
"airflow" and "dag", as this docstring does.)
"""

from __future__ import annotations

from drs_provider.factory import plans_dir_for
from drs_provider.factory.failover import failover_dags

globals().update(failover_dags(plans_dir_for(__file__)))
