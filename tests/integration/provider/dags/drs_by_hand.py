"""The hand-written DAG of docs/reference/operator-and-sensor.md: start a drill of the shop
database tier and wait for it."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from drs_provider.operators.drs import DrsStartRecoveryOperator
from drs_provider.sensors.drs import DrsJobSensor

with DAG(
    dag_id="drs_by_hand",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"is_drill": True},
):
    start = DrsStartRecoveryOperator(
        task_id="start_recovery",
        tags={"App": "shop", "Role": "db"},
        optional_tags={"Role": "db-replica"},
        is_drill="{{ params.is_drill }}",
        job_tags={"purpose": "quarterly-drill"},
    )
    wait = DrsJobSensor(
        task_id="wait_for_recovery",
        job_ids=start.output,  # the job IDs start_recovery returned
        optional_source_server_ids=(
            "{{ ti.xcom_pull(task_ids='start_recovery', key='optional_source_server_ids') }}"
        ),
        poke_interval=1,
        timeout=600,
    )
    start >> wait
