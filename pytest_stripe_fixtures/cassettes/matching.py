"""How a live request finds its recording: method, path and decoded params.

Params are compared after decoding (query and form body together): order-insensitive,
percent-encoded or not, ``a[]=x`` and ``a[0]=x`` alike.  Headers never take part, so
``Idempotency-Key``, ``User-Agent`` and telemetry cannot break a match.  The key of a request
is hashable, so a lookup is one dict access whatever the size of the cassette.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..fake import formcodec
from ..transports.sdk import split_url
from .scrub import Filters, filter_params

Key = tuple[str, str, Any]


def json_body(body: str | None) -> dict[str, Any] | None:
    """The object a JSON request body holds; None for any other body.  Decided by the body
    alone (a client may send JSON with any ``Content-Type``, or none)."""
    if not body or body.lstrip()[:1] != "{":
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def decode_form(text: str) -> dict[str, Any] | None:
    """A form-encoded string decoded and normalized; None when it is not Stripe's encoding."""
    try:
        return _normalize(formcodec.decode(text))  # type: ignore[no-any-return]
    except formcodec.FormError:
        return None


def decode_params(query: str, body: str | None) -> dict[str, Any]:
    """Query and body decoded into one normalized nested structure (values stay strings)."""
    parsed = json_body(body)
    if parsed is not None:
        out = decode_form(query) if query else {}
        if out is not None:
            out.update(parsed)
            return out
    else:
        try:
            return _normalize(formcodec.decode(query, body))  # type: ignore[no-any-return]
        except formcodec.FormError:
            pass
    # not Stripe's encoding: sorted raw pairs
    pairs = parse_qsl(query, keep_blank_values=True)
    pairs += parse_qsl(body or "", keep_blank_values=True)
    return {"(raw)": sorted(pairs)}


def _normalize(node: Any) -> Any:
    """``{"0": a, "1": b}`` (indexed array spelling) becomes ``[a, b]``."""
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            indexes = sorted(node, key=int)
            if [int(k) for k in indexes] == list(range(len(indexes))):
                return [_normalize(node[k]) for k in indexes]
        return {k: _normalize(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalize(v) for v in node]
    return node


def freeze(node: Any) -> Any:
    if isinstance(node, dict):
        return tuple(sorted((k, freeze(v)) for k, v in node.items()))
    if isinstance(node, list):
        return ("[]", *(freeze(v) for v in node))
    return node


def request_key(method: str, uri: str, body: str | None,
                filters: Filters | None = None) -> tuple[Key, dict[str, Any]]:
    """The lookup key of a request and its decoded params."""
    path, query = split_url(uri)
    method = method.upper()
    params = decode_params(query, body if method != "GET" else None)
    if filters is not None and filters.params:
        params = filter_params(params, filters)
    return (method, unquote(path), freeze(params)), params


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """``{"metadata": {"a": "1"}}`` -> ``{"metadata[a]": "1"}`` (for messages)."""
    out: dict[str, Any] = {}
    if isinstance(params, dict) and params:
        for key, value in params.items():
            out.update(flatten(value, f"{prefix}[{key}]" if prefix else key))
    elif isinstance(params, list) and params:
        for index, value in enumerate(params):
            out.update(flatten(value, f"{prefix}[{index}]"))
    elif prefix:
        out[prefix] = params
    return out


def describe_params(params: dict[str, Any], limit: int = 12) -> str:
    flat = flatten(params)
    if not flat:
        return "(none)"
    items = [f"{k}={v!r}" for k, v in flat.items()]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def differences(method: str, path: str, params: dict[str, Any], other_method: str,
                other_path: str, other_params: dict[str, Any]) -> list[str]:
    """How a recorded request differs from the live one, in words."""
    found = []
    if method != other_method:
        found.append(f"method {other_method} in the recording")
    if path != other_path:
        found.append(f"path {other_path} in the recording")
    mine, theirs = flatten(params), flatten(other_params)
    for name in sorted(set(mine) | set(theirs)):
        if name not in theirs:
            found.append(f"{name} not in the recording")
        elif name not in mine:
            found.append(f"{name}={theirs[name]!r} only in the recording")
        elif mine[name] != theirs[name]:
            found.append(f"{name} is {theirs[name]!r} in the recording")
    return found


def _path_score(path: str, other: str) -> float:
    if path == other:
        return 3.0
    a, b = path.strip("/").split("/"), other.strip("/").split("/")
    same = sum(1 for x, y in zip(a, b, strict=False) if x == y)
    return 2.0 * same / max(len(a), len(b))


def closest(method: str, path: str, params: dict[str, Any],
            candidates: Sequence[tuple[int, str, str, dict[str, Any]]],
            limit: int = 3) -> list[tuple[int, list[str]]]:
    """The recorded requests nearest to a live one: ``(index, differences)``, best first."""
    mine = flatten(params)
    scored = []
    seen = set()
    for index, other_method, other_path, other_params in candidates:
        theirs = flatten(other_params)
        signature = (other_method, other_path, tuple(sorted(map(repr, theirs.items()))))
        if signature in seen:  # the same request recorded twice: show it once
            continue
        seen.add(signature)
        same = sum(1 for k, v in mine.items() if theirs.get(k, object()) == v)
        total = max(len(set(mine) | set(theirs)), 1)
        score = (1.0 if other_method == method else 0.0) + _path_score(path, other_path) \
            + same / total
        scored.append((score, index, other_method, other_path, other_params))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if scored:  # only the plausible ones
        scored = [item for item in scored if item[0] >= scored[0][0] / 2]
    return [(index, differences(method, path, params, m, p, o))
            for _, index, m, p, o in scored[:limit]]
