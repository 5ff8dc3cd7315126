"""Sending a request that is being recorded: to ``--stripe-upstream`` for api.stripe.com
(default the real Stripe), to its own host for Stripe's other hosts.

Uses ``http.client``'s original classes (saved by vcrpy before it patches them), so the
request leaves exactly once, whatever interception is active.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_UPSTREAM = "https://api.stripe.com"
TIMEOUT = 80.0  # the stripe SDK's own default
_SKIP = frozenset({"host", "content-length", "accept-encoding", "connection",
                   "transfer-encoding", "keep-alive"})


@dataclass
class Raw:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


def target(url: str, upstream: str) -> str:
    """Where a request addressed to ``url`` is sent while recording."""
    parts = urlsplit(url)
    if parts.hostname != "api.stripe.com" or upstream.rstrip("/") == DEFAULT_UPSTREAM:
        return url
    up = urlsplit(upstream)
    return urlunsplit((up.scheme, up.netloc, up.path.rstrip("/") + parts.path, parts.query, ""))


def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Raw:
    from vcr.patch import _HTTPConnection, _HTTPSConnection

    parts = urlsplit(url)
    cls = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    connection = cls(parts.hostname, parts.port, timeout=TIMEOUT)
    selector = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, selector, body=body,
                           headers={k: v for k, v in headers.items() if k.lower() not in _SKIP})
        response = connection.getresponse()
        data = response.read()
        pairs = list(response.getheaders())
    finally:
        connection.close()
    encoding = next((v.lower() for k, v in pairs if k.lower() == "content-encoding"), "")
    if encoding == "gzip":
        data = gzip.decompress(data)
    elif encoding == "deflate":
        data = zlib.decompress(data)
    return Raw(response.status, response.reason, pairs, data)
