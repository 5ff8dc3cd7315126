"""Events: what the API did, as Stripe's ``Event`` objects (STRIPE-API-RULES-PAYMENTS.md §8).

Two paths produce events, and a resource uses exactly one of them per event type:

* **Automatic** (``<object>.created|updated|deleted``), derived from store writes during a
  request: ``store.add`` -> ``.created``, ``store.delete`` -> ``.deleted`` (``data.object`` is the
  object as it was), and for an update endpoint (``POST /v1/<things>/{id}`` answering the object
  it names) the object is copied before the handler and diffed after it -> ``.updated`` with
  exact, nested ``previous_attributes``.  Which types get which automatic event is
  :data:`AUTOMATIC` (explicit entries) or, for any other object type (e.g. generic objects
  from the operation catalog), ``<object>.<verb>`` when Stripe has that event type
  (:func:`known_types`).  ``None`` in :data:`AUTOMATIC` means "no automatic event".
* **Explicit**: ``emit(ctx, "charge.succeeded", obj, previous_attributes=None)`` for the special
  types (``charge.succeeded``, ``customer.source.created``, ``source.chargeable``,
  ``payment_intent.succeeded``, ``invoice.paid``, ...).  :func:`emit_updated` is ``emit`` of a
  ``*.updated`` for an object that is *not* the request's update target (the target gets its
  automatic ``.updated``), e.g. ``customer.updated`` after attaching a source changed its
  default.

No event is emitted twice: an automatic event is skipped when the same request already emitted
the same type for the same object explicitly, and :func:`emit_updated` is a no-op for the
request's update target and for objects the request created.

Which path each modelled resource uses:

============================  ===========================================================
automatic                     product.*, price.created|updated, coupon.*, promotion_code.
                              created|updated, customer.created|updated|deleted,
                              charge.updated (``POST /v1/charges/{charge}``), and
                              ``<type>.*`` of any other object type Stripe has events for
explicit (``emit``)           customer.discount.* (discounts.py), customer.source.* and
                              customer.updated after attach/detach (sources.py),
                              source.chargeable|canceled|failed (sources.py test helpers,
                              no request), charge.succeeded|failed (charges.py); payments
                              and billing types from their modules
none                          cards, sources' own create/update (Stripe has no such types),
                              webhook endpoints, events, balance transactions
============================  ===========================================================

Events are stored per account (table ``event``) in the current API shape, with the object's
state *before* an update kept alongside; they are rendered on read in the event's
``api_version`` (the fake's default version, or a webhook endpoint's), so ``data.object`` is
what a retrieve in that version returns and ``previous_attributes`` is the diff of the two
rendered states.  Events older than :data:`RETENTION` seconds (fake clock) are gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from . import versions
from .store import Obj, Store

if TYPE_CHECKING:
    from .engine import Context, StripeFake

RETENTION = 30 * 24 * 3600  # [D] only the last 30 days of events are guaranteed

# object type -> (created, updated, deleted) event types; None = no automatic event.
# Types not listed get "<type>.<verb>" when Stripe has that event type (see known_types).
AUTOMATIC: dict[str, tuple[str | None, str | None, str | None]] = {
    "product": ("product.created", "product.updated", "product.deleted"),
    "price": ("price.created", "price.updated", "price.deleted"),
    "coupon": ("coupon.created", "coupon.updated", "coupon.deleted"),
    "promotion_code": ("promotion_code.created", "promotion_code.updated", None),  # [S]
    "customer": ("customer.created", "customer.updated", "customer.deleted"),
    # charge.succeeded / charge.failed are explicit (charges.py); there is no charge.created
    "charge": (None, "charge.updated", None),
    # a customer's payment sources: customer.source.* are explicit (sources.py)
    "card": (None, None, None),
    "source": (None, None, None),
    "customer_source": (None, None, None),
    "discount": (None, None, None),  # customer.discount.* are explicit (discounts.py)
    "event": (None, None, None),
    "webhook_endpoint": (None, None, None),
    "balance_transaction": (None, None, None),
}
EXTRA_TYPES: set[str] = set()  # event types newer than the 2023-08-16 enum (resources add them)

CREATED, DELETED, EMITTED = 0, 1, 2
_WRITES = {CREATED: 0, DELETED: 2}


@cache
def _enum() -> frozenset[str]:
    from . import schemas

    params = schemas.endpoints(versions.CURRENT).get("POST /v1/webhook_endpoints")
    if params is None:
        return frozenset()
    items = params["params"]["properties"]["enabled_events"]["items"]
    return frozenset(items.get("enum", ())) - {"*"}


def known_types() -> frozenset[str]:
    """Every event type Stripe documents (the ``enabled_events`` enum) plus :data:`EXTRA_TYPES`."""
    return _enum() | EXTRA_TYPES


@cache
def _automatic(object_type: str, verb: int) -> str | None:
    entry = AUTOMATIC.get(object_type)
    if entry is not None:
        return entry[verb]
    name = f"{object_type}.{('created', 'updated', 'deleted')[verb]}"
    return name if name in known_types() else None


# --- one request's events -----------------------------------------------------------------


class Recorder:
    """The writes and emits of one request, in order (``store.recorder`` while it runs)."""

    __slots__ = ("entries", "target", "before", "created", "request")

    def __init__(self, request: dict[str, str | None]) -> None:
        self.entries: list[tuple[int, Any]] = []
        self.target: Obj | None = None  # the object an update endpoint names
        self.before: Obj | None = None  # ... copied before the handler
        self.created: set[int] = set()
        self.request = request

    def append(self, entry: tuple[int, Any]) -> None:
        self.entries.append(entry)
        if entry[0] == CREATED:
            self.created.add(id(entry[1]))


@cache
def _update_target(endpoint: str) -> tuple[str, str] | None:
    """For ``POST /v1/things/{id}`` answering a ``thing``: (object type, path param)."""
    from . import schemas

    method, _, template = endpoint.partition(" ")
    if method != "POST" or not template.endswith("}"):
        return None
    entry = schemas.endpoints(versions.CURRENT).get(endpoint)
    if entry is None or not entry["path_params"]:
        return None
    object_type = entry["response"]
    if _automatic(object_type, 1) is None:
        return None
    return object_type, entry["path_params"][-1]


def begin(store: Store, endpoint: str, path_params: dict[str, str],
          request: dict[str, str | None]) -> Recorder:
    """Start recording a write request's events (the engine calls this)."""
    recorder = Recorder(request)
    target = _update_target(endpoint)
    if target is not None:
        obj = store.get(target[0], path_params.get(target[1], ""))
        if obj is not None:
            recorder.target, recorder.before = obj, copy_tree(obj)
    store.recorder = recorder
    return recorder


def finish(ctx: Context, recorder: Recorder, *, keep: bool = True) -> None:
    """Turn the request's writes and emits into stored events, in order (``keep=False``: a bug
    in the fake interrupted the request; nothing is announced)."""
    store = ctx.store
    store.recorder = None
    if not keep:
        return
    explicit = {(e["type"], e["_object"].get("id")) for kind, e in recorder.entries
                if kind == EMITTED}
    fake, account = ctx.fake, ctx.account
    for kind, item in recorder.entries:
        if kind == EMITTED:
            _store(fake, account, item)
            continue
        obj = item
        if kind == CREATED and store.get(obj["object"], obj["id"]) is not obj:
            continue  # added and removed again within the request
        event_type = _automatic(obj["object"], _WRITES[kind])
        if event_type is None or (event_type, obj.get("id")) in explicit:
            continue
        _store(fake, account, _new(fake, account, event_type, obj, None, recorder.request))
    target, before = recorder.target, recorder.before
    if target is not None and before is not None and store.get(
            target["object"], target["id"]) is target:
        event_type = _automatic(target["object"], 1)
        if event_type is not None and (event_type, target["id"]) not in explicit:
            changed = diff(before, target, _skip(target["object"]))
            if changed:
                _store(fake, account, _new(fake, account, event_type, target, before,
                                           recorder.request))


def is_new(ctx: Context, obj: Obj) -> bool:
    """Whether the current request created ``obj`` (its ``.created`` says it all)."""
    recorder = ctx.store.recorder
    return recorder is not None and id(obj) in recorder.created


# --- the contract: emit -------------------------------------------------------------------


def emit(ctx: Context, type: str, obj: Obj, previous_attributes: Obj | None = None) -> Obj:
    """Record the event ``type`` about ``obj`` (the stored object, current shape, after the
    change); ``previous_attributes``: the changed keys' old values, for ``*.updated``.

    Inside a request the event joins that request's events in order (``request`` = its id and
    idempotency key); outside one (a test helper, the clock) ``request`` ids are null."""
    return emit_to(ctx.fake, ctx.account, type, obj, previous_attributes)


def emit_updated(ctx: Context, type: str, obj: Obj, previous_attributes: Obj) -> Obj | None:
    """``emit`` a ``*.updated`` for an object the request changed on the side; a no-op for the
    request's update target (its automatic ``.updated`` diffs everything) and for objects the
    request created."""
    recorder = ctx.store.recorder
    if recorder is not None and (obj is recorder.target or id(obj) in recorder.created):
        return None
    if not previous_attributes:
        return None
    return emit(ctx, type, obj, previous_attributes)


def emit_changes(ctx: Context, type: str, obj: Obj, before: Obj) -> Obj | None:
    """``emit_updated`` with ``previous_attributes`` computed from a copy taken before."""
    return emit_updated(ctx, type, obj, diff(before, obj, _skip(obj.get("object", ""))))


def emit_to(fake: StripeFake, account: Any, type: str, obj: Obj,
            previous_attributes: Obj | None = None) -> Obj:
    """``emit`` without a handler context (``account`` is the fake's ``Account``)."""
    recorder = account.store.recorder
    before = None
    if previous_attributes:
        before = overlay(copy_tree(obj), previous_attributes)
    request = recorder.request if recorder is not None else NO_REQUEST
    event = _new(fake, account, type, obj, before, request)
    if recorder is not None:
        recorder.append((EMITTED, event))
    elif fake.emit_events:
        _store(fake, account, event)
        fake.webhooks.drain()  # no request to wait for
    return event


def emit_from_store(store: Store, type: str, obj: Obj,
                    previous_attributes: Obj | None = None) -> Obj | None:
    """``emit`` for helpers that only hold the account's store (a source becoming chargeable
    because the customer acted): request ids are null.  None when the store belongs to no fake."""
    owner = store.owner
    if owner is None:
        return None
    fake, account = owner
    return emit_to(fake, account, type, obj, previous_attributes)


NO_REQUEST: dict[str, str | None] = {"id": None, "idempotency_key": None}


def _new(fake: StripeFake, account: Any, type: str, obj: Obj, before: Obj | None,
         request: dict[str, str | None]) -> Obj:
    return {"id": account.ids.new("event"), "object": "event", "type": type,
            "created": fake.clock.now(), "api_version": fake.default_version,
            "request": request, "_object": copy_tree(obj), "_before": before,
            "_rendered": {}, "_deliveries": []}


# --- the log ------------------------------------------------------------------------------


def _store(fake: StripeFake, account: Any, event: Obj) -> None:
    account.store.table("event").add(event)
    fake.webhooks.enqueue(account, event)


def all_events(store: Store) -> Iterator[Obj]:
    """The account's stored events, newest first (expired ones included)."""
    return store.all("event")


def alive(event: Obj, now: int) -> bool:
    return event["created"] > now - RETENTION


# --- rendering ----------------------------------------------------------------------------


def render(fake: StripeFake, store: Store, event: Obj, version: str | None = None,
           pending_webhooks: int | None = None) -> Obj:
    """The wire form of a stored event in ``version`` (default: the event's ``api_version``)."""
    version = version or event["api_version"]
    resolved = versions.resolve(version)
    cached = event["_rendered"].get(resolved)
    if cached is None:
        after = _render_object(fake, store, event["_object"], resolved)
        data: Obj = {"object": after}
        if event["_before"] is not None:
            before = _render_object(fake, store, event["_before"], resolved)
            data["previous_attributes"] = diff(before, after)
        cached = event["_rendered"][resolved] = data
    return {"id": event["id"], "object": "event", "api_version": version,
            "created": event["created"], "data": copy_tree(cached), "livemode": False,
            "pending_webhooks": (pending(event) if pending_webhooks is None
                                 else pending_webhooks),
            "request": dict(event["request"]), "type": event["type"]}


def pending(event: Obj) -> int:
    """Endpoints that have not yet acknowledged the event with a 2xx."""
    return sum(1 for d in event["_deliveries"] if not d.succeeded)


def delivered(event: Obj) -> bool:
    return all(d.succeeded for d in event["_deliveries"])


def _render_object(fake: StripeFake, store: Store, obj: Obj, version: str) -> Obj:
    from .engine import _lookup, _View
    from .expand import Renderer

    renderer = Renderer(fake._facts, lambda t, i: _lookup(store, t, i))
    body = renderer.render(obj)
    if versions.needs_downgrade(version):
        body = versions.downgrade(version, body, _View(renderer))
    return body


class Attrs(dict):  # type: ignore[type-arg]
    """A rendered event (a plain dict) whose keys read as attributes too: ``e.data.object.id``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def as_attrs(node: Any) -> Any:
    if type(node) is dict:
        return Attrs({k: as_attrs(v) for k, v in node.items()})
    if type(node) is list:
        return [as_attrs(v) for v in node]
    return node


# --- trees --------------------------------------------------------------------------------


def copy_tree(node: Any) -> Any:
    """A deep copy of a JSON-like tree (dicts, lists, scalars): cheaper than ``copy.deepcopy``."""
    if type(node) is dict:
        return {k: (copy_tree(v) if type(v) in (dict, list) else v) for k, v in node.items()}
    if type(node) is list:
        return [copy_tree(v) if type(v) in (dict, list) else v for v in node]
    return node


def diff(before: Obj, after: Obj, skip: frozenset[str] = frozenset()) -> Obj:
    """Stripe's ``previous_attributes``: the keys whose value changed, with the old value;
    nested where a plain hash changed inside (``{"metadata": {"k": null}}`` for an added key),
    whole for arrays and embedded objects; keys that appeared map to null."""
    out: Obj = {}
    for key, old in before.items():
        if key in skip:
            continue
        if key not in after:
            out[key] = old
            continue
        new = after[key]
        if old is new or old == new:
            continue
        if type(old) is dict and type(new) is dict and "object" not in old:
            out[key] = diff(old, new)
        else:
            out[key] = old
    for key in after:
        if key not in before and key not in skip:
            out[key] = None
    return out


def overlay(obj: Obj, previous: Obj) -> Obj:
    """``obj`` with ``previous_attributes`` put back (in place): the state before the change."""
    for key, old in previous.items():
        current = obj.get(key)
        if type(old) is dict and type(current) is dict and "object" not in old:
            overlay(current, old)
        else:
            obj[key] = copy_tree(old)
    return obj


@cache
def _skip(object_type: str) -> frozenset[str]:
    """Includable fields: a change there (a source attached) is no change of the object [D]."""
    from . import schemas

    facts = schemas.shape_facts().get(object_type)
    return frozenset() if facts is None else facts.skip
