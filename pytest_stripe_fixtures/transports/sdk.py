"""Route the ``stripe`` SDK's requests to a fake, in-process, below every HTTP client.

stripe-python sends every request of every client class (``RequestsClient``,
``UrllibClient``, ``HTTPXClient``, ``AIOHTTPClient``, ...) through
``HTTPClient._request_with_retries_internal`` (and its ``_async`` twin), for both
``StripeClient`` and the global ``stripe.Product.create(...)`` style.  Replacing those two
methods on the base class answers Stripe's hosts without touching the network or the HTTP
library, and is the shortest path from the SDK to the engine.  Other hosts (e.g. an
``api_base`` the user pointed at stripe-mock) go to the original methods.
"""

from __future__ import annotations

import io
import threading
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


def _answer_with(handler: Handler) -> Answer:
    """An :data:`Answer` asking the engine's ``handler``."""

    def answer(method: str, url: str, headers: Any, post_data: Any) -> tuple[str, int, Headers]:
        path, query = split_url(url)
        response = handler(Request(method.upper(), path, query, post_data, headers or {}))
        return response.text, response.status, Headers(response.headers)

    return answer


class SDKInterceptor:
    """Installs itself on ``stripe._http_client.HTTPClient``; nests (last installed wins).

    Requests for Stripe's hosts go to ``handler`` (the engine's :class:`Request` in, its
    :class:`Response` out) or, given instead, to ``answer`` called with the SDK's own
    arguments and returning its ``(body, status, headers)``."""

    _lock = threading.Lock()

    def __init__(self, handler: Handler | None = None, *, answer: Answer | None = None) -> None:
        if (handler is None) == (answer is None):
            raise TypeError("SDKInterceptor takes either a handler or an answer")
        self.answer: Answer = answer or _answer_with(handler)  # type: ignore[arg-type]
        self._saved: tuple[Any, Any] | None = None

    def start(self) -> SDKInterceptor:
        from stripe import _http_client

        base = _http_client.HTTPClient
        with self._lock:
            original_sync = base._request_with_retries_internal
            original_async = base._request_with_retries_internal_async
            answer = self.answer

            def sync(client: Any, method: str, url: str, headers: Any, post_data: Any,
                     is_streaming: bool, max_network_retries: int | None, *,
                     _usage: Any = None) -> Any:
                if not is_stripe_url(url):
                    return original_sync(client, method, url, headers, post_data, is_streaming,
                                         max_network_retries, _usage=_usage)
                text, status, rheaders = answer(method, url, headers, post_data)
                if is_streaming:  # request_stream: the SDK reads a file-like body
                    return io.BytesIO(text.encode()), status, rheaders
                return text, status, rheaders

            async def async_(client: Any, method: str, url: str, headers: Any, post_data: Any,
                             is_streaming: bool, max_network_retries: int | None, *,
                             _usage: Any = None) -> Any:
                if not is_stripe_url(url):
                    return await original_async(client, method, url, headers, post_data,
                                                is_streaming, max_network_retries, _usage=_usage)
                text, status, rheaders = answer(method, url, headers, post_data)
                if is_streaming:  # request_stream_async: the SDK iterates over chunks
                    return _chunks(text.encode()), status, rheaders
                return text, status, rheaders

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
