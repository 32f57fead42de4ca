"""drs-local-aws prepares a moto server for plans: what it creates is there, through real clients."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from drs_provider.local_aws import main

if TYPE_CHECKING:
    from tests.fixtures.moto import LocalAws


def test_the_command_creates_what_plans_name(local_aws_services: LocalAws, capsys) -> None:
    local_aws_services.client("ssm").delete_document(Name="AWS-RunShellScript")

    status = main(
        [
            "--endpoint-url", local_aws_services.url,
            "--function", "dr-switch-dns",
            "--command-document", "Shop-Drain",
            "--automation-document", "Shop-Failover",
            "--sns-topic", "dr-events",
            "--s3-bucket", "dr-evidence",
        ]
    )  # fmt: skip

    assert status == 0
    assert "is ready for recovery plans" in capsys.readouterr().out
    assert (
        main(
            [
                "--endpoint-url",
                local_aws_services.url,
                "--s3-bucket",
                "dr-evidence",
                "--function",
                "dr-switch-dns",
            ]
        )
        == 0
    ), "running it again changes nothing"
    ssm = local_aws_services.client("ssm")
    types = {
        name: ssm.describe_document(Name=name)["Document"]["DocumentType"]
        for name in ("AWS-RunShellScript", "Shop-Drain", "Shop-Failover")
    }
    assert types == {"AWS-RunShellScript": "Command", "Shop-Drain": "Command", "Shop-Failover": "Automation"}
    answer = local_aws_services.client("lambda").invoke(
        FunctionName="dr-switch-dns", Payload=json.dumps({"a": 1})
    )
    assert json.loads(answer["Payload"].read()) == {"a": 1}  # answers with its event, no Docker
    assert local_aws_services.client("sns").get_topic_attributes(
        TopicArn="arn:aws:sns:us-east-1:123456789012:dr-events"
    )
    local_aws_services.client("s3").head_bucket(Bucket="dr-evidence")
