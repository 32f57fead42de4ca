"""Read and write a plan's lease (:mod:`drs_provider.recovery.lease`) through the Task SDK.

Synchronous calls to Airflow (a Variable, a Dag run's state): a task calls them directly, a
trigger through ``sync_to_async``. Outside an Airflow task or trigger (an operator called from
plain Python) there are no other runs to agree with: the lease is read, never written.
"""

from __future__ import annotations

from drs_provider.constants import dag_id_of
from drs_provider.recovery.lease import HOLDING_STATES, Lease, lease_variable


def read_lease(plan: str) -> Lease | None:
    from airflow.sdk import Variable

    return Lease.from_json(Variable.get(lease_variable(plan), default=None))


def in_airflow() -> bool:
    """Running as an Airflow task or trigger, which reach Airflow through the supervisor."""
    from airflow.sdk.execution_time import task_runner

    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def write_lease(plan: str, lease: Lease) -> None:
    from airflow.sdk import Variable

    if not in_airflow():
        return
    Variable.set(
        lease_variable(plan),
        lease.to_json(),
        description=f"Which run of plan {plan} may launch (drs_provider's plan lease)",
    )


def holds(plan: str, lease: Lease | None) -> bool:
    """The lease's run is still queued or running (a run that is gone holds nothing)."""
    if lease is None or not in_airflow():
        return False
    from airflow.sdk.exceptions import AirflowRuntimeError
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    try:
        state = RuntimeTaskInstance.get_dagrun_state(dag_id_of(plan), lease.run_id)
    except AirflowRuntimeError:  # the run was deleted
        return False
    return str(getattr(state, "value", state)) in HOLDING_STATES


def preempted_by(plan: str, run_id: str) -> str | None:
    """The recovery run that preempted the drill ``run_id``, or None."""
    lease = read_lease(plan)
    return lease.run_id if lease is not None and lease.preempts(run_id) else None
