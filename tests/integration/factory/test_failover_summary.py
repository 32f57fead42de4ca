"""drs_failover's summary stored like a run report, beside the picked plans' reports (moto's S3)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from drs_provider.exceptions import DrsReportNotStoredError
from drs_provider.operators.failover import DrsFailoverSummaryOperator

if TYPE_CHECKING:
    from tests.fixtures.moto import LocalAws

RUN_ID = "manual__2026-12-06T05:00:00+00:00"


def summary() -> dict[str, Any]:
    return {"failover_run_id": RUN_ID, "plans": {}, "rto_seconds": 300.0, "excluded": {}}


def test_the_summary_goes_once_to_each_place_the_picked_plans_keep_reports(
    aws_conn: str, local_aws_services: LocalAws
) -> None:
    s3 = local_aws_services.client("s3")
    s3.create_bucket(Bucket="evidence")
    operator = DrsFailoverSummaryOperator(
        task_id="summary",
        excluded={},
        report_places={
            "db": ("s3://evidence/runs/", aws_conn),
            "web": ("s3://evidence/runs/", aws_conn),  # the same place: written once
            "unpicked": ("s3://evidence/other/", aws_conn),
        },
    )
    document = summary()

    assert operator._store(document, ["db", "web", "directory"]) is None

    key = f"runs/drs_failover/{RUN_ID}.json"
    assert document["locations"] == [f"s3://evidence/{key}"]
    assert [item["Key"] for item in s3.list_objects_v2(Bucket="evidence")["Contents"]] == [key]
    assert json.loads(s3.get_object(Bucket="evidence", Key=key)["Body"].read()) == summary()


def test_a_place_s3_refuses_is_named_and_the_others_still_get_the_summary(
    aws_conn: str, local_aws_services: LocalAws
) -> None:
    local_aws_services.client("s3").create_bucket(Bucket="evidence")
    operator = DrsFailoverSummaryOperator(
        task_id="summary",
        excluded={},
        report_places={"db": ("s3://gone/runs/", aws_conn), "web": ("s3://evidence/", aws_conn)},
    )
    document = summary()

    error = operator._store(document, ["db", "web"])

    assert isinstance(error, DrsReportNotStoredError)
    assert (error.bucket, error.key) == ("gone", f"runs/drs_failover/{RUN_ID}.json")
    assert document["locations"] == [f"s3://evidence/drs_failover/{RUN_ID}.json"]
    [refused] = document["store_errors"]
    assert refused["bucket"] == "gone" and "NoSuchBucket" in refused["error"]
