"""Stripe's form encoding: ``a[b][0][c]=v`` bracket nesting into plain dicts and lists.

Values stay strings here; the schema-driven validator (``params.py``) turns them into
integers, booleans, numbers and lists, because only the schema knows that ``tiers[0]`` is
an array element while ``metadata[0]`` is a map key.  ``a[]=x`` appends to a list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

Decoded = dict[str, Any]


class FormError(ValueError):
    """The body or query string cannot be decoded; ``param`` names the offending key."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


MAX_DEPTH = 20  # bracket levels in one key; Stripe's deepest params use six


def split_key(key: str) -> list[str]:
    """``a[b][0][]`` -> ``["a", "b", "0", ""]``; raises FormError on unbalanced brackets or
    more than :data:`MAX_DEPTH` levels.  One left-to-right scan (linear in the key's length,
    whatever it holds), no slicing of the rest."""
    first = key.find("[")
    if first < 0:
        if "]" in key:
            raise FormError(f"Invalid parameter name: {_shown(key)}", key)
        return [key]
    parts = [key[:first]]
    if "]" in parts[0]:
        raise FormError(f"Invalid parameter name: {_shown(key)}", key)
    i, n = first, len(key)
    while i < n:
        if key[i] != "[" or len(parts) > MAX_DEPTH:
            raise FormError(f"Invalid parameter name: {_shown(key)}", key)
        close = key.find("]", i + 1)
        if close < 0:
            raise FormError(f"Invalid parameter name: {_shown(key)}", key)
        name = key[i + 1:close]
        if "[" in name:
            raise FormError(f"Invalid parameter name: {_shown(key)}", key)
        parts.append(name)
        i = close + 1
    return parts


def _shown(key: str, limit: int = 100) -> str:
    """A key as echoed in a message: long ones cut, so an error is never megabytes."""
    return key if len(key) <= limit else key[:limit] + "..."


def decode(*sources: str | bytes | None) -> Decoded:
    """Decode one or more urlencoded strings (query, then body) into one nested dict."""
    out: Decoded = {}
    for source in sources:
        if not source:
            continue
        if isinstance(source, bytes):
            try:
                source = source.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormError("Request body is not valid UTF-8.", "") from exc
        for key, value in _pairs(source):
            if key.startswith("[") or not key:
                raise FormError(f"Invalid parameter name: {_shown(key)}", key)
            _assign(out, split_key(key), value, key)
    return out


def _pairs(source: str) -> list[tuple[str, str]]:
    """``parse_qsl(source, keep_blank_values=True)``, unquoting only what needs it (cheaper)."""
    pairs = []
    for piece in source.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            if "%" in key or "+" in key:
                if "%5B" in key:  # the SDK's brackets, by far the commonest escape
                    key = key.replace("%5B", "[").replace("%5D", "]")
                if "%" in key or "+" in key:
                    key = unquote(key.replace("+", " "))
            if "%" in value or "+" in value:
                value = unquote(value.replace("+", " "))
            pairs.append((key, value))
    return pairs


def _assign(root: Decoded, parts: list[str], value: str, raw: str) -> None:
    node: Any = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if part != "":
                raise FormError(f"Invalid array: {raw}", raw)
            if last:
                node.append(value)
                return
            child: Any = {}
            node.append(child)
            node = child
            continue
        if part == "":  # a[] on a dict node cannot happen: handled when the parent is created
            raise FormError(f"Invalid parameter name: {raw}", raw)
        nxt = parts[i + 1] if not last else None
        if last:
            existing = node.get(part)
            if isinstance(existing, (dict, list)) and existing:
                raise FormError(f"Invalid parameter name: {raw}", raw)
            node[part] = value
            return
        want_list = nxt == ""
        child = node.get(part)
        if child is None or isinstance(child, str):
            child = [] if want_list else {}
            node[part] = child
        elif want_list and not isinstance(child, list):
            raise FormError(f"Invalid parameter name: {raw}", raw)
        elif not want_list and isinstance(child, list):
            raise FormError(f"Invalid parameter name: {raw}", raw)
        node = child


def encode(params: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The inverse, in stripe-python's style (indexed arrays), for tests and transports."""
    pairs: list[tuple[str, str]] = []
    if isinstance(params, dict):
        for key, value in params.items():
            name = f"{prefix}[{key}]" if prefix else str(key)
            pairs.extend(encode(value, name))
    elif isinstance(params, (list, tuple)):
        for index, value in enumerate(params):
            pairs.extend(encode(value, f"{prefix}[{index}]"))
    elif isinstance(params, bool):
        pairs.append((prefix, "true" if params else "false"))
    elif params is None:
        pass
    else:
        pairs.append((prefix, str(params)))
    return pairs
