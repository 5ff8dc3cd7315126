"""Serve the fake Stripe over HTTP: ``stripe-fixtures serve [--host 127.0.0.1] [--port 12111]``.

The same :class:`~pytest_stripe_fixtures.fake.StripeFake` that answers in-process answers
here, so a Node or Go service, a subprocess, the Stripe CLI or ``curl`` get the same
behaviour.  Port 12111 is stripe-mock's default, so tools set up for stripe-mock work as
they are (point the SDK's API base at ``http://127.0.0.1:12111``).

* HTTP/1.1 with keep-alive, one thread per connection (standard library only).
* Each distinct secret key is its own account (``StripeFake(isolate_keys=True)``), so
  parallel suites can share one server without seeing each other's objects.
* Control endpoints live under ``/_stripe_fixtures/``, a path Stripe never uses:

  - ``POST /_stripe_fixtures/reset`` forgets every account; with ``key=sk_test_...`` (form
    body or query string) only that key's account.
  - ``GET /_stripe_fixtures/health`` answers ``{"status": "ok", ...}`` (readiness probes).

* Nothing is written to disk.  Malformed HTTP gets a JSON error (400, or 411/413/414/431/505
  where HTTP names the fault) and the connection is closed; never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, BinaryIO

from ..fake import Request, Response, StripeFake, formcodec
from ..fake import errors as stripe_errors

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111  # stripe-mock's default
CONTROL_PREFIX = "/_stripe_fixtures/"
MAX_BODY = 8 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may stay silent
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP method (RFC 9110 token)

Log = Callable[[str], None]


def stderr_log(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class HTTPFault(Exception):
    """The request cannot be read as HTTP: answer ``status`` and close the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- the server -----------------------------------------------------------------------------


class StripeServer:
    """The fake on a TCP port.  Binds on construction (``OSError`` when the port is taken).

    ``port=0`` picks a free port; ``fake`` defaults to a ``StripeFake(isolate_keys=True)``
    built from ``settings`` (``seed``, ``now``, ``default_version``, ``keep_log``, ...);
    ``log`` receives one line per request (method, path, status, ms), None for silence.
    Internal errors of the fake always go to ``error_log`` (stderr by default).
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, *, fake: StripeFake | None = None,
                 log: Log | None = None, error_log: Log = stderr_log,
                 webhooks_allow_remote: bool = False, **settings: Any) -> None:
        from .webhooks import serve_webhooks

        settings.setdefault("keep_log", False)  # a long-running server must not grow forever
        settings.setdefault("isolate_keys", True)
        self.fake = fake if fake is not None else StripeFake(**settings)
        # webhook endpoints created through the API get real POSTs (loopback unless allowed)
        serve_webhooks(self.fake, allow_remote=webhooks_allow_remote)
        self.log = log
        self.error_log = error_log
        self._httpd = _HTTPServer(host, port, self)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to give an SDK as its API base, e.g. ``http://127.0.0.1:12111``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Answer requests in this thread until :meth:`stop` (or an exception) ends it."""
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> StripeServer:
        """Answer requests from a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="stripe-fixtures-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()

    def reset(self, key: str | None = None) -> None:
        """Forget one key's account, or every account."""
        self.fake.reset(key)

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- called by the handler --------------------------------------------------------

    def answer(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        response = self.fake.handle(request)
        if response.status >= 500:
            self._report_internal_errors()
        return response

    def _report_internal_errors(self) -> None:
        pending = self.fake.internal_errors
        while True:
            try:  # another handler thread may take the last one first
                message = pending.pop(0)
            except IndexError:
                return
            self.error_log("stripe-fixtures: internal error in the fake:\n" + message)

    def _control(self, request: Request) -> Response:
        path, _, query = request.path.partition("?")
        try:
            if (request.method, path) == ("POST", CONTROL_PREFIX + "reset"):
                raw = _control_params(query, request.body)
                key = raw.get("key")
                self.reset(key)
                return _json(200, {"object": "stripe_fixtures.reset",
                                   "reset": "all" if key is None else "account"})
            if (request.method, path) == ("GET", CONTROL_PREFIX + "health"):
                return _json(200, {"object": "stripe_fixtures.health", "status": "ok",
                                   "default_api_version": self.fake.default_version})
            raise stripe_errors.StripeError(
                f"Unrecognized control endpoint ({request.method}: {path}). The control "
                f"endpoints are POST {CONTROL_PREFIX}reset (optional key=sk_test_...) and "
                f"GET {CONTROL_PREFIX}health.", status=404)
        except stripe_errors.StripeError as exc:
            return _json(exc.status, exc.body())


def _control_params(query: str, body: str | bytes | None) -> dict[str, Any]:
    """The reset endpoint's parameters: only ``key``, a non-empty string."""
    try:
        raw = formcodec.decode(query, body)
    except formcodec.FormError as exc:
        raise stripe_errors.invalid(str(exc), exc.param or None) from exc
    for name in raw:
        if name != "key":
            raise stripe_errors.unknown_param(name)
    key = raw.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise stripe_errors.invalid("'key' must be a secret key such as sk_test_...", "key")
    return raw


def _json(status: int, body: Any) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(body))


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection; remembers connections so :meth:`close_connections` can end
    idle keep-alive ones at shutdown instead of waiting for them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, host: str, port: int, owner: StripeServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # TCPServer.server_bind, without HTTPServer's reverse DNS lookup of the host name.
        if self.allow_reuse_address and hasattr(socket, "SO_REUSEADDR"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- one connection -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads HTTP/1.1 requests off one connection and hands each to the engine."""

    protocol_version = "HTTP/1.1"
    server_version = "stripe-fixtures"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self) -> None:
        """One request: parse, answer, log.  Every failure ends in a response or a close."""
        self.command = ""
        self.path = ""
        self._started = time.perf_counter()
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            self._started = time.perf_counter()
            if len(self.raw_requestline) > 65536:
                self.raw_requestline = b""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():  # it has answered with send_error
                return
            self._dispatch()
        except HTTPFault as fault:
            self.send_error(fault.status, str(fault))
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except Exception:  # never a traceback on the wire or the console, always an answer
            self.owner.error_log("stripe-fixtures: error serving a request:\n"
                                 + traceback.format_exc())
            self._try_send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")

    @property
    def owner(self) -> StripeServer:
        return self.server.owner

    def _dispatch(self) -> None:
        if not _TOKEN.fullmatch(self.command):
            raise HTTPFault(400, f"Bad request method ({self.command!r})")
        body = self._read_body()
        headers = dict(self.headers.items())
        path = self.path
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        response = self.owner.answer(Request(self.command, path, body=body, headers=headers))
        self._write(response.status, response.headers, response.text.encode())

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return _read_chunked(self.rfile)
        lengths = set(self.headers.get_all("Content-Length") or [])
        if not lengths:
            return None
        if len(lengths) > 1:
            raise HTTPFault(400, "Conflicting Content-Length headers")
        value = lengths.pop().strip()
        if not value.isdigit():
            raise HTTPFault(400, f"Invalid Content-Length: {value!r}")
        length = int(value)
        if length > MAX_BODY:
            raise HTTPFault(413, f"Request body larger than {MAX_BODY} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise ConnectionError("connection closed inside the request body")
        return body

    def _write(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Status line, headers and body in one write (no Nagle/delayed-ACK stall)."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items()
                     if name.lower() not in ("content-length", "connection"))
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self._log(status)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed HTTP (called by ``parse_request`` too): a Stripe-shaped JSON error, then
        the connection is closed, since the rest of the stream cannot be trusted."""
        self.close_connection = True
        try:
            default = HTTPStatus(code).phrase
        except ValueError:
            default = "Bad request"
        text = message or default
        body = stripe_errors.StripeError(f"Malformed HTTP request: {text}", status=code).body()
        self._write(code, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def _try_send_error(self, code: int, message: str) -> None:
        try:
            self.send_error(code, message)
        except OSError:
            self.close_connection = True

    def _log(self, status: int) -> None:
        log = self.owner.log
        if log is not None:
            ms = (time.perf_counter() - self._started) * 1000
            path = self.path.partition("?")[0] or "-"
            if not path.isprintable():  # no terminal control characters in the log
                path = path.encode("unicode_escape").decode("ascii")
            log(f"{self.command or '-'} {path} {status} {ms:.1f}ms")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the standard library's own access log (we write ours in :meth:`_log`)."""


def _read_chunked(rfile: BinaryIO) -> bytes:
    """A ``Transfer-Encoding: chunked`` body."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1026)
        if not line.endswith(b"\n"):
            raise HTTPFault(400, "Malformed chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HTTPFault(400, "Malformed chunk size") from None
        if size < 0:
            raise HTTPFault(400, "Malformed chunk size")
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise HTTPFault(413, f"Request body larger than {MAX_BODY} bytes")
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise ConnectionError("connection closed inside a chunk")
        parts.append(chunk)
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise HTTPFault(400, "Malformed chunk terminator")


# --- running it -----------------------------------------------------------------------------


@contextmanager
def serve_in_background(**settings: Any) -> Iterator[StripeServer]:
    """A server on a free loopback port for the ``with`` block (the ``stripe_server`` fixture).
    Request lines are not logged; internal errors of the fake go to stderr."""
    server = StripeServer(DEFAULT_HOST, 0, **settings)
    with server:
        yield server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}, stripe-mock's; 0 picks a free one)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--api-version", dest="api_version", default=None,
                        help="API version for requests that send no Stripe-Version header "
                             "(default: the newest supported)")
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible ids")
    parser.add_argument("--webhooks-allow-remote", dest="webhooks_allow_remote",
                        action="store_true",
                        help="POST webhooks to endpoint URLs off this machine too (default: "
                             "loopback URLs only)")


def run(args: argparse.Namespace) -> int:
    """``stripe-fixtures serve``: serve until Ctrl-C or SIGTERM; 0 on a clean stop."""
    settings: dict[str, Any] = {}
    if args.seed is not None:
        settings["seed"] = args.seed
    if args.api_version:
        settings["default_version"] = args.api_version
    log = None if args.quiet else stderr_log
    try:
        server = StripeServer(args.host, args.port, log=log,
                              webhooks_allow_remote=args.webhooks_allow_remote, **settings)
    except ValueError:  # the only setting the fake can refuse
        stderr_log(f"stripe-fixtures serve: --api-version {args.api_version!r} is not an API "
                   "version (e.g. 2023-08-16 or 2026-10-28.endive)")
        return 2
    except OSError as exc:
        stderr_log(f"stripe-fixtures serve: cannot listen on {args.host}:{args.port}: "
                   f"{_bind_problem(exc)}")
        return 1
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if not args.quiet:
            stderr_log(f"stripe-fixtures: serving the fake Stripe API on {server.url} "
                       "(each secret key is its own account; Ctrl-C stops)")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    if not args.quiet:
        stderr_log("stripe-fixtures: stopped")
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return int(text)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _bind_problem(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not on this machine"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    return exc.strerror or str(exc)
