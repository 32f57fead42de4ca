"""The HTTP server (stdlib ``ThreadingHTTPServer``) and the in-process starter for tests."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from drs_provider.simulator import SAMPLE_FLEET, responses
from drs_provider.simulator.fleet import Fleet, load_fleet
from drs_provider.simulator.models import Simulator
from drs_provider.simulator.urls import CONTROL_PREFIX, CONTROL_ROUTES

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024


class DrsRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stalls)
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server_version = "drs-simulator"
    sys_version = ""
    server: DrsHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            return b""
        size = int(length)
        if size < 0 or size > MAX_BODY:
            raise ValueError(f"Content-Length {size} out of range")
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY:
                raise ValueError("body too large")

    def _send(self, reply: responses.Reply) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        """Close the connection without a response (the "accept but drop the answer" fault)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(responses.json_reply(400, {"message": "Bad request body"}))
            return
        parts = urlsplit(self.path)
        path = parts.path or "/"
        simulator = self.server.simulator
        if path.startswith(CONTROL_PREFIX):
            self._send(self._control(simulator, path, parts.query, body))
            return
        headers = {key: value for key, value in self.headers.items()}
        reply = responses.handle_drs(simulator, self.command, path, parts.query, headers, body)
        if reply is responses.DROP:
            self._drop()
            return
        self._send(reply)

    def _control(self, simulator: Simulator, path: str, query: str, body: bytes) -> responses.Reply:
        handler = CONTROL_ROUTES.get((self.command, path))
        if handler is None:
            known = sorted({f"{m} {p}" for m, p in CONTROL_ROUTES})
            return responses.json_reply(
                404, {"error": f"no control endpoint {self.command} {path}", "endpoints": known}
            )
        try:
            result = handler(simulator, parse_qs(query), body)
        except responses.ControlError as exc:
            return responses.json_reply(exc.status, {"error": str(exc)})
        except Exception as exc:
            log.exception("control endpoint %s failed", path)
            return responses.json_reply(500, {"error": f"{type(exc).__name__}: {exc}"})
        return responses.json_reply(200, result)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()


class DrsHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        super().__init__(address, DrsRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def make_server(
    fleet: Fleet | dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    *,
    strict: bool = False,
    fleet_dir: str | Path | None = None,
) -> DrsHTTPServer:
    """A bound, not yet serving, server for ``fleet`` (default: the sample fleet).

    ``fleet_dir``: where ``POST /_simulator/reset {"fleet_path": ...}`` may read fleet files;
    default the directory of the fleet file (none when the fleet is given as data).
    """
    source = SAMPLE_FLEET if fleet is None else fleet
    directory = default_fleet_dir(source) if fleet_dir is None else Path(fleet_dir)
    simulator = Simulator(load_fleet(source), speed, strict=strict, fleet_dir=directory)
    return DrsHTTPServer((host, port), simulator)


def default_fleet_dir(fleet: Fleet | dict[str, Any] | str | Path) -> Path | None:
    """The directory of a fleet given as a file; None for a fleet given as data."""
    return Path(fleet).resolve().parent if isinstance(fleet, (str, Path)) else None


def server_url(server: DrsHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = host if isinstance(host, str) else host.decode()
    if shown in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class RunningSimulator:
    """A simulator serving in a background thread. ``.url`` is the endpoint_url; ``.stop()`` ends it."""

    def __init__(self, server: DrsHTTPServer) -> None:
        self.server = server
        self.simulator = server.simulator
        self.url = server_url(server)
        self.host, self.port = server.server_address[0], server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="drs-simulator", daemon=True
        )
        self._thread.start()

    @property
    def region(self) -> str:
        return self.simulator.fleet.region

    @property
    def account_id(self) -> str:
        return self.simulator.fleet.account_id

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The DRS calls received so far, oldest first (in-process; no HTTP)."""
        return self.simulator.call_log(operation)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSimulator(url={self.url!r}, region={self.region!r}, account_id={self.account_id!r})"


def start_in_thread(
    fleet: Fleet | dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    *,
    strict: bool = False,
    fleet_dir: str | Path | None = None,
) -> RunningSimulator:
    """Start a simulator in this process (port 0: a free port) and return once it accepts calls."""
    return RunningSimulator(make_server(fleet, host, port, speed, strict=strict, fleet_dir=fleet_dir))


def health_json(simulator: Simulator) -> str:
    return json.dumps(simulator.state())
