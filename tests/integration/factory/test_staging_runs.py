"""A drill of a plan recovering a server a staging account replicates, once it is extended into
the plan's account with the wave's tags, run with ``dag.test()`` against the simulator: it
launches the extended source server (never the staging one), the report names its staging
account, and cleanup terminates its instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

pytestmark = pytest.mark.integration

TARGET = "123456789012"
STAGING = "444455556666"
OWN = "s-0e000000000000001"
ERP = "s-0d000000000000001"
FLEET = {
    "account_id": TARGET,
    "region": "us-east-1",
    "source_servers": [{"id": OWN, "hostname": "ledger", "launch_seconds": 5}],
    "staging_accounts": [
        {"account_id": STAGING, "source_servers": [{"id": ERP, "hostname": "erp-1", "launch_seconds": 5}]}
    ],
}
PLAN = """\
plan: staged
cleanup: always
waves:
  - name: erp
    servers: {tags: {Staged: erp}}
"""


def test_a_drill_launches_the_extended_server_and_reports_its_staging_account(
    plan_dag: Callable[..., DAG], drs_simulator: Any
) -> None:
    drs_simulator.reset(fleet=FLEET)
    arn = f"arn:aws:drs:us-east-1:{STAGING}:source-server/{ERP}"
    extended = drs_simulator.client().create_extended_source_server(
        sourceServerArn=arn, tags={"Staged": "erp"}
    )
    extended_id = extended["sourceServer"]["sourceServerID"]
    dag = plan_dag("staged", PLAN)

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    launched = [
        [s["sourceServerID"] for s in call["request"]["sourceServers"]]
        for call in drs_simulator.calls("StartRecovery")
        if not call["error"]
    ]
    assert launched == [[extended_id]]
    report = xcom_of(dag, "report")
    [server] = [s for wave in report["waves"] for s in wave["servers"]]
    assert (server["sourceServerID"], server["hostname"], server["launchStatus"]) == (
        extended_id,
        "erp-1",
        "LAUNCHED",
    )
    assert server["stagingAccountID"] == STAGING
    assert report["cleanup"]["terminated"] == [server["recoveryInstanceID"]]
