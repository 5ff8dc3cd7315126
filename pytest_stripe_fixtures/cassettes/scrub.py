"""Keeping secrets off disk: what is removed before an interaction is stored.

* headers are kept only when replay or a reader needs them: request ``Content-Type`` and
  ``Stripe-*`` (``Stripe-Version``, ``Stripe-Account``...), response ``RESPONSE_HEADERS`` and
  ``Stripe-*``.  So ``Authorization``, ``X-Stripe-Client-User-Agent``,
  ``X-Stripe-Client-Telemetry``, cookies, ``User-Agent`` and ``Idempotency-Key`` (random per
  request, never matched) never reach disk, nor do the user's own header filters;
* every secret Stripe uses (API, restricted and ephemeral keys, webhook signing secrets,
  PaymentIntent/SetupIntent client secrets), anywhere (URL, bodies, headers) and in any
  spelling (percent- or JSON-escaped), becomes a placeholder of the same shape
  (``sk_test_REDACTED``, ``pi_123_secret_REDACTED``): see :mod:`.secrets`;
* the user's form-param filters and response JSON-path filters replace values by
  ``FILTERED``.

What is written is scanned once more (:func:`find_secrets`, on the decoded values) before it
reaches disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import secrets

REDACTED = "REDACTED"
FILTERED = "FILTERED"

SECRET_HEADERS = frozenset({"authorization", "x-stripe-client-user-agent",
                            "x-stripe-client-telemetry", "cookie", "set-cookie",
                            "proxy-authorization"})
REQUEST_HEADERS = frozenset({"content-type"})
RESPONSE_HEADERS = frozenset({"content-type", "request-id", "idempotency-key",
                              "idempotent-replayed", "original-request", "retry-after",
                              "location"})

SECRET_RE = secrets.SECRET_RE
redact = secrets.redact
find_secrets = secrets.find_secrets


@dataclass(frozen=True)
class Filters:
    """User additions: header names, form params (``card[number]``) and response JSON paths
    (``customer.email``, ``data.*.email``) whose values never reach disk."""

    headers: frozenset[str] = field(default_factory=frozenset)
    params: tuple[tuple[str, ...], ...] = ()
    json_paths: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def build(cls, headers: Iterable[str] = (), params: Iterable[str] = (),
              json_paths: Iterable[str] = ()) -> Filters:
        from ..fake.formcodec import split_key

        return cls(frozenset(h.strip().lower() for h in headers if h.strip()),
                   tuple(tuple(split_key(p.strip())) for p in params if p.strip()),
                   tuple(tuple(p.strip().removeprefix("$.").split(".")) for p in json_paths
                         if p.strip()))

    def __bool__(self) -> bool:
        return bool(self.headers or self.params or self.json_paths)


def request_headers(headers: Mapping[str, Any], filters: Filters) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        lname = name.lower()
        if lname in filters.headers or not (lname in REQUEST_HEADERS
                                            or lname.startswith("stripe-")):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        out[name] = [redact(_text(v)) for v in values]
    return out


def response_headers(headers: Iterable[tuple[str, str]], filters: Filters) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        lname = name.lower()
        if lname in filters.headers or not (lname in RESPONSE_HEADERS
                                            or lname.startswith("stripe-")):
            continue
        out.setdefault(name, []).append(redact(_text(value)))
    return out


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def filter_params(params: dict[str, Any], filters: Filters) -> dict[str, Any]:
    """Decoded params with the user's filtered params replaced by ``FILTERED`` (a copy)."""
    if not filters.params:
        return params
    out = json.loads(json.dumps(params))
    for path in filters.params:
        _replace(out, path, FILTERED)
    return out


def filter_json_body(text: str, filters: Filters) -> str:
    if not filters.json_paths:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    for path in filters.json_paths:
        _replace(data, path, FILTERED)
    return json.dumps(data, indent=2, ensure_ascii=False)


def _replace(node: Any, path: tuple[str, ...], value: str) -> None:
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
    elif isinstance(node, list):
        keys = list(range(len(node))) if head in ("*", "") else (
            [int(head)] if head.isdigit() and int(head) < len(node) else [])
    else:
        return
    for key in keys:
        if rest:
            _replace(node[key], rest, value)  # type: ignore[index]
        elif node[key] is not None:  # type: ignore[index]
            node[key] = value  # type: ignore[index]
