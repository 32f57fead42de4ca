"""DrsStartRecoveryOperator against the simulator: selection, splitting, idempotency, errors, modes."""

from __future__ import annotations

import asyncio

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from botocore.exceptions import ClientError
from tools.processes import wait_until

from drs_provider.constants import TAG_CHUNK, TAG_DAG_ID, TAG_RUN_ID, TAG_TASK_ID
from drs_provider.exceptions import (
    DrsJobFailedError,
    DrsJobTimeoutError,
    DrsProviderError,
    DrsQuotaError,
    DrsServerBusyError,
    DrsServerSelectionError,
)
from drs_provider.hooks.drs import DrsHook
from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.recovery.times import parse_time
from tests.integration.provider.conftest import (
    SHOP_ALL,
    SHOP_APP,
    SHOP_DB,
    SHOP_DB_REPLICA,
    large_fleet,
    make_context,
    start_jobs,
)


def operator(**kwargs) -> DrsStartRecoveryOperator:
    kwargs.setdefault("task_id", "database.start_recovery")
    kwargs.setdefault("waiter_delay", 1)
    kwargs.setdefault("waiter_max_attempts", 120)
    return DrsStartRecoveryOperator(**kwargs)


def run_trigger_to_event(trigger) -> dict:
    async def first_event():
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


def jobs_on_simulator(drs_simulator) -> list[dict]:
    return drs_simulator.client().describe_jobs(filters={})["items"]


def test_no_wait_returns_job_ids_tags_jobs_and_pushes_resolved_servers(drs_simulator, aws_conn):
    context = make_context("database.start_recovery", run_id="manual__2026-01-01T00:00:00+00:00")
    op = operator(
        tags={"App": "shop", "Role": "db"}, optional_tags={"Role": "db-replica"}, job_tags={"team": "dr"}
    )

    job_ids = op.execute(context)

    [job] = jobs_on_simulator(drs_simulator)
    assert job_ids == [job["jobID"]]
    assert sorted(s["sourceServerID"] for s in job["participatingServers"]) == sorted(
        [*SHOP_DB, SHOP_DB_REPLICA]
    )
    assert job["tags"] == {
        TAG_DAG_ID: "drs_plan_shop",
        TAG_RUN_ID: "manual__2026-01-01T00:00:00+00:00",
        TAG_TASK_ID: "database.start_recovery",
        TAG_CHUNK: "1/1",
        "team": "dr",
    }
    assert context["ti"].xcom["source_server_ids"] == SHOP_DB
    assert context["ti"].xcom["optional_source_server_ids"] == [SHOP_DB_REPLICA]
    [request] = [call["request"] for call in drs_simulator.calls("StartRecovery")]
    assert request["isDrill"] is True
    assert context["ti"].xcom["drs_job"]["job_id"] == job["jobID"]


def test_string_arguments_from_templates_are_read(drs_simulator, aws_conn):
    context = make_context("t")
    op = operator(
        source_server_ids=str(SHOP_DB),  # Python-literal list, as a non-native render gives it
        tags='{"Role": "app"}',
        is_drill="False",
        max_servers_per_job="1",
    )

    job_ids = op.execute(context)

    assert len(job_ids) == 4
    requests = [call["request"] for call in drs_simulator.calls("StartRecovery")]
    assert all(request["isDrill"] is False for request in requests)
    assert context["ti"].xcom["source_server_ids"] == [*SHOP_DB, *SHOP_APP]


def test_a_server_named_required_and_optional_counts_as_required(aws_conn):
    context = make_context("t")
    operator(source_server_ids=[SHOP_DB[0]], optional_source_server_ids=[SHOP_DB[0], SHOP_DB[1]]).execute(
        context
    )

    assert context["ti"].xcom["source_server_ids"] == [SHOP_DB[0]]
    assert context["ti"].xcom["optional_source_server_ids"] == [SHOP_DB[1]]


def test_450_servers_become_jobs_of_at_most_the_configured_size_and_are_tracked(drs_simulator, aws_conn):
    drs_simulator.reset(fleet=large_fleet(450))
    op = operator(tags={"App": "big"}, max_servers_per_job=100, wait_for_completion=True)

    job_ids = op.execute(make_context("big.start_recovery"))

    assert len(job_ids) == 5
    jobs = {job["jobID"]: job for job in jobs_on_simulator(drs_simulator)}
    assert sorted(len(jobs[job_id]["participatingServers"]) for job_id in job_ids) == [50, 100, 100, 100, 100]
    assert sorted(jobs[job_id]["tags"][TAG_CHUNK] for job_id in job_ids) == [f"{n}/5" for n in range(1, 6)]
    assert all(jobs[job_id]["status"] == "COMPLETED" for job_id in job_ids)
    launched = {
        s["sourceServerID"]
        for job in jobs.values()
        for s in job["participatingServers"]
        if s["launchStatus"] == "LAUNCHED"
    }
    assert len(launched) == 450


def test_retry_starts_no_second_job(drs_simulator, aws_conn):
    op = operator(tags={"App": "shop"}, max_servers_per_job=3)
    first = op.execute(make_context("t"))

    second = operator(tags={"App": "shop"}, max_servers_per_job=3).execute(make_context("t"))

    assert second == first
    assert len(drs_simulator.calls("StartRecovery")) == 3
    assert len(jobs_on_simulator(drs_simulator)) == 3


def test_retry_after_a_partial_start_starts_only_the_missing_servers(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)  # keep jobs active, so the third one hits the quota
    drs_simulator.set_quotas(max_concurrent_jobs=2)
    with pytest.raises(DrsQuotaError):
        operator(tags={"App": "shop"}, max_servers_per_job=3).execute(make_context("t"))
    assert len(jobs_on_simulator(drs_simulator)) == 2
    drs_simulator.set_quotas(max_concurrent_jobs=20)

    job_ids = operator(tags={"App": "shop"}, max_servers_per_job=3).execute(make_context("t"))

    jobs = jobs_on_simulator(drs_simulator)
    assert len(job_ids) == 3 == len(jobs)
    covered = [s["sourceServerID"] for job in jobs for s in job["participatingServers"]]
    assert sorted(covered) == sorted(SHOP_ALL), "every server exactly once"


def test_another_run_launches_again(drs_simulator, aws_conn):
    hook = DrsHook(aws_conn_id=aws_conn)
    [first] = operator(source_server_ids=[SHOP_DB[0]]).execute(make_context("t", run_id="run-1"))
    # The same server can launch again once its first job is over.
    wait_until(
        "the first job to complete",
        lambda: hook.describe_jobs([first])[0]["status"] == "COMPLETED",
        timeout=60,
    )

    [second] = operator(source_server_ids=[SHOP_DB[0]]).execute(make_context("t", run_id="run-2"))

    assert second != first
    assert len(jobs_on_simulator(drs_simulator)) == 2


def test_dropped_start_recovery_response_then_retry_leaves_one_job(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(drop_response_count=1)
    op = operator(tags={"App": "shop", "Role": "db"})

    job_ids = op.execute(make_context("t"))

    jobs = jobs_on_simulator(drs_simulator)
    assert len(jobs) == 1
    assert job_ids == [jobs[0]["jobID"]]
    assert len(drs_simulator.calls("StartRecovery")) >= 1


def test_lost_answer_without_client_retry_is_adopted_and_a_task_retry_starts_nothing(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(drop_response_count=1)
    no_client_retry = {"retries": {"total_max_attempts": 1}}

    first = operator(tags={"App": "shop", "Role": "db"}, botocore_config=no_client_retry).execute(
        make_context("t")
    )
    second = operator(tags={"App": "shop", "Role": "db"}).execute(make_context("t"))

    jobs = jobs_on_simulator(drs_simulator)
    assert len(jobs) == 1
    assert first == second == [jobs[0]["jobID"]]
    assert len(drs_simulator.calls("StartRecovery")) == 1, "the lost request was not sent again"


def test_busy_server_names_the_job_holding_it(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    [other_job] = start_jobs(DrsHook(aws_conn_id=aws_conn), [SHOP_DB[1]])

    with pytest.raises(DrsServerBusyError, match=other_job) as caught:
        operator(source_server_ids=SHOP_DB).execute(make_context("t"))

    assert caught.value.busy == {SHOP_DB[1]: other_job}


def test_quota_error_carries_the_numbers(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    drs_simulator.set_quotas(max_servers_in_active_jobs=3)

    with pytest.raises(DrsQuotaError) as caught:
        operator(tags={"App": "shop"}).execute(make_context("t"))

    message = str(caught.value)
    assert "7 source servers" in message
    assert "3" in message


def test_unknown_ids_and_empty_tag_selector_fail_before_any_launch(drs_simulator, aws_conn):
    with pytest.raises(DrsServerSelectionError, match="s-0f0000000000000aa"):
        operator(source_server_ids=["s-0f0000000000000aa"]).execute(make_context("t"))
    with pytest.raises(DrsServerSelectionError, match=r"optional servers.*Role=queue"):
        operator(tags={"Role": "db"}, optional_tags={"Role": "queue"}).execute(make_context("t"))
    with pytest.raises(DrsServerSelectionError, match="no servers selected"):
        operator().execute(make_context("t"))
    assert drs_simulator.calls("StartRecovery") == []


def test_point_in_time_launches_from_the_chosen_snapshots(drs_simulator, aws_conn):
    client = drs_simulator.client()
    expected = {}
    moments = []
    for server_id in SHOP_DB:
        snapshots = [
            s
            for s in client.describe_recovery_snapshots(sourceServerID=server_id)["items"]
            if s.get("timestamp")
        ]
        ordered = sorted(snapshots, key=lambda s: parse_time(s["timestamp"]))
        moments.append(parse_time(ordered[-2]["timestamp"]))
    point = min(moments)
    for server_id in SHOP_DB:
        snapshots = [
            s
            for s in client.describe_recovery_snapshots(sourceServerID=server_id)["items"]
            if s.get("timestamp")
        ]
        expected[server_id] = max(
            (s for s in snapshots if parse_time(s["timestamp"]) <= point),
            key=lambda s: parse_time(s["timestamp"]),
        )["snapshotID"]

    operator(source_server_ids=SHOP_DB, point_in_time=point.isoformat()).execute(make_context("t"))

    [request] = [call["request"] for call in drs_simulator.calls("StartRecovery")]
    assert {s["sourceServerID"]: s["recoverySnapshotID"] for s in request["sourceServers"]} == expected


def test_bad_point_in_time_is_named(aws_conn):
    with pytest.raises(ValueError, match=r"point_in_time.*yesterday"):
        operator(source_server_ids=SHOP_DB, point_in_time="yesterday").execute(make_context("t"))


def test_wait_mode_fails_on_a_required_server_with_its_raw_error(drs_simulator, aws_conn):
    drs_simulator.set_faults(fail_servers={SHOP_DB[1]: "EC2 capacity: InsufficientInstanceCapacity"})

    with pytest.raises(DrsJobFailedError, match="InsufficientInstanceCapacity") as caught:
        operator(source_server_ids=SHOP_DB, wait_for_completion=True).execute(make_context("t"))

    assert [f.source_server_id for f in caught.value.failed] == [SHOP_DB[1]]


def test_wait_mode_gives_up_after_its_attempts_naming_the_jobs(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)  # the job cannot finish, however slow the machine
    op = operator(source_server_ids=SHOP_DB, wait_for_completion=True, waiter_max_attempts=1)

    with pytest.raises(DrsJobTimeoutError) as caught:
        op.execute(make_context("t"))

    [job] = jobs_on_simulator(drs_simulator)
    assert job["jobID"] in str(caught.value)
    assert job["status"] != "COMPLETED"


def test_wait_mode_passes_when_only_an_optional_server_fails(drs_simulator, aws_conn):
    drs_simulator.set_faults(fail_servers=[SHOP_DB_REPLICA])

    job_ids = operator(
        source_server_ids=SHOP_DB, optional_source_server_ids=[SHOP_DB_REPLICA], wait_for_completion=True
    ).execute(make_context("t"))

    [job] = DrsHook(aws_conn_id=aws_conn).describe_jobs(job_ids)
    statuses = {s["sourceServerID"]: s["launchStatus"] for s in job["participatingServers"]}
    assert statuses == {SHOP_DB[0]: "LAUNCHED", SHOP_DB[1]: "LAUNCHED", SHOP_DB_REPLICA: "FAILED"}


def test_deferrable_mode_defers_then_completes(drs_simulator, aws_conn):
    op = operator(tags={"Role": "app"}, deferrable=True)
    context = make_context("t")

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    event = run_trigger_to_event(deferred.value.trigger)
    result = getattr(op, deferred.value.method_name)(context, event)

    assert event["status"] == "success"
    [job] = jobs_on_simulator(drs_simulator)
    assert result == [job["jobID"]]
    assert job["status"] == "COMPLETED"


def test_deferrable_mode_fails_on_a_required_server(drs_simulator, aws_conn):
    drs_simulator.set_faults(fail_servers={SHOP_APP[0]: "launch template is invalid"})
    op = operator(tags={"Role": "app"}, deferrable=True)
    context = make_context("t")

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    event = run_trigger_to_event(deferred.value.trigger)

    with pytest.raises(DrsJobFailedError, match="launch template is invalid"):
        op.execute_complete(context, event)


def test_30_percent_throttling_still_starts_every_job_exactly_once(drs_simulator, aws_conn):
    drs_simulator.set_faults(throttle_rate=0.3, retry_after_seconds=0, seed=99)

    job_ids = operator(tags={"App": "shop"}, max_servers_per_job=2, wait_for_completion=True).execute(
        make_context("t")
    )

    jobs = jobs_on_simulator(drs_simulator)
    assert len(job_ids) == 4 == len(jobs)
    covered = [s["sourceServerID"] for job in jobs for s in job["participatingServers"]]
    assert sorted(covered) == sorted(SHOP_ALL)
    assert 429 in [call["status"] for call in drs_simulator.calls()]


def test_mapped_tasks_and_odd_run_ids_keep_their_own_jobs(drs_simulator, aws_conn):
    run_id = "api run #7 <from ci> " + "x" * 300  # characters AWS refuses, and too long for a tag
    first = operator(source_server_ids=[SHOP_DB[0]]).execute(make_context("t", run_id=run_id, map_index=0))
    other = operator(source_server_ids=[SHOP_DB[1]]).execute(make_context("t", run_id=run_id, map_index=1))

    again = operator(source_server_ids=[SHOP_DB[0]]).execute(make_context("t", run_id=run_id, map_index=0))

    assert again == first != other
    assert len(jobs_on_simulator(drs_simulator)) == 2
    tags = {job["jobID"]: job["tags"] for job in jobs_on_simulator(drs_simulator)}
    assert tags[first[0]]["airflow:map_index"] == "0"
    assert len(tags[first[0]][TAG_RUN_ID]) <= 256


# --- DRS server errors and outages during StartRecovery ------------------------------------------

NO_CLIENT_RETRY = {"retries": {"total_max_attempts": 1}}


@pytest.mark.parametrize("client_retries", [True, False], ids=["botocore-retries", "no-client-retry"])
@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_after_the_job_was_created_adopts_that_one_job(
    drs_simulator, aws_conn, status, client_retries
):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(
        error_count=1, error_status=status, error_when="after", error_operations=["StartRecovery"]
    )
    config = None if client_retries else NO_CLIENT_RETRY

    job_ids = operator(tags={"App": "shop", "Role": "db"}, botocore_config=config).execute(make_context("t"))

    [job] = jobs_on_simulator(drs_simulator)
    assert job_ids == [job["jobID"]]
    statuses = [call["status"] for call in drs_simulator.calls("StartRecovery")]
    assert statuses == ([status, 409] if client_retries else [status])


def test_server_errors_that_never_stop_fail_naming_start_recovery_and_launch_nothing(drs_simulator, aws_conn):
    drs_simulator.set_faults(error_rate=1, error_operations=["StartRecovery"])

    with pytest.raises(ClientError, match=r"InternalServerException.*StartRecovery"):
        operator(tags={"App": "shop", "Role": "db"}, botocore_config=NO_CLIENT_RETRY).execute(
            make_context("t")
        )

    assert jobs_on_simulator(drs_simulator) == []


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_outage_during_start_recovery_is_a_clear_error_and_the_task_retry_launches_once(
    drs_simulator, aws_conn, when
):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(outage_seconds=600, outage_on=["StartRecovery"], outage_when=when)

    with pytest.raises(DrsProviderError) as caught:
        operator(tags={"App": "shop", "Role": "db"}, botocore_config=NO_CLIENT_RETRY).execute(
            make_context("t")
        )

    message = str(caught.value)
    assert "database.start_recovery: StartRecovery of 2 source servers" in message
    assert all(server_id in message for server_id in SHOP_DB)
    assert "retry the task" in message
    assert len(jobs_on_simulator_after_outage(drs_simulator)) == (1 if when == "after" else 0)

    job_ids = operator(tags={"App": "shop", "Role": "db"}).execute(make_context("t"))  # the task's retry

    [job] = jobs_on_simulator(drs_simulator)
    assert job_ids == [job["jobID"]]


def test_botocore_retries_that_outlast_a_short_outage_leave_one_job(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(outage_seconds=600, outage_on=["StartRecovery"], outage_when="after")
    op = operator(tags={"App": "shop", "Role": "db"}, botocore_config={"retries": {"total_max_attempts": 10}})

    def end_when_refused(attempts: int, **kwargs) -> None:
        if attempts == 2:  # the first retry met the outage: DRS comes back for the next one
            drs_simulator.end_outage()

    op.hook.conn.meta.events.register("needs-retry.drs.StartRecovery", end_when_refused)
    job_ids = op.execute(make_context("t"))

    [job] = jobs_on_simulator(drs_simulator)
    assert job_ids == [job["jobID"]]
    assert [call["status"] for call in drs_simulator.calls("StartRecovery")] == [None, 409]


def jobs_on_simulator_after_outage(drs_simulator) -> list[dict]:
    drs_simulator.end_outage()
    return jobs_on_simulator(drs_simulator)
