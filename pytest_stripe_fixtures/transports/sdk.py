"""Route the ``stripe`` SDK's requests to a fake, in-process, below the SDK's retry loop.

stripe-python sends every request of every client class (``RequestsClient``,
``UrllibClient``, ``HTTPXClient``, ``AIOHTTPClient``, ...) through
``HTTPClient._request_with_retries_internal`` (and its ``_async`` twin), for both
``StripeClient`` and the global ``stripe.Product.create(...)`` style.  That loop calls the
client's per-attempt ``request`` / ``request_stream`` (``*_async``), decides on retries
(``max_network_retries``, 409s, 5xx, ``Stripe-Should-Retry``), sleeps its backoff and reuses
one ``Idempotency-Key``.  The interceptor runs the SDK's own loop unchanged and answers each
*attempt* from the fake: the loop is given the client behind a thin stand-in whose per-attempt
methods ask the fake, so retries behave exactly as against Stripe.  The backoff sleeps are
made instant (``instant_retries=False`` keeps them).  An injected connection error or timeout
is raised as the ``APIConnectionError`` the SDK's clients raise.  Without ``httpx`` or
``aiohttp``, an ``*_async`` call raises the SDK's own ``ImportError``.  Other hosts (e.g. an
``api_base`` the user pointed at stripe-mock) go to the original methods.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

from ..fake.http import Headers, Request, Response

STRIPE_HOSTS = frozenset({"api.stripe.com", "files.stripe.com", "connect.stripe.com",
                          "meter-events.stripe.com", "upload.stripe.com"})

Handler = Callable[[Request], Response]
# (method, url, headers, post_data) -> the SDK HTTP client's (body, status, headers)
Answer = Callable[[str, str, Any, Any], tuple[str, int, Headers]]


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


_API = "https://api.stripe.com/"  # nearly every request: checked without parsing the URL


def is_stripe_url(url: str) -> bool:
    if url.startswith(_API):
        return True
    host = urlsplit(url).hostname or ""
    return host in STRIPE_HOSTS


def split_url(url: str) -> tuple[str, str]:
    """``(path, query)`` of a URL; Stripe's API host without parsing the URL."""
    if url.startswith(_API):
        path, _, query = url[len(_API) - 1:].partition("?")
        return path, query
    parts = urlsplit(url)
    return parts.path, parts.query


def _answer_with(handler: Handler) -> Callable[[str, str, Any, Any], Response]:
    """Ask the engine's ``handler`` with the SDK's own arguments."""

    def answer(method: str, url: str, headers: Any, post_data: Any) -> Response:
        path, query = split_url(url)
        return handler(Request(method.upper(), path, query, post_data, headers or {}))

    return answer


def _from_sdk_answer(answer: Answer) -> Callable[[str, str, Any, Any], Response]:
    def respond(method: str, url: str, headers: Any, post_data: Any) -> Response:
        text, status, rheaders = answer(method, url, headers, post_data)
        response = Response(status, dict(rheaders), text)
        response.sdk_headers = rheaders  # type: ignore[attr-defined]
        return response

    return respond


_NETWORK_MESSAGE = textwrap.fill(
    "Unexpected error communicating with Stripe.  If this problem persists, let us know at "
    "support@stripe.com.")


def connection_error(response: Response) -> Exception:
    """The ``APIConnectionError`` the SDK's HTTP clients raise for a dropped connection or a
    timeout (retryable, as theirs are)."""
    import stripe

    what = ("ConnectTimeout: the request timed out" if response.drop == "timeout"
            else "ConnectionError: the connection was closed")
    return stripe.APIConnectionError(
        f"{_NETWORK_MESSAGE}\n\n(Network error: {what} (fault injected by "
        "pytest-stripe-fixtures))", should_retry=True)


_STANDIN = "_pytest_stripe_fixtures_attempts"


class _Attempts:
    """The client as the SDK's retry loop sees it, with each attempt answered by the fake.

    Everything else (telemetry, ``_should_retry``, metrics, ``sleep_async``) is the client's
    own."""

    def __init__(self, client: Any, respond: Callable[[str, str, Any, Any], Response],
                 instant: bool) -> None:
        self._client = client
        self._respond = respond
        self._instant = instant
        self._should_retry = client._should_retry  # bound once: no __getattr__ per request

    @staticmethod
    def _add_telemetry_header(headers: Any) -> Any:
        """No ``X-Stripe-Client-Telemetry``: it tells Stripe how long the previous request
        took, which no fake reads (and the SDK's json.dumps of it is a third of our cost)."""
        return headers

    def _record_request_metrics(self, response: Any, request_start: Any, usage: Any) -> None:
        """Nothing to record: no telemetry header is sent (see above)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0 if self._instant else self._client._sleep_time_seconds(num_retries)

    def _attempt(self, method: str, url: str, headers: Any, post_data: Any) -> Response:
        response = self._respond(method, url, headers, post_data)
        if response.drop is not None:
            if response.delay:
                time.sleep(response.delay)
            raise connection_error(response)
        return response

    def request(self, method: str, url: str, headers: Any, post_data: Any = None,
                **_: Any) -> tuple[str, int, Any]:
        response = self._attempt(method, url, headers, post_data)
        if response.delay:
            time.sleep(response.delay)
        return response.text, response.status, _headers(response)

    def request_stream(self, method: str, url: str, headers: Any, post_data: Any = None,
                       **_: Any) -> tuple[Any, int, Any]:
        text, status, rheaders = self.request(method, url, headers, post_data)
        return io.BytesIO(text.encode()), status, rheaders  # the SDK reads a file-like body

    async def request_async(self, method: str, url: str, headers: Any, post_data: Any = None,
                            **_: Any) -> tuple[str, int, Any]:
        _require_async_client(self._client)
        response = self._respond(method, url, headers, post_data)
        if response.delay:
            await asyncio.sleep(response.delay)
        if response.drop is not None:
            raise connection_error(response)
        return response.text, response.status, _headers(response)

    async def request_stream_async(self, method: str, url: str, headers: Any,
                                   post_data: Any = None, **_: Any) -> tuple[Any, int, Any]:
        text, status, rheaders = await self.request_async(method, url, headers, post_data)
        return _chunks(text.encode()), status, rheaders  # the SDK iterates over chunks


def _headers(response: Response) -> Any:
    return getattr(response, "sdk_headers", None) or Headers(response.headers)


def _require_async_client(client: Any) -> None:
    """Fail as the SDK would when no async HTTP library is installed: its fallback client is
    then ``NoImportFoundAsyncClient``, which raises ``ImportError`` on every call."""
    from stripe import _http_client

    base = _http_client.HTTPClient
    seen = client
    while type(seen).request_async is base.request_async and seen._async_fallback_client:
        seen = seen._async_fallback_client
    missing = getattr(_http_client, "NoImportFoundAsyncClient", None)
    if missing is not None and isinstance(seen, missing):
        missing.raise_async_client_import_error()
    if type(seen).request_async is base.request_async:  # no async support at all
        raise NotImplementedError("HTTPClient subclasses must implement `request_async`")


class SDKInterceptor:
    """Installs itself on ``stripe._http_client.HTTPClient``; nests (last installed wins).

    Each attempt for Stripe's hosts goes to ``handler`` (the engine's :class:`Request` in, its
    :class:`Response` out) or, given instead, to ``answer`` called with the SDK's own
    arguments and returning its ``(body, status, headers)``.  ``instant_retries`` (default)
    makes the SDK's backoff sleeps between retries instant."""

    _lock = threading.Lock()

    def __init__(self, handler: Handler | None = None, *, answer: Answer | None = None,
                 instant_retries: bool = True) -> None:
        if (handler is None) == (answer is None):
            raise TypeError("SDKInterceptor takes either a handler or an answer")
        self.respond = _from_sdk_answer(answer) if answer is not None else _answer_with(
            handler)  # type: ignore[arg-type]
        self.instant_retries = instant_retries
        self._saved: tuple[Any, Any] | None = None

    def start(self) -> SDKInterceptor:
        from stripe import _http_client

        base = _http_client.HTTPClient
        with self._lock:
            original_sync = base._request_with_retries_internal
            original_async = base._request_with_retries_internal_async
            respond, instant = self.respond, self.instant_retries
            # one stand-in per client and installation, kept on the client (clients are
            # long-lived, requests many; the reference cycle goes with the client)
            token = object()

            def attempts(client: Any) -> _Attempts:
                kept = client.__dict__.get(_STANDIN)
                if kept is not None and kept[0] is token:
                    return kept[1]
                standin = _Attempts(client, respond, instant)
                client.__dict__[_STANDIN] = (token, standin)
                return standin

            def sync(client: Any, method: str, url: str, headers: Any, post_data: Any,
                     is_streaming: bool, max_network_retries: int | None, *,
                     _usage: Any = None) -> Any:
                if is_stripe_url(url):
                    client = attempts(client)
                return original_sync(client, method, url, headers, post_data, is_streaming,
                                     max_network_retries, _usage=_usage)

            async def async_(client: Any, method: str, url: str, headers: Any, post_data: Any,
                             is_streaming: bool, max_network_retries: int | None, *,
                             _usage: Any = None) -> Any:
                if is_stripe_url(url):
                    client = attempts(client)
                return await original_async(client, method, url, headers, post_data,
                                            is_streaming, max_network_retries, _usage=_usage)

            self._saved = (original_sync, original_async)
            base._request_with_retries_internal = sync  # type: ignore[method-assign]
            base._request_with_retries_internal_async = async_  # type: ignore[method-assign]
        return self
    def stop(self) -> None:
        from stripe import _http_client

        if self._saved is None:
            return
        with self._lock:
            base = _http_client.HTTPClient
            base._request_with_retries_internal, base._request_with_retries_internal_async = (
                self._saved)
            self._saved = None

    def __enter__(self) -> SDKInterceptor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
