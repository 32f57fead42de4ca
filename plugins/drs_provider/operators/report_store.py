"""Where a run's report is kept: its S3 object, written by ``report``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


def s3_location(uri: str, dag_id: str, run_id: str) -> tuple[str, str]:
    """``(bucket, key)`` of a run's report: ``<s3_uri><dag_id>/<run_id>.json``."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, f"{prefix}{dag_id}/{run_id}.json"


def aws_error(error: BaseException) -> str:
    """``AccessDenied: Access Denied`` for an AWS error answer; the exception's type and text otherwise."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code') or 'error'}: {details.get('Message') or error}"
    return f"{type(error).__name__}: {error}"


def put_json(hook: S3Hook, document: Any, bucket: str, key: str) -> None:
    """Write ``document`` as JSON to ``s3://bucket/key``; raises what S3 (or the hook) raised."""
    hook.load_string(json.dumps(document, indent=2, default=str), key=key, bucket_name=bucket, replace=True)
