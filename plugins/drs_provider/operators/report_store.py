"""Where a run's report is kept: its S3 objects, written by ``report`` and probed by ``preflight``.

A report is two objects side by side: ``<run_id>.json`` (the record) and ``<run_id>.html`` (the
same report as a self-contained page for people, :mod:`drs_provider.recovery.report_html`).

Both write through the amazon provider's ``S3Hook.load_string``, so preflight's probe goes the
same way as the report at the end of the run and needs the same permission (``s3:PutObject``
under the report prefix): a bucket that is missing or refuses the write stops the run before
it launches anything, not after its evidence is gone.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from drs_provider.recovery.report_html import HTML_MEDIA_TYPE, render_report_html

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

log = logging.getLogger(__name__)

#: The probe sits beside the report: ``<s3_uri><dag_id>/<run_id>.json.preflight-probe``.
PROBE_SUFFIX = ".preflight-probe"
#: Codes S3 answers a write with when the bucket does not exist.
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404"})


def html_key(report_key: str) -> str:
    """The key of the report's HTML page, beside its JSON: ``<dag_id>/<run_id>.html``."""
    return report_key.removesuffix(".json") + ".html"


def report_locations(bucket: str, report_key: str) -> dict[str, str]:
    """The report's ``location`` (its JSON) and ``html_location`` (its page), as ``s3://`` URIs."""
    return {
        "location": f"s3://{bucket}/{report_key}",
        "html_location": f"s3://{bucket}/{html_key(report_key)}",
    }


def error_code(error: BaseException) -> str:
    """The AWS error code of ``error`` (``NoSuchBucket``); empty when it is not an AWS error answer."""
    if not isinstance(error, ClientError):
        return ""
    return str(error.response.get("Error", {}).get("Code") or "")


def aws_error(error: BaseException) -> str:
    """``AccessDenied: Access Denied`` for an AWS error answer; the exception's type and text otherwise."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code') or 'error'}: {details.get('Message') or error}"
    return f"{type(error).__name__}: {error}"


def put_json(hook: S3Hook, document: Any, bucket: str, key: str) -> None:
    """Write ``document`` as JSON to ``s3://bucket/key``; raises what S3 (or the hook) raised."""
    hook.load_string(json.dumps(document, indent=2, default=str), key=key, bucket_name=bucket, replace=True)


def put_report(hook: S3Hook, report: Any, bucket: str, key: str) -> None:
    """Write ``report``'s HTML page, then its JSON, to ``s3://bucket/key`` and the page's key beside it.

    Both or neither: the page goes first, and is removed again when the JSON (the record) cannot be
    written, so no page stands in the bucket without its record. Raises what S3 raised.
    """
    page = render_report_html(report).encode()
    client = hook.get_conn()
    # The hook's client directly: load_string cannot set the media type a browser needs. Same
    # permission (s3:PutObject under the report prefix) as the JSON and preflight's probe.
    client.put_object(Bucket=bucket, Key=html_key(key), Body=page, ContentType=HTML_MEDIA_TYPE)
    try:
        put_json(hook, report, bucket, key)
    except Exception:
        try:
            client.delete_object(Bucket=bucket, Key=html_key(key))
        except Exception as error:
            log.warning(
                "could not remove the report page s3://%s/%s: %s", bucket, html_key(key), aws_error(error)
            )
        raise


def probe(hook: S3Hook, bucket: str, report_key: str) -> BaseException | None:
    """Write, then remove, a small object beside ``report_key``; the write's error, if it failed.

    A probe that was written but cannot be removed is only logged: the report can be stored.
    """
    key = report_key + PROBE_SUFFIX
    note = {"probe": "written by preflight to check that the run report can be stored; removed at once"}
    try:
        put_json(hook, note, bucket, key)
    except Exception as error:  # whatever stops the write stops the report too
        return error
    try:
        hook.get_conn().delete_object(Bucket=bucket, Key=key)
    except Exception as error:
        log.warning("could not remove the probe object s3://%s/%s: %s", bucket, key, aws_error(error))
    return None
