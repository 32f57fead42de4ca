"""The wire layer: parse a DRS REST-JSON request, call the model, serialise the answer or the error.

Transport-independent: :func:`handle_drs` takes method, path, query, headers and body bytes and
returns a :class:`Reply`: an answer, or status 0 meaning: close the connection without answering
(:data:`DROP`, or :func:`outage_reply`: also take the endpoint down for a while).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from drs_simulator import exceptions as errors
from drs_simulator import service
from drs_simulator.models import OPERATIONS, Simulator
from drs_simulator.validation import summary, validate

CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class Outage:
    seconds: float
    #: What started it, for the outage record: an operation name or a control endpoint.
    trigger: str


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: With status 0: the endpoint goes down (an outage) before the connection is closed.
    outage: Outage | None = None


INJECTED_500 = "Simulated internal error (fault injection)"

DROP = Reply(status=0)
"""Sentinel: the call was carried out but the client gets no answer (the connection is closed)."""


def outage_reply(seconds: float, trigger: str) -> Reply:
    """No answer, and the endpoint refuses connections for ``seconds`` (the server carries it out)."""
    return Reply(status=0, outage=Outage(seconds, trigger))


def no_answer(reply: Reply) -> bool:
    return reply.status == 0


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
    base = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    base.update(headers or {})
    return Reply(status=status, body=body, headers=base)


def error_reply(error: errors.DrsError) -> Reply:
    headers = {"x-amzn-ErrorType": error.code, **error.headers}
    return json_reply(error.status, error.body(), headers)


def region_from_authorization(header: str | None) -> str:
    """The region of the SigV4 credential scope; raises the errors AWS answers without a good header."""
    if not header:
        raise errors.MissingAuthenticationTokenException()
    if not header.startswith("AWS4-HMAC-SHA256"):
        raise errors.IncompleteSignatureException(
            "Authorization header requires the AWS4-HMAC-SHA256 algorithm (Signature Version 4)"
        )
    found = CREDENTIAL_SCOPE.search(header)
    if found is None:
        raise errors.IncompleteSignatureException(
            "Authorization header requires 'Credential' parameter with a credential scope "
            "<key>/<date>/<region>/<service>/aws4_request"
        )
    return found.group(3)


def _parse_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.ValidationException(
            f"Could not parse the request body as JSON: {exc}", reason="cannotParse"
        ) from exc
    if not isinstance(parsed, dict):
        raise errors.ValidationException(
            "Could not parse the request body: a JSON object was expected", reason="cannotParse"
        )
    return parsed


def build_params(
    operation: str, labels: dict[str, str], query: dict[str, list[str]], headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """The operation's input as one dict, members taken from body, URI, query string and headers."""
    shape = service.operation(operation).input_shape
    params: dict[str, Any] = {}
    payload = _parse_body(body)
    if shape is None:
        return params
    lower_headers = {k.lower(): v for k, v in headers.items()}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location is None:
            if name in payload:
                params[name] = payload[name]
        elif location == "uri":
            if wire in labels:
                params[name] = unquote(labels[wire])
        elif location == "querystring":
            if wire in query:
                values = query[wire]
                if member.type_name == "list":
                    params[name] = values
                elif member.type_name in ("integer", "long"):
                    params[name] = int(values[0]) if values[0].lstrip("-").isdigit() else values[0]
                elif member.type_name == "boolean":
                    params[name] = values[0].lower() == "true"
                else:
                    params[name] = values[0]
        elif location == "header" and wire.lower() in lower_headers:
            params[name] = lower_headers[wire.lower()]
    return params


def _job_ids(*documents: Any) -> list[str]:
    """Every DRS job ID in the documents (jobID/jobIDs members, job ARNs), in order, once each."""
    found: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "jobID" and isinstance(item, str):
                    found[item] = None
                elif key == "jobIDs" and isinstance(item, list):
                    for job_id in item:
                        if isinstance(job_id, str):
                            found[job_id] = None
                elif key == "resourceArn" and isinstance(item, str) and ":job/" in item:
                    found[item.rsplit("/", 1)[-1]] = None
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for document in documents:
        walk(document)
    return list(found)


def handle_drs(
    simulator: Simulator,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
) -> Reply:
    """Answer one DRS API call (anything that is not under ``/_simulator/``)."""
    started = time.time()
    lower_headers = {k.lower(): v for k, v in headers.items()}
    entry: dict[str, Any] = {
        "operation": None,
        "time": started,
        "simulated_time": simulator.clock.now(),
        "method": method,
        "path": path,
        "region": None,
        "request": None,
        "status": None,
        "error": None,
        "job_ids": [],
        "throttled": False,
        "error_injected": False,
        "dropped": False,
        "outage": False,
    }
    error_jobs: list[str] = []
    try:
        try:
            entry["request"] = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            entry["request"] = body.decode("utf-8", "replace")
        reply, result = _dispatch(simulator, method, path, query_string, lower_headers, body, entry)
    except errors.DrsError as exc:
        reply, result = error_reply(exc), None
        entry["error"] = exc.code
        entry["message"] = exc.message
        error_jobs = exc.job_ids
    except Exception as exc:  # never let a request take the server down
        error = errors.InternalServerException(
            f"Internal error in the DRS simulator: {type(exc).__name__}: {exc}"
        )
        reply, result = error_reply(error), None
        entry["error"] = error.code
        entry["message"] = error.message
    entry["status"] = None if no_answer(reply) else reply.status
    entry["job_ids"] = _job_ids(entry["request"], result, {"jobIDs": error_jobs})
    entry["duration"] = time.time() - started
    simulator.record(entry)
    return reply


def _dispatch(
    simulator: Simulator,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
    entry: dict[str, Any],
) -> tuple[Reply, dict[str, Any] | None]:
    routed = service.match(method, path)
    if routed is not None:
        entry["operation"] = routed[0].operation
    region = region_from_authorization(headers.get("authorization"))
    entry["region"] = region
    if routed is None:
        raise errors.UnknownOperationException(
            f"No DRS operation is bound to {method} {path}"
            + (" (that path exists with another HTTP method)" if service.path_exists(path) else "")
        )
    route, labels = routed
    operation = route.operation
    if operation not in OPERATIONS:
        raise errors.NotImplementedOperation(
            f"The DRS simulator does not implement {operation} "
            f"(implemented: {', '.join(sorted(OPERATIONS))}; "
            "see python -m drs_simulator --list-operations)"
        )

    outage = simulator.draw_outage(operation, "before")
    if outage is not None:
        entry["outage"] = True
        return outage_reply(outage, operation), None
    latency = simulator.draw_latency(operation)
    if latency > 0:
        time.sleep(latency)
    retry_after = simulator.draw_throttle(operation)
    if retry_after is not None:
        entry["throttled"] = True
        raise errors.ThrottlingException("Rate exceeded", retry_after_seconds=retry_after)
    _inject_error(simulator, operation, "before", entry, None)

    query = parse_qs(query_string, keep_blank_values=True)
    params = build_params(operation, labels, query, headers, body)
    entry["request"] = params
    op_model = service.operation(operation)
    if op_model.input_shape is not None:
        problems = validate(op_model.input_shape, params)
        if problems:
            raise errors.ValidationException(
                summary(problems),
                reason="fieldValidationFailed",
                field_list=[{"name": name, "message": message} for name, message in problems],
            )

    result = simulator.call(operation, region, params)
    if simulator.strict and op_model.output_shape is not None:
        problems = validate(op_model.output_shape, result)
        if problems:
            raise errors.InternalServerException(
                f"DRS simulator bug: the {operation} response breaks the service model: {summary(problems)}"
            )
    _inject_error(simulator, operation, "after", entry, result)
    outage = simulator.draw_outage(operation, "after")
    if outage is not None:
        entry["outage"] = True
        return outage_reply(outage, operation), result
    if simulator.draw_drop(operation):
        entry["dropped"] = True
        return DROP, result
    # A 204 carries no body: bytes after it would be read as the next answer on the connection.
    payload = result if op_model.output_shape is not None and route.status != 204 else None
    return json_reply(route.status, payload), result


def _inject_error(
    simulator: Simulator, operation: str, when: str, entry: dict[str, Any], result: dict[str, Any] | None
) -> None:
    """Raise the server error the fault set draws for this call at ``when``, if any."""
    status = simulator.draw_error(operation, when)
    if status is None:
        return
    entry["error_injected"] = True
    error: errors.DrsError = (
        errors.ServiceUnavailable() if status == 503 else errors.InternalServerException(INJECTED_500)
    )
    # An error after the call: what it did (say the job it created) still shows in the call log.
    error.job_ids = _job_ids(result)
    raise error
