"""What every task of a plan DAG leaves behind for the run report: when it started, why it failed.

A task cannot read other tasks' start times or logs (Airflow 3 tasks reach Airflow only through
the Task SDK), so each plan task records its own as XComs, which the ``report`` task reads:
``task_started`` (its try's start, ISO-8601) and, when it fails, ``task_error`` (the exception,
``Type: message``). The task's end is its start plus the duration Airflow keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import (
    AirflowRescheduleException,
    AirflowSkipException,
    DagRunTriggerException,
    DownstreamTasksSkipped,
)

from drs_provider.constants import TASK_ERROR_XCOM_KEY, TASK_STARTED_XCOM_KEY

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context

#: Exceptions that steer Airflow rather than report a failure.
FLOW_CONTROL = (
    AirflowSkipException,
    AirflowRescheduleException,
    DownstreamTasksSkipped,
    DagRunTriggerException,
)


def error_text(error: BaseException) -> str:
    """``Type: message``, as a failure is reported everywhere (report, UI, notifications)."""
    return f"{type(error).__name__}: {error}"


class PlanTextMixin:
    """Mixed into every operator of a plan DAG, before the operator class: plan text is data.

    Plan text reaches these operators as values, and anyone who may merge a plan file writes it.
    Rendered as Jinja, ``{{ conn.aws_default.password }}`` would read a connection's secret, and
    plain shell text (``${#HOSTS[@]}``) would fail the task after its servers launched. So a plan
    DAG's operators template nothing and read no value as a template file, whatever the operator
    they extend templates for hand-written DAGs (whose author Airflow trusts anyway); an operator
    that needs one of the factory's own templates declares that field itself.
    """

    # Any: the operators this mixes into declare these as Sequence or as Collection.
    template_fields: Any = ()
    template_ext: Any = ()


class PlanTaskMixin(PlanTextMixin):
    """Mixed into every operator of a plan DAG, before the operator class (see the module docstring).

    The task's own work is :meth:`run_task`; by default the operator's ``execute``.
    """

    def execute(self, context: Context) -> Any:
        self._record_start(context)
        return self._recording_failure(context, self.run_task, context)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        self._record_start(context)
        resume = super().resume_execution  # type: ignore[misc]
        return self._recording_failure(context, resume, next_method, next_kwargs, context)

    def run_task(self, context: Context) -> Any:
        """What the task does; by default the operator's own ``execute``."""
        return super().execute(context)  # type: ignore[misc]

    @staticmethod
    def _record_start(context: Context) -> None:
        ti = context["ti"]
        started = getattr(ti, "start_date", None)
        if started is not None:
            ti.xcom_push(key=TASK_STARTED_XCOM_KEY, value=started.isoformat())

    @staticmethod
    def _recording_failure(context: Context, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except FLOW_CONTROL:
            raise
        except Exception as error:
            context["ti"].xcom_push(key=TASK_ERROR_XCOM_KEY, value=error_text(error))
            raise
