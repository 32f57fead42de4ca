"""The region failovers on the plans routes, on a real metadata database (SQLite), as real users.

``drs_failover`` runs of the example plans ``portal`` and ``shop`` (:mod:`tests.unit.ui.metadata_db`)
are recorded as the failover leaves them: its run, the plans ``select`` picked (XCom ``plans``), the
plans' recovery runs ``failover__<run id>`` with their reports, and, once it ended, what ``summary``
returned. Each failover is one row of the plans page (and of ``GET /api/failovers``) that opens to
its plans; users see of it only what they may read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.operators.failover import FAILOVER_DAG_ID, PICKED_XCOM_KEY, SELECT_TASK_ID, SUMMARY_TASK_ID
from drs_provider.ui import airflow_source, failover_source
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

T0 = datetime(2026, 12, 2, 3, tzinfo=UTC)
SCOPES: Scopes = {
    "admin": None,
    # the failover's runs, not its task instances or XComs: no summary figures
    "failover_runs_only": {
        FAILOVER_DAG_ID: {"RUN"},
        PORTAL: {EVERYTHING},
        SHOP: {EVERYTHING},
    },
    # every plan, not the failover
    "plans_only": {PORTAL: {EVERYTHING}, SHOP: {EVERYTHING}},
    # the failover wholly; portal wholly, shop's runs but not their reports
    "portal_team": {FAILOVER_DAG_ID: {EVERYTHING}, PORTAL: {EVERYTHING}, SHOP: {"RUN"}},
    # the failover wholly; portal's DAG but not its runs; not shop at all
    "outsider": {FAILOVER_DAG_ID: {EVERYTHING}, PORTAL: set()},
}


@pytest.fixture(scope="module")
def dags(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    sync_example_dags(tmp_path_factory.mktemp("failover-dags"))


@pytest.fixture(scope="module")
def client(dags: None) -> Iterator[TestClient]:
    with scoped_client(SCOPES) as test_client:
        yield test_client


@pytest.fixture
def session(dags: None) -> Iterator[Session]:
    """A session on the metadata database, with no failover and no plan run recorded yet."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        for model in (XComModel, TaskInstance, DagRun):
            session.execute(delete(model).where(model.dag_id.in_([FAILOVER_DAG_ID, PORTAL, SHOP])))
        session.commit()
        yield session


def create_run(session: Session, dag_id: str, run_id: str, hour: float, state: str, user: str | None) -> None:
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag = airflow_source.dag_bag().get_latest_version_of_dag(dag_id, session=session)
    moment = T0 + timedelta(hours=hour)
    dag.create_dagrun(
        run_id=run_id,
        logical_date=None,
        run_after=moment,
        start_date=moment,
        run_type=DagRunType.MANUAL if user else DagRunType.OPERATOR_TRIGGERED,
        triggered_by=DagRunTriggeredByType.UI if user else DagRunTriggeredByType.OPERATOR,
        triggering_user_name=user,
        state=state,
        session=session,
    )


def set_xcom(session: Session, dag_id: str, run_id: str, task_id: str, key: str, value: Any) -> None:
    from airflow.models.xcom import XComModel

    XComModel.set(key, value, dag_id=dag_id, task_id=task_id, run_id=run_id, session=session)


def record_failover(
    session: Session,
    run_id: str,
    hour: float = 0,
    *,
    state: str = "running",
    picked: list[str] | None = None,
    plans: dict[str, tuple[str, float | None]] | None = None,
    summary: dict[str, Any] | None = None,
) -> str:
    """A ``drs_failover`` run triggered by alice ``hour`` hours after T0: ``select`` picked
    ``picked``; each of ``plans`` (name -> state, RTO of its report) has its recovery run; and
    ``summary`` returned (none: not yet). Returns the plans' run ID."""
    create_run(session, FAILOVER_DAG_ID, run_id, hour, state, "alice")
    if picked is not None:
        set_xcom(session, FAILOVER_DAG_ID, run_id, SELECT_TASK_ID, PICKED_XCOM_KEY, picked)
    plan_run = failover_source.failover_plan_run_id(run_id)
    for plan, (plan_state, rto) in (plans or {}).items():
        dag_id = f"drs_plan_{plan}"
        create_run(session, dag_id, plan_run, hour, plan_state, None)
        if rto is not None:
            report = {"waves": [], "state": plan_state, "mode": "recovery", "rto_seconds": rto}
            set_xcom(session, dag_id, plan_run, "report", "return_value", report)
    if summary is not None:
        set_xcom(session, FAILOVER_DAG_ID, run_id, SUMMARY_TASK_ID, "return_value", summary)
    session.commit()
    return plan_run


def summary_of(run_id: str, rto: float, **plans: tuple[str, float | None]) -> dict[str, Any]:
    plan_run = failover_source.failover_plan_run_id(run_id)
    return {
        "failover_run_id": run_id,
        "plans": {
            plan: {"run_id": plan_run, "state": state, "rto_seconds": plan_rto}
            for plan, (state, plan_rto) in plans.items()
        },
        "rto_seconds": rto,
        "excluded": {},
    }


def failovers_json(client: TestClient, user: str) -> list[dict[str, Any]]:
    response = client.get("/api/failovers", **token(user))
    assert response.status_code == 200, response.text
    return response.json()


def plans_page(client: TestClient, user: str) -> str:
    response = client.get("/plans", **token(user))
    assert response.status_code == 200, response.text
    return response.text


def row_of(page: str, run_id: str) -> str:
    """The failover's row (its <details>) in the plans page."""
    return page.split(f'data-run-id="{run_id}"', 1)[1].split("</details>", 1)[0]


def plans_of(failover: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        plan["plan"]: (plan["run_readable"], plan["run_id"], plan["state"], plan["rto_seconds"])
        for plan in failover["plans"]
    }


def test_a_running_failover_shows_its_plans_as_their_runs_stand(client, session) -> None:
    plan_run = record_failover(
        session, "manual__fo1", picked=["portal", "shop"], plans={"portal": ("success", 42.0)}
    )

    [failover] = failovers_json(client, "admin")

    assert failover["run_id"] == "manual__fo1"
    assert (failover["state"], failover["triggered_by_text"], failover["summarized"]) == (
        "running",
        "alice",
        False,
    )
    assert failover["started"] == T0.isoformat()
    assert failover["rto_seconds"] is None
    assert plans_of(failover) == {
        "portal": (True, plan_run, "success", 42.0),
        "shop": (True, None, "not started", None),
    }
    row = row_of(plans_page(client, "admin"), "manual__fo1")
    assert "<details" not in row and "alice" in row and "portal, shop" in row and "still running" in row
    assert f'href="/dags/{PORTAL}/runs/failover__manual__fo1/plugin/recovery"' in row
    assert "42.0s" in row and "not started" in row


def test_without_the_selection_a_running_failover_shows_the_plan_runs_it_started(client, session) -> None:
    plan_run = record_failover(session, "manual__fo1", plans={"shop": ("running", None)})

    [failover] = failovers_json(client, "admin")

    assert plans_of(failover) == {"shop": (True, plan_run, "running", None)}


def test_a_summed_up_failover_shows_the_summary_and_its_rto(client, session) -> None:
    plan_run = record_failover(
        session,
        "manual__fo1",
        state="failed",
        picked=["portal", "shop"],
        plans={"portal": ("success", 42.0), "shop": ("failed", None)},
        summary=summary_of("manual__fo1", 300.0, portal=("success", 40.0), shop=("failed", None)),
    )

    [failover] = failovers_json(client, "admin")

    assert (failover["state"], failover["summarized"], failover["rto_seconds"]) == ("failed", True, 300.0)
    # the summary's figures, not the plan runs read again
    assert plans_of(failover) == {
        "portal": (True, plan_run, "success", 40.0),
        "shop": (True, plan_run, "failed", None),
    }
    row = row_of(plans_page(client, "admin"), "manual__fo1")
    assert "RTO 5m00s" in row and "(1 failed, 1 succeeded)" in row


def test_the_last_failovers_newest_first(client, session) -> None:
    for hour in range(failover_source.RECENT_FAILOVERS + 2):
        record_failover(session, f"manual__fo{hour}", hour, state="success")

    failovers = failovers_json(client, "admin")

    assert [item["run_id"] for item in failovers] == [
        f"manual__fo{hour}" for hour in reversed(range(2, failover_source.RECENT_FAILOVERS + 2))
    ]


def test_a_user_who_may_not_read_the_failovers_runs_sees_no_failover(client, session) -> None:
    record_failover(session, "manual__fo1", picked=["portal"], plans={"portal": ("success", 42.0)})

    assert failovers_json(client, "plans_only") == []
    page = plans_page(client, "plans_only")
    assert 'id="failovers"' not in page and 'data-run-id="manual__fo1"' not in page


def test_without_the_failovers_xcoms_no_summary_figures_and_plans_from_their_runs(client, session) -> None:
    plan_run = record_failover(
        session,
        "manual__fo1",
        state="success",
        picked=["portal", "shop"],
        plans={"portal": ("success", 42.0)},
        summary=summary_of("manual__fo1", 300.0, portal=("success", 40.0), shop=("success", 50.0)),
    )

    [failover] = failovers_json(client, "failover_runs_only")

    assert (failover["summarized"], failover["rto_seconds"]) == (False, None)
    assert plans_of(failover) == {"portal": (True, plan_run, "success", 42.0)}
    assert "5m00s" not in row_of(plans_page(client, "failover_runs_only"), "manual__fo1")


def test_a_plans_run_only_for_who_may_read_it_and_its_rto_only_with_its_report(client, session) -> None:
    plan_run = record_failover(
        session,
        "manual__fo1",
        state="success",
        picked=["portal", "shop"],
        plans={"portal": ("success", 42.0), "shop": ("success", 50.0)},
        summary=summary_of("manual__fo1", 300.0, portal=("success", 40.0), shop=("success", 50.0)),
    )

    [team] = failovers_json(client, "portal_team")
    [outsider] = failovers_json(client, "outsider")

    assert plans_of(team) == {
        "portal": (True, plan_run, "success", 40.0),
        "shop": (True, plan_run, "success", None),  # shop's runs, not their reports
    }
    assert team["rto_seconds"] == 300.0
    assert plans_of(outsider) == {"portal": (False, None, None, None)}
    assert outsider["hidden_plans"] == 1
    row = row_of(plans_page(client, "outsider"), "manual__fo1")
    assert "you may not read this plan's runs" in row and "and 1 you may not read" in row
    assert "shop" not in row and "plugin/recovery" not in row
