"""Who may see what: the REST API's own authentication and DAG permissions, reused as they are.

Airflow mounts a plugin's FastAPI app without any authentication, so every route of the
Recovery view declares the same FastAPI dependencies as the REST API's routes
(``airflow.api_fastapi.core_api.security``): the user comes from the bearer token or from the
UI's login cookie (an unknown or forged token is refused there), and each DAG is checked with
the auth manager's DAG permission. Nothing here re-implements either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag, requires_authenticated
from fastapi import Depends, HTTPException, Request

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

__all__ = [
    "RUN_PAGE_ACCESS",
    "SIGNED_IN",
    "GetUserDep",
    "may_read",
    "readable_dag_ids",
]

#: A run page shows the run, its task instances and their XComs: the user must be allowed all three
#: (``dag_id`` comes from the route's path, as in the REST API's own routes).
RUN_PAGE_ACCESS = [
    Depends(requires_access_dag("GET", DagAccessEntity.RUN)),
    Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE)),
    Depends(requires_access_dag("GET", DagAccessEntity.XCOM)),
]
#: Pages that show no DAG's data still need a signed-in user.
SIGNED_IN = [Depends(requires_authenticated())]


def readable_dag_ids(user: BaseUser) -> set[str]:
    """The DAGs ``user`` may read, as the REST API's DAG lists filter them."""
    return get_auth_manager().get_authorized_dag_ids(user=user, method="GET")


def may_read(request: Request, user: BaseUser, entity: DagAccessEntity) -> bool:
    """Whether ``user`` may read ``entity`` (task logs, HITL details) of the DAG in the path."""
    try:
        requires_access_dag("GET", entity)(request, user)
    except HTTPException:
        return False
    return True
