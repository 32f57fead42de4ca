"""DrsJobSensor without a server: serialised DAGs keep what the scheduler needs."""

from __future__ import annotations

import pytest
from airflow.sdk import DAG
from airflow.serialization.serialized_objects import BaseSerialization, DagSerialization

from drs_provider.exceptions import DrsJobNotFoundError
from drs_provider.sensors.drs import DrsJobSensor


def serialised_task(**kwargs):
    with DAG("sensing", schedule=None) as dag:
        DrsJobSensor(task_id="wait", job_ids=["drsjob-0a000000000000001"], **kwargs)
    return DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("wait")


def test_start_from_trigger_survives_dag_serialisation():
    task = serialised_task(start_from_trigger=True, poke_interval=10, timeout=100, region_name="eu-west-1")

    assert task.start_from_trigger is True
    args = task.start_trigger_args
    assert args.trigger_cls == "drs_provider.triggers.drs.DrsJobCompleteTrigger"
    assert args.next_method == "execute_complete"
    kwargs = BaseSerialization.deserialize(args.trigger_kwargs)
    assert kwargs["job_ids"] == ["drsjob-0a000000000000001"]
    assert (kwargs["waiter_delay"], kwargs["waiter_max_attempts"]) == (10, 10)
    assert kwargs["region_name"] == "eu-west-1"


def test_start_from_trigger_is_off_by_default():
    task = serialised_task()

    assert task.start_from_trigger is False
    assert task.start_trigger_args is None


def test_default_poll_is_short_and_passes_the_error_budget_to_the_trigger():
    sensor = DrsJobSensor(task_id="wait", job_ids=["drsjob-0a000000000000001"], timeout=600)

    kwargs = sensor._trigger_kwargs()

    assert sensor.poke_interval == 1
    assert (kwargs["waiter_delay"], kwargs["waiter_max_attempts"]) == (1, 600)
    assert kwargs["error_timeout"] == 300


def test_an_event_naming_missing_jobs_raises_job_not_found():
    sensor = DrsJobSensor(task_id="wait", job_ids=["drsjob-0a000000000000001", "drsjob-0a000000000000002"])
    event = {
        "status": "not_found",
        "job_ids": ["drsjob-0a000000000000001", "drsjob-0a000000000000002"],
        "missing_job_ids": ["drsjob-0a000000000000002"],
        "message": "DRS does not know job(s) drsjob-0a000000000000002 (any more)",
    }

    with pytest.raises(DrsJobNotFoundError) as caught:
        sensor.execute_complete({}, event)  # type: ignore[arg-type]

    assert caught.value.job_ids == ("drsjob-0a000000000000002",)


def test_started_from_the_trigger_with_no_job_it_fails_as_execute_would():
    # What the worker sees when start_recovery left no job IDs: the rendered "[]" and the
    # trigger's own error event.
    sensor = DrsJobSensor(task_id="wait", job_ids="[]", start_from_trigger=True)
    event = {"status": "error", "job_ids": [], "optional_source_server_ids": [], "message": "no DRS job IDs"}

    with pytest.raises(ValueError, match="wait: job_ids is empty"):
        sensor.execute_complete({}, event)
