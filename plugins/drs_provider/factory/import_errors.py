"""Find broken plan files, and show them where Airflow users look: the DAG import errors.

Why a second DAG file (checked on Airflow 3.3.2, see ``airflow/dag_processing``):

* A DAG file that raises loses every DAG it defines: the importer drops the module and clears
  the auto-registered DAGs. So ``drs_recovery_plans.py`` must never raise for a bad plan.
* An import error is stored per DAG file, and the dag-processor marks every DAG whose file has
  an import error as stale (``has_import_errors``, ``is_stale``): stale DAGs are hidden, not
  scheduled and cannot be triggered. So the error must not be recorded against the file that
  defines the good DAGs, even by tricks that keep the DAGs in the DagBag.
* Errors recorded against a path that is not a DAG file (the YAML itself) are removed as
  orphans at every bundle refresh and come back at the next parse, so they flicker.
* Python warnings raised while parsing reach the logs only, and DAG warnings have fixed types.

So ``dags/drs_recovery_plans.py`` builds the valid plans and never raises for a plan, and
``dags/drs_recovery_plan_errors.py`` defines no DAG and raises one :class:`PlanError` naming
every issue of every broken file (file and field). That is a real import error of a real DAG
file: it shows in the UI and in ``airflow dags list-import-errors``, no DAG goes stale, and it
clears at the next parse once the plans are fixed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from drs_provider.constants import DAG_ID_PREFIX
from drs_provider.exceptions import PlanError, PlanIssue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import DAG

    from drs_provider.plans.model import Plan

log = logging.getLogger(__name__)

#: Environment variable naming the plans directory (docs/reference/settings.md).
PLANS_DIR_ENV = "DRS_PLANS_DIR"
PLANS_DIR_NAME = "recovery_plans"


def plans_dir_for(dag_file: str | Path | None = None) -> Path:
    """
    The directory of plan files: ``$DRS_PLANS_DIR`` if set, else ``recovery_plans/`` beside
    ``dag_file``, else ``recovery_plans/`` in Airflow's ``[core] dags_folder``.
    """
    configured = os.environ.get(PLANS_DIR_ENV)
    if configured:
        return Path(configured)
    if dag_file is not None:
        return Path(dag_file).resolve().parent / PLANS_DIR_NAME
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder")) / PLANS_DIR_NAME


@dataclass(frozen=True)
class LoadedPlans:
    """The plans of a directory that can become DAGs, and the issues of every other file."""

    plans: tuple[Plan, ...] = ()
    #: absolute file path -> issues
    errors: Mapping[str, tuple[PlanIssue, ...]] = field(default_factory=dict)
    #: dag_id -> DAG, for :func:`render_buildable_plans` only
    dags: Mapping[str, DAG] = field(default_factory=dict)

    @property
    def issues(self) -> tuple[PlanIssue, ...]:
        return tuple(issue for path in sorted(self.errors) for issue in self.errors[path])


def schedule_issue(plan: Plan, file: str) -> PlanIssue | None:
    """Airflow's own verdict on the plan's schedule (it has the last word on cron syntax).

    An invalid timetable would otherwise fail ``dag.validate()`` in the DagBag, recording an
    import error against the DAG file and making every plan's DAG stale.
    """
    if not plan.schedule:
        return None
    from airflow.sdk import DAG

    try:
        DAG(dag_id=plan.dag_id, schedule=plan.schedule, auto_register=False).timetable.validate()
    except Exception as error:  # any rejection by Airflow is a plan problem
        return PlanIssue(file, "schedule", f"{plan.schedule!r}: {error}")
    return None


def load_buildable_plans(plans_dir: str | Path, *, only_dag_id: str | None = None) -> LoadedPlans:
    """Load every plan file of ``plans_dir``; never raises for a bad file.

    :param only_dag_id: load only the files that may hold this DAG's plan (see
        :func:`~drs_provider.plans.loader.collect_plans`).
    """
    from drs_provider.plans import load_plans
    from drs_provider.plans.loader import display_name

    directory = Path(plans_dir).absolute()
    only_name = only_dag_id.removeprefix(DAG_ID_PREFIX) if only_dag_id is not None else None
    loaded = load_plans(directory, display_root=directory.parent, only_name=only_name)
    errors = dict(loaded.errors)
    plans = []
    for plan in loaded.plans:
        issue = schedule_issue(plan, display_name(plan.source, directory.parent))
        if issue is None:
            plans.append(plan)
        else:
            errors[plan.source] = (issue,)
    return LoadedPlans(plans=tuple(plans), errors=errors)


def render_buildable_plans(
    plans_dir: str | Path, *, start_from_trigger: bool | None = None, only_dag_id: str | None = None
) -> LoadedPlans:
    """:func:`load_buildable_plans`, each valid plan rendered as a DAG; never raises for a plan.

    A plan that fails to render (a step kind's operator refusing its arguments, say) moves to
    ``errors``, so that it shows as an import error like a plan that fails validation.

    :param only_dag_id: load and render only the plan of this DAG (a worker running one of its
        tasks needs no other); a file that may claim the same name is still read, so that a name
        claimed twice stays refused.
    """
    from drs_provider.factory.render import WAVE_SENSOR_START_FROM_TRIGGER, render_plan
    from drs_provider.plans.loader import display_name

    if start_from_trigger is None:
        start_from_trigger = WAVE_SENSOR_START_FROM_TRIGGER
    directory = Path(plans_dir).absolute()
    loaded = load_buildable_plans(directory, only_dag_id=only_dag_id)
    errors = dict(loaded.errors)
    plans = []
    dags: dict[str, DAG] = {}
    for plan in loaded.plans:
        if only_dag_id is not None and plan.dag_id != only_dag_id:
            continue
        try:
            dags[plan.dag_id] = render_plan(plan, start_from_trigger=start_from_trigger)
        except Exception as error:  # any failure here only loses this plan's DAG
            log.warning("plan %s (%s) could not be rendered as a DAG", plan.name, plan.source, exc_info=True)
            message = f"could not be rendered as a DAG: {type(error).__name__}: {error}"
            errors[plan.source] = (PlanIssue(display_name(plan.source, directory.parent), "", message),)
        else:
            plans.append(plan)
    return LoadedPlans(plans=tuple(plans), errors=errors, dags=dags)


def raise_for_broken_plans(plans_dir: str | Path | None = None) -> None:
    """Raise one :class:`PlanError` naming every issue of every broken plan file, if any.

    Each valid plan is rendered too (and the DAG dropped): this file parses in a process of its
    own, so a plan that validates but does not render can only be found by rendering it again.
    """
    issues = render_buildable_plans(plans_dir or plans_dir_for()).issues
    if issues:
        raise PlanError(issues)
