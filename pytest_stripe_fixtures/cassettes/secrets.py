"""What counts as a secret, found and redacted in the values a reader (or Stripe) would see.

A secret hides in many spellings: right after a percent escape (``notes%3A%0Ask_test_...``),
percent-encoded itself (``sk%5Ftest%5F...``), behind a JSON escape (``"\\nsk_test_..."``,
``"\\u0073k_test_..."``), inside YAML escapes or folds, in a ``!!binary`` body.  So every text
is looked at three ways: as written, percent-decoded, and (when it is JSON) JSON-decoded; the
YAML side (``check``) hands over the *parsed* scalars.  The patterns themselves need no word
boundary before the prefix for keys (``sk_test_``, ``rk_live_``, ``ek_test_``, ``whsec_``):
the prefixes are distinctive enough.

Redacted, shape kept (so the redacted request still matches its recording):

=================================  ==================================
``sk_test_...`` / ``sk_live_...``  ``sk_test_REDACTED`` / ``sk_live_REDACTED``
``rk_test_...`` / ``rk_live_...``  ``rk_test_REDACTED`` / ``rk_live_REDACTED``
``sk_...`` / ``rk_...`` (other)    ``sk_REDACTED`` / ``rk_REDACTED``
``ek_test_...`` / ``ek_live_...``  ``ek_test_REDACTED`` / ``ek_live_REDACTED``
``whsec_...``                      ``whsec_REDACTED``
``pi_123_secret_...``              ``pi_123_secret_REDACTED`` (also ``seti_``, ``src_``, ``cs_``)
=================================  ==================================
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

REDACTED = "REDACTED"
LIVE_PREFIXES = ("sk_live_", "rk_live_")
_NOT_PLACEHOLDER = rf"(?!{REDACTED}(?![0-9A-Za-z]))"

SECRET_RE = re.compile(
    # API keys and ephemeral keys, test or live: no boundary needed before the prefix
    rf"(?P<key>(?:sk|rk|ek)_(?:test|live)_){_NOT_PLACEHOLDER}[0-9A-Za-z]+"
    # other sk_/rk_ strings (old key formats) as whole words
    rf"|(?<![0-9A-Za-z])(?P<word>sk_|rk_)(?!(?:test|live)_){_NOT_PLACEHOLDER}[0-9A-Za-z]+"
    # webhook signing secrets
    rf"|(?P<whsec>whsec_){_NOT_PLACEHOLDER}[0-9A-Za-z+/=]+"
    # PaymentIntent / SetupIntent / Source / Checkout Session client secrets: id kept
    rf"|(?<![0-9A-Za-z])(?P<client>(?:pi|seti|src|cs)_[0-9A-Za-z_]+?_secret_)"
    rf"{_NOT_PLACEHOLDER}[0-9A-Za-z]+")
_MARKERS = ("sk_", "rk_", "ek_", "whsec_", "_secret_")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z_.~-])+")
LIVE_RE = re.compile(r"(?:sk|rk)_live_")


def _placeholder(match: re.Match[str]) -> str:
    prefix = next(g for g in match.groups() if g)
    return prefix + REDACTED


def _has_marker(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def _json(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] not in ("{", "[", '"'):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _walk_strings(node: Any, change: Callable[[str], str]) -> Any:
    if isinstance(node, str):
        return change(node)
    if isinstance(node, list):
        return [_walk_strings(v, change) for v in node]
    if isinstance(node, dict):
        return {change(k): _walk_strings(v, change) for k, v in node.items()}
    return node


def redact(text: str) -> str:
    """``text`` with every secret replaced by its placeholder, in every spelling above.

    Deterministic, so a live request redacted the same way still finds its recording."""
    if not text or ("%" not in text and "\\" not in text and not _has_marker(text)):
        return text
    if _has_marker(text):
        text = SECRET_RE.sub(_placeholder, text)
    if "%" in text and _has_marker(unquote(text)):
        text = _PERCENT_RUN.sub(_redact_run, text)
    if "\\" in text:
        parsed = _json(text)
        if parsed is not None:
            clean = _walk_strings(parsed, redact)
            if clean != parsed:
                text = json.dumps(clean, ensure_ascii=False,
                                  indent=2 if "\n" in text.strip() else None)
    return text


def _redact_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if "%" not in run:
        return run
    decoded = unquote(run)
    clean = SECRET_RE.sub(_placeholder, decoded)
    return run if clean == decoded else quote(clean, safe="_.~-")


def _views(text: str) -> Iterator[str]:
    """The text as written, percent-decoded (repeatedly), and its JSON strings."""
    yield text
    seen = {text}
    current = text
    for _ in range(3):
        if "%" not in current and "+" not in current:
            break
        for decoded in (unquote(current), unquote_plus(current)):
            if decoded not in seen:
                seen.add(decoded)
                yield decoded
        current = unquote(current)
    if "\\" in text:
        parsed = _json(text)
        if parsed is not None:
            found: list[str] = []
            _walk_strings(parsed, lambda s: found.append(s) or s)  # type: ignore[func-returns-value]
            for value in found:
                yield from _views(value)


def find_secrets(text: str) -> list[str]:
    """Secret-looking strings in ``text`` in any of its spellings, masked (prefix + last 4)."""
    out: list[str] = []
    for view in _views(text):
        if not _has_marker(view):
            continue
        for match in SECRET_RE.finditer(view):
            masked = mask(match.group(0))
            if masked not in out:
                out.append(masked)
    return out


def mask(secret: str) -> str:
    """``sk_test_...abcd``: enough to find it, not enough to use it."""
    match = SECRET_RE.match(secret)
    head = next((g for g in match.groups() if g), "") if match else secret[:3]
    rest = secret[len(head):]
    return f"{head}...{rest[-4:]}" if len(rest) > 8 else f"{head}..."


# --- live keys in a request ----------------------------------------------------------------


def _decoded_credentials(value: str) -> Iterator[str]:
    """Basic credentials (``user:password``) and other base64 tokens of a header value."""
    for token in value.split():
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        yield decoded.decode("latin-1")


def live_key_in(url: str, headers: Mapping[str, Any], body: bytes | str | None) -> str | None:
    """Where a ``sk_live_``/``rk_live_`` value sits in a request (``"header Stripe-Account"``,
    ``"URL"``, ``"body"``), or None.  Any header, any spelling (percent, JSON, base64)."""
    def has_live(text: str) -> bool:
        return any(LIVE_RE.search(view) for view in _views(text))

    for name, value in headers.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            text = item.decode("latin-1") if isinstance(item, bytes) else str(item)
            if has_live(text) or any(has_live(c) for c in _decoded_credentials(text)):
                return f"header {name}"
    if has_live(url):
        return "URL"
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        if has_live(text):
            return "body"
    return None


def refuse_live(url: str, headers: Mapping[str, Any], body: bytes | str | None) -> None:
    """:class:`~.errors.LiveKeyRefused` if the request carries a live key anywhere."""
    where = live_key_in(url, headers, body)
    if where is not None:
        from .errors import LiveKeyRefused

        raise LiveKeyRefused("sk_live_/rk_live_", where)
