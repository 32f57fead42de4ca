"""Who may see what: the REST API's own authentication and DAG permissions, reused as they are.

Airflow mounts a plugin's FastAPI app without any authentication, so every route of the
Recovery view declares the same FastAPI dependencies as the REST API's routes
(``airflow.api_fastapi.core_api.security``): the user comes from the bearer token or from the
UI's login cookie (an unknown or forged token is refused there), and each DAG is checked with
the auth manager's DAG permission for exactly what a page shows of it, as the REST API route
that serves the same data would check it:

=============================================  ==============================================
what a page shows                              the permission it needs
=============================================  ==============================================
a plan (its waves, schedule, description)      the DAG: ``GET``
its runs (id, state, mode, start)              the DAG's runs: ``GET`` ``RUN``
their RTO and the report's verdict             also ``GET`` ``TASK_INSTANCE`` and ``XCOM``
a plan's readiness (status, findings, the      also, of the ``drs_readiness`` DAG whose checks
last checks)                                   it comes from: the DAG, and ``GET`` ``RUN``,
                                               ``TASK_INSTANCE`` and ``XCOM``
a region failover (its ``drs_failover`` run:   of the ``drs_failover`` DAG: the DAG, ``GET``
state, start, who, its plans by name)          ``RUN``
the plans it picked before the summary, the    also ``GET`` ``TASK_INSTANCE`` and ``XCOM`` of
summary's per-plan figures, the failover's RTO ``drs_failover``
a failover's plan: its run, state; its RTO     the plan's runs, as above; its RTO as above
a run page                                     ``GET`` ``RUN``, ``TASK_INSTANCE`` and ``XCOM``
why a task failed, as its log says             also ``GET`` ``TASK_LOGS``
who answered an approval                       also ``GET`` ``HITL_DETAIL``
an approval to answer, with its buttons        ``PUT`` ``HITL_DETAIL``, and being an assignee
                                               when the approval names any
"Terminate this drill's instances", the        a run page's, and ``PUT`` ``RUN``: what clearing
button and its ``POST`` endpoint               or editing the DAG run needs in the REST API
=============================================  ==============================================

Nothing here re-implements either; what a user may not read is left out, never shown greyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag, requires_authenticated
from fastapi import Depends, HTTPException, Request

from drs_provider.operators.failover import FAILOVER_DAG_ID
from drs_provider.readiness import READINESS_DAG_ID

if TYPE_CHECKING:
    from collections.abc import Collection

    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
    from sqlalchemy.orm import Session

    from drs_provider.recovery.run_record import ApprovalRecord

__all__ = [
    "RUN_PAGE_ACCESS",
    "SIGNED_IN",
    "TERMINATE_ACCESS",
    "GetUserDep",
    "RunAccess",
    "failover_access",
    "may",
    "may_answer",
    "may_read_readiness",
    "readable_dag_ids",
    "run_access",
]

#: A run page shows the run, its task instances and their XComs: the user must be allowed all three
#: (``dag_id`` comes from the route's path, as in the REST API's own routes).
RUN_PAGE_ACCESS = [
    Depends(requires_access_dag("GET", DagAccessEntity.RUN)),
    Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE)),
    Depends(requires_access_dag("GET", DagAccessEntity.XCOM)),
]
#: Terminating a finished drill's instances acts on the run, as clearing or editing it does
#: (``POST .../dagRuns/{run}/clear`` and ``PATCH .../dagRuns/{run}`` need ``PUT`` on its runs).
TERMINATE_ACCESS = [*RUN_PAGE_ACCESS, Depends(requires_access_dag("PUT", DagAccessEntity.RUN))]
#: What a run's RTO and verdict on the plans page are read from, beyond the run itself.
RUN_DETAILS = (DagAccessEntity.TASK_INSTANCE, DagAccessEntity.XCOM)
#: Pages that show no DAG's data still need a signed-in user.
SIGNED_IN = [Depends(requires_authenticated())]


def readable_dag_ids(user: BaseUser) -> set[str]:
    """The DAGs ``user`` may read, as the REST API's DAG lists filter them."""
    return get_auth_manager().get_authorized_dag_ids(user=user, method="GET")


def may(request: Request, user: BaseUser, entity: DagAccessEntity, method: ResourceMethod = "GET") -> bool:
    """Whether ``user`` may ``method`` ``entity`` (task logs, HITL details) of the DAG in the path."""
    try:
        requires_access_dag(method, entity)(request, user)
    except HTTPException:
        return False
    return True


def may_answer(request: Request, user: BaseUser, approval: ApprovalRecord) -> bool:
    """Whether the REST API would take ``user``'s answer to ``approval``: HITL details of the DAG in
    the path may be updated, and the user is one of the approval's assignees if it names any."""
    if not may(request, user, DagAccessEntity.HITL_DETAIL, "PUT"):
        return False
    assigned = set(approval.assigned_users)
    return not assigned or get_auth_manager().is_authorized_hitl_task(assigned_users=assigned, user=user)


@dataclass(frozen=True)
class RunAccess:
    """What of one DAG's runs a user may read on the plans page."""

    #: the runs themselves: id, state, mode (the run's conf), start
    runs: bool
    #: their task instances and XComs, which the runs' RTO and the report's verdict come from
    details: bool


def run_access(user: BaseUser, dag_ids: Collection[str], session: Session) -> dict[str, RunAccess]:
    """:class:`RunAccess` of each of ``dag_ids`` for ``user``, asked of the auth manager per DAG."""
    from airflow.models.dag import DagModel

    auth = get_auth_manager()
    teams = DagModel.get_dag_id_to_team_name_mapping(list(dag_ids), session=session)

    def allowed(dag_id: str, entity: DagAccessEntity) -> bool:
        details = DagDetails(id=dag_id, team_name=teams.get(dag_id))
        return auth.is_authorized_dag(method="GET", access_entity=entity, details=details, user=user)

    access = {}
    for dag_id in dag_ids:
        runs = allowed(dag_id, DagAccessEntity.RUN)
        access[dag_id] = RunAccess(runs, runs and all(allowed(dag_id, entity) for entity in RUN_DETAILS))
    return access


def may_read_readiness(user: BaseUser, readable: Collection[str], session: Session) -> bool:
    """Whether ``user`` may read the plans' readiness: the ``drs_readiness`` DAG (among ``readable``,
    the DAGs they may read) and what its checks leave, its runs' task instances and XComs."""
    return (
        READINESS_DAG_ID in readable
        and run_access(user, [READINESS_DAG_ID], session)[READINESS_DAG_ID].details
    )


def failover_access(user: BaseUser, readable: Collection[str], session: Session) -> RunAccess | None:
    """What ``user`` may read of the ``drs_failover`` runs (``readable``: the DAGs they may read);
    None when they may not read the runs at all, so no failover is shown."""
    if FAILOVER_DAG_ID not in readable:
        return None
    access = run_access(user, [FAILOVER_DAG_ID], session)[FAILOVER_DAG_ID]
    return access if access.runs else None
