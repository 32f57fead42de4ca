"""Plan -> Airflow DAG: the one place that knows both plans and Airflow (docs/explanation/dag-and-waves.md).

``build_dags(plans_dir)`` turns every valid plan file into a DAG ``drs_plan_<plan>``;
``raise_for_broken_plans(plans_dir)`` raises one error naming every issue of every broken
file (see :mod:`drs_provider.factory.import_errors` for why these are two DAG files).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drs_provider.factory.import_errors import (
    LoadedPlans,
    load_buildable_plans,
    plans_dir_for,
    raise_for_broken_plans,
    render_buildable_plans,
)

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk import DAG

__all__ = [
    "LoadedPlans",
    "build_dags",
    "load_buildable_plans",
    "plans_dir_for",
    "raise_for_broken_plans",
    "render_buildable_plans",
]

log = logging.getLogger(__name__)


def build_dags(
    plans_dir: str | Path | None = None, *, start_from_trigger: bool | None = None
) -> dict[str, DAG]:
    """
    One DAG per valid plan in ``plans_dir``, keyed by ``dag_id``; never raises for a bad plan.

    :param plans_dir: the plan files' directory; default :func:`plans_dir_for` (``$DRS_PLANS_DIR``,
        else ``recovery_plans/`` in Airflow's dags folder).
    :param start_from_trigger: start each wave's ``wait_for_recovery`` in the triggerer, or defer
        it from a worker; default :data:`~drs_provider.factory.render.WAVE_SENSOR_START_FROM_TRIGGER`.
    :return: ``{dag_id: DAG}``, ready for ``globals().update(...)`` in a DAG file. Broken
        files, and plans that fail to render, are left out here and reported by
        :func:`raise_for_broken_plans`.
    """
    # A worker parsing the file to run one task needs only that task's DAG: rendering every plan
    # there cost each task seconds that grow with the number of plans (Airflow's parsing context
    # names the DAG; it is empty in the dag-processor, which builds them all).
    from airflow.sdk import get_parsing_context

    loaded = render_buildable_plans(
        plans_dir if plans_dir is not None else plans_dir_for(),
        start_from_trigger=start_from_trigger,
        only_dag_id=get_parsing_context().dag_id,
    )
    for path, issues in loaded.errors.items():
        log.warning("plan file %s left out: %s", path, "; ".join(str(issue) for issue in issues))
    return dict(loaded.dags)
