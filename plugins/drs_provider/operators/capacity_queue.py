"""Read and write an account's published capacity queue (:mod:`drs_provider.recovery.capacity_queue`).

Synchronous Task SDK calls: a task calls them directly, the capacity trigger through
``sync_to_async``. Outside Airflow (an operator called from plain Python) nothing is published
and nothing is ahead.
"""

from __future__ import annotations

import time

from drs_provider.operators.plan_lease import in_airflow
from drs_provider.recovery.capacity_queue import Entry, encode, launches_ahead, queue_variable


def read_queue(aws_conn_id: str | None, region_name: str | None) -> str | None:
    """The account's publication as the Variable holds it (None outside Airflow or when unset)."""
    if not in_airflow():
        return None
    from airflow.sdk import Variable

    published: str | None = Variable.get(queue_variable(aws_conn_id, region_name), default=None)
    return published


def waits_ahead(aws_conn_id: str | None, region_name: str | None, *, recovery: bool, priority: int) -> int:
    """Published capacity waits of the account that a new launch must not overtake."""
    published = read_queue(aws_conn_id, region_name)
    return launches_ahead(published, recovery=recovery, priority=priority, now=time.time())


def publish_queue(
    aws_conn_id: str | None, region_name: str | None, triggerer: str, entries: tuple[Entry, ...]
) -> None:
    """Write ``triggerer``'s section of the account's publication, keeping the others'."""
    if not in_airflow():
        return
    from airflow.sdk import Variable

    previous = read_queue(aws_conn_id, region_name)
    Variable.set(
        queue_variable(aws_conn_id, region_name),
        encode(entries, time.time(), triggerer=triggerer, previous=previous),
        description="Launches waiting for the account's DRS capacity (drs_provider's capacity queue)",
    )
