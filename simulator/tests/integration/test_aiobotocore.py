"""The same API through an aiobotocore client (what the provider's deferrable trigger uses)."""

from __future__ import annotations

import asyncio

import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from drs_simulator.service import operation
from drs_simulator.validation import validate

pytestmark = pytest.mark.integration


def check(name: str, response: dict) -> None:
    shape = operation(name).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()
    assert validate(shape, body) == []


async def test_aiobotocore_client_runs_a_drill(drs_simulator):
    session = get_session()
    async with session.create_client("drs", **drs_simulator.client_kwargs()) as client:
        servers = await client.describe_source_servers(maxResults=4)
        check("DescribeSourceServers", servers)
        assert len(servers["items"]) == 4 and servers["nextToken"]
        started = await client.start_recovery(
            sourceServers=[{"sourceServerID": "s-0b000000000000005"}], isDrill=True
        )
        check("StartRecovery", started)
        job_id = started["job"]["jobID"]
        for _ in range(500):
            jobs = await client.describe_jobs(filters={"jobIDs": [job_id]})
            check("DescribeJobs", jobs)
            if jobs["items"][0]["status"] == "COMPLETED":
                break
            await asyncio.sleep(0.01)
        assert jobs["items"][0]["participatingServers"][0]["launchStatus"] == "LAUNCHED"
        logs = await client.describe_job_log_items(jobID=job_id)
        check("DescribeJobLogItems", logs)
        assert logs["items"][-1]["event"] == "JOB_END"
        instances = await client.describe_recovery_instances()
        check("DescribeRecoveryInstances", instances)
        snapshots = await client.describe_recovery_snapshots(
            sourceServerID="s-0b000000000000005", order="DESC"
        )
        check("DescribeRecoverySnapshots", snapshots)
        paginator = client.get_paginator("describe_source_servers")
        ids = [
            item["sourceServerID"]
            async for page in paginator.paginate(PaginationConfig={"PageSize": 5})
            for item in page["items"]
        ]
        assert len(ids) == len(set(ids)) >= 12
        tags = await client.list_tags_for_resource(resourceArn=started["job"]["arn"])
        check("ListTagsForResource", tags)


async def test_aiobotocore_sees_modelled_errors(drs_simulator):
    session = get_session()
    async with session.create_client("drs", **drs_simulator.client_kwargs()) as client:
        await client.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
        with pytest.raises(client.exceptions.ConflictException) as caught:
            await client.start_recovery(sourceServers=[{"sourceServerID": "s-0a000000000000001"}])
        assert caught.value.response["resourceId"] == "s-0a000000000000001"
        drs_simulator.set_faults(throttle_count=1)
        async with session.create_client(
            "drs", config=Config(retries={"total_max_attempts": 1}), **drs_simulator.client_kwargs()
        ) as once:
            with pytest.raises(ClientError) as throttled:
                await once.describe_jobs()
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
        assert throttled.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
