"""Broken recovery plan files, shown as an Airflow import error of this file (it has no DAG).

Kept apart from ``drs_recovery_plans.py``: a DAG file that raises loses all its DAGs, so the
valid plans load there and every issue of every broken plan file (file and field) shows here.
"""

from __future__ import annotations

from drs_provider.factory import plans_dir_for, raise_for_broken_plans

raise_for_broken_plans(plans_dir_for(__file__))
