"""The HTTP server (stdlib ``ThreadingHTTPServer``): its request handler, serving loop and outages.

It carries bytes between sockets and :mod:`.responses` (DRS calls) or :mod:`.control` (the
``/_simulator/`` API). :mod:`.in_process` starts one in a background thread; ``__main__`` in the
main thread.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from drs_simulator import control, responses
from drs_simulator.urls import CONTROL_PREFIX, CONTROL_ROUTES, SPEED_HEADER

if TYPE_CHECKING:
    from drs_simulator.models import Simulator

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
        if self.server.in_outage:  # read just before the outage began: it never reaches DRS
            self._drop()
            return
        parts = urlsplit(self.path)
        path = parts.path or "/"
        simulator = self.server.simulator
        if path.startswith(CONTROL_PREFIX):
            reply = self._control(simulator, path, parts.query, body)
            outage = simulator.draw_outage(None)
            if outage is not None:
                # POST /_simulator/faults {"outage_seconds": N}: down before the answer goes out,
                # so that whoever reads the answer finds the endpoint refusing connections.
                self.server.begin_outage(outage, trigger=f"{self.command} {path}", spare=self.connection)
                self.close_connection = True
            self._send(reply)
            return
        headers = {key: value for key, value in self.headers.items()}
        reply = responses.handle_drs(simulator, self.command, path, parts.query, headers, body)
        if responses.no_answer(reply):
            if reply.outage is not None:
                self.server.begin_outage(reply.outage.seconds, trigger=reply.outage.trigger)
            self._drop()
            return
        reply.headers.setdefault(SPEED_HEADER, f"{simulator.clock.speed:g}")
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
        except control.ControlError as exc:
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
    """The HTTP server, with its own serving loop so that it can go down and come back (an outage).

    During an outage the listening socket is closed, so connections are refused by the operating
    system, and every open connection is shut down; afterwards a new socket listens on the same
    address. The simulator's state is untouched.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._listening = threading.Event()
        # Guards the listening socket: the loop holds it while it polls, an outage while it closes it.
        self._listener = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._outage_ends: float | None = None
        self._outage_record: dict[str, Any] | None = None
        super().__init__(address, DrsRequestHandler)
        self._listening.set()

    # -- serving ------------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                with self._listener:
                    dark = self._outage_ends is not None
                    if not dark:
                        ready, _, _ = select.select([self.socket], [], [], poll_interval)
                        if ready and not self._stop.is_set():
                            self._accept_one()
                if dark:
                    self._wait_out_outage(poll_interval)
        finally:
            self._stop.clear()
            self._stopped.set()

    def _accept_one(self) -> None:
        """Accept one waiting connection and hand it to a handler thread (as socketserver does)."""
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread) and wait until it has returned."""
        self._stop.set()
        self._stopped.wait()

    def server_close(self) -> None:
        self._close_connections()
        super().server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    # -- outages ------------------------------------------------------------------------------

    @property
    def in_outage(self) -> bool:
        return self._outage_ends is not None

    def begin_outage(self, seconds: float, trigger: str, spare: socket.socket | None = None) -> None:
        """Refuse connections from now on for ``seconds`` (real time), keeping all state.

        Returns once the listening socket is closed and every open connection but ``spare`` (the
        one that asked for the outage, still to get its answer) is shut down.
        """
        with self._listener:
            ends = time.monotonic() + seconds
            if self._outage_ends is not None:  # already down: the later end wins
                self._outage_ends = max(self._outage_ends, ends)
                return
            self._listening.clear()
            self.socket.close()
            self._outage_ends = ends
            self._outage_record = self.simulator.outage_started(seconds, trigger)
        log.info("outage: refusing connections for %g s (%s)", seconds, trigger)
        self._close_connections(spare)

    def end_outage(self, timeout: float = 10.0) -> None:
        """End an outage now (in-process tests) and wait until the endpoint listens again."""
        with self._listener:
            if self._outage_ends is not None:
                self._outage_ends = time.monotonic()
        if not self._listening.wait(timeout):
            raise RuntimeError(f"the simulator did not listen again on {self.server_address} in {timeout} s")

    def _wait_out_outage(self, poll_interval: float) -> None:
        ends = self._outage_ends
        if ends is not None and time.monotonic() < ends:
            self._stop.wait(min(poll_interval, ends - time.monotonic()))
            return
        with self._listener:
            try:
                self._listen_again()
            except OSError as exc:  # another process took the port meanwhile: keep trying
                log.warning("outage over, but %s cannot be listened on again: %s", self.server_address, exc)
                self._stop.wait(poll_interval)
                return
            self._outage_ends = None
            if self._outage_record is not None:
                self.simulator.outage_ended(self._outage_record)
                self._outage_record = None
            self._listening.set()
        log.info("outage over: listening again on %s", self.server_address)

    def _listen_again(self) -> None:
        fresh = socket.socket(self.address_family, self.socket_type)
        try:
            self.socket = fresh
            # TCPServer's bind (SO_REUSEADDR, bind, server_address); HTTPServer's would look up the
            # host name again, which it learnt when the server started.
            socketserver.TCPServer.server_bind(self)
            self.server_activate()
        except OSError:
            fresh.close()
            raise

    def _close_connections(self, spare: socket.socket | None = None) -> None:
        with self._connections_lock:
            open_now = [connection for connection in self._connections if connection is not spare]
        for connection in open_now:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


def server_url(server: DrsHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = host if isinstance(host, str) else host.decode()
    if shown in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
