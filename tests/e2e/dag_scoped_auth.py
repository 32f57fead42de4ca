"""The simple auth manager, with DAG access narrowed per user to named DAGs and DAG entities (e2e only).

The simple auth manager's roles grant every DAG or none, and every part of a DAG or none, so on
their own they cannot show that the Recovery view hides what a user may not read. This subclass
keeps all of it (users, passwords, login page, tokens, and the role deciding the method: a
``viewer`` only reads, a ``user`` may also answer approvals) and narrows only
``is_authorized_dag``, the check behind every DAG permission, for the users named in
``DRS_E2E_DAG_SCOPES``: JSON, user -> scope entries, the way per-DAG and per-entity permissions
of the FAB or Keycloak auth managers would. An entry is

* ``"<dag_id>"``: the DAG and everything of it (its runs, task instances, XComs, logs, HITL ...);
* ``"<dag_id>/<ENTITY>"``: the DAG itself and that part of it only, an ``access_entity`` name
  (``RUN``, ``TASK_INSTANCE``, ``XCOM``, ``TASK_LOGS``, ``HITL_DETAIL``, ...);
* ``"<dag_id>/DAG"``: the DAG itself and nothing of it.

A listed user may act on no other DAG. Other users are unaffected.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

if TYPE_CHECKING:
    from collections.abc import Mapping

SCOPES_ENV = "DRS_E2E_DAG_SCOPES"
#: What a bare ``"<dag_id>"`` entry grants.
EVERYTHING = "*"


def dag_scopes() -> dict[str, dict[str, set[str]]]:
    """``{user: {dag_id: entity names granted}}``, :data:`EVERYTHING` for a whole DAG."""
    scopes: dict[str, dict[str, set[str]]] = {}
    for user, entries in json.loads(os.environ.get(SCOPES_ENV) or "{}").items():
        granted = scopes.setdefault(user, {})
        for entry in entries:
            dag_id, _, entity = str(entry).partition("/")
            granted.setdefault(dag_id, set()).add(entity or EVERYTHING)
    return scopes


class DagScopedAuthManager(SimpleAuthManager):
    """A user listed in ``DRS_E2E_DAG_SCOPES`` may act on the DAGs and DAG entities listed for them only."""

    def scope_of(self, user: Any) -> Mapping[str, set[str]] | None:
        """What ``user`` may act on: ``{dag_id: entity names}``, None for every DAG."""
        return dag_scopes().get(user.get_name())

    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        scope = self.scope_of(user)
        dag_id = getattr(details, "id", None)
        if scope is not None and dag_id is not None:
            granted = scope.get(dag_id)
            if granted is None:
                return False
            if access_entity is not None and EVERYTHING not in granted and access_entity.name not in granted:
                return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
