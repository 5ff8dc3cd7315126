"""Payment Links (STRIPE-API-RULES-BILLING.md section 7.6).

A link is a reusable URL; each visit runs as a Checkout Session whose ``payment_link`` points
back to it (:func:`open_session`: what the hosted page creates when a customer opens the
link).  Links are never deleted, only deactivated (``active=false``).  Line items are
``item`` objects (``li_...``) like a session's; update changes their quantities by ``id``.
"""

from __future__ import annotations

from typing import Any

from .. import errors, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import checkout_sessions

# --- messages: [R]; correct them here -----------------------------------------------------------
MAX_ITEMS = 20  # [S] "up to 20 line items"
TOO_MANY_ITEMS = "A payment link can have at most 20 line items."  # [R]
UNKNOWN_ITEM = "No such line item on this payment link: '{id}'"  # [R]
INACTIVE = "This payment link is no longer active: {id}"  # [R] (a page, not an API error)
RECURRING_MIX = (  # [R]
    "Payment links with recurring prices must use the same billing interval for every "
    "recurring price.")

versions.register(
    versions.FieldAdded(
        "2024-04-10", "Payment links: `inactive_message`. [S py] date [R]", object="payment_link",
        path="inactive_message", schema={"type": ["string", "null"]},
        params={"POST /v1/payment_links": {"inactive_message": {"type": "string",
                                                                 "maxLength": 500}},
                "POST /v1/payment_links/{payment_link}": {
                    "inactive_message": {"anyOf": [{"type": "string", "maxLength": 500},
                                                   {"type": "string", "enum": [""]}]}}}),
    versions.FieldAdded(
        "2024-04-10", "Payment links: `restrictions`. [S py] date [R]", object="payment_link",
        path="restrictions", schema={"anyOf": [{"type": "object"}, {"type": "null"}]}),
)


def _after_completion(raw: dict[str, Any] | None) -> Obj:
    raw = raw or {"type": "hosted_confirmation"}
    if raw["type"] == "redirect":
        if "redirect" not in raw:
            raise errors.missing_param("after_completion[redirect]")
        return {"redirect": {"url": raw["redirect"]["url"]}, "type": "redirect"}
    custom = (raw.get("hosted_confirmation") or {}).get("custom_message")
    return {"hosted_confirmation": {"custom_message": custom}, "type": "hosted_confirmation"}


def _check_items(items: list[Obj]) -> None:
    if len(items) > MAX_ITEMS:
        raise errors.invalid(TOO_MANY_ITEMS, "line_items")
    intervals = {(i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"])
                 for i in items if i["price"]["recurring"]}
    if len(intervals) > 1:
        raise errors.invalid(RECURRING_MIX, "line_items")


def _subscription_data(raw: dict[str, Any] | None, recurring: bool) -> Obj | None:
    if not recurring:
        return None
    raw = raw or {}
    return {"description": raw.get("description"),
            "trial_period_days": raw.get("trial_period_days")}


@route("POST", "/v1/payment_links")
def create(ctx: Context) -> Obj:
    p = ctx.params
    items = checkout_sessions.build_line_items(ctx, p["line_items"])
    _check_items(items)
    currency = checkout_sessions._currency_of(items, "line_items")
    recurring = any(i["price"]["type"] == "recurring" for i in items)
    lid = ctx.new_id("payment_link")
    pi_data = p.get("payment_intent_data")
    invoice = p.get("invoice_creation")
    link: Obj = {
        "id": lid,
        "object": "payment_link",
        "active": True,
        "after_completion": _after_completion(p.get("after_completion")),
        "allow_promotion_codes": p.get("allow_promotion_codes", False),
        "application": None,
        "application_fee_amount": p.get("application_fee_amount"),
        "application_fee_percent": p.get("application_fee_percent"),
        "automatic_tax": {"enabled": bool((p.get("automatic_tax") or {}).get("enabled"))},
        "billing_address_collection": p.get("billing_address_collection", "auto"),
        "consent_collection": None,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {"shipping_address": None, "submit": None},
        "customer_creation": p.get("customer_creation", "if_required"),
        "inactive_message": p.get("inactive_message"),
        "invoice_creation": (None if recurring else {
            "enabled": bool((invoice or {}).get("enabled")), "invoice_data": None}),
        "line_items": {"object": "list", "data": items, "has_more": False,
                       "url": f"/v1/payment_links/{lid}/line_items"},
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "on_behalf_of": p.get("on_behalf_of"),
        "payment_intent_data": (None if recurring else {
            "capture_method": (pi_data or {}).get("capture_method"),
            "setup_future_usage": (pi_data or {}).get("setup_future_usage")}),
        "payment_method_collection": p.get("payment_method_collection", "always"),
        "payment_method_types": p.get("payment_method_types"),
        "phone_number_collection": {"enabled": bool(
            (p.get("phone_number_collection") or {}).get("enabled"))},
        "restrictions": None,
        "shipping_address_collection": None,
        "shipping_options": [],
        "submit_type": p.get("submit_type", "auto"),
        "subscription_data": _subscription_data(p.get("subscription_data"), recurring),
        "tax_id_collection": {"enabled": bool((p.get("tax_id_collection") or {}).get("enabled"))},
        "transfer_data": None,
        "url": f"https://buy.stripe.com/test_{ctx.account.ids.token(14)}",
    }
    return ctx.store.add(link)


def require(ctx: Context, payment_link: str, *, in_path: bool = True) -> Obj:
    return ctx.store.require("payment_link", payment_link, param="payment_link",
                             in_path=in_path)


@route("GET", "/v1/payment_links/{payment_link}")
def retrieve(ctx: Context, payment_link: str) -> Obj:
    return require(ctx, payment_link)


_PLAIN = ("active", "allow_promotion_codes", "billing_address_collection", "customer_creation",
          "payment_method_collection")


@route("POST", "/v1/payment_links/{payment_link}")
def update(ctx: Context, payment_link: str) -> Obj:
    """``active``, ``line_items`` (quantities and ``adjustable_quantity``, by item ``id``),
    ``after_completion``, ``metadata`` and collection settings [S]."""
    link = require(ctx, payment_link)
    p = ctx.params
    by_id = {item["id"]: item for item in link["line_items"]["data"]}
    changes = []
    for index, raw in enumerate(p.get("line_items") or []):
        item = by_id.get(raw["id"])
        if item is None:
            raise errors.invalid(UNKNOWN_ITEM.format(id=raw["id"]), f"line_items[{index}][id]")
        quantity = raw.get("quantity", item["quantity"])
        adjustable = (checkout_sessions._adjustable(raw["adjustable_quantity"], quantity, index,
                                                    "line_items")
                      if "adjustable_quantity" in raw else item["adjustable_quantity"])
        changes.append((item, quantity, adjustable))
    after = _after_completion(p["after_completion"]) if "after_completion" in p else None
    for item, quantity, adjustable in changes:
        amount = checkout_sessions._line_amount(item["price"], quantity)
        item.update(quantity=quantity, adjustable_quantity=adjustable,
                    amount_subtotal=amount, amount_total=amount)
    for key in _PLAIN:
        if key in p:
            link[key] = p[key]
    if after is not None:
        link["after_completion"] = after
    if "inactive_message" in p:
        link["inactive_message"] = p["inactive_message"] or None
    if "payment_method_types" in p:
        link["payment_method_types"] = p["payment_method_types"] or None
    if "metadata" in p:
        link["metadata"] = metadata.apply(link["metadata"], p["metadata"])
    return link


@route("GET", "/v1/payment_links")
def list_links(ctx: Context) -> Obj:
    p = ctx.params
    active = p.get("active")

    def matches(link: Obj) -> bool:
        return active is None or link["active"] == active

    return lists.page(ctx.store.table("payment_link"), p, "/v1/payment_links", matches)


@route("GET", "/v1/payment_links/{payment_link}/line_items")
def line_items(ctx: Context, payment_link: str) -> Obj:
    link = require(ctx, payment_link)
    return lists.page_of(link["line_items"]["data"], ctx.params,
                         f"/v1/payment_links/{payment_link}/line_items")


def session_params(link: Obj) -> dict[str, Any]:
    """The Checkout Session a visit to ``link`` opens, as create params [S]/[D] (Payment Links
    use Checkout; the link's metadata is copied to the session [S])."""
    items = link["line_items"]["data"]
    recurring = any(item["price"]["type"] == "recurring" for item in items)
    p: dict[str, Any] = {
        "mode": "subscription" if recurring else "payment",
        "line_items": [{"price": item["price"]["id"], "quantity": item["quantity"],
                        **({"adjustable_quantity": item["adjustable_quantity"]}
                           if item["adjustable_quantity"] else {})}
                       for item in items],
        "metadata": dict(link["metadata"]),
    }
    if link["allow_promotion_codes"]:
        p["allow_promotion_codes"] = True
    if not recurring:
        p["customer_creation"] = link["customer_creation"]
        pi_data = {k: v for k, v in (link["payment_intent_data"] or {}).items() if v is not None}
        if pi_data:
            p["payment_intent_data"] = pi_data
    else:
        sub = {k: v for k, v in (link["subscription_data"] or {}).items() if v is not None}
        if sub:
            p["subscription_data"] = sub
        p["payment_method_collection"] = link["payment_method_collection"]
    if link["after_completion"]["type"] == "redirect":
        p["success_url"] = link["after_completion"]["redirect"]["url"]
    if link["payment_method_types"]:
        p["allowed_payment_method_types"] = list(link["payment_method_types"])
    return p


def open_session(ctx: Context, link: Obj) -> Obj:
    """What the hosted page does when a customer opens ``link``: a new open session."""
    if not link["active"]:
        raise errors.conflict(INACTIVE.format(id=link["id"]))
    return checkout_sessions.new_session(ctx, session_params(link), payment_link=link["id"])
