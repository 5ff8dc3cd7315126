"""The fake Stripe: a :class:`Request` in, a :class:`Response` out.  No pytest, no HTTP library.

Every request takes the same path: auth -> API version -> route -> decode -> validate against
the version's schema -> lift params to the current shape -> idempotency -> the resource's
handler -> render (includable fields, ``expand[]``) -> downgrade to the requested version.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import errors, events, expand, faults, formcodec, params, schemas, versions
from .clock import Clock
from .http import Request, Response
from .ids import IdFactory
from .routing import ROUTER, Route
from .store import Obj, Store
from .webhooks import Webhooks

LIVE_PREFIXES = ("sk_live_", "rk_live_")
TEST_PREFIXES = ("sk_test_", "rk_test_")
PUBLISHABLE_PREFIXES = ("pk_test_", "pk_live_")
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_WINDOW = 24 * 60 * 60  # Stripe prunes keys once they are 24 hours old [D]
MAX_IDEMPOTENCY_KEYS = 5_000  # per account: the oldest key is forgotten first beyond this
MAX_ACCOUNTS = 1_000  # per-key accounts (isolate_keys): the least recently used goes first
_to_json = json.JSONEncoder(check_circular=False).encode  # bodies are trees: no cycles


@dataclass
class RequestRecord:
    """One answered request, for the test to inspect."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    endpoint: str | None  # "POST /v1/products" when a route matched
    resolved_version: str | None  # the supported version that answered
    request_id: str
    api_version: str | None
    idempotency_key: str | None
    replayed: bool
    response: Response
    injected: faults.Fault | None = None  # the fault that answered instead of the fake
    modelled: bool | None = None  # True: hand-written rules answered; False: the generic layer

    @property
    def generic(self) -> bool:
        """Whether the generic layer (no hand-written rules) answered."""
        return self.modelled is False

    def json(self) -> Any:
        return self.response.json()

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class _Saved:
    endpoint_path: str
    method: str
    raw_params: dict[str, Any]
    response: Response
    saved_at: int = 0


@dataclass
class Account:
    """One Stripe account in test mode: its objects, ids and idempotency keys.

    ``lock`` serializes the requests of this account (other accounts run in parallel)."""

    ids: IdFactory
    store: Store = field(default_factory=Store)
    idempotency: OrderedDict[str, _Saved] = field(default_factory=OrderedDict)
    clock_seen: int | None = None  # the clock at the last request (moves invalidate caches)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def forget_expired_keys(self, now: int) -> None:
        """Drop keys saved 24 hours (of the fake's clock) ago or more, and the oldest beyond
        :data:`MAX_IDEMPOTENCY_KEYS`; keys are kept in the order they were saved."""
        saved = self.idempotency
        while saved:
            oldest = next(iter(saved.values()))
            if len(saved) <= MAX_IDEMPOTENCY_KEYS and now - oldest.saved_at < IDEMPOTENCY_WINDOW:
                return
            saved.popitem(last=False)


class Context:
    """What a resource handler sees: typed params in the current shape, the account, the clock."""

    __slots__ = ("fake", "account", "params", "version", "request", "endpoint")

    def __init__(self, fake: StripeFake, account: Account, params: dict[str, Any], version: str,
                 request: Request | None, endpoint: str) -> None:
        self.fake = fake
        self.account = account
        self.params = params
        self.version = version
        self.request = request
        self.endpoint = endpoint

    @property
    def store(self) -> Store:
        return self.account.store

    def now(self) -> int:
        return self.fake.clock.now()

    def new_id(self, object_type: str) -> str:
        return self.account.ids.new(object_type)


Hook = Callable[[Context], None]
_BEFORE_HANDLER: list[Hook] = []


TimeHook = Callable[["StripeFake", Account], None]
_ON_TIME: list[TimeHook] = []


def on_time_moved(hook: TimeHook) -> TimeHook:
    """Register ``hook(fake, account)`` to run for every account after the fake's clock moved
    (``stripe_fake.clock.advance``): subscriptions renew, trials end, retries run."""
    _ON_TIME.append(hook)
    return hook


def before_handler(hook: Hook) -> Hook:
    """Register ``hook(ctx)`` to run before every handler: for state that moves with the clock
    alone (a coupon past its ``redeem_by``, a promotion code past its ``expires_at``)."""
    _BEFORE_HANDLER.append(hook)
    return hook


class StripeFake:
    """An in-memory Stripe account (or one per API key with ``isolate_keys``).

    ``seed`` makes ids reproducible; ``now`` sets the clock's start; ``default_version``
    answers requests that send no ``Stripe-Version`` header.
    """

    def __init__(self, *, seed: int | None = None, now: int | None = None,
                 default_version: str = versions.CURRENT, isolate_keys: bool = False,
                 keep_log: bool = True, max_accounts: int | None = MAX_ACCOUNTS,
                 raw_card_data: bool = False, emit_events: bool = True) -> None:
        from .generic import register_older_shape
        from .resources import load_all

        load_all()
        register_older_shape()
        versions.version_key(default_version)
        self.seed = seed
        self.clock = Clock(now)
        self.clock.listeners.append(self._time_moved)
        self.default_version = default_version
        self.isolate_keys = isolate_keys
        self.keep_log = keep_log
        self.max_accounts = max_accounts
        self.raw_card_data = raw_card_data  # accept raw card numbers, as some accounts do
        self.requests: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self.faults = faults.Faults()
        self._accounts: OrderedDict[str, Account] = OrderedDict()
        self._lock = threading.RLock()  # the accounts table and the log, never a request
        self._request_ids = IdFactory(None if seed is None else seed + 1)
        self._facts = schemas.shape_facts()
        self.webhooks = Webhooks(self)
        self.emit_events = emit_events  # False: no events at all (benchmarks compare)

    # --- accounts --------------------------------------------------------------------

    def account(self, api_key: str | None = None) -> Account:
        """The account answering ``api_key`` (the one shared account unless ``isolate_keys``).
        Its objects may be edited in place: what was derived from them is recomputed."""
        account = self._account(api_key)
        account.store.touch()
        return account

    def _account(self, api_key: str | None = None) -> Account:
        name = api_key if (self.isolate_keys and api_key) else "default"
        accounts = self._accounts
        account = accounts.get(name)
        if account is not None:
            if self.isolate_keys:
                try:
                    accounts.move_to_end(name)  # least recently used first
                except KeyError:  # reset by another thread meanwhile
                    pass
            return account
        with self._lock:
            account = accounts.get(name)
            if account is None:
                seed = None if self.seed is None else (self.seed if name == "default"
                                                       else f"{self.seed}:{name}")
                account = accounts[name] = Account(IdFactory(seed))  # type: ignore[arg-type]
                account.store.owner = (self, account)
                while self.max_accounts is not None and len(accounts) > self.max_accounts:
                    accounts.popitem(last=False)
        return account

    def reset(self, api_key: str | None = None) -> bool:
        """Forget one account (by key) or everything; whether there was something to forget."""
        with self._lock:
            if api_key is None:
                self._accounts.clear()
                self.requests.clear()
                self.faults.clear()
                return True
            self.faults.clear(api_key)
            return self._accounts.pop(api_key if self.isolate_keys else "default",
                                      None) is not None

    @property
    def store(self) -> Store:
        return self.account().store

    def _time_moved(self, now: int) -> None:
        for account in list(self._accounts.values()):
            with account.lock:
                for hook in _ON_TIME:
                    hook(self, account)

    def clock_context(self, account: Account | None = None) -> Context:
        """A handler context outside any request (for work the clock triggers)."""
        return Context(self, account or self.account(), {}, self.default_version,
                       Request("POST", "/_clock"), "")

    @property
    def payments(self) -> Any:
        """Test helpers for what customers do outside the API (complete 3D Secure):
        :class:`~pytest_stripe_fixtures.fake.resources.payment_intents.Payments`."""
        from .resources.payment_intents import Payments

        return Payments(self)

    def context(self, api_key: str | None = None) -> Context:
        """A context outside any request (test helpers): the account of ``api_key``, the
        default version, no params."""
        account = self.account(api_key)
        return Context(self, account, {}, versions.resolve(self.default_version), None, "")

    @property
    def events(self) -> list[Any]:
        """The (default) account's events so far, oldest first, as the ``GET /v1/events`` answer
        renders them; attribute access works (``[e.type for e in stripe_fake.events]``)."""
        return self.events_of()

    def events_of(self, api_key: str | None = None) -> list[Any]:
        """:attr:`events` of the account answering ``api_key``."""
        store = self._account(api_key).store
        now = self.clock.now()
        return [events.as_attrs(events.render(self, store, e))
                for e in reversed(list(events.all_events(store))) if events.alive(e, now)]

    def trigger(self, event_type: str, api_key: str | None = None) -> list[Any]:
        """Make the API calls that produce ``event_type`` (like ``stripe trigger``); returns
        the events they produced, oldest first.  See ``fake/triggers.py`` for the flows."""
        from .triggers import run

        return run(self, event_type, api_key)

    def objects(self, object_type: str, api_key: str | None = None) -> list[Obj]:
        """Stored objects of one type (current API shape), newest first."""
        return list(self.account(api_key).store.all(object_type))

    # --- the pipeline ----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request.  Requests are served one at a time per account, so an
        idempotent retry racing its original sees the saved response, and threads see one
        store; requests of other accounts (``isolate_keys``) run in parallel.  The webhooks
        of the events it caused are delivered after it is answered, outside the account's
        lock (a handler may call the API back)."""
        response = self._answer(request)
        if self.webhooks.queue:
            self.webhooks.drain()
        return response

    def _answer(self, request: Request) -> Response:
        method = request.method.upper()
        path, _, query = request.path.partition("?")
        if request.query:
            query = f"{query}&{request.query}" if query else request.query
        headers = {"Request-Id": self._request_ids.new("request"),
                   "Content-Type": "application/json"}
        idem_key = request.header("Idempotency-Key") if method == "POST" else None
        if idem_key is not None:
            idem_key = _header_value(idem_key)
            if idem_key:
                headers["Idempotency-Key"] = idem_key
            else:  # an empty header is no key
                idem_key = None
        version_header = request.header("Stripe-Version")
        if version_header is not None:
            version_header = _header_value(version_header)
        headers["Stripe-Version"] = version_header or self.default_version
        if self.faults._rules:  # noqa: SLF001 (hot path: no property call)
            injected = self._inject(request, method, path, query, headers, idem_key)
            if injected is not None:
                return injected
        try:
            account = self._authenticate(request)
        except errors.StripeError as exc:
            return self._answer_error(exc, method, path, headers, idem_key)
        with account.lock:
            return self._handle(request, account, method, path, query, headers, idem_key,
                                version_header)

    def _handle(self, request: Request, account: Account, method: str, path: str, query: str,
                headers: dict[str, str], idem_key: str | None,
                version_header: str | None) -> Response:
        raw: dict[str, Any] = {}
        save = False
        trace: dict[str, Any] = {"endpoint": None, "version": None, "modelled": None}
        try:
            version = trace["version"] = self._version(version_header)
            found = ROUTER.match(method, path)
            if found is None:
                raise errors.unrecognized_url(method, path)
            route, path_params = found
            trace["endpoint"] = route.endpoint
            trace["modelled"] = route.modelled
            try:
                raw = formcodec.decode(query, request.body if method == "POST" else None)
            except formcodec.FormError as exc:
                raise errors.invalid(str(exc), exc.param or None) from exc
            if idem_key is not None:
                saved = self._idempotent_replay(account, idem_key, method, path, raw)
                if saved is not None:
                    replay = Response(saved.status,
                                      {**saved.headers, "Idempotent-Replayed": "true"},
                                      saved.text)
                    self._log(method, path, raw, replay, trace, idem_key, True)
                    return replay
            text = self._execute(account, route, path_params, raw, version, request,
                                 {"id": headers["Request-Id"], "idempotency_key": idem_key})
            status, save = 200, True
        except errors.StripeError as exc:
            status, save = exc.status, exc.saved
            body = exc.body(self._log_url(headers))
            if exc.extra and account is not None and trace["version"] is not None:
                body["error"] = self._render_embedded(account, trace["version"], body["error"])
            text = json.dumps(body)
        except Exception:  # a bug in the fake: never a traceback through the caller's SDK
            self.internal_errors.append(f"{method} {request.path}\n{traceback.format_exc()}")
            status, text = 500, json.dumps(errors.StripeError(
                "An unknown error occurred (pytest-stripe-fixtures internal error; see the "
                "test report).", status=500, type="api_error").body())
        response = Response(status, headers, text)
        if save and idem_key is not None and idem_key not in account.idempotency:
            now = self.clock.now()
            account.idempotency[idem_key] = _Saved(path, method, raw, response, now)
            account.forget_expired_keys(now)
        self._log(method, path, raw, response, trace, idem_key, False)
        return response

    def _answer_error(self, exc: errors.StripeError, method: str, path: str,
                      headers: dict[str, str], idem_key: str | None) -> Response:
        response = Response(exc.status, headers, json.dumps(exc.body(self._log_url(headers))))
        self._log(method, path, {}, response, {"endpoint": None, "version": None}, idem_key,
                  False)
        return response

    def _inject(self, request: Request, method: str, path: str, query: str,
                headers: dict[str, str], idem_key: str | None) -> Response | None:
        """The injected answer when a fault rule takes this request, else None."""
        found = ROUTER.match(method, path)
        endpoint = found[0].endpoint if found else None
        raw: dict[str, Any] | None = None
        if self.faults.needs_params():
            try:
                raw = formcodec.decode(query, request.body if method == "POST" else None)
            except formcodec.FormError:
                raw = None
        try:
            api_key: str | None = _api_key(request.header("Authorization"))
        except errors.StripeError:
            api_key = None
        fault = self.faults.take(method, path, endpoint, api_key, raw)
        if fault is None:
            return None
        if fault.error is None and fault.body is None and fault.status is None:
            # latency only: the request is answered as usual, later
            account = self._account(api_key) if api_key else None
            if account is None:
                return None
            with account.lock:
                answered = self._handle(request, account, method, path, query, headers,
                                        idem_key, headers["Stripe-Version"])
            answered.delay = fault.latency
            if self.keep_log and self.requests:
                self.requests[-1].injected = fault
            return answered
        status, body, extra = fault.answer(idem_key)
        if "error" in body and isinstance(body["error"], dict) and fault.body is None:
            body["error"]["request_log_url"] = self._log_url(headers)
            body["error"] = dict(sorted(body["error"].items()))
        response = Response(status, {**headers, **extra}, json.dumps(body),
                            delay=fault.latency, drop=fault.drop)
        if self.keep_log:
            self.requests.append(RequestRecord(
                method, path, raw or {}, status, endpoint, None, headers["Request-Id"],
                headers.get("Stripe-Version"), idem_key, False, response, fault))
        return response

    def _execute(self, account: Account, route: Route, path_params: dict[str, str],
                 raw: dict[str, Any], version: str, request: Request,
                 request_ref: dict[str, str | None]) -> str:
        """Validate, run the handler, render: the response body as JSON text."""
        endpoint = route.endpoint
        entry = schemas.endpoints(version).get(endpoint)
        if entry is None:  # an endpoint this API version does not have
            raise errors.unrecognized_url(request.method.upper(), request.path.partition("?")[0])
        typed = params.validate(entry["params"], raw)
        typed = versions.upgrade_params(version, endpoint, typed)
        expand_paths = typed.get("expand")
        tree = expand.parse(expand_paths) if expand_paths else {}
        ctx = Context(self, account, typed, version, request, endpoint)
        now = self.clock.now()
        if route.method != "GET" or account.clock_seen != now:
            account.store.touch()  # a write, or time moved (state that follows the clock)
            account.clock_seen = now
        for hook in _BEFORE_HANDLER:
            hook(ctx)
        if route.method == "GET" or not self.emit_events:
            result = route.handler(ctx, **path_params)
        else:  # writes become events (fake/events.py)
            recorder = events.begin(account.store, endpoint, path_params, request_ref)
            try:
                result = route.handler(ctx, **path_params)
            except errors.StripeError:
                events.finish(ctx, recorder)  # e.g. a declined charge: charge.failed
                raise
            except BaseException:
                events.finish(ctx, recorder, keep=False)
                raise
            events.finish(ctx, recorder)
        store = account.store
        renderer = expand.Renderer(self._facts, lambda t, i: _lookup(store, t, i))
        body = renderer.render(result, tree)
        if versions.needs_downgrade(version):
            body = versions.downgrade(version, body, _View(renderer))
        return _to_json(body)

    def _render_embedded(self, account: Account, version: str, error: dict[str, Any]
                         ) -> dict[str, Any]:
        """Objects an error embeds (a declined payment's PaymentIntent and PaymentMethod) as
        a retrieve in the request's version would show them."""
        store = account.store
        renderer = expand.Renderer(self._facts, lambda t, i: _lookup(store, t, i))
        out = dict(error)
        for key, value in error.items():
            if isinstance(value, dict) and "object" in value:
                out[key] = renderer.render(value)
                if versions.needs_downgrade(version):
                    out[key] = versions.downgrade(version, out[key], _View(renderer))
        return out

    # --- steps -----------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Account:
        return self._account(_api_key(request.header("Authorization")))

    def _version(self, header: str | None) -> str:
        requested = header.strip() if header else self.default_version
        try:
            return versions.resolve(requested)
        except versions.InvalidVersion:
            raise errors.invalid(errors.INVALID_VERSION.format(value=requested),
                                 code="api_version_invalid") from None

    def _idempotent_replay(self, account: Account, key: str, method: str, path: str,
                           raw: dict[str, Any]) -> Response | None:
        """The saved response for a retried key, or Stripe's idempotency errors."""
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise errors.invalid(errors.IDEMPOTENCY_KEY_TOO_LONG, "Idempotency-Key")
        saved = account.idempotency.get(key)
        if saved is None:
            return None
        if self.clock.now() - saved.saved_at >= IDEMPOTENCY_WINDOW:  # pruned: a new request
            del account.idempotency[key]
            return None
        if saved.endpoint_path != path or saved.method != method:
            raise errors.StripeError(errors.IDEMPOTENCY_ENDPOINT.format(
                old=saved.endpoint_path, new=path, key=key), type="idempotency_error")
        if saved.raw_params != raw:
            raise errors.StripeError(errors.IDEMPOTENCY_PARAMS.format(key=key),
                                     type="idempotency_error")
        return saved.response

    def _log(self, method: str, path: str, raw: dict[str, Any], response: Response,
             trace: dict[str, Any], idem_key: str | None, replayed: bool) -> None:
        """One record per answer (``list.append`` is atomic: no lock)."""
        if self.keep_log:
            self.requests.append(RequestRecord(
                method, path, raw, response.status, trace["endpoint"], trace["version"],
                response.headers["Request-Id"], response.headers.get("Stripe-Version"),
                idem_key, replayed, response, modelled=trace.get("modelled")))

    @property
    def last_request(self) -> RequestRecord | None:
        return self.requests[-1] if self.requests else None

    def _log_url(self, headers: dict[str, str]) -> str:
        return (f"https://dashboard.stripe.com/test/logs/{headers['Request-Id']}"
                f"?t={self.clock.now()}")


def _header_value(value: str) -> str:
    """A header value as echoed back: folded lines (obs-fold) and stray CR/LF become one
    space, so a response header never carries a line break."""
    if "\r" in value or "\n" in value:
        return " ".join(value.split())
    return value.strip()


@lru_cache(maxsize=256)
def _api_key(header: str | None) -> str:
    """The secret test key an ``Authorization`` header carries, or Stripe's 401.  Cached:
    it runs on every request (errors are not cached, so they are raised every time)."""
    if header is None or not header.strip():
        raise errors.unauthorized(errors.NO_API_KEY)
    scheme, _, value = header.strip().partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        import base64
        import binascii

        try:
            key = base64.b64decode(key).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            raise errors.unauthorized(errors.BAD_AUTH_HEADER.format(value=header)) from None
    elif scheme.lower() != "bearer":
        key = header.strip()
    if not key or key in ("null", "undefined", "None"):
        raise errors.unauthorized(errors.BAD_AUTH_HEADER.format(value=key or header))
    if key.startswith(LIVE_PREFIXES):
        raise errors.unauthorized(errors.LIVE_KEY.format(masked=errors.mask_key(key)))
    if key.startswith(PUBLISHABLE_PREFIXES):
        raise errors.unauthorized(errors.PUBLISHABLE_KEY)
    if not key.startswith(TEST_PREFIXES) or len(key) <= len("sk_test_"):
        raise errors.unauthorized(errors.INVALID_API_KEY.format(masked=errors.mask_key(key)))
    return key


def _lookup(store: Store, object_type: str, oid: str) -> Obj | None:
    if object_type.startswith("deleted_"):
        return store.get_deleted(object_type[len("deleted_"):], oid)
    return store.get(object_type, oid)


class _View:
    """Lets version changes render other objects (e.g. embed a coupon by id)."""

    def __init__(self, renderer: expand.Renderer) -> None:
        self._renderer = renderer

    def lookup(self, object_type: str, oid: str) -> Obj | None:
        found = self._renderer.lookup(object_type, oid)
        return None if found is None else self._renderer.render(found)

