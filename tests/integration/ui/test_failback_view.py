"""The run JSON of a failback, from the Recovery view's app on a real metadata database (SQLite) and
the DRS simulator's two regions, as a real user.

The plan's server was really recovered into us-west-2 from its EC2 machine in us-east-1. The run
is recorded as the failback's tasks leave it step by step (preflight's resolved run, the wave's
``start_recovery`` waiting, then its results), and DRS moves as those tasks move it
(ReverseReplication, StartRecovery at home, re-protection), with the simulator at speed 0 and
its clock moved by the test.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.operators.failback_finish import home_results
from drs_provider.recovery.failback import FailbackServer, Origin, origin_of
from drs_provider.recovery.run import ResolvedRun, ResolvedWave
from drs_provider.ui import airflow_source
from drs_provider.ui.failback_source import READER
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    FLEET,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
    SYNC_SECONDS,
    recover,
    reverse,
)
from tests.unit.ui.metadata_db import EVERYTHING, scoped_client, token

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

pytestmark = pytest.mark.integration

DAG_ID = "drs_plan_homeview"
RUN_ID = "manual__failback"
PLAN = f"""\
plan: homeview
region: {RECOVERY_REGION}
waves:
  - name: db
    servers: {{ids: [{EC2_SERVER}]}}
"""
# "airflow" and "dag" both in the file: the DAG bag's safe mode parses no other
DAG_FILE = """\
# an Airflow DAG file
from pathlib import Path

from drs_provider.factory import build_dags

globals().update(build_dags(Path(__file__).parent / "recovery_plans"))
"""
SCOPES = {
    "admin": None,
    # the run and its task instances, not its XComs: the run page is refused, as before
    "no_xcoms": {DAG_ID: {"RUN", "TASK_INSTANCE"}},
    "reader": {DAG_ID: {EVERYTHING}},
}


def sync_plan(folder: Path) -> None:
    """The plan DAG in ``folder``, written to the metadata database as the dag-processor writes it."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    (folder / "recovery_plans").mkdir()
    (folder / "recovery_plans" / "homeview.yaml").write_text(textwrap.dedent(PLAN))
    (folder / "failback_view_dags.py").write_text(DAG_FILE)
    DagBundlesManager().sync_bundles_to_db()
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    assert DAG_ID in bag.dags
    sync_bag_to_db(bag, "dags-folder", None)


@pytest.fixture(scope="module")
def client(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    sync_plan(tmp_path_factory.mktemp("failback-view-dags"))
    with scoped_client(SCOPES) as test_client:
        yield test_client


@pytest.fixture
def session(client: TestClient) -> Iterator[Session]:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    READER.clear()
    with create_session() as session:
        for model in (XComModel, TaskInstance, DagRun):
            session.execute(delete(model).where(model.dag_id == DAG_ID))
        session.commit()
        yield session
    READER.clear()


def record_failback(session: Session, wave: ResolvedWave, region: str = RECOVERY_REGION) -> None:
    """The failback run as ``preflight`` leaves it: its resolved run, the wave's launch waiting."""
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag = airflow_source.dag_bag().get_latest_version_of_dag(DAG_ID, session=session)
    dag.create_dagrun(
        run_id=RUN_ID,
        logical_date=None,
        run_after=datetime.now(UTC),
        start_date=datetime.now(UTC),
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.UI,
        triggering_user_name="alice",
        state="running",
        conf={"mode": "failback", "confirm": "homeview"},
        session=session,
    )
    resolved = ResolvedRun(
        plan="homeview",
        mode="failback",
        waves={"db": wave},
        aws_conn_id="aws_default",
        region=region,
    )
    set_xcom(session, "preflight", "return_value", resolved.to_json())
    set_states(session, preflight="success", **{"db.start_recovery": "deferred"})


def set_xcom(session: Session, task_id: str, key: str, value: Any) -> None:
    from airflow.models.xcom import XComModel

    XComModel.set(key, value, dag_id=DAG_ID, task_id=task_id, run_id=RUN_ID, session=session)
    session.commit()


def set_states(session: Session, **states: str) -> None:
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import update

    for task_id, state in states.items():
        session.execute(
            update(TaskInstance)
            .where(
                TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == RUN_ID, TaskInstance.task_id == task_id
            )
            .values(state=state, start_date=datetime.now(UTC))
        )
    session.commit()


def run_json(client: TestClient, user: str = "reader") -> dict[str, Any]:
    response = client.get(f"/api/runs/{DAG_ID}/{RUN_ID}", **token(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def failback_of(body: dict[str, Any]) -> dict[str, Any]:
    [wave] = body["waves"]
    [server] = wave["servers"]
    assert server["source_server_id"] == EC2_SERVER
    failback: dict[str, Any] = server["failback"]
    return failback


def origin_calls(simulator: Any, region: str) -> int:
    return sum(1 for call in simulator.calls("DescribeSourceServers") if call["region"] == region)


def test_a_failback_runs_json_shows_origin_and_copy_while_syncing_then_ready_launched_and_re_protected(
    client: TestClient, session: Session, drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    recovery, home = drs_simulator.client(RECOVERY_REGION), drs_simulator.client(ORIGIN_REGION)
    instance = recover(recovery, drs_simulator, EC2_SERVER)
    server = FailbackServer(
        EC2_SERVER, instance["recoveryInstanceID"], instance["ec2InstanceID"], origin_of(instance)
    )
    wave = ResolvedWave(True, (EC2_SERVER,), failback={EC2_SERVER: server}, home_region=ORIGIN_REGION)
    record_failback(session, wave)
    # start_recovery reversed the replication; the copy home is half-way
    failback_id = reverse(recovery, instance["recoveryInstanceID"])
    drs_simulator.advance(SYNC_SECONDS / 2)
    before = origin_calls(drs_simulator, ORIGIN_REGION)

    body = run_json(client)

    assert (body["mode"], body["mode_text"]) == ("failback", "failback")
    syncing = failback_of(body)
    assert (syncing["origin"], syncing["origin_environment"], syncing["home_region"]) == (
        ORIGIN_REGION, "AWS", ORIGIN_REGION,
    )  # fmt: skip
    assert (syncing["state"], syncing["failback_source_server_id"]) == ("syncing", failback_id)
    assert syncing["replication_state"] == "INITIAL_SYNC"
    assert 0 < syncing["copied_percent"] < 100
    assert syncing["lag_seconds"] is not None and syncing["eta"] is not None
    assert syncing["failed_back_from"] == instance["recoveryInstanceID"]
    # The next refresh and the page itself are answered from the same read: one per region.
    run_json(client)
    page = client.get(f"/runs/{DAG_ID}/{RUN_ID}/fragment", **token("reader"))
    assert (
        'data-failback-state="syncing"' in page.text
        and f'<td class="origin">{ORIGIN_REGION}</td>' in page.text
    )
    assert origin_calls(drs_simulator, ORIGIN_REGION) - before == 1
    # Permissions as before: the run page needs the run's XComs too.
    assert client.get(f"/api/runs/{DAG_ID}/{RUN_ID}", **token("no_xcoms")).status_code == 403

    drs_simulator.advance(SYNC_SECONDS)
    READER.clear()  # past the cache, as a later refresh is
    assert failback_of(run_json(client))["state"] == "ready"

    # start_recovery launches home; wait_for_recovery judges the launch
    [job] = [home.start_recovery(sourceServers=[{"sourceServerID": failback_id}], isDrill=False)["job"]]
    drs_simulator.advance(LAUNCH_SECONDS + 10)
    [launched] = home.describe_recovery_instances(filters={"sourceServerIDs": [failback_id]})["items"]
    result = {
        "sourceServerID": failback_id,
        "recoveryInstanceID": launched["recoveryInstanceID"],
        "ec2InstanceID": launched["ec2InstanceID"],
        "launchStatus": "LAUNCHED",
        "jobID": job["jobID"],
    }
    set_xcom(session, "db.start_recovery", "failback_servers", {failback_id: EC2_SERVER})
    set_xcom(session, "db.start_recovery", "home_region", ORIGIN_REGION)
    set_xcom(
        session, "db.wait_for_recovery", "servers", home_results([result], {failback_id: EC2_SERVER}, wave)
    )
    set_states(session, **{"db.start_recovery": "success", "db.wait_for_recovery": "running"})
    READER.clear()

    body = run_json(client)
    launched_row = failback_of(body)
    assert (launched_row["state"], launched_row["detail"]) == (
        "launched",
        f"on {launched['ec2InstanceID']} in {ORIGIN_REGION}; not re-protected yet",
    )
    assert body["waves"][0]["servers"][0]["status"] == "LAUNCHED"

    # wait_for_recovery re-protects: the plan's server replicates again, from the new instance
    reverse(home, launched["recoveryInstanceID"])
    READER.clear()

    reprotected = failback_of(run_json(client))
    assert (reprotected["state"], reprotected["state_text"]) == ("reprotected", "re-protected")
    assert (
        reprotected["detail"]
        == f"{EC2_SERVER} replicates again in {RECOVERY_REGION}, from {launched['ec2InstanceID']}"
    )


def test_an_on_premises_server_waits_for_its_failback_client_then_is_ready(
    client: TestClient, session: Session, drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    instance = recover(drs_simulator.client(ORIGIN_REGION), drs_simulator, ON_PREMISES_SERVER)
    server = FailbackServer(
        ON_PREMISES_SERVER, instance["recoveryInstanceID"], instance["ec2InstanceID"], origin_of(instance)
    )
    wave = ResolvedWave(
        True, (ON_PREMISES_SERVER,), failback={ON_PREMISES_SERVER: server}, home_region=ORIGIN_REGION
    )
    record_failback(session, wave, region=ORIGIN_REGION)

    waiting = run_json(client)["waves"][0]["servers"][0]["failback"]

    assert (waiting["origin"], waiting["state"]) == ("on premises", "waiting_for_client")
    assert waiting["state_text"] == "waiting for the Failback Client"
    drs_simulator.connect_failback_client(instance["recoveryInstanceID"])
    READER.clear()
    ready = run_json(client)["waves"][0]["servers"][0]["failback"]
    assert (ready["state"], ready["failback_client_state"]) == ("ready", "FAILBACK_READY_FOR_LAUNCH")
    assert not drs_simulator.calls("DescribeSourceServers")  # only the recovery instance is asked


def test_a_launch_waiting_for_capacity_says_why_under_its_wave(client: TestClient, session: Session) -> None:
    """The view reads start_recovery's capacity_wait XCom from the database (not only a failback's)."""
    server = FailbackServer(
        EC2_SERVER, "i-0000000000000rec1", "i-0000000000000rec1", Origin("AWS", ORIGIN_REGION)
    )
    wave = ResolvedWave(True, (EC2_SERVER,), failback={EC2_SERVER: server}, home_region=ORIGIN_REGION)
    record_failback(session, wave)
    why = "waiting for DRS capacity: 3 of 3 jobs active"
    set_xcom(session, "db.start_recovery", "capacity_wait", why)
    READER.clear()

    assert run_json(client)["waves"][0]["waiting_for"] == why
