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
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from types import FrameType
from typing import Any

from ..fake import Request, Response, StripeFake, formcodec
from ..fake import errors as stripe_errors

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111  # stripe-mock's default
CONTROL_PREFIX = "/_stripe_fixtures/"
MAX_BODY = 8 * 1024 * 1024
MAX_LINE = 65536  # bytes in the request line or one header line
MAX_HEADERS = 100
MAX_HEAD = 4 * MAX_LINE  # the whole request head
RECV_SIZE = 65536
BACKLOG = 128
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may stay silent
TIMEOUT_HOLD = 60.0  # seconds an injected timeout keeps the client waiting (unless latency=)
MAX_CONNECTIONS = 1024  # open connections at most (fewer when the fd limit is lower)
FD_RESERVE = 64  # descriptors left for everything else when the limit sets the cap
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP method (RFC 9110 token)
_VERSION = re.compile(r"HTTP/[0-9]+(\.[0-9]+)?")
_PHRASES = {status.value: status.phrase for status in HTTPStatus}

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
                 webhooks_allow_remote: bool = False, max_connections: int | None = None,
                 **settings: Any) -> None:
        from .webhooks import serve_webhooks

        settings.setdefault("keep_log", False)  # a long-running server must not grow forever
        settings.setdefault("isolate_keys", True)
        self.fake = fake if fake is not None else StripeFake(**settings)
        # webhook endpoints created through the API get real POSTs (loopback unless allowed)
        serve_webhooks(self.fake, allow_remote=webhooks_allow_remote)
        self.log = log
        self.error_log = error_log
        self._httpd = _Listener(host, port, self, max_connections)
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

    def reset(self, key: str | None = None) -> bool:
        """Forget one key's account, or every account; whether there was one to forget."""
        return self.fake.reset(key)

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
            route = (request.method, path.rstrip("/"))
            if route == ("POST", CONTROL_PREFIX + "reset"):
                return self._reset(_keys(query, request.body))
            if route == ("GET", CONTROL_PREFIX + "health"):
                return _json(200, {"object": "stripe_fixtures.health", "status": "ok",
                                   "default_api_version": self.fake.default_version})
            if path.rstrip("/") == CONTROL_PREFIX + "faults":
                return self._faults(request.method, query, request.body)
            raise stripe_errors.StripeError(
                f"Unrecognized control endpoint ({request.method}: {path}). The control "
                f"endpoints are POST {CONTROL_PREFIX}reset (optional key=sk_test_...), "
                f"GET {CONTROL_PREFIX}health and POST|GET|DELETE {CONTROL_PREFIX}faults.",
                status=404)
        except stripe_errors.StripeError as exc:
            return _json(exc.status, exc.body())

    def _reset(self, keys: list[str]) -> Response:
        if not keys:
            self.reset()
            return _json(200, {"object": "stripe_fixtures.reset", "reset": "all"})
        found = {key: self.fake.reset(key) for key in keys}
        kind = ("accounts" if len(keys) > 1 else "account") if any(found.values()) else "none"
        return _json(200, {"object": "stripe_fixtures.reset", "reset": kind, "keys": found})

    def _faults(self, method: str, query: str, body: str | bytes | None) -> Response:
        """``POST`` adds a fault (the form of ``faults.add``), ``GET`` lists them, ``DELETE``
        removes them all (or one key's, with ``key=``)."""
        raw = _decoded(query, body)
        if method == "GET":
            return _json(200, {"object": "list", "url": CONTROL_PREFIX + "faults",
                               "data": [f.describe() for f in self.fake.faults]})
        if method == "DELETE":
            key = raw.pop("key", None)
            for name in raw:
                raise stripe_errors.unknown_param(name)
            self.fake.faults.clear(key)
            return _json(200, {"object": "stripe_fixtures.faults", "deleted": True})
        if method != "POST":
            raise stripe_errors.StripeError(
                f"Unrecognized control endpoint ({method}: {CONTROL_PREFIX}faults).", status=404)
        return _json(200, _add_fault(self.fake, raw).describe())


_FAULT_INTS = ("times", "seed", "status")
_FAULT_FLOATS = ("fraction", "latency")
_FAULT_STRINGS = ("error", "code", "decline_code", "message")


def _add_fault(fake: StripeFake, raw: dict[str, Any]) -> Any:
    """A fault from form params (``pattern=POST /v1/customers&error=rate_limit&times=2``)."""
    from ..fake.faults import FaultError

    pattern = raw.pop("pattern", None)
    if not isinstance(pattern, str) or not pattern:
        raise stripe_errors.missing_param("pattern")
    options: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _FAULT_INTS or name in _FAULT_FLOATS:
            if value in ("", "none", "null") and name == "times":
                options["times"] = None
                continue
            try:
                options[name] = (int if name in _FAULT_INTS else float)(value)
            except (TypeError, ValueError):
                raise stripe_errors.invalid(f"Invalid {name}: {str(value)[:40]}", name) from None
        elif name in _FAULT_STRINGS:
            options[name] = None if name == "error" and value in ("", "none") else value
        elif name == "should_retry":
            if value not in ("true", "false"):
                raise stripe_errors.invalid("should_retry must be true or false", name)
            options[name] = value == "true"
        elif name == "key":
            options["api_key"] = value
        elif name in ("params", "headers") and isinstance(value, dict):
            options[name] = value
        elif name == "body":
            try:
                options["body"] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                raise stripe_errors.invalid("body must be a JSON Stripe error body", name) from None
        else:
            raise stripe_errors.unknown_param(name)
    options.setdefault("error", "api_error" if "body" not in options and "status" not in
                       options and "latency" not in options else None)
    error = options.pop("error")
    try:
        return fake.faults.add(pattern, error, **options)
    except (FaultError, TypeError) as exc:
        raise stripe_errors.invalid(str(exc), "pattern") from None


def _decoded(query: str, body: str | bytes | None) -> dict[str, Any]:
    try:
        return formcodec.decode(query, body)
    except formcodec.FormError as exc:
        raise stripe_errors.invalid(str(exc), exc.param or None) from exc


def _keys(query: str, body: str | bytes | None) -> list[str]:
    """The reset endpoint's parameters: ``key`` (repeated, or ``key[]``), non-empty keys."""
    from urllib.parse import parse_qsl

    keys: list[str] = []
    for source in (query, body):
        if isinstance(source, bytes):
            source = source.decode("utf-8", "replace")
        for name, value in parse_qsl(source or "", keep_blank_values=True):
            if name not in ("key", "key[]") and not re.fullmatch(r"key\[[0-9]+\]", name):
                raise stripe_errors.unknown_param(name)
            if not value:
                raise stripe_errors.invalid("'key' must be a secret key such as sk_test_...",
                                            "key")
            keys.append(value)
    return keys


def _json(status: int, body: Any) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(body))


def _max_connections() -> int:
    """Open connections the server keeps: what the file-descriptor limit leaves after a
    reserve for the rest of the process (logs, imports, sockets of the fake's users)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, soft - FD_RESERVE))


class _Connection:
    """One accepted socket: idle between requests (``idle_since``) or busy answering one."""

    __slots__ = ("sock", "idle_since", "closed")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.idle_since: float | None = time.monotonic()
        self.closed = threading.Event()

    def end(self) -> None:
        """Make the connection's thread stop reading (it closes the socket itself)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Listener:
    """The accept loop: one thread per connection (requests of different accounts run in
    parallel), at most ``max_connections`` open.  At the cap, or when the process runs out of
    file descriptors, the longest-idle keep-alive connection is closed to make room; when
    every connection is busy, the newcomer gets an immediate 503 (never a silent wait, never
    a busy loop)."""

    def __init__(self, host: str, port: int, owner: StripeServer,
                 max_connections: int | None = None) -> None:
        self.owner = owner
        self.max_connections = max_connections or _max_connections()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(BACKLOG)
        except BaseException:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self.connections: dict[int, _Connection] = {}
        self.connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self._stopping.clear()
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    if selector.select(poll_interval):
                        self._accept()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self._stopping.set()
        self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections.values())
        for conn in open_now:
            conn.end()

    def _accept(self) -> None:
        try:
            sock, _ = self.socket.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                if not self._make_room():
                    time.sleep(0.05)  # every connection busy: wait, do not spin
                return
            return
        sock.setblocking(True)
        if len(self.connections) >= self.max_connections and not self._make_room():
            _refuse(sock)
            return
        conn = _Connection(sock)
        with self.connections_lock:
            self.connections[id(conn)] = conn
        try:
            threading.Thread(target=self._serve, args=(conn,), name="stripe-fixtures-conn",
                             daemon=True).start()
        except RuntimeError:  # no thread to be had
            with self.connections_lock:
                self.connections.pop(id(conn), None)
            _refuse(sock)

    def _make_room(self) -> bool:
        """Close the longest-idle connection; False when every one is busy."""
        with self.connections_lock:
            idle = [c for c in self.connections.values() if c.idle_since is not None]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.idle_since or 0.0)
        oldest.end()
        oldest.closed.wait(0.5)  # its descriptor is free once its thread closed it
        return True

    def _serve(self, conn: _Connection) -> None:
        try:
            _Exchange(conn, self.owner).run()
        finally:
            with self.connections_lock:
                self.connections.pop(id(conn), None)
            try:
                conn.sock.close()
            finally:
                conn.closed.set()


def _refuse(sock: socket.socket) -> None:
    body = json.dumps(stripe_errors.StripeError(
        "The server is at its connection limit; retry shortly.", status=503,
        type="api_error").body()).encode()
    try:
        sock.settimeout(1.0)
        sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     b"Retry-After: 1\r\nConnection: close\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
    except OSError:
        pass
    finally:
        sock.close()


# --- one connection -------------------------------------------------------------------------


class _Exchange:
    """Reads HTTP/1.1 requests off one connection and hands each to the engine.  A plain
    parser over the socket's bytes (no email parser, one write per response)."""

    def __init__(self, conn: _Connection, owner: StripeServer) -> None:
        self.conn = conn
        self.sock = conn.sock
        self.owner = owner
        self.buffer = b""
        self.method = ""
        self.path = ""
        self.close = False
        self.started = 0.0

    def run(self) -> None:
        sock = self.sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        sock.settimeout(IDLE_TIMEOUT)
        while not self.close:
            self.conn.idle_since = time.monotonic()
            self.method = self.path = ""
            try:
                head = self._read_head()
                if head is None:
                    return
                self.conn.idle_since = None
                self.started = time.perf_counter()
                self._one(head)
            except HTTPFault as fault:
                self._error(fault.status, str(fault))
                return
            except (TimeoutError, ConnectionError, OSError):
                return
            except Exception:  # never a traceback on the wire or the console, always an answer
                self.owner.error_log("stripe-fixtures: error serving a request:\n"
                                     + traceback.format_exc())
                try:
                    self._error(500, "Internal server error")
                except OSError:
                    pass
                return

    # --- reading ----------------------------------------------------------------------

    def _recv(self) -> bytes:
        data = self.sock.recv(RECV_SIZE)
        if not data:
            raise ConnectionError("closed by the client")
        return data

    def _read_head(self) -> bytes | None:
        """The request line and headers (without the blank line); None at a clean close."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
                if head.startswith(b"\r\n"):  # stray CRLF between requests (RFC 9112 2.2)
                    head = head.lstrip(b"\r\n")
                    if not head:
                        continue
                return head
            if len(self.buffer) > MAX_HEAD:
                first = self.buffer.find(b"\r\n")
                if first < 0 or first > MAX_LINE:
                    raise HTTPFault(414, "Request line too long")
                raise HTTPFault(431, "Request header fields too large")
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                if self.buffer:
                    raise HTTPFault(408, "Request timeout") from None
                return None
            if not data:
                if self.buffer.strip():
                    raise ConnectionError("closed inside the request head")
                return None
            self.buffer += data

    def _one(self, head: bytes) -> None:
        text = head.decode("latin-1")
        request_line, _, header_block = text.partition("\r\n")
        if len(request_line) > MAX_LINE:
            raise HTTPFault(414, "Request line too long")
        words = request_line.split(" ")
        if len(words) != 3:
            raise HTTPFault(400, f"Bad request syntax ({request_line[:100]!r})")
        method, target, version = words
        self.method, self.path = method, target
        if not _TOKEN.fullmatch(method):
            self.method = ""
            raise HTTPFault(400, f"Bad request method ({method[:40]!r})")
        if not _VERSION.fullmatch(version):
            raise HTTPFault(400, f"Bad request version ({version[:20]!r})")
        if not version.startswith("HTTP/1."):
            raise HTTPFault(505, f"Invalid HTTP version ({version})")
        headers = _parse_headers(header_block)
        lowered = {name.lower(): value for name, value in headers}
        connection = lowered.get("connection", "").lower()
        if version == "HTTP/1.0":
            self.close = "keep-alive" not in connection
        elif "close" in connection:
            self.close = True
        body = self._read_body(headers, lowered)
        path = target
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        response = self.owner.answer(Request(method, path, body=body, headers=dict(headers)))
        if response.delay:
            time.sleep(response.delay)  # an injected latency: no lock is held meanwhile
        if response.drop is not None:
            self._drop(response)
            return
        self._write(response.status, response.headers, response.text.encode())

    def _read_body(self, headers: list[tuple[str, str]], lowered: dict[str, str]
                   ) -> bytes | None:
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            self._continue(lowered)
            return self._read_chunked()
        lengths = {v.strip() for n, v in headers if n.lower() == "content-length"}
        if not lengths:
            return None
        if len(lengths) > 1:
            raise HTTPFault(400, "Conflicting Content-Length headers")
        value = lengths.pop()
        if not (value.isascii() and value.isdigit()):
            raise HTTPFault(400, f"Invalid Content-Length: {value[:40]!r}")
        length = int(value) if len(value) < 16 else MAX_BODY + 1
        if length > MAX_BODY:
            raise HTTPFault(413, f"Request body larger than {MAX_BODY} bytes")
        if len(self.buffer) < length:
            self._continue(lowered)
        return self._take(length)

    def _continue(self, lowered: dict[str, str]) -> None:
        if lowered.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _take(self, length: int) -> bytes:
        while len(self.buffer) < length:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:length], self.buffer[length:]
        return data

    def _line(self, limit: int) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end + 1], self.buffer[end + 1:]
                return line
            if len(self.buffer) > limit:
                raise HTTPFault(400, "Malformed chunk size line")
            self.buffer += self._recv()

    def _read_chunked(self) -> bytes:
        """A ``Transfer-Encoding: chunked`` body."""
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = self._line(1026).split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise HTTPFault(400, "Malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                while self._line(MAX_LINE) not in (b"\r\n", b"\n"):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise HTTPFault(413, f"Request body larger than {MAX_BODY} bytes")
            parts.append(self._take(size))
            if self._line(3) not in (b"\r\n", b"\n"):
                raise HTTPFault(400, "Malformed chunk terminator")

    # --- writing ----------------------------------------------------------------------

    def _write(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Status line, headers and body in one write (no Nagle/delayed-ACK stall)."""
        lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, '')}"]
        for name, value in headers.items():
            if name.lower() in ("content-length", "connection"):
                continue
            if "\r" in value or "\n" in value:  # never a line break inside a header
                value = " ".join(value.split())
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(body)}")
        if self.close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.sock.sendall(head if self.method == "HEAD" else head + body)
        self._log(status)

    def _error(self, status: int, message: str) -> None:
        """Malformed HTTP: a Stripe-shaped JSON error, then the connection is closed, since
        the rest of the stream cannot be trusted."""
        self.close = True
        if not self.started:
            self.started = time.perf_counter()
        body = stripe_errors.StripeError(f"Malformed HTTP request: {message}",
                                         status=status).body()
        try:
            self._write(status, {"Content-Type": "application/json"}, json.dumps(body).encode())
        except OSError:
            pass

    def _drop(self, response: Response) -> None:
        """An injected connection error (reset at once) or timeout (silence, then close)."""
        self.close = True
        if response.drop == "timeout":
            self.sock.settimeout(TIMEOUT_HOLD if not response.delay else 0.001)
            try:
                while self.sock.recv(RECV_SIZE):  # silent until the client gives up
                    pass
            except OSError:
                pass
        else:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._log(0)

    def _log(self, status: int) -> None:
        log = self.owner.log
        if log is not None:
            ms = (time.perf_counter() - self.started) * 1000
            path = self.path.partition("?")[0] or "-"
            if not path.isprintable():  # no terminal control characters in the log
                path = path.encode("unicode_escape").decode("ascii")
            log(f"{self.method or '-'} {path} {status or 'dropped'} {ms:.1f}ms")


def _parse_headers(block: str) -> list[tuple[str, str]]:
    """``Name: value`` lines; folded continuation lines (obs-fold) are joined with one space
    (RFC 9112 5.2), so no value ever carries a line break."""
    headers: list[tuple[str, str]] = []
    if not block:
        return headers
    for line in block.split("\r\n"):
        if len(line) > MAX_LINE:
            raise HTTPFault(431, "Request header line too long")
        if line[:1] in (" ", "\t"):
            if not headers:
                raise HTTPFault(400, "A header block cannot start with a continuation line")
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HTTPFault(400, f"Malformed header line ({line[:60]!r})")
        headers.append((name, value.strip()))
        if len(headers) > MAX_HEADERS:
            raise HTTPFault(431, "Too many headers")
    return headers


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
