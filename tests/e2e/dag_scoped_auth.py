"""The simple auth manager, with DAG access narrowed to named DAGs for some users (e2e only).

The simple auth manager's roles grant every DAG or none, so on their own they cannot show that
the Recovery view hides what a user may not read. This subclass keeps all of it (users,
passwords, login page, tokens) and narrows only ``is_authorized_dag``, the check behind every
DAG permission, for the users named in ``DRS_E2E_DAG_SCOPES`` (JSON: user -> DAG ids), the way
a per-DAG permission of the FAB or Keycloak auth managers would. Other users are unaffected.
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

SCOPES_ENV = "DRS_E2E_DAG_SCOPES"


def dag_scopes() -> dict[str, set[str]]:
    return {user: set(dag_ids) for user, dag_ids in json.loads(os.environ.get(SCOPES_ENV) or "{}").items()}


class DagScopedAuthManager(SimpleAuthManager):
    """A user listed in ``DRS_E2E_DAG_SCOPES`` may act on the DAGs listed for them, and no other."""

    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        allowed = dag_scopes().get(user.get_name())
        dag_id = getattr(details, "id", None)
        if allowed is not None and dag_id is not None and dag_id not in allowed:
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
