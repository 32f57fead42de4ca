"""Beside the DRS simulator: moto's server for every other AWS service (SSM, Lambda, SNS, SQS, S3, STS).

One Airflow ``aws`` connection reaches both (docs/reference/simulator.md): ``endpoint_url`` points at
moto and ``service_config.drs.endpoint_url`` at the simulator (:func:`connection_extra`).

moto starts empty: AWS's own documents such as ``AWS-RunShellScript``, which every account has,
do not exist there until :func:`seed_aws_owned_documents` creates them; :func:`seed_runbook`
creates a plan's own documents and functions. Lambda runs without Docker (a function answers
with the event it was given), set by :func:`use_lambda_without_docker`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import urllib.request
import zipfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
#: The role every seeded Lambda function runs as (moto checks that it exists).
FUNCTION_ROLE = "drs-runbook-function"

_SHELL_DOCUMENT = {
    "schemaVersion": "2.2",
    "description": "Run a shell script (as AWS's own AWS-RunShellScript does).",
    "parameters": {"commands": {"type": "StringList", "description": "The commands to run."}},
    "mainSteps": [
        {"action": "aws:runShellScript", "name": "runShellScript", "inputs": {"runCommand": "{{ commands }}"}}
    ],
}
#: Command documents AWS owns in every account, which plans name without creating them.
AWS_OWNED_COMMAND_DOCUMENTS = ("AWS-RunShellScript", "AWS-RunPowerShellScript")

_AUTOMATION_DOCUMENT = {
    "schemaVersion": "0.3",
    "description": "A runbook step for tests and the demo.",
    "mainSteps": [{"name": "sleep", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
}


def connection_extra(moto_url: str, drs_url: str, region: str = REGION) -> dict[str, Any]:
    """The ``extra`` of an ``aws`` connection that sends DRS to the simulator and the rest to moto."""
    return {
        "region_name": region,
        "endpoint_url": moto_url,
        "service_config": {"drs": {"endpoint_url": drs_url}},
    }


def connection_json(moto_url: str, drs_url: str, region: str = REGION) -> str:
    """``AIRFLOW_CONN_AWS_DEFAULT`` for :func:`connection_extra` (any key pair works on both)."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": connection_extra(moto_url, drs_url, region),
        }
    )


def client(service: str, moto_url: str, region: str = REGION) -> Any:
    """A boto3 client of ``service`` on moto."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _post(url: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def use_lambda_without_docker(moto_url: str) -> None:
    """Make moto run Lambda functions without Docker (each answers with the event it got)."""
    _post(f"{moto_url}/moto-api/config", {"lambda": {"use_docker": False}})


def reset(moto_url: str) -> None:
    """Forget every resource moto holds (its configuration stays)."""
    _post(f"{moto_url}/moto-api/reset")


def prepare(moto_url: str, region: str = REGION) -> None:
    """What every local run needs from moto: Lambda without Docker, AWS's own documents."""
    use_lambda_without_docker(moto_url)
    seed_aws_owned_documents(moto_url, region)


def seed_aws_owned_documents(moto_url: str, region: str = REGION) -> None:
    """Create the documents AWS owns in every account (moto has none of them)."""
    seed_runbook(moto_url, command_documents=AWS_OWNED_COMMAND_DOCUMENTS, region=region)


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def seed_lifecycle(
    moto_url: str, *, topics: Iterable[str] = (), buckets: Iterable[str] = (), region: str = REGION
) -> None:
    """Create the SNS topics (``notify``) and S3 buckets (``report``) that plans name."""
    sns = client("sns", moto_url, region)
    for topic in topics:
        sns.create_topic(Name=topic)
    s3 = client("s3", moto_url, region)
    for bucket in buckets:
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # created before
            s3.create_bucket(Bucket=bucket)


def seed_runbook(
    moto_url: str,
    *,
    command_documents: Iterable[str] = (),
    automation_documents: Iterable[str] = (),
    functions: Iterable[str] = (),
    region: str = REGION,
) -> None:
    """Create the SSM documents and Lambda functions that plans' runbook steps name."""
    ssm = client("ssm", moto_url, region)
    for name, document_type, content in [
        *((name, "Command", _SHELL_DOCUMENT) for name in command_documents),
        *((name, "Automation", _AUTOMATION_DOCUMENT) for name in automation_documents),
    ]:
        with contextlib.suppress(ssm.exceptions.DocumentAlreadyExists):  # created before
            ssm.create_document(Name=name, DocumentType=document_type, Content=json.dumps(content))
    functions = list(functions)
    if not functions:
        return
    iam = client("iam", moto_url, region)
    try:
        role_arn = iam.get_role(RoleName=FUNCTION_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName=FUNCTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    code = _function_zip()
    lam = client("lambda", moto_url, region)
    for name in functions:
        try:
            lam.get_function(FunctionName=name)
            continue  # created before
        except lam.exceptions.ResourceNotFoundException:
            pass
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``drs-local-aws``: prepare a moto server for plans, and create what their steps name."""
    parser = argparse.ArgumentParser(
        prog="drs-local-aws",
        description=(
            "Prepare a moto server for recovery plans: Lambda without Docker, the documents AWS "
            "owns in every account (AWS-RunShellScript, ...), and the functions and documents given."
        ),
    )
    parser.add_argument("--endpoint-url", required=True, help="the moto server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--function", action="append", default=[], help="a Lambda function to create")
    parser.add_argument("--command-document", action="append", default=[], help="an SSM Command document")
    parser.add_argument(
        "--automation-document", action="append", default=[], help="an SSM Automation document"
    )
    parser.add_argument("--sns-topic", action="append", default=[], help="an SNS topic (a plan's notify)")
    parser.add_argument("--s3-bucket", action="append", default=[], help="an S3 bucket (a plan's report)")
    args = parser.parse_args(argv)
    prepare(args.endpoint_url, args.region)
    seed_runbook(
        args.endpoint_url,
        command_documents=args.command_document,
        automation_documents=args.automation_document,
        functions=args.function,
        region=args.region,
    )
    seed_lifecycle(args.endpoint_url, topics=args.sns_topic, buckets=args.s3_bucket, region=args.region)
    print(f"moto at {args.endpoint_url} is ready for recovery plans")
    return 0
