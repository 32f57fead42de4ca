"""A real metadata database (SQLite) for the plans routes' tests, in-process, as real users.

The example plans ``portal`` and ``shop``, a ``drs_readiness`` DAG and the ``drs_failover`` of the
two are parsed from one DAG file and written to the database as the dag-processor writes them
(every module that uses it writes the same DAGs, so none makes another's stale). Requests carry a
JWT of the simple auth manager, narrowed per user to named DAGs and DAG entities (the way per-DAG
permissions of the FAB or Keycloak auth managers would), so the routes ask the auth manager
exactly as in a deployment.
"""

from __future__ import annotations

import secrets
import shutil
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi.testclient import TestClient

from drs_provider.readiness import READINESS_DAG_ID, READINESS_TASK_ID
from drs_provider.ui.app import create_app
from tests.e2e.dag_scoped_auth import EVERYTHING, DagScopedAuthManager

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REPO_ROOT = Path(__file__).resolve().parents[3]
PORTAL, SHOP = "drs_plan_portal", "drs_plan_shop"
DAG_FILE = textwrap.dedent(
    f"""
    from pathlib import Path

    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    from drs_provider.factory import build_dags
    from drs_provider.factory.failover import failover_dags

    globals().update(build_dags(Path(__file__).parent / "recovery_plans"))
    globals().update(failover_dags(Path(__file__).parent / "recovery_plans"))

    with DAG({READINESS_DAG_ID!r}, schedule=None) as readiness:
        EmptyOperator(task_id={READINESS_TASK_ID!r})
    """
)
#: A user's scope: every DAG wholly (EVERYTHING) or the DAG itself and the entities named.
__all__ = ["EVERYTHING", "ScopedAuthManager", "Scopes", "scoped_client", "sync_example_dags", "token"]
#: user -> None (every DAG) or ``{dag_id: {EVERYTHING} or {"RUN", "TASK_INSTANCE", "XCOM", ...}}``
Scopes = dict[str, dict[str, set[str]] | None]


class ScopedAuthManager(DagScopedAuthManager):
    """The end-to-end tests' scoped auth manager, its users' scopes given here, not by environment."""

    scopes: Mapping[str, Mapping[str, set[str]] | None] = {}

    def scope_of(self, user: Any) -> Mapping[str, set[str]] | None:
        return self.scopes[user.get_name()]


def sync_example_dags(folder: Path) -> None:
    """Write the example DAGs into ``folder`` and into the metadata database."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    (folder / "recovery_plans").mkdir()
    for plan in ("portal", "shop"):
        shutil.copy(REPO_ROOT / "dags" / "recovery_plans" / f"{plan}.yaml", folder / "recovery_plans")
    (folder / "plans_view_dags.py").write_text(DAG_FILE)
    DagBundlesManager().sync_bundles_to_db()
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    assert {PORTAL, SHOP, READINESS_DAG_ID, "drs_failover"} <= set(bag.dags)
    sync_bag_to_db(bag, "dags-folder", None)


@contextmanager
def scoped_client(scopes: Scopes) -> Iterator[TestClient]:
    """A client of the Recovery view's app whose auth manager narrows users to ``scopes``."""
    from airflow.api_fastapi.app import _AuthManagerState

    manager = ScopedAuthManager()
    manager.scopes = scopes
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_hex(32))  # a key as long as HS512 asks
        patch.setattr(_AuthManagerState, "instance", manager)
        with TestClient(create_app()) as test_client:
            yield test_client


def token(user: str) -> dict[str, dict[str, str]]:
    """Request arguments that sign ``user`` in (a bearer JWT of the current auth manager)."""
    from airflow.api_fastapi.app import get_auth_manager

    jwt = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=user, role="viewer"))
    return {"headers": {"Authorization": f"Bearer {jwt}"}}
