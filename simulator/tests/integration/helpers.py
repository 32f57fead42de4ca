"""Helpers for the simulator's integration tests: response checks against the model, raw HTTP calls."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.validate import ParamValidator

from drs_simulator.validation import validate

if TYPE_CHECKING:
    from collections.abc import Callable

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/drs/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000"
)


class ResponseChecker:
    """Checks every parsed DRS response against the output shape of its operation in the model.

    Two independent checks: botocore's own ``ParamValidator`` (required members, types, unknown
    members, minimum lengths) and the simulator's validator (enums, patterns, maxima).
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if model.output_shape is None or "Error" in parsed:
            return
        body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        report = ParamValidator().validate(body, model.output_shape)
        if report.has_errors():
            self.problems.append(f"{model.name}: {report.generate_report()}")
        for name, message in validate(model.output_shape, body):
            self.problems.append(f"{model.name}: {name}: {message}")
        self.checked += 1


def raw_call(
    url: str,
    method: str,
    path: str,
    body: bytes | str | dict[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    auth: bool = True,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request to the simulator; returns (status, lower-cased headers, parsed JSON body or None)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    sent = {"Content-Type": "application/x-amz-json-1.1", **(headers or {})}
    if auth:
        sent["Authorization"] = AUTH.format(region=region)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    return response.status, found, json.loads(data) if data else None


def refuses_connections(url: str) -> bool:
    """Whether the endpoint at ``url`` refuses TCP connections (nothing listens: an outage)."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def wait_job(client: Any, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The job once COMPLETED."""

    def done() -> dict[str, Any] | None:
        (job,) = client.describe_jobs(filters={"jobIDs": [job_id]})["items"]
        return job if job["status"] == "COMPLETED" else None

    result: dict[str, Any] = wait_for(done, timeout)
    return result
