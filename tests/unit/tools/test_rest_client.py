"""The e2e REST client against a real HTTP server that answers like a busy SQLite-backed API server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from tools.rest_client import RestApiError, RestClient

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.unit

LOCKED = {"detail": {"reason": "Unknown", "orig_error": "database is locked", "statement": "UPDATE ..."}}


class FakeApiServer(ThreadingHTTPServer):
    """Issues tokens; answers each PATCH with the next of ``answers`` (status, body); logs requests."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers = answers
        self.patches: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeApiServer

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(201, {"access_token": "token"})

    def do_PATCH(self) -> None:
        self.server.patches.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._answer(*self.server.answers.pop(0))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[FakeApiServer] = []

    def start(answers: list[tuple[int, dict[str, Any]]]) -> FakeApiServer:
        server = FakeApiServer(answers)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_request_sqlite_refused_as_locked_is_sent_again(serve: Any) -> None:
    server = serve([(500, LOCKED), (500, LOCKED), (200, {"is_paused": False})])

    RestClient(server.url, "admin", "secret", locked_waits=(0.0, 0.0)).unpause("drs_plan_shop")

    assert server.patches == [{"is_paused": False}] * 3


def test_a_lock_that_outlasts_the_retries_is_an_error_and_other_failures_are_not_retried(serve: Any) -> None:
    waits = (0.0, 0.0, 0.0)
    server = serve([(500, LOCKED)] * (len(waits) + 1) + [(500, {"detail": "boom"})])
    client = RestClient(server.url, "admin", "secret", locked_waits=waits)

    refused = r"refused as locked on 4 tries, answered after [\d., ]+ s.*database is locked"
    with pytest.raises(RestApiError, match=refused):
        client.unpause("drs_plan_shop")
    with pytest.raises(RestApiError, match="boom") as other:
        client.unpause("drs_plan_shop")

    assert "refused as locked" not in str(other.value)
    assert len(server.patches) == len(waits) + 2
