"""Answer plain HTTP-library calls to Stripe's hosts from the fake, and refuse every other way out.

Apps sometimes call Stripe without the SDK: ``requests.post("https://api.stripe.com/v1/...")``,
an ``httpx`` client (sync or async), ``urllib.request.urlopen``.  Each library is hooked at the
point where it picks the thing that will carry a request, so the fake takes the Stripe URLs
and everything else goes on exactly as before:

* ``requests``: ``Session.get_adapter`` hands out a fake adapter for Stripe URLs.
* ``httpx``: ``Client._transport_for_url`` / ``AsyncClient._transport_for_url`` hand out a
  fake transport for Stripe URLs.
* ``urllib.request``: ``HTTPSHandler.https_open`` / ``HTTPHandler.http_open`` build the
  response from the fake for Stripe hosts.

These hooks sit *above* the layers that ``responses`` (``HTTPAdapter.send``), ``respx``
(httpcore), ``pytest-httpx`` (``HTTPTransport.handle_request``) and ``vcrpy`` (transports,
``http.client``) patch, so a Stripe call never reaches them and their own mocks for other hosts
keep working, whichever was installed first.

Anything else that heads for a Stripe host (``http.client`` used directly, pycurl, raw sockets,
aiohttp outside the SDK) is refused by :class:`NetworkGuard` with :class:`UninterceptedStripeCall`,
and reported, so it can never reach the network.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from ..fake.http import Request, Response
from .sdk import STRIPE_HOSTS, is_stripe_url, split_url

Handler = Callable[[Request], Response]
Report = Callable[[str], None]

REASONS = http.client.responses


class UninterceptedStripeCall(ConnectionRefusedError):
    """A Stripe host was reached by a route the fake cannot answer; nothing left the machine."""


def _answer(handler: Handler, method: str, url: str, headers: Any, body: Any,
            dropped: Callable[[Response], Exception]) -> Response:
    """The fake's answer; an injected delay is slept here, an injected dropped connection or
    timeout raised as ``dropped(response)`` (the library's own exception)."""
    path, query = split_url(url)
    if body is not None and not isinstance(body, (str, bytes)):
        body = body.read() if hasattr(body, "read") else b"".join(body)  # file or iterable
    response = handler(Request(method=method.upper(), path=path, query=query, body=body,
                               headers=dict(headers or {})))
    if response.delay:
        time.sleep(response.delay)
    if response.drop is not None:
        raise dropped(response)
    return response


_DROPPED = "fault injected by pytest-stripe-fixtures"


class _Patches:
    """Attribute replacements that undo in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> Any:
        original = getattr(owner, name)
        setattr(owner, name, value)
        self._saved.append((owner, name, original))
        return original

    def undo(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)


# --- requests ------------------------------------------------------------------------------
# Classes are built once (building a class costs more than a whole fake request) and get the
# handler per instance.


@cache
def _requests_adapter() -> type:
    import requests
    from requests.adapters import BaseAdapter
    from requests.structures import CaseInsensitiveDict

    class FakeStripeAdapter(BaseAdapter):
        """Answers a prepared request from the fake (Session.send does the rest as usual)."""

        def __init__(self, handler: Handler) -> None:
            super().__init__()
            self.handler = handler

        def send(self, request: Any, stream: bool = False, timeout: Any = None,
                 verify: Any = True, cert: Any = None, proxies: Any = None) -> Any:
            answer = _answer(self.handler, request.method, request.url, request.headers,
                             request.body, lambda r: (
                                 requests.exceptions.ReadTimeout if r.drop == "timeout"
                                 else requests.exceptions.ConnectionError)(
                                     _DROPPED, request=request))
            response = requests.Response()
            response.status_code = answer.status
            response.reason = REASONS.get(answer.status, "")
            response.headers = CaseInsensitiveDict(answer.headers)
            response.encoding = "utf-8"
            response._content = answer.content
            response.raw = io.BytesIO(answer.content)
            response.url = request.url
            response.request = request
            response.connection = self
            return response

        def close(self) -> None:
            pass

    return FakeStripeAdapter


def _patch_requests(patches: _Patches, handler: Handler) -> None:
    import requests

    adapter = _requests_adapter()(handler)
    original = requests.Session.get_adapter

    def get_adapter(session: Any, url: str) -> Any:
        if is_stripe_url(url):
            return adapter
        return original(session, url)

    patches.set(requests.Session, "get_adapter", get_adapter)


# --- httpx ---------------------------------------------------------------------------------


@cache
def _httpx_transports() -> tuple[type, type]:
    import httpx

    def dropped(request: httpx.Request) -> Callable[[Response], Exception]:
        return lambda r: (httpx.ReadTimeout if r.drop == "timeout" else httpx.ConnectError)(
            _DROPPED, request=request)

    def respond(handler: Handler, request: httpx.Request, content: bytes) -> httpx.Response:
        answer = _answer(handler, request.method, str(request.url), request.headers, content,
                         dropped(request))
        return httpx.Response(answer.status, headers=answer.headers, content=answer.content,
                              request=request)

    class FakeStripeTransport(httpx.BaseTransport):
        def __init__(self, handler: Handler) -> None:
            self.handler = handler

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return respond(self.handler, request, request.read())

    class AsyncFakeStripeTransport(httpx.AsyncBaseTransport):
        def __init__(self, handler: Handler) -> None:
            self.handler = handler

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return respond(self.handler, request, await request.aread())

    return FakeStripeTransport, AsyncFakeStripeTransport


def _patch_httpx(patches: _Patches, handler: Handler) -> None:
    import httpx

    sync_class, async_class = _httpx_transports()
    for client, transport in ((httpx.Client, sync_class(handler)),
                              (httpx.AsyncClient, async_class(handler))):
        original = client._transport_for_url

        def transport_for_url(self: Any, url: httpx.URL, *, _original: Any = original,
                              _transport: Any = transport) -> Any:
            if url.host in STRIPE_HOSTS:
                return _transport
            return _original(self, url)

        patches.set(client, "_transport_for_url", transport_for_url)


# --- urllib.request ------------------------------------------------------------------------


def _patch_urllib(patches: _Patches, handler: Handler) -> None:
    import urllib.error
    import urllib.request

    def respond(req: urllib.request.Request) -> http.client.HTTPResponse:
        headers = {**req.unredirected_hdrs, **req.headers}
        answer = _answer(handler, req.get_method(), req.full_url, headers, req.data,
                         lambda r: urllib.error.URLError(
                             TimeoutError(_DROPPED) if r.drop == "timeout"
                             else ConnectionResetError(_DROPPED)))
        head = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        raw = (f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, '')}\r\n{head}"
               f"Content-Length: {len(answer.content)}\r\n\r\n").encode("latin-1")
        response = http.client.HTTPResponse(_BytesSocket(raw + answer.content),
                                            method=req.get_method())
        response.begin()
        response.url = req.full_url  # what AbstractHTTPHandler.do_open sets
        response.msg = response.reason  # type: ignore[assignment]
        return response

    for cls, name in ((urllib.request.HTTPSHandler, "https_open"),
                      (urllib.request.HTTPHandler, "http_open")):
        original = getattr(cls, name)

        def open_(self: Any, req: urllib.request.Request, *, _original: Any = original) -> Any:
            if is_stripe_url(req.full_url):
                return respond(req)
            return _original(self, req)

        patches.set(cls, name, open_)


class _BytesSocket:
    """Just enough of a socket for ``http.client.HTTPResponse`` to parse bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self._data)


# --- the interceptor -----------------------------------------------------------------------

_PATCHERS: dict[str, Callable[[_Patches, Handler], None]] = {
    "requests": _patch_requests, "httpx": _patch_httpx, "urllib.request": _patch_urllib}


class LibraryInterceptor:
    """Routes ``requests``, ``httpx`` and ``urllib.request`` calls for Stripe hosts to ``handler``.

    Only libraries already imported are hooked (``import stripe`` imports requests and httpx when
    installed), so installing the interceptor never pays for an import; ``urllib.request`` is
    always hooked.
    """

    _lock = threading.Lock()

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._patches = _Patches()

    def start(self) -> LibraryInterceptor:
        with self._lock:
            for module, patch in _PATCHERS.items():
                if sys.modules.get(module) is not None or module == "urllib.request":
                    patch(self._patches, self.handler)
        return self

    def stop(self) -> None:
        with self._lock:
            self._patches.undo()

    def __enter__(self) -> LibraryInterceptor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the guard -----------------------------------------------------------------------------


class NetworkGuard:
    """Refuses, and reports, every other route to a Stripe host while the fake is active.

    Cheap: Python resolves a host name through ``socket.getaddrinfo`` (``http.client``,
    ``urllib3``, ``httpcore``, asyncio, aiohttp's default resolver all do), so hooking it and
    ``socket.connect`` costs nothing per intercepted request.  ``pycurl`` resolves in C, so its
    ``Curl`` class is wrapped as well when pycurl is loaded.
    """

    def __init__(self, who: str, report: Report | None = None) -> None:
        self.who = who
        self.report = report
        self._patches = _Patches()

    def allows(self) -> bool:
        """Whether a connection to a Stripe host may go out now (never, for the fake)."""
        return False

    def message(self, host: str, how: str) -> str:
        return (
            f"pytest-stripe-fixtures: {self.who} tried to reach {host} through {how}, which the "
            "Stripe fake cannot answer; the call was blocked and never left this machine. The "
            "fake answers the stripe SDK (any of its HTTP clients, sync or async) and plain "
            "requests, httpx and urllib.request calls; use one of those, or point the client at "
            "the `stripe_server` fixture's URL.")

    def refuse(self, host: str, how: str) -> UninterceptedStripeCall:
        message = self.message(host, how)
        if self.report is not None:
            self.report(message)
        return UninterceptedStripeCall(message)

    def start(self) -> NetworkGuard:
        original_getaddrinfo = socket.getaddrinfo
        guard = self

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if _host_of(host) in STRIPE_HOSTS and not guard.allows():
                raise guard.refuse(_host_of(host), "a client that resolves it itself "
                                   "(http.client, aiohttp, a socket, ...)")
            return original_getaddrinfo(host, *args, **kwargs)

        self._patches.set(socket, "getaddrinfo", getaddrinfo)
        for name in ("connect", "connect_ex"):
            original = getattr(socket.socket, name)

            def connect(sock: socket.socket, address: Any, *, _original: Any = original) -> Any:
                if isinstance(address, tuple) and address and \
                        _host_of(address[0]) in STRIPE_HOSTS and not guard.allows():
                    raise guard.refuse(_host_of(address[0]), "a raw socket")
                return _original(sock, address)

            self._patches.set(socket.socket, name, connect)
        pycurl = sys.modules.get("pycurl")
        if pycurl is not None:
            _guard_pycurl(self._patches, pycurl, self)
        return self

    def stop(self) -> None:
        self._patches.undo()

    def __enter__(self) -> NetworkGuard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_upstream = threading.local()


@contextlib.contextmanager
def upstream_send() -> Iterator[None]:
    """Marks the plugin's own request to the recording upstream (``cassettes/upstream.py``):
    the only connection to a Stripe host that :class:`TestRunGuard` lets through."""
    _upstream.depth = getattr(_upstream, "depth", 0) + 1
    try:
        yield
    finally:
        _upstream.depth -= 1


def sending_upstream() -> bool:
    return getattr(_upstream, "depth", 0) > 0


FIXTURES_HINT = (
    "Use the stripe_fake fixture (an in-memory Stripe) or stripe_cassette (replay a "
    "recording) in this test; to run it against Stripe test mode on purpose, mark it "
    "@pytest.mark.stripe_live (or allow the whole suite: --stripe-live / ini stripe_live = true).")


class TestRunGuard(NetworkGuard):
    """Session-wide, while the plugin is active: a connection to a Stripe host that would
    really leave the machine (DNS lookup, socket connect, pycurl) is refused unless the
    running test opted in (``@pytest.mark.stripe_live``, ``--stripe-live``) or it is the
    plugin's own recording request.  Requests another mock library answers (responses,
    respx, pytest-httpx, vcrpy replay) never resolve the host, so they are never seen here.

    ``who()`` names what is running (a test id, or None outside tests); ``allowed()`` says
    whether it opted in."""

    __test__ = False  # not a test class, whatever pytest collects

    def __init__(self, who: Callable[[], str | None], allowed: Callable[[], bool],
                 report: Report) -> None:
        super().__init__("", report)
        self._who = who
        self._allowed = allowed

    def allows(self) -> bool:
        return sending_upstream() or self._allowed()

    def message(self, host: str, how: str) -> str:
        who = self._who()
        where = f"test {who}" if who else "code outside any test (collection or a session " \
            "fixture)"
        return (f"pytest-stripe-fixtures: {where} sent a request to {host} that no Stripe "
                "fixture answered; it was blocked and never left this machine. "
                + FIXTURES_HINT)


def _host_of(host: Any) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return str(host).lower().rstrip(".") if host is not None else ""


def _guard_pycurl(patches: _Patches, pycurl: Any, guard: NetworkGuard) -> None:
    """Refuse ``setopt(URL, <a Stripe URL>)`` (pycurl resolves hosts in C, out of reach).

    ``pycurl.Curl`` is a C type: it is replaced by a subclass.  When a plugin already put a
    Python stand-in there (pytest-recording does, for its own network blocking), the stand-in's
    ``setopt`` is wrapped instead.
    """
    curl = pycurl.Curl

    def check(option: int, value: Any) -> None:
        if option == pycurl.URL and not guard.allows():
            url = value.decode() if isinstance(value, bytes) else str(value)
            if is_stripe_url(url):
                raise guard.refuse(urlsplit(url).hostname or "", "pycurl")

    original_setopt = curl.setopt

    def setopt(self: Any, option: int, value: Any) -> Any:
        check(option, value)
        return original_setopt(self, option, value)

    try:
        patches.set(curl, "setopt", setopt)
    except TypeError:  # the C type itself
        patches.set(pycurl, "Curl", type("Curl", (curl,), {"setopt": setopt,
                                                            "__module__": __name__}))
