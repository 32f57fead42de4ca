"""The tasks of ``drs_readiness`` read the plans of a folder: every plan, or those the run's
``plans`` param names, the same in each task of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from drs_provider.exceptions import DrsInputError
from drs_provider.plans.loader import load_plans

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from drs_provider.plans.model import Plan


def chosen_plans(plans: Sequence[Plan], names: Sequence[str] | None, plans_dir: str) -> list[Plan]:
    """Every plan, or those the run's ``plans`` param names (each must exist): shared by the
    readiness DAG's tasks, so both read the same plans in a run."""
    if not names:
        return list(plans)
    known = {plan.name: plan for plan in plans}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DrsInputError(
            f"params.plans: no plan {', '.join(map(repr, unknown))} in {plans_dir} "
            f"(plans: {', '.join(sorted(known)) or 'none'})"
        )
    return [known[name] for name in dict.fromkeys(names)]


class PlanFolderOperator(BaseOperator):
    """A task of ``drs_readiness``: it reads the plans of a folder, those the run names.

    :param plans_dir: the folder of plan files (the one the plan DAGs are made from).
    """

    template_fields: Sequence[str] = ()

    def __init__(self, *, plans_dir: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plans_dir = plans_dir

    def run_plans(self, context: Context, skipped: str) -> list[Plan]:
        """The run's plans (every plan, or those its ``plans`` param names); each file that does
        not load is logged as ``skipped`` (``check`` reports it)."""
        loaded = load_plans(self.plans_dir)
        for issue in loaded.issues:
            self.log.warning("%s: %s", skipped, issue)
        return chosen_plans(loaded.plans, (context.get("params") or {}).get("plans"), self.plans_dir)
