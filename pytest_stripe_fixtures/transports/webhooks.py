"""Webhook targets above the engine: WSGI and ASGI apps called in-process, and real HTTP POSTs
for served mode.  ``fake/webhooks.py`` does the signing, queueing and retries; this module only
turns "an app" or "a URL" into ``(payload, headers) -> (status, body)``.

Importing it registers :func:`adapt` with the engine (the plugin does, for ``stripe_fake``).
"""

from __future__ import annotations

import asyncio
import inspect
import io
import ipaddress
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..fake import webhooks

Answer = tuple[int, bytes]


def kind_of(app: Any) -> str | None:
    """``"asgi"``, ``"wsgi"`` or None (a plain ``(payload, headers) -> status`` callable)."""
    plain = inspect.isfunction(app) or inspect.ismethod(app)
    call = app if plain or not callable(app) else type(app).__call__
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    if hasattr(app, "wsgi_app"):  # Flask
        return "wsgi"
    if not (inspect.isfunction(app) or inspect.ismethod(app)) and callable(app):
        try:
            names = list(inspect.signature(app).parameters)
        except (TypeError, ValueError):
            return None
        if names[:2] == ["environ", "start_response"]:  # Django's WSGIHandler, wsgiref apps
            return "wsgi"
    return None


def adapt(app: Any, path: str) -> Callable[[bytes, dict[str, str]], Answer] | None:
    """The target calling ``app`` at ``path``; None when ``app`` is a plain callable."""
    kind = kind_of(app)
    if kind == "wsgi":
        return lambda payload, headers: call_wsgi(app, path, payload, headers)
    if kind == "asgi":
        return lambda payload, headers: call_asgi(app, path, payload, headers)
    return None


def call_wsgi(app: Any, path: str, payload: bytes, headers: dict[str, str]) -> Answer:
    """POST ``payload`` to a WSGI app, in this thread."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(payload)),
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    status: list[str] = []

    def start_response(line: str, response_headers: Any, exc_info: Any = None) -> Any:
        status[:] = [line]
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(status[0].split(" ", 1)[0]), body


def call_asgi(app: Any, path: str, payload: bytes, headers: dict[str, str]) -> Answer:
    """POST ``payload`` to an ASGI app, on an event loop of its own in a helper thread (so it
    works from sync tests and from inside a running loop alike); waits for the answer."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["answer"] = asyncio.run(_asgi(app, path, payload, headers))
        except BaseException as exc:  # noqa: B902 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="stripe-fixtures-asgi-webhook", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


async def _asgi(app: Any, path: str, payload: bytes, headers: dict[str, str]) -> Answer:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in {**headers, "Content-Length": str(len(payload)),
                                      "Host": "localhost"}.items()],
             "client": ("127.0.0.1", 0), "server": ("localhost", 80)}
    sent = False
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)  # nothing more: the app answers before this matters
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return (status[0] if status else 500), b"".join(chunks)


# --- served mode: real HTTP -------------------------------------------------------------------


class RemoteURLRefused(Exception):
    """A webhook URL off this machine, without ``allow_remote``."""


def http_sender(*, allow_remote: bool = False, timeout: float = 10.0
                ) -> Callable[[str, bytes, dict[str, str]], tuple[int, str]]:
    """POSTs events to webhook endpoint URLs; loopback hosts only unless ``allow_remote``."""

    def send(url: str, payload: bytes, headers: dict[str, str]) -> tuple[int, str]:
        host = urlsplit(url).hostname or ""
        if not allow_remote and not _is_loopback(host):
            raise RemoteURLRefused(f"{url}: not a loopback address (serve with "
                                   "--webhooks-allow-remote to deliver there)")
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    return send


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_webhooks(fake: Any, *, allow_remote: bool = False) -> None:
    """Served mode: endpoints created through ``/v1/webhook_endpoints`` get real POSTs, from a
    background thread (the API answer does not wait for the receiver)."""
    fake.webhooks.sender = http_sender(allow_remote=allow_remote)
    fake.webhooks.mode = "background"


webhooks.use_adapter(adapt)
