"""DrsHook pieces that need no server: the Retry-After handler, chunking, time formats."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from drs_provider.hooks.chunking import chunked
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.throttling import THROTTLE_MAX_ATTEMPTS, THROTTLE_MAX_DELAY, retry_after_throttling


def http_response(status: int, headers: dict[str, str] | None = None) -> AWSResponse:
    return AWSResponse(
        "https://drs.us-east-1.amazonaws.com/DescribeJobs", status, HTTPHeaders.from_dict(headers or {}), None
    )


THROTTLED = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}


def test_throttled_call_waits_the_retry_after_header():
    delay = retry_after_throttling(response=(http_response(429, {"Retry-After": "4"}), THROTTLED), attempts=1)

    assert delay == 4


def test_throttled_call_without_header_backs_off_exponentially_with_a_cap():
    first = retry_after_throttling(response=(http_response(429), THROTTLED), attempts=1)
    late = retry_after_throttling(response=(http_response(429), THROTTLED), attempts=12)

    assert 0.5 <= first <= 1.0
    assert 10.0 <= late <= 20.0


def test_huge_retry_after_is_capped():
    delay = retry_after_throttling(
        response=(http_response(429, {"Retry-After": "3600"}), THROTTLED), attempts=1
    )

    assert delay == THROTTLE_MAX_DELAY


def test_other_answers_are_left_to_botocore():
    conflict = {"Error": {"Code": "ConflictException"}}

    assert retry_after_throttling(response=(http_response(409), conflict), attempts=1) is None
    assert retry_after_throttling(response=(http_response(200), {}), attempts=1) is None
    assert retry_after_throttling(response=None, attempts=1, caught_exception=ConnectionError()) is None


def test_throttling_retries_stop_after_the_cap():
    response = (http_response(429, {"Retry-After": "1"}), THROTTLED)

    assert retry_after_throttling(response=response, attempts=THROTTLE_MAX_ATTEMPTS - 1) == 1
    assert retry_after_throttling(response=response, attempts=THROTTLE_MAX_ATTEMPTS) is None


def test_the_handler_is_registered_on_the_hooks_clients():
    hook = DrsHook(aws_conn_id=None, region_name="us-east-1")

    handlers = list(hook.conn.meta.events._emitter._lookup_cache.get("needs-retry.drs.DescribeJobs", ()))
    if not handlers:  # the lookup cache fills on first emit; ask the emitter directly
        handlers = list(
            hook.conn.meta.events._emitter._handlers.prefix_search("needs-retry.drs.DescribeJobs")
        )

    assert retry_after_throttling in handlers
    assert handlers.index(retry_after_throttling) == 0


def test_chunked_keeps_order_and_size():
    assert [list(chunk) for chunk in chunked(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([1], 0))
