"""Read and write a plan's lease (:mod:`drs_provider.recovery.lease`) through the Task SDK.

Synchronous calls to Airflow (a Variable, a Dag run's state): a task calls them directly, a
trigger through ``sync_to_async``. Outside an Airflow task or trigger (an operator called from
plain Python) there are no other runs to agree with: the lease is read, never written.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from drs_provider.constants import MODE_DRILL, dag_id_of
from drs_provider.exceptions import DrsPreflightError
from drs_provider.recovery.lease import (
    HOLDING_STATES,
    Lease,
    Verdict,
    drill_verdict,
    lease_variable,
    recovery_lease,
)
from drs_provider.recovery.run_record import state_value

#: Seconds between writing the lease and reading it back: two runs that read it free at the same
#: moment both write it, and the one whose write was overwritten sees so and steps back. A
#: Variable cannot be compared-and-set; this is longer than any read-then-write of a run. A run
#: that is its plan's only live run when it has written the lease does not wait (:func:`alone`).
LEASE_SETTLE_SECONDS = 2.0


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
    return state_value(state) in HOLDING_STATES


def alone(plan: str) -> bool:
    """The caller's run is the only queued or running run of the plan's DAG.

    Asked after writing the lease: a run that can have read the lease before that write existed
    by then, and is counted; a run created after it reads what was written. So a run that is
    alone needs no settle, and the usual case (one run of a plan) launches 2 s sooner.
    """
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    return RuntimeTaskInstance.get_dr_count(dag_id_of(plan), states=sorted(HOLDING_STATES)) <= 1


def preempted_by(plan: str, run_id: str) -> str | None:
    """The recovery run that preempted the drill ``run_id``, or None."""
    lease = read_lease(plan)
    return lease.run_id if lease is not None and lease.preempts(run_id) else None


def drill_turn(plan: str, run_id: str) -> tuple[Verdict, Lease | None]:
    """What the drill ``run_id`` does about the plan's lease now, and who holds it."""
    holder = read_lease(plan)
    return drill_verdict(holder, run_id, holds(plan, holder)), holder


def claim_for_drill(plan: str, run_id: str) -> Lease | None:
    """Take the plan for the drill ``run_id``; the drill holding it instead (to wait for), or None.

    Raises :class:`DrsPreflightError` while a recovery holds the plan (no drill starts then).
    """
    if not in_airflow():
        return None
    wrote = False
    while True:
        verdict, holder = drill_turn(plan, run_id)
        if wrote and holder is not None and holder.run_id == run_id:
            return None  # still ours after the settle
        if verdict == "refuse" and holder is not None:
            going = f"{holder.mode} run {holder.run_id} of this plan is going"
            raise DrsPreflightError(plan, [f"{going}: no drill starts while it runs"])
        if verdict == "wait":
            return holder
        write_lease(plan, Lease(run_id=run_id, mode=MODE_DRILL, taken_at=_now()))
        if alone(plan):
            return None
        wrote = True
        time.sleep(LEASE_SETTLE_SECONDS)


def take_for_recovery(plan: str, run_id: str, mode: str) -> Lease | None:
    """Take the plan for the recovery ``run_id``, preempting the drill going; the lease taken.

    A drill that read the lease free before this recovery wrote it may write over it: the
    recovery then takes it again, that drill preempted too. Raises :class:`DrsPreflightError`
    while another recovery holds the plan.
    """
    if not in_airflow():
        return None
    preempted: tuple[str, ...] = ()
    wrote = False
    while True:
        holder = read_lease(plan)
        if wrote and holder is not None and holder.run_id == run_id:
            return holder  # still ours after the settle
        try:
            lease = recovery_lease(holder, run_id, mode, holds(plan, holder), _now(), preempted)
        except ValueError as busy:
            raise DrsPreflightError(plan, [str(busy)]) from None
        preempted = lease.preempted
        write_lease(plan, lease)
        if alone(plan):
            return lease
        wrote = True
        time.sleep(LEASE_SETTLE_SECONDS)


def _now() -> str:
    return datetime.now(UTC).isoformat()
