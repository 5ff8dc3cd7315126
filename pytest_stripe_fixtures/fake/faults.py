"""Faults on demand: make chosen requests fail the way Stripe (or the network) fails.

``fake.faults.add("POST /v1/payment_intents", error="rate_limit", times=2)`` makes the next two
matching requests answer Stripe's 429; the rest are answered as usual.  A fault matches by
method and path pattern (``*`` is one path segment, a trailing ``**`` any rest; the method may
be ``*``) or by endpoint template (``POST /v1/customers/{customer}``), optionally by params
(a subset of the decoded form params, compared as strings) and by API key; it fires for the
next ``times`` matching requests (``None``: every one) or a seeded ``fraction`` of them.

Kinds (``error=``), with the status and headers Stripe sends for each:

==================  ======  =====================================================  =========
kind                status  body                                                   retry
==================  ======  =====================================================  =========
``rate_limit``      429     ``rate_limit`` (RateLimitError)                        no header
``lock_timeout``    429     ``lock_timeout`` (RateLimitError)                      ``true``
``api_error``       500     ``api_error`` (APIError)                               no header
``idempotency``     409     ``idempotency_error`` ``idempotency_key_in_use``       no header
``card_declined``   402     ``card_error`` with ``decline_code`` (CardError)       ``false``
``connection``      --      no answer: the client sees a connection error
``timeout``         --      no answer: the client sees a timeout
==================  ======  =====================================================  =========

``status=``, ``body=`` (a whole Stripe error body), ``code=``, ``decline_code=``,
``message=``, ``should_retry=`` and ``headers=`` override any of it; ``latency=`` (seconds)
delays the answer (with or without an error: ``error=None`` only delays).  The SDK retries
409s and 5xx, and whatever ``Stripe-Should-Retry: true`` marks, as against Stripe.

Injected answers carry ``Request-Id``, the request's ``Idempotency-Key`` and
``Stripe-Version``; they are logged in ``fake.requests`` with ``injected`` set to the fault,
and never saved for idempotency (they model failures in front of Stripe's idempotency layer,
so a retry with the same key executes the request).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import errors

KINDS: dict[str, dict[str, Any]] = {
    "rate_limit": {"status": 429, "type": "invalid_request_error", "code": "rate_limit",
                   "message": errors.RATE_LIMIT},
    "lock_timeout": {"status": 429, "type": "invalid_request_error", "code": "lock_timeout",
                     "message": errors.LOCK_TIMEOUT, "should_retry": True},
    "api_error": {"status": 500, "type": "api_error", "code": None,
                  "message": errors.API_ERROR},
    "idempotency": {"status": 409, "type": "idempotency_error",
                    "code": "idempotency_key_in_use", "message": errors.IDEMPOTENCY_IN_USE},
    "card_declined": {"status": 402, "type": "card_error", "code": "card_declined",
                      "message": errors.CARD_DECLINED_GENERIC, "decline_code": "generic_decline",
                      "should_retry": False},
    "connection": {"drop": "connection"},
    "timeout": {"drop": "timeout"},
}
ALIASES = {"rate_limited": "rate_limit", "api": "api_error", "server_error": "api_error",
           "idempotency_error": "idempotency", "idempotency_conflict": "idempotency",
           "card_error": "card_declined", "decline": "card_declined",
           "connection_error": "connection", "network": "connection"}
_OPTIONS = ("status", "body", "code", "decline_code", "message", "should_retry", "headers",
            "latency", "times", "fraction", "params", "api_key", "seed")


class FaultError(ValueError):
    """A fault that cannot be built (unknown kind, bad pattern, bad option)."""


@dataclass
class Fault:
    """One rule: which requests, how many, and what they get instead of an answer."""

    pattern: str
    error: str | None
    times: int | None = 1
    fraction: float | None = None
    params: dict[str, Any] | None = None
    api_key: str | None = None
    status: int | None = None
    body: dict[str, Any] | None = None
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    should_retry: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    seed: int | None = None
    fired: int = 0
    id: str = ""

    def __post_init__(self) -> None:
        if self.error is not None:
            self.error = ALIASES.get(self.error, self.error)
            if self.error not in KINDS:
                raise FaultError(f"unknown fault kind {self.error!r}: one of "
                                 f"{', '.join(sorted(KINDS))} (or None with latency=)")
        elif not self.latency and self.body is None and self.status is None:
            raise FaultError("a fault needs an error=, a body=/status= or a latency=")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise FaultError("times= must be a positive integer, or None for every request")
        if self.fraction is not None:
            if not 0 < self.fraction <= 1:
                raise FaultError("fraction= must be in (0, 1]")
            if self.times == 1:
                self.times = None  # a fraction of every matching request unless capped
        if self.latency < 0:
            raise FaultError("latency= must be >= 0 seconds")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise FaultError("status= must be an HTTP status")
        self._method, self._path = _compile(self.pattern)
        self._random = random.Random(self.seed)

    @property
    def drop(self) -> str | None:
        """``"connection"`` / ``"timeout"`` when the client gets no answer at all."""
        return KINDS[self.error].get("drop") if self.error else None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str, endpoint: str | None, api_key: str | None,
                params: dict[str, Any] | None) -> bool:
        if self.exhausted:
            return False
        if self._method not in ("*", method):
            return False
        if not (self._path.match(path) or (endpoint is not None and self.pattern == endpoint)):
            return False
        if self.api_key is not None and self.api_key != api_key:
            return False
        return self.params is None or (params is not None and _subset(self.params, params))

    def roll(self) -> bool:
        """Whether this matching request gets the fault (always, or the seeded fraction)."""
        return self.fraction is None or self._random.random() < self.fraction

    def answer(self, idempotency_key: str | None = None
               ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``(status, body, headers)`` of the injected error."""
        kind = KINDS[self.error] if self.error else {"status": 500, "type": "api_error",
                                                     "message": errors.API_ERROR}
        status = int(self.status if self.status is not None else kind.get("status", 500))
        if self.body is not None:
            body = self.body if "error" in self.body else {"error": self.body}
        else:
            err: dict[str, Any] = {}
            code = self.code if self.code is not None else kind.get("code")
            decline = self.decline_code if self.decline_code is not None else kind.get(
                "decline_code")
            if code:
                err["code"] = code
                err["doc_url"] = errors.DOCS + code.replace("_", "-")
            if decline and kind.get("type") == "card_error":
                err["decline_code"] = decline
            err["message"] = self.message or kind.get("message", errors.API_ERROR).replace(
                "{key}", idempotency_key or "")
            err["type"] = kind.get("type", "api_error")
            body = {"error": dict(sorted(err.items()))}
        headers = dict(self.headers)
        retry = self.should_retry if self.should_retry is not None else kind.get("should_retry")
        if retry is not None:
            headers["Stripe-Should-Retry"] = "true" if retry else "false"
        return status, body, headers

    def describe(self) -> dict[str, Any]:
        """The fault as JSON (for the served fake's control endpoint)."""
        return {"id": self.id, "object": "stripe_fixtures.fault", "pattern": self.pattern,
                "error": self.error, "times": self.times, "fraction": self.fraction,
                "params": self.params, "api_key": self.api_key, "status": self.status,
                "latency": self.latency, "fired": self.fired}

    def __str__(self) -> str:
        return f"{self.error or 'latency'} on {self.pattern}"


class Faults:
    """The fake's fault rules, first added first matched.  Thread-safe."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._count = 0

    def add(self, pattern: str, error: str | None = "api_error", **options: Any) -> Fault:
        """Add a rule; see the module docstring for ``pattern``, ``error`` and the options."""
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise FaultError(f"unknown fault option(s): {', '.join(unknown)}")
        fault = Fault(pattern, error, **options)
        with self._lock:
            self._count += 1
            fault.id = f"fault_{self._count}"
            self._rules.append(fault)
        return fault

    def clear(self, api_key: str | None = None) -> None:
        """Remove every rule (or only the rules of one API key)."""
        with self._lock:
            self._rules = [] if api_key is None else [
                f for f in self._rules if f.api_key != api_key]

    def remove(self, fault: Fault | str) -> bool:
        fid = fault if isinstance(fault, str) else fault.id
        with self._lock:
            before = len(self._rules)
            self._rules = [f for f in self._rules if f.id != fid]
            return len(self._rules) != before

    def __iter__(self) -> Any:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def __bool__(self) -> bool:
        return True

    @property
    def active(self) -> bool:
        """Any rule left (the engine reads ``_rules`` directly: one check per request)."""
        return bool(self._rules)

    def take(self, method: str, path: str, endpoint: str | None, api_key: str | None,
             params: dict[str, Any] | None) -> Fault | None:
        """The fault this request gets, counted as fired; None when it gets none."""
        with self._lock:
            for fault in self._rules:
                if fault.matches(method, path, endpoint, api_key, params) and fault.roll():
                    fault.fired += 1
                    return fault
        return None

    def needs_params(self) -> bool:
        return any(f.params is not None for f in self._rules)


def _subset(want: dict[str, Any], got: dict[str, Any]) -> bool:
    for key, value in want.items():
        if key not in got:
            return False
        have = got[key]
        if isinstance(value, dict):
            if not isinstance(have, dict) or not _subset(value, have):
                return False
        elif isinstance(value, (list, tuple)):
            seq = list(have.values()) if isinstance(have, dict) else have
            if not isinstance(seq, list) or [_text(v) for v in value] != [_text(v) for v in seq]:
                return False
        elif _text(value) != _text(have):
            return False
    return True


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, (dict, list)) else str(value)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> tuple[str, re.Pattern[str]]:
    """``"POST /v1/customers/*"`` -> ("POST", regex); ``{name}`` placeholders are segments."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise FaultError("a fault pattern is 'METHOD /path', e.g. 'POST /v1/payment_intents'")
    method, _, path = pattern.strip().partition(" ")
    path = path.strip()
    if not path:
        method, path = "*", method
    if not path.startswith("/"):
        raise FaultError(f"fault pattern {pattern!r}: the path must start with '/'")
    regex = []
    for i, segment in enumerate(path.split("/")):
        if segment == "**":
            regex.append("(?:/.*)?" if i else ".*")
            continue
        if i:
            regex.append("/")
        if segment == "*" or (segment.startswith("{") and segment.endswith("}")):
            regex.append("[^/]+")
        else:
            regex.append(re.escape(segment))
    return method.upper(), re.compile("".join(regex) + r"\Z")
