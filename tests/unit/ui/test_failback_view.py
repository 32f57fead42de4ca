"""The run page of a failback: each server's origin and its way home, read from DRS bounded and cached.

A two-wave failback (``db``: an EC2 origin in us-east-1; ``app``: on premises), recovered into
us-west-2, with DRS played by a stand-in hook that counts its calls per region.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drs_provider.recovery.failback import FailbackServer, Origin
from drs_provider.recovery.run import ResolvedRun, ResolvedWave
from drs_provider.recovery.run_record import RunRecord
from drs_provider.ui.failback_rows import with_failback
from drs_provider.ui.failback_source import DrsReader, ViewDrsHook
from drs_provider.ui.live_report import run_report
from tests.unit.recovery.runs import DAG_ID, RUN_ID, WAVES, at, task
from tests.unit.ui.test_view_details import render, view_of

pytestmark = pytest.mark.unit

RECOVERY, ORIGIN = "us-west-2", "us-east-1"
DB, APP = "s-0a000000000000001", "s-0a000000000000003"
FAILBACK_DB = "s-0f0000000000000f1"
GIB = 2**30
SERVERS = {
    DB: FailbackServer(DB, "i-0000000000000rec1", "i-0000000000000rec1", Origin("AWS", ORIGIN)),
    APP: FailbackServer(APP, "i-0000000000000rec3", "i-0000000000000rec3", Origin("ON_PREMISES", None)),
}


def resolved(drill: bool = False) -> dict[str, Any]:
    return ResolvedRun(
        plan="shop",
        mode="failback",
        waves={
            "db": ResolvedWave(
                True, (DB,), hostnames={DB: "db-1"}, failback={DB: SERVERS[DB]}, home_region=ORIGIN
            ),
            "app": ResolvedWave(True, (APP,), failback={APP: SERVERS[APP]}, home_region=RECOVERY),
        },
        aws_conn_id="aws_drs",
        region=RECOVERY,
        failback_drill=drill,
    ).to_json()


def failback_run(
    *, drill: bool = False, db: str | None = "deferred", xcoms: dict[tuple[str, str], Any] | None = None
) -> RunRecord:
    """The failback 20 s in: preflight passed, ``db``'s ``start_recovery`` in state ``db``."""
    tasks = {"preflight": task("preflight", "success", 0, 2)}
    tasks.update({t: task(t, None) for shape in WAVES for t in shape.task_ids})
    tasks["db.start_recovery"] = task("db.start_recovery", db, 2 if db else None)
    return RunRecord(
        dag_id=DAG_ID,
        run_id=RUN_ID,
        state="running",
        start_date=at(0),
        end_date=None,
        waves=WAVES,
        tasks=tasks,
        xcoms={("preflight", "return_value"): resolved(drill), **(xcoms or {})},
        conf={"mode": "failback", "failback_drill": drill},
    )


def copy(state: str, copied_gib: float = 5, lag: str = "PT3M5S") -> dict[str, Any]:
    return {
        "dataReplicationState": state,
        "lagDuration": lag,
        "etaDateTime": "2026-12-01T11:00:00Z",
        "replicatedDisks": [{"replicatedStorageBytes": int(copied_gib * GIB), "totalStorageBytes": 10 * GIB}],
    }


def failback_server(state: str = "INITIAL_SYNC", **extra: Any) -> dict[str, Any]:
    return {
        "sourceServerID": FAILBACK_DB,
        "replicationDirection": "FAILBACK",
        "sourceProperties": {"identificationHints": {"awsInstanceID": "i-0000000000000rec1"}},
        "dataReplicationInfo": copy(state, **extra),
    }


def plan_server(instance: str, state: str = "CONTINUOUS") -> dict[str, Any]:
    return {
        "sourceServerID": DB,
        "replicationDirection": "FAILOVER",
        "sourceProperties": {"identificationHints": {"awsInstanceID": instance}},
        "dataReplicationInfo": copy(state),
    }


def recovery_instance(state: str, replication: str = "CONTINUOUS") -> dict[str, Any]:
    return {
        "recoveryInstanceID": "i-0000000000000rec3",
        "failback": {"state": state},
        "dataReplicationInfo": copy(replication),
    }


class Drs:
    """DRS as the reader's hooks see it: items per region, and every call made."""

    def __init__(self) -> None:
        self.servers: dict[str, list[dict[str, Any]]] = {ORIGIN: [failback_server()], RECOVERY: []}
        self.instances: list[dict[str, Any]] = [recovery_instance("FAILBACK_NOT_STARTED")]
        self.calls: list[tuple[str, str, str, Any]] = []
        self.error: Exception | None = None
        self.now = 0.0

    def hook(self, conn_id: str, region: str) -> Any:
        drs = self

        class Hook:
            def describe_source_servers(self, ids: list[str] | None = None) -> list[dict[str, Any]]:
                drs.calls.append(("DescribeSourceServers", conn_id, region, ids))
                if drs.error:
                    raise drs.error
                found = drs.servers.get(region, [])
                return [s for s in found if ids is None or s["sourceServerID"] in ids]

            def describe_recovery_instances(self, ids: list[str]) -> list[dict[str, Any]]:
                drs.calls.append(("DescribeRecoveryInstances", conn_id, region, ids))
                return [i for i in drs.instances if region == RECOVERY and i["recoveryInstanceID"] in ids]

        return Hook()

    def reader(self) -> DrsReader:
        return DrsReader(hook=self.hook, clock=lambda: self.now)

    def called(self, operation: str) -> list[tuple[str, Any]]:
        return [(region, ids) for op, _, region, ids in self.calls if op == operation]


def shown(run: RunRecord, reader: DrsReader) -> Any:
    report, _ = run_report(run)
    return with_failback(view_of(run), run, report, reader)


def rows(view: Any) -> dict[str, Any]:
    return {server.source_server_id: server.failback for server in view.servers}


def test_while_syncing_each_server_shows_its_origin_and_its_copy_home_read_once_per_region() -> None:
    drs = Drs()
    view = shown(failback_run(), drs.reader())

    assert (view.mode, view.mode_text, view.failback.drill) == ("failback", "failback", False)
    db, app = rows(view)[DB], rows(view)[APP]
    assert (db.origin, db.state, db.state_text, db.badge) == (ORIGIN, "syncing", "syncing", "run")
    assert (db.failback_source_server_id, db.replication_state) == (FAILBACK_DB, "INITIAL_SYNC")
    assert (db.copied_percent, db.lag_seconds, db.eta.isoformat()) == (
        50.0,
        185.0,
        "2026-12-01T11:00:00+00:00",
    )
    assert db.detail == "INITIAL_SYNC, 50% of 10.0 GiB copied, lag 3m05s, ETA 2026-12-01 11:00:00 UTC"
    assert (db.home_region, db.failed_back_from) == (ORIGIN, "i-0000000000000rec1")
    assert (app.origin, app.state, app.state_text) == (
        "on premises",
        "waiting_for_client",
        "waiting for the Failback Client",
    )
    # The FAILBACK server is found by its EC2 instance: every source server of the origin region, once.
    assert drs.called("DescribeSourceServers") == [(ORIGIN, None)]
    assert drs.called("DescribeRecoveryInstances") == [(RECOVERY, ["i-0000000000000rec3"])]
    assert {conn for _, conn, _, _ in drs.calls} == {"aws_drs"}  # the run's own connection
    assert view.failback.checked_at is not None and view.failback.errors == ()

    json = view.to_json()
    server = json["waves"][0]["servers"][0]
    assert (server["failback"]["origin"], server["failback"]["state"]) == (ORIGIN, "syncing")
    assert json["mode_text"] == "failback" and json["failback"]["recovery_region"] == RECOVERY


@pytest.mark.parametrize(
    ("state", "expected", "badge"),
    [
        ("CONTINUOUS", "ready", "ok"),
        ("STALLED", "stalled", "ask"),
        ("INITIATING", "syncing", "run"),
    ],
)
def test_a_copy_home_reads_as_ready_stalled_or_syncing(state: str, expected: str, badge: str) -> None:
    drs = Drs()
    drs.servers[ORIGIN] = [failback_server(state)]

    db = rows(shown(failback_run(), drs.reader()))[DB]

    assert (db.state, db.badge) == (expected, badge)


def test_a_synced_server_whose_launch_started_is_launching_until_its_wave_judges_it() -> None:
    drs = Drs()
    drs.servers[ORIGIN] = [failback_server("CONTINUOUS")]

    db = rows(shown(failback_run(db="success"), drs.reader()))[DB]

    assert (db.state, db.badge) == ("launching", "run")
    assert db.detail.startswith(f"launching in {ORIGIN} (CONTINUOUS")


def test_a_server_not_reversed_yet_says_whether_its_wave_started() -> None:
    drs = Drs()
    drs.servers[ORIGIN] = []

    assert rows(shown(failback_run(db=None), drs.reader()))[DB].detail == (
        f"no FAILBACK source server in {ORIGIN} yet: its wave has not started"
    )
    assert rows(shown(failback_run(), drs.reader()))[DB].state == "not_reversed"


def test_the_failback_servers_xcom_narrows_the_read_to_that_server() -> None:
    drs = Drs()
    run = failback_run(xcoms={("db.start_recovery", "failback_servers"): {FAILBACK_DB: DB}})

    assert rows(shown(run, drs.reader()))[DB].state == "syncing"
    assert drs.called("DescribeSourceServers") == [(ORIGIN, [FAILBACK_DB])]


def launched_run(drill: bool = False) -> RunRecord:
    result = {
        "sourceServerID": DB,
        "failbackSourceServerID": FAILBACK_DB,
        "recoveryInstanceID": "i-0000000000000new1",
        "ec2InstanceID": "i-0000000000000new1",
        "launchStatus": "LAUNCHED",
        "originEnvironment": "AWS",
        "originRegion": ORIGIN,
        "failedBackFrom": "i-0000000000000rec1",
    }
    run = failback_run(db="success", drill=drill)
    tasks = {**run.tasks, "db.wait_for_recovery": task("db.wait_for_recovery", "running", 4)}
    return replace(run, tasks=tasks, xcoms={**run.xcoms, ("db.wait_for_recovery", "servers"): [result]})


def test_a_launched_server_is_re_protected_once_its_source_server_replicates_from_the_new_instance() -> None:
    drs = Drs()
    drs.servers[RECOVERY] = [plan_server("i-0000000000000rec1")]  # still the old instance

    db = rows(shown(launched_run(), drs.reader()))[DB]

    assert (db.state, db.detail) == ("launched", f"on i-0000000000000new1 in {ORIGIN}; not re-protected yet")
    assert drs.called("DescribeSourceServers") == [(RECOVERY, [DB])]

    drs.servers[RECOVERY] = [plan_server("i-0000000000000new1", "RESCAN")]
    drs.now += 60  # past the cache
    db = rows(shown(launched_run(), drs.reader()))[DB]

    assert (db.state, db.state_text, db.badge) == ("reprotected", "re-protected", "ok")
    assert db.detail == f"{DB} replicates again in {RECOVERY}, from i-0000000000000new1"
    drs.servers[RECOVERY] = [plan_server("i-0000000000000new1", "STOPPED")]
    assert rows(shown(launched_run(), drs.reader()))[DB].state == "launched"


def test_a_rehearsed_failback_says_so_and_asks_nothing_of_the_recovery_region() -> None:
    drs = Drs()

    view = shown(launched_run(drill=True), drs.reader())

    assert (view.mode_text, view.failback.drill) == ("failback drill", True)
    assert rows(view)[DB].state == "launched" and "a rehearsal re-protects nothing" in rows(view)[DB].detail
    assert drs.called("DescribeSourceServers") == []


@pytest.mark.parametrize(
    ("failback_state", "replication", "expected"),
    [
        ("FAILBACK_NOT_STARTED", "CONTINUOUS", "waiting_for_client"),
        ("FAILBACK_IN_PROGRESS", "INITIAL_SYNC", "in_progress"),
        ("FAILBACK_READY_FOR_LAUNCH", "CONTINUOUS", "ready"),
        ("FAILBACK_COMPLETED", "CONTINUOUS", "completed"),
        ("FAILBACK_ERROR", "CONTINUOUS", "error"),
        ("FAILBACK_IN_PROGRESS", "DISCONNECTED", "lost"),
    ],
)
def test_an_on_premises_server_shows_its_recovery_instances_failback_state(
    failback_state: str, replication: str, expected: str
) -> None:
    drs = Drs()
    drs.instances = [recovery_instance(failback_state, replication)]

    app = rows(shown(failback_run(), drs.reader()))[APP]

    assert (app.state, app.failback_client_state) == (expected, failback_state)


def test_answers_are_shared_until_they_age_and_a_whole_region_answer_serves_questions_by_id() -> None:
    drs = Drs()
    reader = drs.reader()

    shown(failback_run(), reader)
    shown(failback_run(), reader)  # the next refresh, and another page of the same run
    shown(failback_run(xcoms={("db.start_recovery", "failback_servers"): {FAILBACK_DB: DB}}), reader)

    assert len(drs.calls) == 2  # one DescribeSourceServers, one DescribeRecoveryInstances
    drs.now += 16
    shown(failback_run(), reader)
    assert len(drs.calls) == 4


def test_a_drs_that_cannot_be_read_leaves_the_page_up_and_says_why_once_per_refresh() -> None:
    from botocore.exceptions import ClientError

    drs = Drs()
    drs.error = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeSourceServers"
    )
    reader = drs.reader()

    view = shown(failback_run(), reader)
    shown(failback_run(), reader)

    db = rows(view)[DB]
    assert (db.state, db.origin) == ("unknown", ORIGIN)
    assert db.detail == f"DRS in {ORIGIN} could not be read: AccessDeniedException: no"
    assert view.failback.errors == (f"{ORIGIN}: AccessDeniedException: no",)
    assert len(drs.called("DescribeSourceServers")) == 1  # the refusal is cached as an answer


def test_a_run_that_is_no_failback_reads_nothing_of_drs() -> None:
    drs = Drs()
    run = replace(failback_run(), xcoms={("preflight", "return_value"): {**resolved(), "mode": "recovery"}})

    view = shown(run, drs.reader())

    assert view.failback is None and all(server.failback is None for server in view.servers)
    assert drs.calls == []


def test_the_page_shows_mode_origin_and_failback_columns() -> None:
    drs = Drs()

    page = render("_run.html", view=shown(failback_run(drill=True), drs.reader()))

    assert '<span class="mode failback" id="run-mode">failback drill</span>' in page
    assert "<th>origin</th><th>failback</th>" in page
    assert '<td class="origin">us-east-1</td>' in page and '<td class="origin">on premises</td>' in page
    assert (
        'data-failback-state="syncing">syncing</span> <progress max="100" value="50"></progress> 50%' in page
    )
    assert "lag 3m05s" in page and f"<code>{FAILBACK_DB}</code> in {ORIGIN}" in page
    assert "waiting for the Failback Client" in page and 'id="failback-note"' in page


def test_the_pages_hook_gives_up_quickly_and_waits_out_no_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_VIEW", '{"conn_type": "aws", "login": "a", "password": "b"}')
    hook = ViewDrsHook(aws_conn_id="aws_view", region_name=ORIGIN)

    config = hook.conn.meta.config
    assert (config.retries["total_max_attempts"], config.read_timeout, config.connect_timeout) == (2, 15, 5)
    # botocore lists no handlers publicly; a task's hook has retry_after_throttling here
    handlers = hook.conn.meta.events._emitter._handlers.prefix_search("needs-retry.drs.DescribeSourceServers")
    assert "retry_after_throttling" not in [getattr(handler, "__name__", "") for handler in handlers]
