"""``wave-order``: which of its two paths through the waves a run of a plan with
``failback_order: reverse`` takes (:mod:`drs_provider.factory.render`).

A failback goes through the group ``failback-reverse`` (the waves with every edge reversed), any
other run through the wave groups in the plan's order; Airflow skips the path not taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.branch import BaseBranchOperator

from drs_provider.constants import PREFLIGHT_TASK_ID
from drs_provider.exceptions import DrsPreflightError
from drs_provider.operators.plan_run import resolved_run
from drs_provider.operators.plan_task import PlanTaskMixin

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context


class DrsWaveOrderOperator(PlanTaskMixin, BaseBranchOperator):
    """Branch into the reversed waves for a failback, else into the waves in the plan's order.

    :param plan_name: the plan's name.
    :param forward: the first task of every wave group.
    :param reverse: the first task of every wave of ``failback-reverse``.
    :param preflight_task_id: the preflight task of the DAG (its resolved run has the mode).
    """

    ui_color = "#fef3c7"

    def __init__(
        self,
        *,
        plan_name: str,
        forward: Sequence[str],
        reverse: Sequence[str],
        preflight_task_id: str = PREFLIGHT_TASK_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.forward = list(forward)
        self.reverse = list(reverse)
        self.preflight_task_id = preflight_task_id

    def choose_branch(self, context: Context) -> list[str]:
        run = resolved_run(context, self.preflight_task_id)
        if run is None:
            raise DrsPreflightError(
                self.plan_name, [f"no result from task {self.preflight_task_id!r}; clear it too"]
            )
        if run.is_failback:
            self.log.info("A failback: the waves in reverse order (failback_order: reverse)")
            return self.reverse
        self.log.info("A %s: the waves in the plan's order", run.mode)
        return self.forward
