"""What Airflow holds about one plan DAG run, as plain records: its task instances, XComs and approvals,
the plan DAG's task ids and the task states a report reads (no Airflow imported).

:func:`~drs_provider.recovery.report.build_report` turns a :class:`RunRecord` into the run report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from drs_provider.constants import (
    CLEANUP_TASK_ID,
    PREFLIGHT_TASK_ID,
    REPORT_TASK_ID,
    RETURN_VALUE_XCOM_KEY,
    SERVERS_XCOM_KEY,
    START_RECOVERY_TASK,
    WAIT_FOR_RECOVERY_TASK,
)
from drs_provider.steps.registry import kind_of_operator

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


PREFLIGHT_TASK = PREFLIGHT_TASK_ID
START_TASK = START_RECOVERY_TASK
WAIT_TASK = WAIT_FOR_RECOVERY_TASK
CLEANUP_TASK = CLEANUP_TASK_ID
REPORT_TASK = REPORT_TASK_ID
#: Task ids outside the waves that the plan DAG may have.
LIFECYCLE_TASKS = frozenset({PREFLIGHT_TASK, CLEANUP_TASK, REPORT_TASK})
RETURN_VALUE = RETURN_VALUE_XCOM_KEY
#: XCom key under which ``wait_for_recovery`` keeps the per-server results (also on failure).
SERVERS_XCOM = SERVERS_XCOM_KEY

#: Task instance states of a task on its way but not finished.
ACTIVE_STATES = frozenset(
    {"scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule", "restarting"}
)
AWAITING_INPUT = "awaiting_input"
#: Task instance states after which nothing more happens to the task.
FINISHED_STATES = frozenset({"success", "failed", "upstream_failed", "skipped", "removed"})
#: Task instance states of a task that never ran (Airflow still stamps start and end dates on them).
NOT_RUN_STATES = frozenset({"skipped", "removed", "upstream_failed"})

#: A default step name ``pre_<n>_<kind>``: a step's kind when its operator does not say it.
_DEFAULT_STEP_NAME = re.compile(r"^(?:pre|post)_\d+_(?P<kind>[a-z_]+)$")


@dataclass(frozen=True)
class TaskRecord:
    """One task instance of the run, as Airflow keeps it."""

    task_id: str
    state: str | None
    start_date: datetime | None = None
    end_date: datetime | None = None
    operator: str | None = None
    try_number: int = 0
    map_index: int = -1


@dataclass(frozen=True)
class WaveShape:
    """A wave as the DAG draws it: its group's tasks in dependency order, and its upstream waves."""

    name: str
    task_ids: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    #: the task group's full ID when it is not the wave's name (a reversed failback's waves)
    group: str | None = None

    @property
    def group_id(self) -> str:
        return self.group or self.name

    @property
    def start_task(self) -> str:
        return f"{self.group_id}.{START_TASK}"

    @property
    def wait_task(self) -> str:
        return f"{self.group_id}.{WAIT_TASK}"

    def step_name(self, task_id: str) -> str:
        """A task's ID inside the wave's group."""
        return task_id.removeprefix(f"{self.group_id}.")

    @property
    def step_task_ids(self) -> tuple[str, ...]:
        """The runbook steps: every task of the group but the two DRS tasks."""
        return tuple(task for task in self.task_ids if task not in (self.start_task, self.wait_task))


@dataclass(frozen=True)
class ApprovalRecord:
    """A human-in-the-loop request of one task (providers-standard HITL), and its answer if any."""

    task_id: str
    subject: str
    body: str | None = None
    options: tuple[str, ...] = ()
    multiple: bool = False
    map_index: int = -1
    created_at: datetime | None = None
    chosen_options: tuple[str, ...] | None = None
    responded_by: str | None = None
    responded_at: datetime | None = None
    #: IDs of the users who alone may answer; none named: whoever may update the DAG's HITL details
    assigned_users: tuple[str, ...] = ()

    @property
    def answered(self) -> bool:
        return self.chosen_options is not None


@dataclass(frozen=True)
class RunRecord:
    """Everything Airflow holds about one plan DAG run that a report is made of."""

    dag_id: str
    run_id: str
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    waves: tuple[WaveShape, ...]
    tasks: Mapping[str, TaskRecord]
    #: ``(task_id, key) -> value`` of the run's XComs (map index -1)
    xcoms: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    conf: Mapping[str, Any] = field(default_factory=dict)
    #: why each failed task failed, as its log says
    errors: Mapping[str, str] = field(default_factory=dict)
    approvals: Mapping[str, ApprovalRecord] = field(default_factory=dict)
    #: the user who triggered the run, as Airflow recorded it (None for a scheduled run)
    triggered_by: str | None = None
    #: ``manual``, ``scheduled``, ... (None when unknown)
    run_type: str | None = None
    #: the recovery run that preempted this drill (None when none did)
    preempted_by: str | None = None

    def __post_init__(self) -> None:
        # A drill's approval waits deferred in the triggerer (so that a recovery can close it),
        # a recovery's in awaiting_input: both wait for a person, and say so alike.
        waiting = {
            task_id: replace(task, state=AWAITING_INPUT)
            for task_id, task in self.tasks.items()
            if task.state == "deferred" and step_kind(task_id, task.operator) == "approval"
        }
        if waiting:
            object.__setattr__(self, "tasks", {**self.tasks, **waiting})

    def xcom(self, task_id: str, key: str = RETURN_VALUE) -> Any:
        return self.xcoms.get((task_id, key))

    def state_of(self, task_id: str) -> str | None:
        task = self.tasks.get(task_id)
        return task.state if task else None


def step_kind(task_id: str, operator: str | None) -> str:
    """What kind of runbook step a task is: by its operator, as registered with each step kind
    (:mod:`drs_provider.steps`), else by its default name."""
    kind = kind_of_operator(operator)
    if kind is not None:
        return kind.name
    match = _DEFAULT_STEP_NAME.match(task_id.rsplit(".", 1)[-1])
    if match:
        return match["kind"]
    return operator or "task"


def state_value(value: Any) -> str | None:
    """An Airflow state (or run type) as its text, whether an enum or a string; None stays None."""
    return None if value is None else str(getattr(value, "value", value))
