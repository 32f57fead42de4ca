"""DrsJobSensor and DrsJobCompleteTrigger against the simulator: verdicts, results, faults, timeouts."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred

from drs_provider.exceptions import DrsJobFailedError, DrsJobNotFoundError, DrsJobTimeoutError
from drs_provider.hooks.drs import DrsHook
from drs_provider.links.drs import DrsJobLink
from drs_provider.sensors.drs import DrsJobSensor
from drs_provider.triggers.drs import DrsJobCompleteTrigger
from tests.integration.provider.conftest import (
    SHOP_APP,
    SHOP_DB,
    SHOP_DB_REPLICA,
    large_fleet,
    make_context,
    start_jobs,
)


def start(aws_conn: str, server_ids: list[str], per_job: int = 100) -> list[str]:
    return start_jobs(DrsHook(aws_conn_id=aws_conn), server_ids, per_job=per_job)


def first_event(trigger: DrsJobCompleteTrigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(run())


def sense(sensor: DrsJobSensor, context: dict) -> list[dict]:
    """Run the sensor as Airflow would: poke loop, or defer -> trigger -> execute_complete."""
    if not sensor.deferrable:
        return sensor.execute(context)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    event = first_event(deferred.value.trigger)
    return getattr(sensor, deferred.value.method_name)(context, event)


def asked_about(drs_simulator, job_ids: list[str]) -> list[dict]:
    """The DescribeJobs calls that asked for these jobs by ID: a poll left over from another test
    on this worker's simulator asks for its own jobs, and is not counted."""
    return [
        call
        for call in drs_simulator.calls("DescribeJobs")
        if set(call["request"].get("filters", {}).get("jobIDs", [])) & set(job_ids)
    ]


def sensor(job_ids, *, deferrable: bool, **kwargs) -> DrsJobSensor:
    return DrsJobSensor(
        task_id="database.wait_for_recovery",
        job_ids=job_ids,
        deferrable=deferrable,
        poke_interval=kwargs.pop("poke_interval", 0.2 if not deferrable else 1),
        **kwargs,
    )


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_success_returns_one_result_per_server(aws_conn, deferrable):
    job_ids = start(aws_conn, [*SHOP_DB, *SHOP_APP], per_job=2)

    results = sense(sensor(job_ids, deferrable=deferrable), make_context("w"))

    assert sorted(r["sourceServerID"] for r in results) == sorted([*SHOP_DB, *SHOP_APP])
    by_server = {r["sourceServerID"]: r for r in results}
    db1 = by_server[SHOP_DB[0]]
    assert db1["hostname"] == "db-1"
    assert db1["launchStatus"] == "LAUNCHED"
    assert db1["jobID"] == job_ids[0]
    assert db1["optional"] is False
    assert db1["recoveryInstanceID"].startswith("i-")
    assert db1["ec2InstanceID"].startswith("i-")
    assert db1["launchStartedDateTime"] and db1["endDateTime"] and db1["jobCreationDateTime"]
    assert "rawError" not in db1


EARLY_FAILURE_FLEET = {
    "account_id": "123456789012",
    "region": "us-east-1",
    "source_servers": [
        {"id": "s-0c000000000000001", "hostname": "quick-fail", "launch_seconds": 10, "fail_launch": "boom"},
        {"id": "s-0c000000000000002", "hostname": "slow-ok", "launch_seconds": 200},
    ],
}


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_a_server_still_launching_is_never_named_as_failed(drs_simulator, aws_conn, deferrable):
    """A required failure ends the wait before the job completes; the slow server is not blamed."""
    drs_simulator.reset(EARLY_FAILURE_FLEET, speed=0)
    quick, slow = (server["id"] for server in EARLY_FAILURE_FLEET["source_servers"])
    job_ids = start(aws_conn, [quick, slow])
    drs_simulator.advance(60)  # quick has FAILED; slow is IN_PROGRESS; the job is STARTED

    with pytest.raises(DrsJobFailedError) as caught:
        sense(sensor(job_ids, deferrable=deferrable), make_context("w"))

    assert [failed.source_server_id for failed in caught.value.failed] == [quick]
    assert caught.value.failed[0].raw_error == "boom"
    assert slow not in str(caught.value)
    [job] = drs_simulator.client().describe_jobs(filters={"jobIDs": job_ids})["items"]
    assert job["status"] == "STARTED"  # the verdict really came before COMPLETED


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_failed_required_server_fails_with_its_raw_error(drs_simulator, aws_conn, deferrable):
    # The clock is stopped and moved past every launch before the wait: the verdict must come
    # with every server's final result, and a running clock would let a poke land between
    # db-2 failing (85 s) and db-1 launching (90 s) on a loaded machine.
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(fail_servers={SHOP_DB[1]: "InsufficientInstanceCapacity in us-east-1a"})
    job_ids = start(aws_conn, [*SHOP_DB, SHOP_DB_REPLICA])
    drs_simulator.advance(600)

    context = make_context("w")
    with pytest.raises(DrsJobFailedError) as caught:
        sense(
            sensor(job_ids, deferrable=deferrable, optional_source_server_ids=[SHOP_DB_REPLICA]),
            context,
        )

    # The per-server results survive the failure as XCom `servers`, each failure with its rawError.
    kept = {result["sourceServerID"]: result for result in context["ti"].xcom["servers"]}
    assert set(kept) == {*SHOP_DB, SHOP_DB_REPLICA}
    assert kept[SHOP_DB[1]]["launchStatus"] == "FAILED"
    assert kept[SHOP_DB[1]]["rawError"] == "InsufficientInstanceCapacity in us-east-1a"
    assert kept[SHOP_DB[0]]["launchStatus"] == "LAUNCHED"
    [failed] = caught.value.failed
    assert (failed.source_server_id, failed.job_id, failed.launch_status) == (
        SHOP_DB[1],
        job_ids[0],
        "FAILED",
    )
    assert failed.hostname == "db-2"
    assert "InsufficientInstanceCapacity in us-east-1a" in str(caught.value)
    assert SHOP_DB[1] in str(caught.value)


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_failed_optional_server_passes_with_a_warning(drs_simulator, aws_conn, deferrable, capsys):
    drs_simulator.set_faults(fail_servers={SHOP_DB_REPLICA: "replica volume missing"})
    job_ids = start(aws_conn, [*SHOP_DB, SHOP_DB_REPLICA])
    # A JSON string, as a rendered template gives it.
    optional = f'["{SHOP_DB_REPLICA}"]'

    results = sense(
        sensor(job_ids, deferrable=deferrable, optional_source_server_ids=optional), make_context("w")
    )

    replica = next(r for r in results if r["sourceServerID"] == SHOP_DB_REPLICA)
    assert replica["launchStatus"] == "FAILED"
    assert replica["optional"] is True
    assert replica["rawError"] == "replica volume missing"
    warnings = [line for line in capsys.readouterr().out.splitlines() if "[warning" in line]
    assert any(
        "optional source server did not launch" in line and SHOP_DB_REPLICA in line for line in warnings
    )


def test_450_servers_in_five_jobs_are_tracked_to_the_end(drs_simulator, aws_conn):
    drs_simulator.reset(fleet=large_fleet(450, failing={7: "boot disk is corrupt"}))
    job_ids = start(aws_conn, [f"s-{i:017d}" for i in range(450)], per_job=100)
    assert len(job_ids) == 5

    with pytest.raises(DrsJobFailedError) as caught:
        sense(sensor(job_ids, deferrable=True), make_context("w"))

    assert [f.source_server_id for f in caught.value.failed] == [f"s-{7:017d}"]
    assert "boot disk is corrupt" in str(caught.value)
    polls = drs_simulator.calls("DescribeJobs")
    assert all(len(call["request"]["filters"]["jobIDs"]) == 5 for call in polls[:1])


def test_throttling_at_30_percent_still_completes(drs_simulator, aws_conn):
    drs_simulator.set_faults(throttle_rate=0.3, retry_after_seconds=0, seed=1234)
    job_ids = start(aws_conn, [*SHOP_DB, *SHOP_APP], per_job=1)

    results = sense(sensor(job_ids, deferrable=True), make_context("w"))
    poked = sense(sensor(job_ids, deferrable=False), make_context("w"))

    assert {r["launchStatus"] for r in results} == {"LAUNCHED"} == {r["launchStatus"] for r in poked}
    statuses = [call["status"] for call in drs_simulator.calls()]
    assert statuses.count(429) > 0, "the fault must have throttled some calls"


def test_trigger_waits_the_retry_after_that_drs_asks_for(drs_simulator, aws_conn):
    [job_id] = start(aws_conn, SHOP_DB)
    drs_simulator.set_faults(throttle_count=2, retry_after_seconds=1, throttle_operations=["DescribeJobs"])

    event = first_event(DrsJobCompleteTrigger(job_ids=[job_id], waiter_delay=1, aws_conn_id=aws_conn))

    assert event["status"] == "success"
    calls = drs_simulator.calls("DescribeJobs")
    assert [call["status"] for call in calls[:3]] == [429, 429, 200]
    gaps = [later["time"] - earlier["time"] for earlier, later in itertools.pairwise(calls[:3])]
    assert all(gap >= 0.95 for gap in gaps), f"retried before Retry-After: {gaps}"


def test_trigger_gives_up_once_polls_failed_for_error_timeout(drs_simulator, aws_conn, caplog):
    [job_id] = start(aws_conn, SHOP_DB)
    drs_simulator.set_faults(latency_seconds=3, latency_operations=["DescribeJobs"])
    trigger = DrsJobCompleteTrigger(
        job_ids=[job_id],
        waiter_delay=0,
        error_timeout=1,
        aws_conn_id=aws_conn,
        botocore_config={"read_timeout": 0.5, "retries": {"total_max_attempts": 1}},
    )

    event = first_event(trigger)

    assert event["status"] == "error"
    assert job_id in event["job_ids"]
    assert "Read timeout" in event["message"]
    assert "error_timeout 1 s" in event["message"]
    # The first failed poll did not end the wait: it was polled again before giving up.
    failed = [record for record in caplog.records if "DescribeJobs failed (" in record.getMessage()]
    assert len(failed) >= 2


def test_deferred_timeout_raises_job_timeout(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)  # the job never finishes
    job_ids = start(aws_conn, SHOP_DB)
    waiting = sensor(job_ids, deferrable=True, poke_interval=0, max_attempts=2)

    with pytest.raises(DrsJobTimeoutError, match=job_ids[0]):
        sense(waiting, make_context("w"))


def test_poke_timeout_raises_sensor_timeout(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    job_ids = start(aws_conn, SHOP_DB)

    with pytest.raises(AirflowSensorTimeout):
        sense(sensor(job_ids, deferrable=False, poke_interval=0.1, timeout=0.5), make_context("w"))


def test_unknown_job_is_named(aws_conn):
    missing = "drsjob-0000000000000000x"
    with pytest.raises(Exception, match=missing):
        sense(sensor([missing], deferrable=False), make_context("w"))


def test_poke_mode_waits_for_a_job_drs_lists_late(drs_simulator, aws_conn):
    """One DescribeJobs answer without the job is tolerated, as the trigger does."""
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(listing_lag_seconds=10)  # the new job is left out for 10 s
    job_ids = start(aws_conn, SHOP_DB)
    waiting = sensor(job_ids, deferrable=False)
    context = make_context("w")

    assert waiting.poke(context) is False  # the first answer left the job out
    assert drs_simulator.client().describe_jobs(filters={"jobIDs": job_ids})["items"] == []
    drs_simulator.advance(3600)  # listed from now on, and finished
    done = waiting.poke(context)

    assert done.is_done and {r["sourceServerID"] for r in done.xcom_value} == set(SHOP_DB)


def test_poke_mode_fails_at_the_second_answer_in_a_row_without_the_job(drs_simulator, aws_conn):
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(listing_lag_seconds=10)
    job_ids = start(aws_conn, SHOP_DB)

    with pytest.raises(DrsJobNotFoundError, match=job_ids[0]) as caught:
        sense(sensor(job_ids, deferrable=False, poke_interval=0), make_context("w"))

    assert caught.value.job_ids == tuple(job_ids)
    assert len(asked_about(drs_simulator, job_ids)) == 2


@pytest.mark.parametrize("listed_in_time", [True, False], ids=["listed-late", "never-listed"])
def test_reschedule_mode_asks_again_within_the_poke(drs_simulator, aws_conn, monkeypatch, listed_in_time):
    """A rescheduled sensor is rebuilt for each poke, so one poke asks for the second answer."""
    drs_simulator.reset(speed=0)
    drs_simulator.set_faults(listing_lag_seconds=10)
    job_ids = start(aws_conn, SHOP_DB)
    paused: list[float] = []
    monkeypatch.setattr(
        "drs_provider.sensors.drs.time.sleep",
        lambda seconds: paused.append(seconds) or drs_simulator.advance(10 if listed_in_time else 0),
    )
    waiting = sensor(job_ids, deferrable=False, mode="reschedule", poke_interval=60)

    if listed_in_time:
        assert waiting.poke(make_context("w")) is False  # listed, not finished yet
    else:
        with pytest.raises(DrsJobNotFoundError, match=job_ids[0]):
            waiting.poke(make_context("w"))
    assert paused == [5.0]
    assert len(asked_about(drs_simulator, job_ids)) == 2


def test_start_from_trigger_kwargs_run_as_rendered_strings(aws_conn):
    job_ids = start(aws_conn, [*SHOP_DB, SHOP_DB_REPLICA])
    waiting = sensor(
        "{{ ti.xcom_pull(task_ids='start', map_indexes=-1) }}",
        deferrable=True,
        optional_source_server_ids="{{ ti.xcom_pull(task_ids='start', key='optional', map_indexes=-1) }}",
        start_from_trigger=True,
    )
    args = waiting.start_trigger_args
    assert args is not None and args.next_method == "execute_complete"
    # Only kwargs that are also template fields get rendered before the trigger starts.
    assert {"job_ids", "optional_source_server_ids"} <= set(args.trigger_kwargs) & set(
        waiting.template_fields
    )

    # What the triggerer would build once those two fields are rendered (to strings).
    rendered = {
        **args.trigger_kwargs,
        "job_ids": str(job_ids),
        "optional_source_server_ids": f"['{SHOP_DB_REPLICA}']",
    }
    event = first_event(DrsJobCompleteTrigger(**rendered))
    context = make_context("w")
    results = waiting.execute_complete(context, event)

    assert event["status"] == "success"
    assert event["job_ids"] == job_ids
    assert len(results) == 3
    # execute() never ran, so the resumed task persists the job link itself.
    assert context["ti"].xcom[DrsJobLink.key]["job_id"] == job_ids[0]
