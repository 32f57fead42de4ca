"""The plans routes' readiness on a real metadata database (SQLite), in-process, as real users.

Two example plans (``portal``, ``shop``) and a ``drs_readiness`` DAG are in the database as the
dag-processor writes them (:mod:`tests.unit.ui.metadata_db`); each test records the readiness checks
it needs as ``drs_readiness`` runs with their ``check`` task instance and its ``return_value``
XCom, as a worker leaves them. Requests carry a JWT of the simple auth manager, narrowed per user to
named DAGs and DAG entities (the way per-DAG permissions of the FAB or Keycloak auth managers
would), so the routes ask the auth manager exactly as in a deployment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.readiness import READINESS_DAG_ID, READINESS_TASK_ID
from drs_provider.ui import airflow_source, readiness_source
from tests.unit.ui.metadata_db import (
    EVERYTHING,
    PORTAL,
    SHOP,
    Scopes,
    scoped_client,
    sync_example_dags,
    token,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
#: What each user may read (:mod:`tests.unit.ui.metadata_db`).
SCOPES: Scopes = {
    "auditor": None,
    "plans_only": {PORTAL: {EVERYTHING}, SHOP: {EVERYTHING}},
    "readiness_runs_only": {PORTAL: {EVERYTHING}, SHOP: {EVERYTHING}, READINESS_DAG_ID: {"RUN"}},
    "portal_team": {PORTAL: {EVERYTHING}, READINESS_DAG_ID: {EVERYTHING}},
}


@pytest.fixture(scope="module")
def dags(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The two plans, ``drs_readiness`` and ``drs_failover`` in the metadata database."""
    sync_example_dags(tmp_path_factory.mktemp("readiness-dags"))


@pytest.fixture(scope="module")
def client(dags: None) -> Iterator[TestClient]:
    with scoped_client(SCOPES) as test_client:
        yield test_client


@pytest.fixture
def session(dags: None) -> Iterator[Session]:
    """A session on the metadata database, with no readiness check recorded yet."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        for model in (XComModel, TaskInstance, DagRun):
            session.execute(delete(model).where(model.dag_id == READINESS_DAG_ID))
        session.commit()
        yield session


def record_check(session: Session, hour: int, value: Any = None, *, state: str = "success") -> None:
    """A ``drs_readiness`` run ``hour`` hours after T0 whose ``check`` ended in ``state`` and returned
    ``value`` (no XCom for None)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag = airflow_source.dag_bag().get_latest_version_of_dag(READINESS_DAG_ID, session=session)
    moment = T0 + timedelta(hours=hour)
    dag_run = dag.create_dagrun(
        run_id=f"scheduled__{moment.isoformat()}",
        logical_date=moment,
        data_interval=(moment, moment),
        run_after=moment,
        run_type=DagRunType.SCHEDULED,
        triggered_by=DagRunTriggeredByType.TIMETABLE,
        state=state if state in ("success", "failed") else "running",
        session=session,
    )
    (ti,) = dag_run.get_task_instances(session=session)
    ti.state = state
    if value is not None:
        XComModel.set(
            "return_value",
            value,
            dag_id=READINESS_DAG_ID,
            task_id=READINESS_TASK_ID,
            run_id=dag_run.run_id,
            session=session,
        )
    session.commit()


def check(hour: int, **plans: Any) -> dict[str, Any]:
    """A ``check`` XCom of the readiness contract, checked ``hour`` hours after T0."""
    return {"checked_at": (T0 + timedelta(hours=hour)).isoformat(), "plans": plans}


def at_hour(hour: int) -> str:
    return (T0 + timedelta(hours=hour)).isoformat()


LAG = {
    "severity": "warning",
    "code": "lag_over_rpo",
    "wave": "db",
    "server": "s-0a000000000000001",
    "message": "replication lag 20m over the 15m RPO",
}
SHOP_SECRET = "shop finding only its readers see"
READY: dict[str, Any] = {"status": "ready", "findings": []}


def plans_json(client: TestClient, user: str) -> dict[str, dict[str, Any]]:
    response = client.get("/api/plans", **token(user))
    assert response.status_code == 200, response.text
    return {plan["dag_id"]: plan for plan in response.json()}


def test_an_auditor_sees_each_plans_readiness_and_its_checks_newest_first(client, session) -> None:
    # recorded out of order: the history follows the checks' own times
    record_check(session, 1, check(1, portal=READY, shop=READY))
    record_check(session, 0, check(0, portal=READY))
    record_check(session, 2, check(2, portal={"status": "at_risk", "findings": [LAG]}, shop=READY))

    plans = plans_json(client, "auditor")

    assert plans[PORTAL]["readiness"] == {
        "status": "at_risk",
        "checked_at": at_hour(2),
        "findings": [LAG],
        "history": [
            {"checked_at": at_hour(2), "status": "at_risk"},
            {"checked_at": at_hour(1), "status": "ready"},
            {"checked_at": at_hour(0), "status": "ready"},
        ],
    }
    # the first check did not cover shop
    assert [mark["checked_at"] for mark in plans[SHOP]["readiness"]["history"]] == [at_hour(2), at_hour(1)]


def test_malformed_missing_and_failed_checks_are_skipped_and_the_page_still_shows(client, session) -> None:
    record_check(session, 0, check(0, portal={"status": "not_ready", "findings": [LAG]}))
    record_check(session, 1, "not json {")
    record_check(session, 2, {"plans": {"portal": READY}})  # no checked_at
    record_check(session, 3, check(3, portal={"status": "green"}))  # not a status of the contract
    record_check(session, 4)  # succeeded without a result
    record_check(session, 5, check(5, portal=READY), state="failed")
    record_check(session, 6, check(6, portal=READY), state="running")

    readiness = plans_json(client, "auditor")[PORTAL]["readiness"]

    assert readiness["history"] == [{"checked_at": at_hour(0), "status": "not_ready"}]
    assert (readiness["status"], readiness["findings"]) == ("not_ready", [LAG])
    page = client.get("/plans", **token("auditor"))
    assert page.status_code == 200
    assert "replication lag 20m over the 15m RPO" in page.text


def test_a_plan_no_check_covered_is_not_checked_yet(client, session) -> None:
    record_check(session, 0, check(0, portal=READY))

    plans = plans_json(client, "auditor")

    assert plans[SHOP]["readiness"] == {"status": None, "checked_at": None, "findings": [], "history": []}
    shop_row = client.get("/plans", **token("auditor")).text.split(f'data-dag-id="{SHOP}"', 1)[1]
    assert "not checked yet" in shop_row.split("</tr>", 1)[0]


@pytest.mark.parametrize("user", ["plans_only", "readiness_runs_only"])
def test_a_user_who_may_read_the_plans_but_not_the_readiness_checks_sees_no_readiness(
    client, session, user
) -> None:
    record_check(session, 0, check(0, portal={"status": "at_risk", "findings": [LAG]}, shop=READY))

    plans = plans_json(client, user)

    assert sorted(plans) == [PORTAL, SHOP]
    assert all(plan["readiness"] is None for plan in plans.values())
    page = client.get("/plans", **token(user)).text
    assert "<th>readiness</th>" not in page and "lag_over_rpo" not in page and "at risk" not in page


def test_readiness_is_shown_only_for_the_plans_the_user_may_read(client, session) -> None:
    shop = {"status": "not_ready", "findings": [{"severity": "error", "code": "x", "message": SHOP_SECRET}]}
    record_check(session, 0, check(0, portal=READY, shop=shop))

    plans = plans_json(client, "portal_team")

    assert list(plans) == [PORTAL]
    assert plans[PORTAL]["readiness"]["status"] == "ready"
    page = client.get("/plans", **token("portal_team")).text
    assert "<th>readiness</th>" in page and SHOP_SECRET not in page and SHOP not in page


def test_the_history_goes_back_a_given_number_of_checks(session) -> None:
    for hour in range(4):
        record_check(session, hour, check(hour, portal=READY))

    history = readiness_source.readiness_history(session, ["portal", "billing"], limit=3)

    assert [item.checked_at.hour for item in history["portal"]] == [13, 12, 11]
    assert history["billing"] == ()
