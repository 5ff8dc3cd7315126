"""Webhook delivery: events POSTed to their subscribers, signed exactly as Stripe signs.

A subscriber is a *target*: a callable ``(payload: bytes, headers: dict) -> status`` (or
``(status, body)``).  Targets come from ``deliver_to`` (any account, all events unless told) and
from ``/v1/webhook_endpoints`` (their account, their ``enabled_events``, their secret), the
latter reaching an app ``mount``-ed at the URL's path or, in served mode, a real HTTP POST
(``sender``, set by ``transports/server.py``).  WSGI and ASGI apps become targets through the
adapter ``transports/webhooks.py`` registers (:func:`use_adapter`): this module imports no HTTP
library.

Delivery is synchronous right after the API call that caused it (``mode="sync"``) or kept
until :meth:`Webhooks.flush` (``collect()``).  A non-2xx answer is retried on Stripe's test-mode
schedule compressed to no wall time (:data:`RETRY_SCHEDULE`: the fake-clock offsets the
attempts are stamped with); every attempt is in :attr:`Webhooks.attempts`, and a target whose
attempts all failed lands in :attr:`Webhooks.failures` (the plugin fails the test with it).

Signatures (§8.6): ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>``
with the *wall-clock* time, so ``stripe.Webhook.construct_event`` accepts them with its default
tolerance however far the fake clock moved; ``created`` in the payload follows the fake clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .engine import StripeFake

Deliver = Callable[[bytes, dict[str, str]], Any]  # -> status, or (status, body)
Adapter = Callable[[Any, str], "Deliver | None"]  # (app, path) -> a target callable, or None

SIGNATURE_HEADER = "Stripe-Signature"
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"  # [C]
CONTENT_TYPE = "application/json; charset=utf-8"  # [R]
# [D] test mode retries "3 times over a few hours"; the intervals are unpublished [R].  The
# retries run at once (compressed); these offsets (fake clock) stamp each attempt.
RETRY_SCHEDULE = (3600, 3 * 3600, 6 * 3600)

_ADAPTERS: list[Adapter] = []


def use_adapter(adapter: Adapter) -> None:
    """Register ``adapter(app, path)`` -> target (WSGI/ASGI support lives above fake/)."""
    if adapter not in _ADAPTERS:
        _ADAPTERS.insert(0, adapter)


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload`` (``t=<ts>,v1=<hex>``), as Stripe and the
    SDK's ``WebhookSignature.generate_signature_header`` compute it."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{text}".encode(), hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


def encode(event: dict[str, Any]) -> bytes:
    """An event as Stripe's webhook body (pretty-printed JSON)."""
    return json.dumps(event, indent=2).encode("utf-8")


def signed_request(event: dict[str, Any] | bytes | str, secret: str,
                   timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """``(payload, headers)`` of a webhook POST carrying ``event`` (a dict, e.g. hand-made, or an
    already encoded body), signed with ``secret``: for unit tests of a handler."""
    payload = event if isinstance(event, bytes) else (
        event.encode("utf-8") if isinstance(event, str) else encode(event))
    return payload, {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT,
                     SIGNATURE_HEADER: sign(payload, secret, timestamp)}


def new_secret(token: Callable[[int], str]) -> str:
    return "whsec_" + token(32)


def matches(enabled: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``event_type`` (``*`` is every event)."""
    for name in enabled:
        if name == "*" or name == event_type:
            return True
    return False


# --- records ------------------------------------------------------------------------------


@dataclass
class Target:
    """Where events go: ``deliver(payload, headers)``, signed with ``secret``."""

    name: str  # "app at /stripe/webhook", or the endpoint's URL
    deliver: Deliver | None  # None: an endpoint URL nothing answers (in-process, unmounted)
    secret: str
    enabled_events: tuple[str, ...] = ("*",)
    api_version: str | None = None
    endpoint: str | None = None  # the we_ id when it comes from /v1/webhook_endpoints
    check: bool = True  # a delivery failing every attempt fails the test (plugin)


@dataclass
class Attempt:
    """One POST of one event to one target."""

    event_id: str
    event_type: str
    target: str
    number: int  # 1 = first try, then retries
    scheduled_at: int  # fake clock
    status: int | None  # None: not reached (no app mounted, connection refused)
    body: str
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __str__(self) -> str:
        got = self.error or f"HTTP {self.status}"
        return (f"{self.event_type} {self.event_id} -> {self.target} (attempt {self.number}): "
                f"{got} {self.body[:500]!r}")


@dataclass
class Delivery:
    """One event for one target: its attempts; ``succeeded`` once one answered 2xx."""

    target: Target
    attempts: list[Attempt] = field(default_factory=list)
    succeeded: bool = False


class WebhookDeliveryError(AssertionError):
    """A webhook handler answered non-2xx on every attempt."""

    def __init__(self, failures: list[Attempt]) -> None:
        self.failures = failures
        super().__init__("webhook delivery failed: " + "; ".join(str(f) for f in failures))


# --- the dispatcher -----------------------------------------------------------------------


class Webhooks:
    """``stripe_fake.webhooks``: targets, the delivery queue and what happened to each event."""

    def __init__(self, fake: StripeFake) -> None:
        self._fake = fake
        self.targets: list[Target] = []
        self.mounts: dict[str, Deliver] = {}  # URL path -> app, for /v1/webhook_endpoints
        self.sender: Callable[[str, bytes, dict[str, str]], tuple[int, str]] | None = None
        self.mode = "sync"
        self.retries = len(RETRY_SCHEDULE)
        self.queue: deque[tuple[Any, dict[str, Any], Delivery]] = deque()
        self.attempts: list[Attempt] = []
        self.failures: list[Attempt] = []
        self._draining = threading.local()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    # --- subscribing --------------------------------------------------------------------

    def deliver_to(self, app: Any, path: str = "/", secret: str | None = None, *,
                   events: Iterable[str] = ("*",), api_version: str | None = None,
                   check: bool = True) -> Target:
        """Deliver every event (or ``events``) to ``app``: a WSGI app (Flask, Django), an ASGI app
        (FastAPI, Starlette) POSTed at ``path``, or a callable ``(payload, headers) -> status``.
        ``secret`` signs them (default: a fresh ``whsec_``, in the returned target's
        ``secret``).  ``check=False``: a failing handler is recorded, not a test failure."""
        target = Target(f"{_describe(app)} at {path}", _adapt(app, path),
                        secret or new_secret(self._fake._account().ids.token),
                        tuple(events), api_version, check=check)
        self.targets.append(target)
        return target

    def mount(self, app: Any, path: str) -> None:
        """Answer webhook endpoints (``/v1/webhook_endpoints``) whose URL has ``path`` with
        ``app`` (signed with each endpoint's own secret)."""
        self.mounts[path] = _adapt(app, path)

    def collect(self) -> None:
        """Keep events until :meth:`flush` instead of delivering after each call."""
        self.mode = "collect"

    def flush(self) -> list[Attempt]:
        """Deliver what is queued; raise :class:`WebhookDeliveryError` if a checked target
        failed every attempt.  Returns the attempts made."""
        start, failed = len(self.attempts), len(self.failures)
        self._run()
        new_failures = self.failures[failed:]
        if new_failures:
            raise WebhookDeliveryError(new_failures)
        return self.attempts[start:]

    def drain(self) -> None:
        """Deliver what is queued when delivering synchronously (the fake calls this); in
        ``"background"`` mode (served) a helper thread delivers, so the answer does not wait."""
        if self.mode == "sync":
            self._run()
        elif self.mode == "background":
            with self._worker_lock:
                if self._worker is None or not self._worker.is_alive():
                    self._worker = threading.Thread(target=self._run_until_empty, daemon=True,
                                                    name="stripe-fixtures-webhooks")
                    self._worker.start()

    def _run_until_empty(self) -> None:
        while True:
            self._run()
            with self._worker_lock:
                if not self.queue:
                    self._worker = None
                    return

    def wait(self, timeout: float = 10.0) -> None:
        """Background mode: wait until what is queued has been delivered."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    # --- the event side -----------------------------------------------------------------

    def enqueue(self, account: Any, event: dict[str, Any]) -> None:
        """A new event: one delivery per subscribed target (``pending_webhooks`` counts them)."""
        event_type = event["type"]
        deliveries = event["_deliveries"]
        for target in self.targets:
            if matches(target.enabled_events, event_type):
                deliveries.append(Delivery(target))
        table = account.store.tables.get("webhook_endpoint")
        if table is not None and table.rows:
            for endpoint in table.newest_first():
                if endpoint["status"] == "enabled" and matches(endpoint["enabled_events"],
                                                               event_type):
                    deliveries.append(Delivery(self._endpoint_target(endpoint)))
        for delivery in deliveries:
            self.queue.append((account, event, delivery))

    def _endpoint_target(self, endpoint: dict[str, Any]) -> Target:
        url = endpoint["url"]
        deliver = self.mounts.get(urlsplit(url).path or "/")
        if deliver is None and self.sender is not None:
            sender = self.sender

            def deliver(payload: bytes, headers: dict[str, str], _url: str = url) -> Any:
                return sender(_url, payload, headers)

        return Target(url, deliver, endpoint["_secret"], tuple(endpoint["enabled_events"]),
                      endpoint["api_version"], endpoint["id"])

    # --- delivering ---------------------------------------------------------------------

    def _run(self) -> None:
        if getattr(self._draining, "on", False):
            return  # a handler's own API calls: their events follow once it has answered
        self._draining.on = True
        try:
            while self.queue:
                account, event, delivery = self.queue.popleft()
                self._deliver(account, event, delivery)
        finally:
            self._draining.on = False

    def _deliver(self, account: Any, event: dict[str, Any], delivery: Delivery) -> None:
        from . import events

        target = delivery.target
        if target.deliver is None:
            delivery.attempts.append(self._record(event, target, 1, event["created"], None, "",
                                                  "no app is mounted at this URL's path "
                                                  "(webhooks.mount) and nothing serves it"))
            return
        body = events.render(self._fake, account.store, event, target.api_version)
        payload = encode(body)
        offsets = (0, *RETRY_SCHEDULE[:self.retries])
        last: Attempt | None = None
        for number, offset in enumerate(offsets, start=1):
            _, headers = signed_request(payload, target.secret)
            try:
                status, text = _answer(target.deliver(payload, headers))
                last = self._record(event, target, number, event["created"] + offset, status,
                                    text, None)
            except Exception as exc:  # the handler raised: Stripe sees a 500
                last = self._record(event, target, number, event["created"] + offset, None, "",
                                    f"{type(exc).__name__}: {exc}")
            delivery.attempts.append(last)
            if last.succeeded:
                delivery.succeeded = True
                return
        if last is not None and target.check:
            self.failures.append(last)

    def _record(self, event: dict[str, Any], target: Target, number: int, at: int,
                status: int | None, body: str, error: str | None) -> Attempt:
        attempt = Attempt(event["id"], event["type"], target.name, number, at, status, body,
                          error)
        self.attempts.append(attempt)
        return attempt


def _answer(result: Any) -> tuple[int, str]:
    if isinstance(result, tuple):
        status, body = result[0], result[1] if len(result) > 1 else ""
    else:
        status, body = result, ""
    if status is None:
        status = 200  # a plain callable that returns nothing accepted the event
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return int(status), str(body)


def _adapt(app: Any, path: str) -> Deliver:
    for adapter in _ADAPTERS:
        found = adapter(app, path)
        if found is not None:
            return found
    if not callable(app):
        raise TypeError(f"cannot deliver webhooks to {app!r}: not a WSGI/ASGI app or callable")
    return app  # a plain (payload, headers) -> status callable


def _describe(app: Any) -> str:
    return getattr(app, "__qualname__", None) or type(app).__name__
