"""Sending a request that is being recorded: to ``--stripe-upstream`` for api.stripe.com
(default the real Stripe), to its own host for Stripe's other hosts.

This is the only place where the plugin itself sends anything over the network, so it is
also where the last checks happen:

* a request carrying a live-mode key anywhere (any header, the URL, the body, however
  encoded) is refused before a connection is even opened (:func:`refuse_live`);
* HTTPS is verified as every client verifies it: the system's trust store (which honours
  ``SSL_CERT_FILE``/``SSL_CERT_DIR``), plus ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when
  set (else certifi's bundle when installed, as ``requests`` does); never unverified;
* a failure to reach the upstream is an :class:`UpstreamError` naming the URL and the cause.

The connection is built on ``http.client``'s original ``HTTPConnection`` class (saved by
vcrpy before it patches the module) with TLS added here, so the request leaves exactly once
whatever interception is active (vcrpy's ``HTTPSConnection`` stand-in cannot be used while
the module is patched: the original ``HTTPSConnection.__init__`` looks itself up by name).
"""

from __future__ import annotations

import gzip
import os
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..transports.http_libs import upstream_send
from .errors import UpstreamError

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


def tls_context() -> ssl.SSLContext:
    """Certificate and host-name verification as ``requests``/``httpx`` users expect it."""
    context = ssl.create_default_context()  # honours SSL_CERT_FILE / SSL_CERT_DIR
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        if os.path.isdir(bundle):
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    elif not os.environ.get("SSL_CERT_FILE"):
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with requests
            pass
        else:
            context.load_verify_locations(cafile=certifi.where())
    return context


def _connection(scheme: str, host: str, port: int | None) -> Any:
    from vcr.patch import _HTTPConnection

    if scheme != "https":
        return _HTTPConnection(host, port, timeout=TIMEOUT)

    class _TLSConnection(_HTTPConnection):  # type: ignore[misc, valid-type]
        default_port = 443

        def connect(self) -> None:
            super().connect()
            self.sock = tls_context().wrap_socket(self.sock, server_hostname=self.host)

    return _TLSConnection(host, port or 443, timeout=TIMEOUT)


def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Raw:
    """Send one request and read the whole response; :class:`LiveKeyRefused` before anything
    leaves if it carries a live key, :class:`UpstreamError` if the upstream cannot answer."""
    from .secrets import refuse_live

    refuse_live(url, headers, body)
    parts = urlsplit(url)
    selector = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        with upstream_send():
            connection = _connection(parts.scheme, parts.hostname or "", parts.port)
            try:
                connection.request(method, selector, body=body, headers={
                    k: v for k, v in headers.items() if k.lower() not in _SKIP})
                response = connection.getresponse()
                data = response.read()
                pairs = list(response.getheaders())
            finally:
                connection.close()
    except ssl.SSLCertVerificationError as exc:
        raise UpstreamError(url, f"TLS certificate not trusted ({exc.verify_message or exc}); "
                            "trust a private CA with SSL_CERT_FILE or REQUESTS_CA_BUNDLE") from exc
    except (OSError, ValueError) as exc:
        raise UpstreamError(url, f"{type(exc).__name__}: {exc}") from exc
    encoding = next((v.lower() for k, v in pairs if k.lower() == "content-encoding"), "")
    try:
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
    except (OSError, zlib.error) as exc:
        raise UpstreamError(url, f"unreadable {encoding} body: {exc}") from exc
    return Raw(response.status, response.reason, pairs, data)
