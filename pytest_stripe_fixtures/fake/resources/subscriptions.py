"""Subscriptions and subscription items (STRIPE-API-RULES-BILLING.md §1, §4, §5).

**For other modules** (Checkout creates subscriptions through this): :func:`start` creates a
subscription with its first invoice and payment exactly as ``POST /v1/subscriptions`` does
(``start(ctx, customer, items=[{"price": "price_...", "quantity": 1}], params={...})`` with
any create params, e.g. ``default_payment_method``, ``trial_period_days``, ``discounts``,
``payment_behavior``) and returns the stored subscription; its ``latest_invoice`` is the
first invoice, whose PaymentIntent is ``invoices.payment_intent_of(store, invoice)``.

Statuses move through one table, :data:`STATUS` (``(status, event) -> status``).  Time moves
subscriptions through :func:`run_until`: the fake's clock (``stripe_fake.clock.advance``) for
subscriptions of customers without a test clock, ``POST /v1/test_helpers/test_clocks/{id}/
advance`` for a clock's own.  On the way, in time order: trials end, periods renew (a draft
``subscription_cycle`` invoice, finalized and charged an hour later [D]), failed payments are
retried (``invoices.RetrySettings``), ``cancel_at`` / ``cancel_at_period_end`` take effect,
unpaid ``incomplete`` subscriptions expire after 23 hours, repeating discounts end.

Prorations (§4.1, classic mode): ``round(unit_amount × quantity × (period_end − t) /
(period_end − period_start))``, a credit for the old item and a charge for the new one, as
invoice items (``proration: true``), billed with the next invoice (``create_prorations``), at
once (``always_invoice``) or not at all (``none``).
"""

from __future__ import annotations

import heapq
import weakref
from typing import Any

from .. import errors, events, lists, metadata, versions
from ..engine import Context, StripeFake, on_time_moved
from ..routing import route
from ..store import Obj, Store
from . import billing_shapes as shapes
from . import invoices
from .billing_shapes import BASIL, BILLING_MODE_ADDED, DISCOUNTS_ADDED, Reshape
from .discounts import add_months

# --- messages: [V] as tagged, the rest [R]; correct them here -------------------------------
NO_PAYMENT_SOURCE = (  # [V]
    "This customer has no attached payment source or default payment method. Please consider "
    "adding a default payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-"
    "priority.")
CANCELED_UPDATE = (  # [V] 2026 wording (fjordllc/bootcamp#10095)
    "A canceled subscription can only update its cancellation_details and metadata.")
ANCHOR_IN_PAST = "Invalid timestamp: must be an integer Unix timestamp in the future."  # [V]
NEED_ITEMS = "Missing required param: items."  # [R]
NOT_RECURRING = (  # [R]
    "The price specified is set to `type=one_time` but this field only accepts prices with "
    "`type=recurring`.")
MIXED_CURRENCY = "All prices on a subscription must have the same `currency`."  # [R]
MIXED_INTERVAL = (  # [R]
    "All prices on a subscription must have the same `recurring.interval` and "
    "`recurring.interval_count`.")
TRIAL_FROM_PLAN_AND_END = (  # [R]
    "You cannot set `trial_end` when `trial_from_plan` is true.")
PENDING_ON_CREATE = (  # [R]
    "`payment_behavior=pending_if_incomplete` is only supported when updating a subscription.")
NOT_PAUSED = "Only paused subscriptions can be resumed."  # [R]
INCOMPLETE_UPDATE = (  # [R] rule [S]
    "A subscription in `incomplete` status can only update its `metadata` and `default_source`.")
LAST_ITEM = (  # [R]
    "A subscription must have at least one active plan. To cancel a subscription, please use "
    "the cancel API endpoint on /v1/subscriptions.")
ADVANCE_TOO_FAR = (  # [R] rule [S]
    "Cannot advance more than two intervals of the shortest subscription on this test clock.")
INCOMPLETE_WINDOW = 23 * 3600  # [S] incomplete -> incomplete_expired
SEARCH_FIELDS = {"created": "numeric", "metadata": "token", "status": "token"}

CREATE, UPDATE = "POST /v1/subscriptions", "POST /v1/subscriptions/{subscription_exposed_id}"

# (status, event) -> status  [S] subscription `status` description; [D] lifecycle docs
STATUS: dict[tuple[str, str], str] = {
    ("incomplete", "paid"): "active",
    ("incomplete", "expired"): "incomplete_expired",
    ("incomplete", "canceled"): "canceled",
    ("trialing", "trial_ended"): "active",
    ("trialing", "trial_ended_no_method_pause"): "paused",
    ("trialing", "trial_ended_no_method_cancel"): "canceled",
    ("trialing", "canceled"): "canceled",
    ("trialing", "paid"): "trialing",
    ("active", "paid"): "active",
    ("active", "payment_failed"): "past_due",
    ("active", "canceled"): "canceled",
    ("past_due", "paid"): "active",
    ("past_due", "payment_failed"): "past_due",
    ("past_due", "retries_exhausted_canceled"): "canceled",
    ("past_due", "retries_exhausted_unpaid"): "unpaid",
    ("past_due", "retries_exhausted_past_due"): "past_due",
    ("past_due", "canceled"): "canceled",
    ("unpaid", "paid"): "active",
    ("unpaid", "payment_failed"): "unpaid",
    ("unpaid", "canceled"): "canceled",
    ("paused", "resumed_paid"): "active",
    ("paused", "resumed_failed"): "past_due",
    ("paused", "canceled"): "canceled",
}
RENEWING = ("active", "past_due", "unpaid", "trialing")


def _details(sub: Obj) -> Obj:
    if not isinstance(sub.get("cancellation_details"), dict):
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
    return sub["cancellation_details"]


def move(sub: Obj, event: str) -> bool:
    """Apply ``event`` by the table; False (and no change) when it does not apply."""
    new = STATUS.get((sub["status"], event))
    if new is None:
        return False
    sub["status"] = new
    return True


# --- version changes ------------------------------------------------------------------------


def _first_item(obj: Obj, view: versions.View) -> Obj:
    """The first item in the current shape (items are downgraded before their subscription)."""
    stored = view.lookup("subscription", obj["id"]) if obj.get("id") else None
    data = ((stored or obj).get("items") or {}).get("data") or [{}]
    return data[0] if data else {}


def _first_discount(obj: Obj, view: versions.View) -> Any:
    ids = obj.get("discounts") or []
    if not ids:
        return None
    first = ids[0]
    return view.lookup("discount", first) if isinstance(first, str) else first


def _lift_legacy_discounts(endpoint: str, params: Obj) -> None:
    """2023 ``coupon`` / ``promotion_code`` become one ``discounts[]`` entry."""
    if endpoint not in (CREATE, UPDATE):
        return
    entry = {k: params.pop(k) for k in ("coupon", "promotion_code") if k in params}
    if entry:
        params["discounts"] = [entry] if all(entry.values()) else ""


_DISCOUNTS_PARAM = {"anyOf": [{"type": "array", "items": {
    "type": "object", "additionalProperties": False, "properties": {
        "coupon": {"type": "string", "maxLength": 5000},
        "discount": {"type": "string", "maxLength": 5000},
        "promotion_code": {"type": "string", "maxLength": 5000}}}},
    {"type": "string", "enum": [""]}]}
versions.register(
    Reshape(DISCOUNTS_ADDED, "Subscriptions: `discounts` (ids). [R] date", object="subscription",
            added={"discounts": shapes.ID_LIST},
            params_added={CREATE: {"discounts": _DISCOUNTS_PARAM},
                          UPDATE: {"discounts": _DISCOUNTS_PARAM}}),
    Reshape(DISCOUNTS_ADDED, "Subscription items: `discounts` (ids). [R] date",
            object="subscription_item", added={"discounts": shapes.ID_LIST}),
    Reshape(BASIL, "Subscriptions: current period on the items; `discount` and the singular "
            "`coupon` / `promotion_code` params removed.", object="subscription",
            removed={"current_period_start": ({}, lambda o, v: _first_item(o, v).get(
                "current_period_start") or o.get("start_date") or 0),
                     "current_period_end": ({}, lambda o, v: _first_item(o, v).get(
                         "current_period_end") or o.get("start_date") or 0),
                     "discount": ({}, _first_discount)},
            params_removed={CREATE: ("coupon", "promotion_code"),
                            UPDATE: ("coupon", "promotion_code")},
            lift=_lift_legacy_discounts),
    Reshape(BASIL, "Subscription items: `current_period_start` / `current_period_end`.",
            object="subscription_item",
            added={"current_period_start": {"type": "integer"},
                   "current_period_end": {"type": "integer"}}),
    Reshape(BILLING_MODE_ADDED, "Subscriptions: `billing_mode` hash.", object="subscription",
            added={"billing_mode": shapes.OBJECT}),
)
events.AUTOMATIC["subscription"] = ("customer.subscription.created",
                                    "customer.subscription.updated", None)
events.AUTOMATIC["subscription_item"] = (None, None, None)
events.AUTOMATIC["invoice_payment"] = (None, None, None)


# --- periods --------------------------------------------------------------------------------


def add_interval(ts: int, interval: str, count: int) -> int:
    if interval == "month":
        return add_months(ts, count)
    if interval == "year":
        return add_months(ts, 12 * count)
    return ts + count * (86400 if interval == "day" else 7 * 86400)


def _recurring(sub: Obj) -> tuple[str, int]:
    recurring = sub["items"]["data"][0]["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def _period(sub: Obj) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def _set_period(sub: Obj, start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end


def _next_boundary(sub: Obj, after: int) -> int:
    """The first cycle boundary after ``after``: anchor + k intervals (no day drift)."""
    interval, count = _recurring(sub)
    anchor = sub["billing_cycle_anchor"]
    k = 1
    while True:
        boundary = add_interval(anchor, interval, count * k)
        if boundary > after:
            return boundary
        k += 1


def _half_up(numerator: int, denominator: int) -> int:
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


# --- building -------------------------------------------------------------------------------


def _price(ctx: Context, price_id: str, param: str) -> Obj:
    price = ctx.store.require("price", price_id, param=param, in_path=False)
    if price["type"] != "recurring":
        raise errors.invalid(NOT_RECURRING, param)
    return price


def _new_item(ctx: Context, sub_id: str, raw: dict[str, Any], param: str, at: int) -> Obj:
    if "price" not in raw:
        raise errors.missing_param(f"{param}[price]")
    price = _price(ctx, raw["price"], f"{param}[price]")
    item: Obj = {"id": ctx.new_id("subscription_item"), "object": "subscription_item",
                 "billing_thresholds": None, "created": at, "current_period_end": 0,
                 "current_period_start": 0, "discounts": [],
                 "metadata": metadata.apply({}, raw.get("metadata")), "price": price,
                 "quantity": raw.get("quantity", 1), "subscription": sub_id, "tax_rates": []}
    return item


def _check_items(items: list[Obj]) -> None:
    first = items[0]["price"]
    for index, item in enumerate(items[1:], 1):
        price = item["price"]
        if price["currency"] != first["currency"]:
            raise errors.invalid(MIXED_CURRENCY, f"items[{index}][price]")
        if (price["recurring"]["interval"], price["recurring"]["interval_count"]) != (
                first["recurring"]["interval"], first["recurring"]["interval_count"]):
            raise errors.invalid(MIXED_INTERVAL, f"items[{index}][price]")


def _has_method(ctx: Context, sub: Obj, customer: Obj) -> bool:
    return bool(sub["default_payment_method"] or sub["default_source"]
                or customer["invoice_settings"].get("default_payment_method")
                or customer.get("default_source"))


def _check_method(ctx: Context, customer: Obj, value: str, param: str) -> str:
    """A payment method for the customer: its card/source, or a PaymentMethod [S]."""
    if value.startswith(("card_", "src_")):
        from .sources import attached_to

        if attached_to(ctx.store, value) != customer["id"]:
            raise errors.no_such("source" if value.startswith("src_") else "card", value,
                                 param, in_path=False)
        return value
    pm = ctx.store.get("payment_method", value)
    if pm is None and not (value.startswith("pm_card_") and
                           "payment_method" not in ctx.store.tables):
        raise errors.no_such("PaymentMethod", value, param, in_path=False)
    return value


CHECKOUT_PARAMS = ("billing_cycle_anchor", "description", "metadata", "trial_end",
                   "trial_period_days", "trial_settings")


def create_from_checkout(ctx: Context, *, customer: str, payment_method: str,
                         items: list[dict[str, Any]], subscription_data: dict[str, Any],
                         coupon: str | None, promotion_code: str | None) -> tuple[Obj, Obj]:
    """Checkout's subscription mode: the card the customer entered is attached to them and
    becomes the subscription's default, then :func:`start` with the session's
    ``subscription_data`` and discount.  Returns the subscription and its first invoice (a
    declining card shows as an unpaid invoice and an ``incomplete`` subscription)."""
    from . import payment_methods

    buyer = ctx.store.require("customer", customer, param="customer", in_path=False)
    pm = payment_methods.attach(ctx, payment_methods.resolve(ctx, payment_method,
                                                             "payment_method"), buyer,
                                verify=False)
    params = {key: subscription_data[key] for key in CHECKOUT_PARAMS if key in subscription_data}
    params["default_payment_method"] = pm["id"]
    if promotion_code is not None:
        params["discounts"] = [{"promotion_code": promotion_code}]
    elif coupon is not None:
        params["discounts"] = [{"coupon": coupon}]
    sub = start(ctx, buyer, items, params)
    return sub, ctx.store.get("invoice", sub["latest_invoice"])


def start(ctx: Context, customer: Obj, items: list[dict[str, Any]], params: dict[str, Any]
          ) -> Obj:
    """Create a subscription, its first invoice and the payment (see the module docstring)."""
    p = params
    store = ctx.store
    at = invoices.billing_now(ctx, customer["id"])
    behavior = p.get("payment_behavior", "allow_incomplete")
    if behavior == "pending_if_incomplete":
        raise errors.invalid(PENDING_ON_CREATE, "payment_behavior")
    if not items:
        raise errors.invalid(NEED_ITEMS, "items")
    sid = ctx.new_id("subscription")
    built = [_new_item(ctx, sid, raw, f"items[{i}]", at) for i, raw in enumerate(items)]
    _check_items(built)
    price = built[0]["price"]
    if p.get("trial_from_plan") and "trial_end" in p:
        raise errors.invalid(TRIAL_FROM_PLAN_AND_END, "trial_end")
    trial_end = None
    if p.get("trial_end") not in (None, "now"):
        trial_end = int(p["trial_end"])
        if trial_end <= at:
            raise errors.invalid(ANCHOR_IN_PAST, "trial_end")
    elif p.get("trial_period_days"):
        trial_end = at + int(p["trial_period_days"]) * 86400
    elif p.get("trial_from_plan") and (price["recurring"].get("trial_period_days")):
        trial_end = at + int(price["recurring"]["trial_period_days"]) * 86400
    anchor = p.get("billing_cycle_anchor")
    if anchor is not None and anchor <= at:
        raise errors.invalid(ANCHOR_IN_PAST, "billing_cycle_anchor")
    interval, count = price["recurring"]["interval"], price["recurring"]["interval_count"]
    period_end = trial_end or anchor or add_interval(at, interval, count)
    method = p.get("collection_method", "charge_automatically")
    if method == "send_invoice" and "days_until_due" not in p:
        raise errors.invalid(invoices.DAYS_UNTIL_DUE_NEEDED, "days_until_due")
    sub: Obj = {
        "id": sid, "object": "subscription", "application": None,
        "application_fee_percent": None, "automatic_tax": {"enabled": False},
        "billing_cycle_anchor": anchor or period_end,
        "billing_mode": {"type": "flexible" if versions.version_key(ctx.version) >=
                         versions.version_key(versions.CLOVER) else "classic"},
        "billing_thresholds": None, "cancel_at": p.get("cancel_at"),
        "cancel_at_period_end": bool(p.get("cancel_at_period_end")), "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": method, "created": at, "currency": price["currency"],
        "customer": customer["id"], "days_until_due": p.get("days_until_due"),
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": p.get("description"), "discounts": [], "ended_at": None,
        "items": {"object": "list", "data": built, "has_more": False,
                  "url": f"/v1/subscription_items?subscription={sid}"},
        "latest_invoice": None, "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "start_date": at,
        "status": "trialing" if trial_end else "incomplete",
        "test_clock": customer.get("test_clock"), "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": (
            ((p.get("trial_settings") or {}).get("end_behavior") or {}).get(
                "missing_payment_method", "create_invoice"))}},
        "trial_start": at if trial_end else None,
    }
    if sub["cancel_at_period_end"]:
        sub["cancel_at"] = period_end
        sub["canceled_at"] = at
        _details(sub)["reason"] = "cancellation_requested"
    for key in ("default_payment_method", "default_source"):
        if p.get(key):
            sub[key] = _check_method(ctx, customer, p[key], key)
    _set_period(sub, at, period_end)
    first_amount = 0 if trial_end else sum(i["price"]["unit_amount"] * i["quantity"]
                                           for i in built)
    if p.get("discounts"):
        from . import discounts

        sub["discounts"] = [d["id"] for d in discounts.redeem_list(
            ctx, customer, p["discounts"], "discounts", at=at, subscription=sid,
            amount=first_amount, currency=price["currency"])]
    needs_payment = not trial_end and first_amount > 0
    if (needs_payment and method == "charge_automatically" and behavior != "default_incomplete"
            and not _has_method(ctx, sub, customer)):
        raise errors.invalid(NO_PAYMENT_SOURCE)
    store.add(sub)
    for item in built:
        store.table("subscription_item").add(item)
    events.emit(ctx, "customer.subscription.created", sub)
    invoice = invoices.new_invoice(
        ctx, customer, at=at, billing_reason="subscription_create", subscription=sub,
        collection_method=method, auto_advance=method == "send_invoice",
        days_until_due=p.get("days_until_due"), discounts=sub["discounts"])
    sub["latest_invoice"] = invoice["id"]
    for item in built:
        line = _cycle_line(ctx, invoice["id"], sub, item, at, period_end, trial=bool(trial_end))
        if anchor is not None and not trial_end:
            full = anchor - add_interval(anchor, interval, -count) if interval in (
                "day", "week") else anchor - add_months(anchor, -count * (12 if interval ==
                                                                          "year" else 1))
            line["amount"] = 0 if p.get("proration_behavior") == "none" else _half_up(
                line["amount"] * (anchor - at), full)
        invoice["lines"]["data"].append(line)
    for index, raw in enumerate(p.get("add_invoice_items") or []):
        one = ctx.store.require("price", raw["price"], param=f"add_invoice_items[{index}][price]",
                                in_path=False)
        ii = invoices.new_item(ctx, customer, amount=one["unit_amount"] * raw.get("quantity", 1),
                               currency=one["currency"], at=at, description=None, price=one,
                               quantity=raw.get("quantity", 1), unit_decimal=str(
                                   one["unit_amount"]), subscription=sid,
                               invoice=invoice["id"])
        invoice["lines"]["data"].insert(0, invoices.item_line(ctx, invoice["id"], ii))
    invoices.recompute(ctx, invoice)
    _use_once_discounts(ctx, sub)
    if method == "send_invoice":
        move(sub, "paid") if sub["status"] == "incomplete" else None
        sub["status"] = "trialing" if trial_end else "active"  # [S] regardless of payment
        return sub
    invoices.finalize(ctx, invoice, at)
    if invoice["status"] == "paid":
        if sub["status"] == "incomplete":
            move(sub, "paid")
        return sub
    if behavior == "default_incomplete":
        from . import payment_glue

        pi = payment_glue.pay(ctx, amount=invoice["amount_due"], currency=invoice["currency"],
                              customer=customer["id"], payment_method=None, off_session=False,
                              description="Subscription creation", invoice_id=invoice["id"])
        invoices._record_payment(ctx, invoice, pi, "open", at=at)
        invoices.await_confirmation(ctx, invoice)
        return sub
    paid = invoices.attempt(ctx, invoice, at, off_session=bool(p.get("off_session")),
                            automatic=False)
    if not paid and behavior == "error_if_incomplete":
        from . import payment_glue

        pi_id = (store.get("invoice_payment", invoices._payment_id(invoice["id"])) or {}).get(
            "payment", {}).get("payment_intent")
        error = payment_glue.decline_error(ctx, store.get("payment_intent", pi_id)
                                           if pi_id else None)
        for item in built:
            store.table("subscription_item").remove(item["id"], None)
        store.table("subscription").remove(sid, None)
        store.table("invoice").remove(invoice["id"], None)
        raise error
    return sub


def _cycle_line(ctx: Context, invoice_id: str, sub: Obj, item: Obj, start: int, end: int,
                *, trial: bool = False) -> Obj:
    if trial:
        product = ctx.store.get("product", item["price"]["product"])
        name = product["name"] if product else item["price"]["product"]
        return invoices.subscription_line(ctx, invoice_id, sub, item, start, end, amount=0,
                                          description=f"Trial period for {name}")  # [V]
    return invoices.subscription_line(ctx, invoice_id, sub, item, start, end)


def _use_once_discounts(ctx: Context, sub: Obj) -> None:
    """A ``once`` coupon discounts one invoice; then it leaves the subscription [S]."""
    from .discounts import coupon_of

    kept = []
    for did in sub["discounts"]:
        discount = ctx.store.get("discount", did)
        coupon = None if discount is None else coupon_of(ctx.store, discount)
        if coupon is not None and coupon["duration"] == "once":
            continue
        kept.append(did)
    sub["discounts"] = kept


def _expire_discounts(ctx: Context, sub: Obj, at: int) -> None:
    kept = []
    for did in sub["discounts"]:
        discount = ctx.store.get("discount", did)
        if discount is not None and discount["end"] is not None and discount["end"] <= at:
            continue
        kept.append(did)
    sub["discounts"] = kept


# --- what invoices tell subscriptions -------------------------------------------------------


def _of(ctx: Context, invoice: Obj) -> Obj | None:
    sid = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return ctx.store.get("subscription", sid) if sid else None


def _changed(ctx: Context, sub: Obj, before: Obj) -> None:
    events.emit_changes(ctx, "customer.subscription.updated", sub, before)


def invoice_paid(ctx: Context, invoice: Obj, at: int) -> None:
    sub = _of(ctx, invoice)
    if sub is None or sub["latest_invoice"] != invoice["id"]:
        return
    if sub["status"] in ("incomplete", "past_due", "unpaid"):
        before = events.copy_tree(sub)
        move(sub, "paid")
        _changed(ctx, sub, before)


def invoice_payment_failed(ctx: Context, invoice: Obj, at: int) -> None:
    sub = _of(ctx, invoice)
    if sub is None or sub["status"] == "incomplete":
        return
    before = events.copy_tree(sub)
    if move(sub, "payment_failed"):
        _changed(ctx, sub, before)


def retries_exhausted(ctx: Context, invoice: Obj, at: int, after: str) -> None:
    sub = _of(ctx, invoice)
    if sub is None or sub["latest_invoice"] != invoice["id"]:
        return  # [D] a later invoice was paid: the status stays
    before = events.copy_tree(sub)
    if move(sub, f"retries_exhausted_{after}"):
        if sub["status"] == "canceled":
            _end(ctx, sub, at, reason="payment_failed")
            return
        _changed(ctx, sub, before)


def _end(ctx: Context, sub: Obj, at: int, *, reason: str | None = None) -> None:
    sub["status"] = "canceled"
    sub["ended_at"] = at
    if sub["canceled_at"] is None:
        sub["canceled_at"] = at
    if reason and _details(sub)["reason"] is None:
        _details(sub)["reason"] = reason
    for iid in _open_invoices(ctx, sub):  # [S] automatic collection stops
        inv = ctx.store.get("invoice", iid)
        if inv is not None:
            inv["next_payment_attempt"] = None
            inv["auto_advance"] = False
    events.emit(ctx, "customer.subscription.deleted", sub)


def _open_invoices(ctx: Context, sub: Obj) -> list[str]:
    return [inv["id"] for inv in ctx.store.table("invoice").newest_first(
        where=("customer", sub["customer"]))
        if inv["status"] in ("draft", "open") and _of(ctx, inv) is sub]


# --- time -----------------------------------------------------------------------------------


def due(sub: Obj) -> int | None:
    """When the subscription acts next by itself."""
    status = sub["status"]
    if status == "incomplete":
        return sub["created"] + INCOMPLETE_WINDOW
    if status not in RENEWING:
        return None
    end = _period(sub)[1]
    if sub["cancel_at"] is not None and sub["cancel_at"] < end:
        return sub["cancel_at"]
    return end


def act(ctx: Context, sub: Obj, at: int) -> None:
    """Do what was due at ``at``: expire, cancel, end a trial, renew."""
    before = events.copy_tree(sub)
    customer = ctx.store.get("customer", sub["customer"])
    if sub["status"] == "incomplete":
        move(sub, "expired")
        latest = ctx.store.get("invoice", sub["latest_invoice"] or "")
        if latest is not None and latest["status"] == "open":
            invoices.void(ctx, latest, at)
        sub["ended_at"] = at
        _changed(ctx, sub, before)
        return
    if sub["cancel_at"] is not None and sub["cancel_at"] <= at:
        _end(ctx, sub, at, reason="cancellation_requested")
        return
    start, end = at, _next_boundary(sub, at)
    ending_trial = sub["status"] == "trialing"
    if ending_trial:
        sub["billing_cycle_anchor"] = at
        interval, count = _recurring(sub)
        end = add_interval(at, interval, count)
        if customer is not None and not _has_method(ctx, sub, customer):
            behavior = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
            if behavior == "cancel":
                _end(ctx, sub, at)
                return
            if behavior == "pause":
                move(sub, "trial_ended_no_method_pause")
                _changed(ctx, sub, before)
                return
        move(sub, "trial_ended")
    _set_period(sub, start, end)
    _expire_discounts(ctx, sub, at)
    if customer is None:
        return
    invoice = invoices.new_invoice(
        ctx, customer, at=at, billing_reason="subscription_cycle", subscription=sub,
        collection_method=sub["collection_method"], auto_advance=sub["status"] != "unpaid",
        days_until_due=sub["days_until_due"], discounts=sub["discounts"],
        period=(before_period_start(before), at))
    invoices.attach_items(ctx, invoice, invoices.pending_items(ctx.store, customer["id"],
                                                               sub["id"]))
    for item in sub["items"]["data"]:
        invoice["lines"]["data"].append(_cycle_line(ctx, invoice["id"], sub, item, start, end))
    invoices.recompute(ctx, invoice)
    _use_once_discounts(ctx, sub)
    sub["latest_invoice"] = invoice["id"]
    if sub["status"] == "unpaid":  # [S] created, then closed at once: no attempt
        invoices.finalize(ctx, invoice, at)
    _changed(ctx, sub, before)


def before_period_start(before: Obj) -> int:
    return _period(before)[0]


_NEW: weakref.WeakKeyDictionary[Store, list[str]] = weakref.WeakKeyDictionary()


def run_until(ctx: Context, until: int, clock_id: str | None) -> None:
    """Move every subscription and auto-advancing invoice of ``clock_id`` (None: objects on no
    test clock) through time up to ``until``, in time order."""
    store = ctx.store
    heap: list[tuple[int, int, str, str]] = []
    seq = 0
    for sub in store.all("subscription"):
        if sub["test_clock"] == clock_id:
            t = due(sub)
            if t is not None and t <= until:
                heap.append((t, seq, "subscription", sub["id"]))
                seq += 1
    seen_invoices: set[str] = set()
    for inv in store.all("invoice"):
        if inv["test_clock"] == clock_id and inv["auto_advance"]:
            t = invoices.due_actions(ctx, inv)
            if t is not None and t <= until:
                heap.append((t, seq, "invoice", inv["id"]))
                seq += 1
                seen_invoices.add(inv["id"])
    heapq.heapify(heap)
    table = store.table("invoice")
    mark = len(table.order)
    while heap:
        t, _, kind, oid = heapq.heappop(heap)
        obj = store.get(kind, oid)
        if obj is None:
            continue
        current = due(obj) if kind == "subscription" else invoices.due_actions(ctx, obj)
        if current is None or current > until:
            continue
        if current != t:
            heapq.heappush(heap, (current, seq, kind, oid))
            seq += 1
            continue
        if kind == "subscription":
            act(ctx, obj, t)
        else:
            invoices.run_due(ctx, obj, t)
        nxt = due(obj) if kind == "subscription" else invoices.due_actions(ctx, obj)
        if nxt is not None and nxt <= until:
            heapq.heappush(heap, (nxt, seq, kind, oid))
            seq += 1
        while mark < len(table.order):  # invoices created on the way
            iid = table.order[mark]
            mark += 1
            inv = table.rows.get(iid) if iid else None
            if inv is not None and inv["auto_advance"] and inv["test_clock"] == clock_id:
                t2 = invoices.due_actions(ctx, inv)
                if t2 is not None and t2 <= until:
                    heapq.heappush(heap, (t2, seq, "invoice", inv["id"]))
                    seq += 1


@on_time_moved
def _follow_fake_clock(fake: StripeFake, account: Any) -> None:
    if account.store.count("subscription") or account.store.count("invoice"):
        run_until(fake.clock_context(account), fake.clock.now(), None)


def shortest_interval_end(store: Store, clock_id: str, frozen: int) -> int | None:
    """[S] a clock may move at most two intervals of its shortest subscription."""
    ends = []
    for sub in store.all("subscription"):
        if sub["test_clock"] == clock_id and sub["status"] not in ("canceled",
                                                                   "incomplete_expired"):
            interval, count = _recurring(sub)
            ends.append(add_interval(frozen, interval, 2 * count))
    return min(ends) if ends else None


# --- prorations -----------------------------------------------------------------------------


def _prorate(ctx: Context, sub: Obj, customer: Obj, old: Obj | None, new: Obj | None,
             when: int) -> list[Obj]:
    """The proration invoice items of replacing ``old`` by ``new`` at ``when`` (either may be
    None: an item added or removed)."""
    start, end = _period(sub)
    if not (start <= when < end):
        return []
    made = []
    date = invoices.format_date(when)
    for item, sign, words in ((old, -1, "Unused time on"), (new, 1, "Remaining time on")):
        if item is None:
            continue
        price = item["price"]
        product = ctx.store.get("product", price["product"])
        name = product["name"] if product else price["product"]
        full = (price["unit_amount"] or 0) * item["quantity"]
        amount = sign * _half_up(full * (end - when), end - start)
        label = name if item["quantity"] == 1 else f"{item['quantity']} × {name}"
        made.append(invoices.new_item(
            ctx, customer, amount=amount, currency=price["currency"], at=when,
            description=f"{words} {label} after {date}", price=price,
            quantity=item["quantity"], unit_decimal=str(price["unit_amount"]),
            proration=True, subscription=sub["id"], subscription_item=item["id"],
            period=(when, end)))
    return made


def _change_items(ctx: Context, sub: Obj, raw_items: list[dict[str, Any]], *, behavior: str,
                  when: int, param: str = "items") -> list[Obj]:
    """Apply ``items[]`` (with ``id``: change or delete that item; without: add one)."""
    customer = ctx.store.require("customer", sub["customer"], param="customer", in_path=False)
    data = sub["items"]["data"]
    made: list[Obj] = []
    prorate = behavior != "none" and sub["status"] in ("active", "past_due")
    for index, raw in enumerate(raw_items):
        where = f"{param}[{index}]"
        if raw.get("id"):
            item = next((i for i in data if i["id"] == raw["id"]), None)
            if item is None:
                raise errors.no_such("subscription_item", raw["id"], f"{where}[id]",
                                     in_path=False)
            old = events.copy_tree(item)
            if raw.get("deleted"):
                if len(data) == 1:
                    raise errors.invalid(LAST_ITEM, f"{where}[deleted]")
                data.remove(item)
                ctx.store.delete("subscription_item", item["id"], {
                    "id": item["id"], "object": "subscription_item", "deleted": True})
                if prorate:
                    made += _prorate(ctx, sub, customer, old, None, when)
                continue
            if "price" in raw:
                item["price"] = _price(ctx, raw["price"], f"{where}[price]")
            if "quantity" in raw:
                item["quantity"] = raw["quantity"]
            if "metadata" in raw:
                item["metadata"] = metadata.apply(item["metadata"], raw["metadata"])
            changed = (old["price"]["id"], old["quantity"]) != (item["price"]["id"],
                                                                item["quantity"])
            if prorate and changed:
                made += _prorate(ctx, sub, customer, old, item, when)
        else:
            item = _new_item(ctx, sub["id"], raw, where, when)
            start, end = _period(sub)
            item["current_period_start"], item["current_period_end"] = start, end
            data.append(item)
            ctx.store.table("subscription_item").add(item)
            if prorate:
                made += _prorate(ctx, sub, customer, None, item, when)
    _check_items(data)
    return made


def _invoice_now(ctx: Context, sub: Obj, at: int, proration_date: int | None) -> None:
    """``always_invoice``: the pending prorations are billed at once [S]."""
    customer = ctx.store.require("customer", sub["customer"], param="customer", in_path=False)
    pending = invoices.pending_items(ctx.store, customer["id"], sub["id"])
    if not pending:
        return
    invoice = invoices.new_invoice(ctx, customer, at=at, billing_reason="subscription_update",
                                   subscription=sub, collection_method=sub["collection_method"],
                                   auto_advance=True, days_until_due=sub["days_until_due"],
                                   discounts=sub["discounts"], proration_date=proration_date)
    invoices.attach_items(ctx, invoice, pending)
    invoices.recompute(ctx, invoice)
    sub["latest_invoice"] = invoice["id"]
    if sub["collection_method"] == "charge_automatically":
        invoices.open_and_collect(ctx, invoice, at)


# --- endpoints ------------------------------------------------------------------------------


def _sub_in_path(ctx: Context, sid: str) -> Obj:
    return ctx.store.require("subscription", sid, param="subscription_exposed_id",
                             in_path=True, name="subscription")


@route("POST", "/v1/subscriptions")
def create(ctx: Context) -> Obj:
    p = ctx.params
    customer = ctx.store.require("customer", p["customer"], param="customer", in_path=False)
    return start(ctx, customer, list(p.get("items") or []), p)


@route("GET", "/v1/subscriptions/{subscription_exposed_id}")
def retrieve(ctx: Context, subscription_exposed_id: str) -> Obj:
    return _sub_in_path(ctx, subscription_exposed_id)


_UPDATABLE_WHEN_INCOMPLETE = {"metadata", "default_source", "expand"}


@route("POST", "/v1/subscriptions/{subscription_exposed_id}")
def update(ctx: Context, subscription_exposed_id: str) -> Obj:
    sub = _sub_in_path(ctx, subscription_exposed_id)
    p = ctx.params
    if sub["status"] in ("canceled", "incomplete_expired") and set(p) - {
            "cancellation_details", "metadata", "expand"}:
        raise errors.conflict(CANCELED_UPDATE)
    if sub["status"] == "incomplete" and set(p) - _UPDATABLE_WHEN_INCOMPLETE:
        raise errors.conflict(INCOMPLETE_UPDATE)
    at = invoices.billing_now(ctx, sub["customer"])
    customer = ctx.store.require("customer", sub["customer"], param="customer", in_path=False)
    when = p.get("proration_date", at)
    behavior = p.get("proration_behavior", "create_prorations")
    if "items" in p:
        _change_items(ctx, sub, list(p["items"]), behavior=behavior, when=when)
    for key in ("default_payment_method", "default_source"):
        if key in p:
            sub[key] = _check_method(ctx, customer, p[key], key) if p[key] else None
    for key in ("description", "days_until_due", "collection_method"):
        if key in p:
            sub[key] = p[key] or None if key == "description" else p[key]
    if "metadata" in p:
        sub["metadata"] = metadata.apply(sub["metadata"], p["metadata"])
    if "cancellation_details" in p:
        details = p["cancellation_details"] or {}
        for key in ("comment", "feedback"):
            if key in details:
                _details(sub)[key] = details[key] or None
    if "cancel_at_period_end" in p:
        sub["cancel_at_period_end"] = p["cancel_at_period_end"]
        if p["cancel_at_period_end"]:  # [V] status stays; cancel_at = period end
            sub["cancel_at"] = _period(sub)[1]
            sub["canceled_at"] = at
            _details(sub)["reason"] = "cancellation_requested"
        else:
            sub["cancel_at"] = sub["canceled_at"] = None
            _details(sub)["reason"] = None
    if "cancel_at" in p:
        sub["cancel_at"] = p["cancel_at"] or None
    if "discounts" in p:
        from . import discounts

        sub["discounts"] = [] if p["discounts"] == "" else [d["id"] for d in
                                                             discounts.redeem_list(
            ctx, customer, p["discounts"], "discounts", at=at, subscription=sub["id"])]
    if p.get("trial_end") == "now" and sub["status"] == "trialing":
        sub["trial_end"] = at
        _set_period(sub, _period(sub)[0], at)
        act(ctx, sub, at)
        latest = ctx.store.get("invoice", sub["latest_invoice"])
        if latest is not None and latest["status"] == "draft":
            invoices.open_and_collect(ctx, latest, at)
    elif "trial_end" in p and p["trial_end"] != "now" and sub["status"] == "trialing":
        sub["trial_end"] = int(p["trial_end"])
        _set_period(sub, _period(sub)[0], int(p["trial_end"]))
    if behavior == "always_invoice":
        _invoice_now(ctx, sub, at, p.get("proration_date"))
    return sub


@route("DELETE", "/v1/subscriptions/{subscription_exposed_id}")
def cancel(ctx: Context, subscription_exposed_id: str) -> Obj:
    sub = _sub_in_path(ctx, subscription_exposed_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise errors.conflict(CANCELED_UPDATE)
    at = invoices.billing_now(ctx, sub["customer"])
    details = ctx.params.get("cancellation_details") or {}
    for key in ("comment", "feedback"):
        if key in details:
            _details(sub)[key] = details[key] or None
    sub["canceled_at"] = at
    _details(sub)["reason"] = "cancellation_requested"
    # pending prorations go with an immediate cancel [S]
    for ii in invoices.pending_items(ctx.store, sub["customer"], sub["id"]):
        if ii["proration"]:
            ctx.store.delete("invoiceitem", ii["id"], {"id": ii["id"], "object": "invoiceitem",
                                                       "deleted": True})
    _end(ctx, sub, at)
    return sub


@route("POST", "/v1/subscriptions/{subscription}/resume")
def resume(ctx: Context, subscription: str) -> Obj:
    """``paused`` -> a resumption invoice: paid -> ``active``, failed -> ``past_due`` [S]."""
    sub = ctx.store.require("subscription", subscription, param="subscription", in_path=True)
    if sub["status"] != "paused":
        raise errors.conflict(NOT_PAUSED)
    at = invoices.billing_now(ctx, sub["customer"])
    customer = ctx.store.require("customer", sub["customer"], param="customer", in_path=False)
    interval, count = _recurring(sub)
    sub["billing_cycle_anchor"] = at
    _set_period(sub, at, add_interval(at, interval, count))
    invoice = invoices.new_invoice(ctx, customer, at=at, billing_reason="subscription_update",
                                   subscription=sub, collection_method=sub["collection_method"],
                                   auto_advance=True, discounts=sub["discounts"])
    for item in sub["items"]["data"]:
        invoice["lines"]["data"].append(_cycle_line(ctx, invoice["id"], sub, item, at,
                                                    _period(sub)[1]))
    invoices.recompute(ctx, invoice)
    sub["latest_invoice"] = invoice["id"]
    invoices.finalize(ctx, invoice, at)
    paid = invoice["status"] == "paid" or invoices.attempt(ctx, invoice, at)
    sub["status"] = "paused"
    move(sub, "resumed_paid" if paid else "resumed_failed")
    return sub


@route("GET", "/v1/subscriptions")
def list_subscriptions(ctx: Context) -> Obj:
    p = ctx.params
    status = p.get("status")
    customer, price, clock = p.get("customer"), p.get("price"), p.get("test_clock")
    method = p.get("collection_method")

    def matches(sub: Obj) -> bool:
        if status is None:
            if sub["status"] in ("canceled", "incomplete_expired"):
                return False
        elif status == "ended":
            if sub["status"] not in ("canceled", "incomplete_expired"):
                return False
        elif status != "all" and sub["status"] != status:
            return False
        if clock is not None:
            if sub["test_clock"] != clock:
                return False
        elif customer is None and sub["test_clock"] is not None:
            return False  # [S] test-clock subscriptions only with test_clock or customer
        if price is not None and all(i["price"]["id"] != price for i in sub["items"]["data"]):
            return False
        return method is None or sub["collection_method"] == method

    return lists.page(ctx.store.table("subscription"), p, "/v1/subscriptions", matches,
                      where=None if customer is None else ("customer", customer))


@route("GET", "/v1/subscriptions/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("subscription"), ctx.params, "/v1/subscriptions/search",
                        SEARCH_FIELDS)


# --- subscription items ---------------------------------------------------------------------


def _item_in_path(ctx: Context, item: str) -> Obj:
    return ctx.store.require("subscription_item", item, param="item", in_path=True)


@route("GET", "/v1/subscription_items")
def list_items(ctx: Context) -> Obj:
    p = ctx.params
    sub = ctx.store.require("subscription", p["subscription"], param="subscription",
                            in_path=False)
    return lists.page_of(list(reversed(sub["items"]["data"])), p,
                         "/v1/subscription_items")


@route("GET", "/v1/subscription_items/{item}")
def retrieve_item(ctx: Context, item: str) -> Obj:
    return _item_in_path(ctx, item)


def _item_change(ctx: Context, sub: Obj, raw: dict[str, Any]) -> None:
    p = ctx.params
    at = invoices.billing_now(ctx, sub["customer"])
    behavior = p.get("proration_behavior", "create_prorations")
    before = events.copy_tree(sub)
    _change_items(ctx, sub, [raw], behavior=behavior, when=p.get("proration_date", at))
    if behavior == "always_invoice":
        _invoice_now(ctx, sub, at, p.get("proration_date"))
    _changed(ctx, sub, before)


@route("POST", "/v1/subscription_items")
def create_item(ctx: Context) -> Obj:
    p = ctx.params
    sub = ctx.store.require("subscription", p["subscription"], param="subscription",
                            in_path=False)
    raw = {k: p[k] for k in ("price", "quantity", "metadata") if k in p}
    _item_change(ctx, sub, raw)
    return sub["items"]["data"][-1]


@route("POST", "/v1/subscription_items/{item}")
def update_item(ctx: Context, item: str) -> Obj:
    obj = _item_in_path(ctx, item)
    sub = ctx.store.require("subscription", obj["subscription"], param="subscription",
                            in_path=False)
    raw = {"id": item, **{k: ctx.params[k] for k in ("price", "quantity", "metadata")
                          if k in ctx.params}}
    _item_change(ctx, sub, raw)
    return obj


@route("DELETE", "/v1/subscription_items/{item}")
def delete_item(ctx: Context, item: str) -> Obj:
    obj = _item_in_path(ctx, item)
    sub = ctx.store.require("subscription", obj["subscription"], param="subscription",
                            in_path=False)
    _item_change(ctx, sub, {"id": item, "deleted": True})
    return {"id": item, "object": "subscription_item", "deleted": True}
