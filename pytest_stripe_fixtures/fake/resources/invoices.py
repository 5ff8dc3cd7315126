"""Invoices, invoice items and invoice lines (STRIPE-API-RULES-BILLING.md §2, §3, §5).

An invoice moves through one table of transitions (:data:`TRANSITIONS`): ``draft`` ->
``open`` -> ``paid`` / ``uncollectible`` / ``void``.  Money fields are recomputed from the lines
whenever a draft changes (:func:`recompute`); finalizing fixes them, numbers the invoice, and
settles zero-due invoices at once.  Payment goes through PaymentIntents
(``payment_intents.create_and_confirm``, the payments module's one entry point); the
PaymentIntent of an invoice is kept as an ``invoice_payment`` (the basil ``payments`` list),
from which older versions read ``payment_intent``, ``charge`` and ``paid``.

Discounts (§3): an invoice carries the discounts of its subscription (or its own), each line
gets ``discount_amounts`` (percent: rounded per line; amount: spread over the discountable
lines in proportion, never below zero), ``applies_to.products`` limits the lines a coupon
reduces, and prorations are never discounted.  Tax stays zero (no tax rates are modelled).

Retries (§5.3, our documented profile, :class:`RetrySettings`): a failed automatic payment is
retried 1, 3, 5, 7, 9, 11 and 14 days after the first attempt (8 tries within 2 weeks, Stripe's
recommended default); after the last failure the subscription is canceled (Stripe's default
setting [C]) and the invoice left open.  ``configure_retries`` changes that per fake.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import errors, events, lists, metadata, versions
from ..engine import Context, StripeFake, before_handler
from ..routing import route
from ..store import Obj, Store
from . import billing_shapes as shapes
from .billing_shapes import BASIL, Reshape

# --- messages: [V] as tagged, the rest [R]; correct them here -------------------------------
ALREADY_PAID = "Invoice is already paid"  # [V] twentyhq/twenty#22705
FINALIZED_NOT_EDITABLE = "Finalized invoices can't be updated in this way"  # [V] stripe-php#1105
NOT_IN_STATUS = (  # [R] (code invoice_not_editable exists [S py16.1.0])
    "You can only {action} an invoice whose status is {allowed}; this invoice is `{status}`.")
DELETE_NOT_DRAFT = (  # [R]
    "You can only delete draft invoices. Finalized invoices must be voided instead.")
DELETE_SUBSCRIPTION_DRAFT = (  # [R]
    "You can't delete an invoice created by a subscription; void it instead once finalized.")
NO_PAYMENT_METHOD_INVOICE = (  # [R]
    "This invoice cannot be paid because the customer has no default payment method or "
    "source.")
ITEM_NEEDS_AMOUNT = (  # [R]
    "You must specify either `amount`, `price`, or `unit_amount` when creating an invoice item.")
ITEM_NEEDS_CURRENCY = "You must pass `currency` when creating an invoice item with `amount`."  # [R]
ITEM_INVOICED = (  # [R]
    "This invoice item is attached to invoice {invoice}, which is no longer a draft; it can't "
    "be changed.")
SEND_NEEDS_SEND_INVOICE = (  # [R]
    "You can only send invoices whose `collection_method` is `send_invoice`.")
DAYS_UNTIL_DUE_NEEDED = (  # [R]
    "Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.")
NO_UPCOMING = "No upcoming invoices for customer: {customer}"  # [V] stripe-java#920

DRAFT_WINDOW = 3600  # [D] renewal drafts finalize and are charged about an hour later

# (status, action) -> new status [D] https://stripe.com/docs/invoicing/integration/workflow-transitions
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "finalize"): "open",
    ("draft", "pay"): "paid",  # pay finalizes a draft first [C]
    ("open", "pay"): "paid",
    ("open", "void"): "void",
    ("open", "mark_uncollectible"): "uncollectible",
    ("uncollectible", "pay"): "paid",
    ("uncollectible", "void"): "void",
}
SEARCH_FIELDS = {"created": "numeric", "currency": "string", "customer": "string",
                 "metadata": "token", "number": "string", "status": "string",
                 "subscription": "string", "total": "numeric"}


@dataclass
class RetrySettings:
    """What happens after a failed automatic payment (the account's Dashboard settings)."""

    schedule_days: tuple[int, ...] = (1, 3, 5, 7, 9, 11, 14)  # after the first attempt
    subscription_after: str = "canceled"  # or "unpaid" / "past_due"
    invoice_after: str = "open"  # or "uncollectible"


_SETTINGS: weakref.WeakKeyDictionary[Store, RetrySettings] = weakref.WeakKeyDictionary()


def retry_settings(store: Store) -> RetrySettings:
    found = _SETTINGS.get(store)
    if found is None:
        found = _SETTINGS[store] = RetrySettings()
    return found


def configure_retries(fake: StripeFake, *, schedule_days: tuple[int, ...] | None = None,
                      subscription_after: str | None = None,
                      invoice_after: str | None = None, api_key: str | None = None) -> None:
    """Set the account's retry settings (Dashboard -> Billing -> Revenue recovery)."""
    settings = retry_settings(fake.account(api_key).store)
    if schedule_days is not None:
        settings.schedule_days = tuple(schedule_days)
    if subscription_after is not None:
        if subscription_after not in ("canceled", "unpaid", "past_due"):
            raise ValueError("subscription_after: canceled, unpaid or past_due")
        settings.subscription_after = subscription_after
    if invoice_after is not None:
        if invoice_after not in ("open", "uncollectible"):
            raise ValueError("invoice_after: open or uncollectible")
        settings.invoice_after = invoice_after


# --- version changes ------------------------------------------------------------------------


def _payment_id(invoice_id: str) -> str:
    return "inpay_" + invoice_id[3:]


def _default_payment(obj: Obj, view: versions.View) -> Obj | None:
    if not obj.get("id"):
        return None
    return view.lookup("invoice_payment", _payment_id(obj["id"]))


def _intent_of(obj: Obj, view: versions.View) -> Any:
    payment = _default_payment(obj, view)
    if payment is None:
        return None
    pi = payment["payment"].get("payment_intent")
    if pi is not None and "payment_intent" in shapes.LEGACY_EXPAND.get():
        return view.lookup("payment_intent", pi) or pi
    return pi


def _charge_of(obj: Obj, view: versions.View) -> Any:
    payment = _default_payment(obj, view)
    pi_id = None if payment is None else payment["payment"].get("payment_intent")
    pi = view.lookup("payment_intent", pi_id) if pi_id else None
    return None if pi is None else pi.get("latest_charge")


def _subscription_of(obj: Obj, view: versions.View) -> Any:
    parent = obj.get("parent") or {}
    return (parent.get("subscription_details") or {}).get("subscription")


def _proration_date(obj: Obj, view: versions.View) -> Any:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    found = details.get("subscription_proration_date")
    return shapes.OMIT if found is None else found


def _subscription_details(obj: Obj, view: versions.View) -> Any:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details")
    return None if details is None else {"metadata": details.get("metadata")}


def _first_discount(obj: Obj, view: versions.View) -> Any:
    ids = obj.get("discounts") or []
    if len(ids) != 1:
        return None  # [S] not populated with several discounts
    first = ids[0]
    return view.lookup("discount", first) if isinstance(first, str) else first


def _paid_out_of_band(obj: Obj, view: versions.View) -> bool:
    payment = _default_payment(obj, view)
    return obj.get("status") == "paid" and payment is not None and \
        payment["payment"]["type"] == "out_of_band"


def _lift_invoice_expand(endpoint: str, params: Obj) -> None:
    """2023 ``expand[]`` of ``payment_intent`` / ``charge`` on invoices (also through
    ``latest_invoice.`` or ``data.``): honoured while downgrading (see LEGACY_EXPAND)."""
    paths = params.get("expand")
    if not paths:
        return
    kept, wished = [], set()
    for path in paths:
        leaf = path.rsplit(".", 1)[-1]
        if leaf == "payment_intent" and ("invoice" in endpoint or "subscription" in endpoint):
            wished.add("payment_intent")
            parent = path.rsplit(".", 1)[0] if "." in path else ""
            if parent and parent not in ("data",):
                kept.append(parent)
            continue
        kept.append(path)
    if wished:
        params["expand"] = kept
        shapes.LEGACY_EXPAND.set(frozenset(wished))


_LINE_ITEM_SCHEMA = shapes.OBJECT
versions.register(
    versions.FieldRenamed("2024-04-10", "Invoices: `rendering_options` -> `rendering`.",
                          object="invoice", old="rendering_options", new="rendering"),
    Reshape(
        BASIL, "Invoices: `parent`, `payments`, `confirmation_secret`, `total_taxes` replace "
        "`subscription*`, `payment_intent`, `charge`, `paid*`, `discount`, `tax*`.",
        object="invoice", also=("deleted_invoice",),
        added={"parent": shapes.NULLABLE_OBJECT, "total_taxes": {"type": "array"},
               "amount_overpaid": {"type": "integer"},
               "payments": shapes.OBJECT, "confirmation_secret": shapes.NULLABLE_OBJECT},
        includable=("payments", "confirmation_secret"),
        removed={
            "subscription": ({}, _subscription_of),
            "subscription_details": ({}, _subscription_details),
            "subscription_proration_date": ({}, _proration_date),
            "quote": ({}, lambda obj, view: None),
            "payment_intent": ({}, _intent_of),
            "charge": ({}, _charge_of),
            "paid": ({}, lambda obj, view: obj.get("status") == "paid"),
            "paid_out_of_band": ({}, _paid_out_of_band),
            "application_fee_amount": ({}, lambda obj, view: None),
            "transfer_data": ({}, lambda obj, view: None),
            "discount": ({}, _first_discount),
            "tax": ({}, lambda obj, view: None),
            "total_tax_amounts": ({}, lambda obj, view: []),
        },
        lift=_lift_invoice_expand),
)


def _line_price(obj: Obj, view: versions.View) -> Any:
    pricing = obj.get("pricing") or {}
    price = (pricing.get("price_details") or {}).get("price")
    return None if price is None else (view.lookup("price", price) or price)


def _line_parent(obj: Obj) -> Obj:
    parent = obj.get("parent") or {}
    return parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}


def _unit_excluding_tax(obj: Obj, view: versions.View) -> Any:
    pricing = obj.get("pricing") or {}
    return pricing.get("unit_amount_decimal")


versions.register(
    versions.FieldAdded("2024-04-10", "Invoice lines: `invoice`. [R] date", object="line_item",
                        path="invoice", schema={"type": ["string", "null"]}),
    Reshape(
        BASIL, "Invoice lines: `parent`, `pricing`, `taxes` replace `type`, `subscription*`, "
        "`invoice_item`, `proration*`, `price`, `tax_amounts`, `tax_rates`.",
        object="line_item",
        added={"parent": shapes.NULLABLE_OBJECT, "pricing": shapes.NULLABLE_OBJECT,
               "taxes": {"type": "array"}},
        removed={
            "type": ({}, lambda obj, view: "subscription" if (obj.get("parent") or {}).get(
                "type") == "subscription_item_details" and not _line_parent(obj).get(
                "invoice_item") else "invoiceitem"),
            "subscription": ({}, lambda obj, view: _line_parent(obj).get("subscription")),
            "subscription_item": ({}, lambda obj, view: _line_parent(obj).get(
                "subscription_item")),
            "invoice_item": ({}, lambda obj, view: _line_parent(obj).get("invoice_item")
                             or shapes.OMIT),
            "proration": ({}, lambda obj, view: bool(_line_parent(obj).get("proration"))),
            "proration_details": ({}, lambda obj, view: _line_parent(obj).get(
                "proration_details") or {"credited_items": None}),
            "price": ({}, _line_price),
            "tax_amounts": ({}, lambda obj, view: []),
            "tax_rates": ({}, lambda obj, view: []),
            "amount_excluding_tax": ({}, lambda obj, view: obj.get("amount")),
            "unit_amount_excluding_tax": ({}, _unit_excluding_tax),
        }),
    Reshape(
        BASIL, "Invoice items: `parent`, `pricing` replace `price`, `unit_amount*`, "
        "`subscription`, `subscription_item`.",
        object="invoiceitem", also=("deleted_invoiceitem",),
        added={"parent": shapes.NULLABLE_OBJECT, "pricing": shapes.NULLABLE_OBJECT},
        removed={
            "price": ({}, _line_price),
            "unit_amount": ({}, lambda obj, view: _unit_amount(obj)),
            "unit_amount_decimal": ({}, _unit_excluding_tax),
            "subscription": ({}, lambda obj, view: ((obj.get("parent") or {}).get(
                "subscription_details") or {}).get("subscription")),
            "subscription_item": ({}, lambda obj, view: ((obj.get("parent") or {}).get(
                "subscription_details") or {}).get("subscription_item")),
        }),
)


def _unit_amount(obj: Obj) -> int | None:
    decimal = (obj.get("pricing") or {}).get("unit_amount_decimal")
    if decimal is None:
        return None
    value = float(decimal)
    return int(value) if value.is_integer() else None


# --- time -------------------------------------------------------------------------------------


def billing_now(ctx: Context, customer_id: str | None) -> int:
    """The time of a customer's billing objects: its test clock's frozen time, or the fake's."""
    if customer_id is not None:
        customer = ctx.store.get("customer", customer_id)
        clock_id = None if customer is None else customer.get("test_clock")
        if clock_id:
            clock = ctx.store.get("test_helpers.test_clock", clock_id)
            if clock is not None:
                return int(clock["frozen_time"])
    return ctx.now()


def format_date(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%d %b %Y")


def format_amount(amount: int, currency: str) -> str:
    symbols = {"usd": "$", "eur": "€", "gbp": "£"}
    symbol = symbols.get(currency)
    value = f"{amount / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


# --- lines ------------------------------------------------------------------------------------


def _pricing(price: Obj | None, unit_decimal: str | None) -> Obj | None:
    if price is None and unit_decimal is None:
        return None
    details = None if price is None else {"price": price["id"], "product": price["product"]}
    return {"price_details": details, "type": "price_details",
            "unit_amount_decimal": unit_decimal}


def subscription_line(ctx: Context, invoice_id: str, sub: Obj, item: Obj, start: int, end: int,
                      *, amount: int | None = None, description: str | None = None) -> Obj:
    """The line billing one subscription item for ``[start, end]``."""
    price = item["price"]
    unit = price["unit_amount"] or 0
    product = ctx.store.get("product", price["product"])
    interval = (price.get("recurring") or {}).get("interval", "month")
    if description is None:
        name = product["name"] if product else price["product"]
        description = (f"{item['quantity']} × {name} (at "
                       f"{format_amount(unit, price['currency'])} / {interval})")  # [V]
    return {
        "id": ctx.new_id("line_item"),
        "object": "line_item",
        "amount": unit * item["quantity"] if amount is None else amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {"invoice_item_details": None, "subscription_item_details": {
            "invoice_item": None, "proration": False, "proration_details":
                {"credited_items": None}, "subscription": sub["id"],
            "subscription_item": item["id"]}, "type": "subscription_item_details"},
        "period": {"end": end, "start": start},
        "pricing": _pricing(price, price.get("unit_amount_decimal")),
        "quantity": item["quantity"],
        "taxes": [],
    }


def item_line(ctx: Context, invoice_id: str, ii: Obj) -> Obj:
    """The line of an invoice item (a proration, or a one-off charge)."""
    details = ((ii.get("parent") or {}).get("subscription_details")) or {}
    price = None
    price_id = ((ii.get("pricing") or {}).get("price_details") or {}).get("price")
    if price_id:
        price = ctx.store.get("price", price_id)
    if details.get("subscription_item") or ii["proration"]:
        parent = {"invoice_item_details": None, "subscription_item_details": {
            "invoice_item": ii["id"], "proration": ii["proration"],
            "proration_details": {"credited_items": None},
            "subscription": details.get("subscription"),
            "subscription_item": details.get("subscription_item")},
            "type": "subscription_item_details"}
    else:
        parent = {"invoice_item_details": {
            "invoice_item": ii["id"], "proration": ii["proration"],
            "proration_details": {"credited_items": None},
            "subscription": details.get("subscription")},
            "subscription_item_details": None, "type": "invoice_item_details"}
    return {
        "id": ctx.new_id("line_item"),
        "object": "line_item",
        "amount": ii["amount"],
        "currency": ii["currency"],
        "description": ii["description"],
        "discount_amounts": [],
        "discountable": ii["discountable"],
        "discounts": list(ii["discounts"]),
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(ii["metadata"] or {}),
        "parent": parent,
        "period": dict(ii["period"]),
        "pricing": _pricing(price, (ii.get("pricing") or {}).get("unit_amount_decimal")),
        "quantity": ii["quantity"],
        "taxes": [],
    }


# --- amounts ----------------------------------------------------------------------------------


def _line_product(line: Obj) -> str | None:
    details = (line.get("pricing") or {}).get("price_details") or {}
    return details.get("product")


def discount_line_amounts(store: Store, lines: list[Obj], discount_ids: list[str]
                          ) -> dict[str, int]:
    """Apply the invoice's discounts to its lines; the total per discount."""
    for line in lines:
        line["discount_amounts"] = []
    totals: dict[str, int] = {}
    for did in discount_ids:
        discount = store.get("discount", did)
        if discount is None:
            continue
        coupon = store.get("coupon", discount["source"]["coupon"]) or store.get_deleted(
            "coupon", discount["source"]["coupon"])
        if coupon is None:
            continue
        products = (coupon.get("applies_to") or {}).get("products")
        eligible = [line for line in lines if line["discountable"] and line["amount"] > 0
                    and (not products or _line_product(line) in products)]
        remaining = {line["id"]: line["amount"] - sum(d["amount"] for d in
                                                       line["discount_amounts"])
                     for line in eligible}
        total = 0
        if coupon["percent_off"] is not None:
            for line in eligible:
                off = min(remaining[line["id"]],
                          int(round(line["amount"] * coupon["percent_off"] / 100)))
                line["discount_amounts"].append({"amount": off, "discount": did})
                total += off
        else:
            base = sum(remaining.values())
            budget = min(coupon["amount_off"] or 0, base)
            left = budget
            for index, line in enumerate(eligible):
                share = left if index == len(eligible) - 1 else (
                    budget * remaining[line["id"]] // base if base else 0)
                share = min(share, remaining[line["id"]], left)
                left -= share
                line["discount_amounts"].append({"amount": share, "discount": did})
                total += share
        totals[did] = total
    for line in lines:  # every line lists every invoice discount [V] (amount 0 when none)
        seen = {d["discount"] for d in line["discount_amounts"]}
        for did in totals:
            if did not in seen:
                line["discount_amounts"].append({"amount": 0, "discount": did})
    return totals


def recompute(ctx: Context, invoice: Obj) -> None:
    """Money fields from the lines (drafts; and once more at finalization)."""
    lines = invoice["lines"]["data"]
    totals = discount_line_amounts(ctx.store, lines, invoice["discounts"])
    subtotal = sum(line["amount"] for line in lines)
    discount_total = sum(totals.values())
    total = subtotal - discount_total
    invoice["subtotal"] = invoice["subtotal_excluding_tax"] = subtotal
    invoice["total"] = invoice["total_excluding_tax"] = total
    invoice["total_discount_amounts"] = [{"amount": amount, "discount": did}
                                         for did, amount in totals.items()]
    if invoice["status"] == "draft":
        customer = ctx.store.get("customer", invoice["customer"])
        starting = 0 if customer is None else customer["balance"]
        invoice["starting_balance"] = starting
        due = max(0, total + starting)
        invoice["amount_due"] = due
        invoice["amount_remaining"] = due - invoice["amount_paid"]


# --- building ---------------------------------------------------------------------------------


def new_invoice(ctx: Context, customer: Obj, *, at: int, billing_reason: str,
                subscription: Obj | None = None, collection_method: str = "charge_automatically",
                auto_advance: bool = False, days_until_due: int | None = None,
                description: str | None = None, meta: Obj | None = None,
                discounts: list[str] | None = None, currency: str | None = None,
                proration_date: int | None = None, default_payment_method: str | None = None,
                period: tuple[int, int] | None = None) -> Obj:
    """A draft invoice (no lines yet), stored, with ``invoice.created`` announced."""
    iid = ctx.new_id("invoice")
    due_date = None
    if collection_method == "send_invoice" and days_until_due is not None:
        due_date = at + days_until_due * 86400
    parent = None
    if subscription is not None:
        parent = {"quote_details": None, "subscription_details": {
            "metadata": dict(subscription["metadata"]), "subscription": subscription["id"],
            "subscription_proration_date": proration_date}, "type": "subscription_details"}
    start, end = period if period is not None else (at, at)
    invoice: Obj = {
        "id": iid,
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": auto_advance,
        "automatic_tax": {"enabled": False, "status": None},
        "billing_reason": billing_reason,
        "collection_method": collection_method,
        "confirmation_secret": None,
        "created": at,
        "currency": currency or (subscription or {}).get("currency") or "usd",
        "custom_fields": None,
        "customer": customer["id"],
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": list(discounts or []),
        "due_date": due_date,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"object": "list", "data": [], "has_more": False,
                  "url": f"/v1/invoices/{iid}/lines"},
        "livemode": False,
        "metadata": dict(meta or {}),
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "payments": {"object": "list", "data": [], "has_more": False,
                     "url": f"/v1/invoice_payments?invoice={iid}"},
        "period_end": end,
        "period_start": start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": customer.get("test_clock"),
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_taxes": [],
        "webhooks_delivered_at": at,
    }
    ctx.store.add(invoice)
    events.emit(ctx, "invoice.created", invoice)
    return invoice


def pending_items(store: Store, customer_id: str, subscription_id: str | None = None
                  ) -> list[Obj]:
    """The customer's pending invoice items (oldest first), only those of one subscription
    when given (and, without, only those of no subscription)."""
    found = []
    for ii in store.table("invoiceitem").newest_first(where=("customer", customer_id)):
        if ii["invoice"] is not None:
            continue
        sub = ((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        if sub == subscription_id:
            found.append(ii)
    return found[::-1]


def attach_items(ctx: Context, invoice: Obj, items: list[Obj]) -> None:
    """Pending invoice items join the draft (as lines, newest first [S])."""
    for ii in reversed(items):
        ii["invoice"] = invoice["id"]
        invoice["lines"]["data"].append(item_line(ctx, invoice["id"], ii))


# --- transitions ------------------------------------------------------------------------------


def _move(invoice: Obj, action: str, *, allowed: str) -> None:
    new = TRANSITIONS.get((invoice["status"], action))
    if new is None:
        if invoice["status"] == "paid" and action == "pay":
            raise errors.conflict(ALREADY_PAID)
        raise errors.conflict(NOT_IN_STATUS.format(action=action.replace("_", " "),
                                                   allowed=allowed, status=invoice["status"]),
                              code="invoice_not_editable" if action != "pay" else None)
    invoice["status"] = new


def finalize(ctx: Context, invoice: Obj, at: int) -> None:
    """draft -> open: amounts fixed, number assigned, customer balance applied; a zero-due
    invoice is paid at once [V]."""
    if invoice["status"] != "draft":
        raise errors.conflict(NOT_IN_STATUS.format(action="finalize", allowed="`draft`",
                                                   status=invoice["status"]),
                              code="invoice_not_editable")
    recompute(ctx, invoice)
    customer = ctx.store.get("customer", invoice["customer"])
    if customer is not None:
        seq = customer["next_invoice_sequence"]
        invoice["number"] = f"{customer['invoice_prefix']}-{seq:04d}"
        customer["next_invoice_sequence"] = seq + 1
        ending = invoice["total"] + invoice["starting_balance"] - invoice["amount_due"]
        invoice["ending_balance"] = ending
        customer["balance"] = ending
    _move(invoice, "finalize", allowed="`draft`")
    invoice["status_transitions"]["finalized_at"] = at
    invoice["effective_at"] = at
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/acct_fake/test_{invoice['id']}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/acct_fake/test_{invoice['id']}/pdf"
    events.emit(ctx, "invoice.finalized", invoice)
    if invoice["amount_due"] == 0:
        _paid(ctx, invoice, at, None)


def _paid(ctx: Context, invoice: Obj, at: int, pi: Obj | None, *, out_of_band: bool = False
          ) -> None:
    amount = invoice["amount_due"]
    invoice["status"] = "paid"  # TRANSITIONS: (open|uncollectible, pay)
    invoice["amount_paid"] = amount
    invoice["amount_remaining"] = 0
    invoice["auto_advance"] = False  # [D] always false once paid
    invoice["next_payment_attempt"] = None
    invoice["status_transitions"]["paid_at"] = at
    if out_of_band:
        _record_payment(ctx, invoice, None, "paid", out_of_band=True, at=at)
    events.emit(ctx, "invoice.paid", invoice)
    if pi is not None:
        events.emit(ctx, "invoice.payment_succeeded", invoice)
    from . import subscriptions

    subscriptions.invoice_paid(ctx, invoice, at)


def _record_payment(ctx: Context, invoice: Obj, pi: Obj | None, status: str, *,
                    out_of_band: bool = False, at: int) -> None:
    pid = _payment_id(invoice["id"])
    payment = ctx.store.get("invoice_payment", pid)
    if payment is None:
        payment = {"id": pid, "object": "invoice_payment", "amount_paid": None,
                   "amount_requested": invoice["amount_due"], "created": at,
                   "currency": invoice["currency"], "invoice": invoice["id"],
                   "is_default": True, "livemode": False,
                   "payment": {"type": "payment_intent", "payment_intent": None},
                   "status": "open",
                   "status_transitions": {"canceled_at": None, "paid_at": None}}
        ctx.store.table("invoice_payment").add(payment)
        invoice["payments"]["data"] = [payment]
    if out_of_band:
        payment["payment"] = {"type": "out_of_band_payment"}
        payment["payment"]["type"] = "out_of_band"
    elif pi is not None:
        payment["payment"] = {"payment_intent": pi["id"], "type": "payment_intent"}
        invoice["confirmation_secret"] = {"client_secret": pi.get("client_secret"),
                                          "type": "payment_intent"}
    payment["status"] = status
    if status == "paid":
        payment["amount_paid"] = invoice["amount_due"]
        payment["status_transitions"]["paid_at"] = at


def resolve_payment_method(ctx: Context, invoice: Obj) -> str | None:
    """invoice -> subscription default_payment_method / default_source -> customer
    invoice_settings.default_payment_method -> customer default_source [S]."""
    if invoice.get("default_payment_method"):
        return invoice["default_payment_method"]
    sub_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get(
        "subscription")
    if sub_id:
        sub = ctx.store.get("subscription", sub_id)
        if sub is not None:
            if sub.get("default_payment_method"):
                return sub["default_payment_method"]
            if sub.get("default_source"):
                return sub["default_source"]
    customer = ctx.store.get("customer", invoice["customer"])
    if customer is None:
        return None
    return (customer["invoice_settings"].get("default_payment_method")
            or customer.get("default_source"))


def attempt(ctx: Context, invoice: Obj, at: int, *, payment_method: str | None = None,
            off_session: bool = True, automatic: bool = True) -> bool:
    """One payment attempt for an open invoice; True when it got paid.  A failure sets the
    next retry (automatic collection) or, after the last one, the final actions."""
    from . import payment_glue

    method = payment_method or resolve_payment_method(ctx, invoice)
    if automatic or invoice["attempt_count"] == 0:
        invoice["attempt_count"] += 1
    invoice["attempted"] = True
    pi = None
    if method is not None:
        pi = payment_glue.pay(ctx, amount=invoice["amount_due"], currency=invoice["currency"],
                              customer=invoice["customer"], payment_method=method,
                              off_session=off_session,
                              description=_pi_description(invoice),
                              invoice_id=invoice["id"])
        _record_payment(ctx, invoice, pi, "paid" if pi["status"] == "succeeded" else "open",
                        at=at)
    if pi is not None and pi["status"] in ("succeeded", "requires_capture"):
        _paid(ctx, invoice, at, pi)
        return True
    if pi is not None and pi["status"] == "requires_action":
        events.emit(ctx, "invoice.payment_action_required", invoice)
    events.emit(ctx, "invoice.payment_failed", invoice)
    _schedule_retry(ctx, invoice, at, has_method=method is not None, automatic=automatic)
    from . import subscriptions

    subscriptions.invoice_payment_failed(ctx, invoice, at)
    return False


def _pi_description(invoice: Obj) -> str:
    sub = _subscription_of(invoice, None)  # type: ignore[arg-type]
    if invoice["billing_reason"] == "subscription_create":
        return "Subscription creation"  # [V] the first invoice's PaymentIntent
    return "Subscription update" if sub else f"Invoice {invoice['number']}"


def _schedule_retry(ctx: Context, invoice: Obj, at: int, *, has_method: bool,
                    automatic: bool) -> None:
    if invoice["collection_method"] != "charge_automatically" or not invoice["auto_advance"]:
        invoice["next_payment_attempt"] = None
        return
    settings = retry_settings(ctx.store)
    first = _first_attempt(invoice, at)
    tries = invoice["attempt_count"]
    if tries - 1 < len(settings.schedule_days):
        invoice["next_payment_attempt"] = first + settings.schedule_days[tries - 1] * 86400
        return
    invoice["next_payment_attempt"] = None
    retries_exhausted(ctx, invoice, at)


def _first_attempt(invoice: Obj, at: int) -> int:
    """When the invoice was first attempted: its finalization."""
    return invoice["status_transitions"]["finalized_at"] or at


def retries_exhausted(ctx: Context, invoice: Obj, at: int) -> None:
    settings = retry_settings(ctx.store)
    if settings.invoice_after == "uncollectible" and invoice["status"] == "open":
        mark_uncollectible(ctx, invoice, at)
    from . import subscriptions

    subscriptions.retries_exhausted(ctx, invoice, at, settings.subscription_after)


def void(ctx: Context, invoice: Obj, at: int) -> None:
    _move(invoice, "void", allowed="`open` or `uncollectible`")
    invoice["status_transitions"]["voided_at"] = at
    invoice["auto_advance"] = False
    invoice["next_payment_attempt"] = None
    invoice["amount_remaining"] = 0
    events.emit(ctx, "invoice.voided", invoice)


def mark_uncollectible(ctx: Context, invoice: Obj, at: int) -> None:
    _move(invoice, "mark_uncollectible", allowed="`open`")
    invoice["status_transitions"]["marked_uncollectible_at"] = at
    invoice["auto_advance"] = False
    invoice["next_payment_attempt"] = None
    events.emit(ctx, "invoice.marked_uncollectible", invoice)


def open_and_collect(ctx: Context, invoice: Obj, at: int, *, off_session: bool = True,
                     attempt_payment: bool = True) -> None:
    """Finalize a draft and, for automatic collection, attempt the payment."""
    finalize(ctx, invoice, at)
    if (invoice["status"] == "open" and invoice["collection_method"] == "charge_automatically"
            and attempt_payment):
        attempt(ctx, invoice, at, off_session=off_session)


# --- time passing -----------------------------------------------------------------------------


def due_actions(ctx: Context, invoice: Obj) -> int | None:
    """When this invoice next acts by itself (finalize a draft, retry a payment), or None."""
    if not invoice["auto_advance"]:
        return None
    if invoice["status"] == "draft":
        return invoice["created"] + DRAFT_WINDOW
    if invoice["status"] == "open":
        return invoice["next_payment_attempt"]
    return None


def run_due(ctx: Context, invoice: Obj, at: int) -> None:
    """Do what was due at ``at`` (see :func:`due_actions`)."""
    if invoice["status"] == "draft":
        open_and_collect(ctx, invoice, at)
    elif invoice["status"] == "open" and invoice["next_payment_attempt"] is not None:
        invoice["next_payment_attempt"] = None
        attempt(ctx, invoice, at)


# --- invoice items ----------------------------------------------------------------------------


def new_item(ctx: Context, customer: Obj, *, amount: int, currency: str, at: int,
             description: str | None, price: Obj | None = None, quantity: int = 1,
             unit_decimal: str | None = None, proration: bool = False,
             subscription: str | None = None, subscription_item: str | None = None,
             period: tuple[int, int] | None = None, discountable: bool | None = None,
             invoice: str | None = None, meta: Obj | None = None,
             discounts: list[str] | None = None) -> Obj:
    start, end = period if period is not None else (at, at)
    parent = None
    if subscription is not None:
        parent = {"subscription_details": {"subscription": subscription,
                                           "subscription_item": subscription_item},
                  "type": "subscription_details"}
    if discountable is None:  # [S] false for prorations and negative items
        discountable = not proration and amount >= 0
    ii: Obj = {
        "id": ctx.new_id("invoiceitem"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "date": at,
        "description": description,
        "discountable": discountable,
        "discounts": list(discounts or []),
        "invoice": invoice,
        "livemode": False,
        "metadata": dict(meta or {}),
        "parent": parent,
        "period": {"end": end, "start": start},
        "pricing": _pricing(price, unit_decimal),
        "proration": proration,
        "quantity": quantity,
        "tax_rates": [],
        "test_clock": customer.get("test_clock"),
    }
    ctx.store.add(ii)
    events.emit(ctx, "invoiceitem.created", ii)
    return ii


def _live_customer(ctx: Context, customer_id: str, param: str = "customer") -> Obj:
    return ctx.store.require("customer", customer_id, param=param, in_path=False)


@route("POST", "/v1/invoiceitems")
def create_item(ctx: Context) -> Obj:
    p = ctx.params
    customer = _live_customer(ctx, p["customer"])
    at = billing_now(ctx, customer["id"])
    price = None
    quantity = p.get("quantity", 1)
    if "price" in p:
        price = ctx.store.require("price", p["price"], param="price", in_path=False)
        unit = price["unit_amount"] or 0
        amount, currency, unit_decimal = unit * quantity, price["currency"], str(unit)
    elif "unit_amount" in p or "unit_amount_decimal" in p:
        unit = p.get("unit_amount")
        if unit is None:
            unit = int(float(p["unit_amount_decimal"]))
        if "currency" not in p:
            raise errors.invalid(ITEM_NEEDS_CURRENCY, "currency")
        amount, currency, unit_decimal = unit * quantity, p["currency"], str(unit)
    elif "amount" in p:
        if "currency" not in p:
            raise errors.invalid(ITEM_NEEDS_CURRENCY, "currency")
        amount, currency, unit_decimal = p["amount"], p["currency"], str(p["amount"])
    else:
        raise errors.invalid(ITEM_NEEDS_AMOUNT, "amount")
    invoice = None
    if "invoice" in p:
        invoice = ctx.store.require("invoice", p["invoice"], param="invoice", in_path=False)
        if invoice["status"] != "draft":
            raise errors.conflict(ITEM_INVOICED.format(invoice=invoice["id"]), "invoice")
    subscription = p.get("subscription")
    if subscription is not None:
        ctx.store.require("subscription", subscription, param="subscription", in_path=False)
    period = p.get("period")
    discount_ids = _item_discounts(ctx, customer, p.get("discounts"))
    ii = new_item(ctx, customer, amount=amount, currency=currency.lower(), at=at,
                  description=p.get("description"), price=price, quantity=quantity,
                  unit_decimal=unit_decimal, subscription=subscription,
                  period=(period["start"], period["end"]) if period else None,
                  discountable=p.get("discountable"),
                  invoice=None if invoice is None else invoice["id"],
                  meta=metadata.apply({}, p.get("metadata")), discounts=discount_ids)
    if invoice is not None:
        invoice["lines"]["data"].append(item_line(ctx, invoice["id"], ii))
        recompute(ctx, invoice)
    return ii


def _item_discounts(ctx: Context, customer: Obj, raw: Any) -> list[str]:
    if not raw:
        return []
    from . import discounts

    return [d["id"] for d in discounts.redeem_list(ctx, customer, raw, "discounts")]


def _item_in_path(ctx: Context, invoiceitem: str) -> Obj:
    return ctx.store.require("invoiceitem", invoiceitem, param="invoiceitem", in_path=True)


@route("GET", "/v1/invoiceitems/{invoiceitem}")
def retrieve_item(ctx: Context, invoiceitem: str) -> Obj:
    return _item_in_path(ctx, invoiceitem)


def _item_editable(ctx: Context, ii: Obj) -> Obj | None:
    if ii["invoice"] is None:
        return None
    invoice = ctx.store.get("invoice", ii["invoice"])
    if invoice is not None and invoice["status"] != "draft":
        raise errors.conflict(ITEM_INVOICED.format(invoice=invoice["id"]))
    return invoice


@route("POST", "/v1/invoiceitems/{invoiceitem}")
def update_item(ctx: Context, invoiceitem: str) -> Obj:
    ii = _item_in_path(ctx, invoiceitem)
    p = ctx.params
    invoice = _item_editable(ctx, ii)
    for key in ("description", "discountable"):
        if key in p:
            ii[key] = p[key]
    if "amount" in p:
        ii["amount"] = p["amount"]
    if "quantity" in p:
        unit = _unit_amount(ii)
        ii["quantity"] = p["quantity"]
        if unit is not None:
            ii["amount"] = unit * p["quantity"]
    if "metadata" in p:
        ii["metadata"] = metadata.apply(ii["metadata"] or {}, p["metadata"])
    if invoice is not None:
        _refresh_item_line(ctx, invoice, ii)
    return ii


def _refresh_item_line(ctx: Context, invoice: Obj, ii: Obj) -> None:
    data = invoice["lines"]["data"]
    for index, line in enumerate(data):
        details = _line_parent(line)
        if details.get("invoice_item") == ii["id"]:
            fresh = item_line(ctx, invoice["id"], ii)
            fresh["id"] = line["id"]
            data[index] = fresh
    recompute(ctx, invoice)


@route("DELETE", "/v1/invoiceitems/{invoiceitem}")
def delete_item(ctx: Context, invoiceitem: str) -> Obj:
    ii = _item_in_path(ctx, invoiceitem)
    invoice = _item_editable(ctx, ii)
    stub = {"id": ii["id"], "object": "invoiceitem", "deleted": True}
    ctx.store.delete("invoiceitem", ii["id"], stub)
    if invoice is not None:
        invoice["lines"]["data"] = [line for line in invoice["lines"]["data"]
                                    if _line_parent(line).get("invoice_item") != ii["id"]]
        recompute(ctx, invoice)
    return stub


@route("GET", "/v1/invoiceitems")
def list_items(ctx: Context) -> Obj:
    p = ctx.params
    customer, invoice, pending = p.get("customer"), p.get("invoice"), p.get("pending")

    def matches(ii: Obj) -> bool:
        if invoice is not None and ii["invoice"] != invoice:
            return False
        if pending is not None and (ii["invoice"] is None) != pending:
            return False
        return True

    return lists.page(ctx.store.table("invoiceitem"), p, "/v1/invoiceitems", matches,
                      where=None if customer is None else ("customer", customer))


# --- invoice endpoints ------------------------------------------------------------------------


def invoice_in_path(ctx: Context, invoice: str) -> Obj:
    return ctx.store.require("invoice", invoice, param="invoice", in_path=True)


@route("POST", "/v1/invoices")
def create(ctx: Context) -> Obj:
    """A one-off draft (``auto_advance`` false by default for API invoices [D])."""
    p = ctx.params
    if "customer" not in p:  # [S] optional in the spec; the fake bills customers only
        raise errors.missing_param("customer")
    customer = _live_customer(ctx, p["customer"])
    at = billing_now(ctx, customer["id"])
    method = p.get("collection_method", "charge_automatically")
    if method == "send_invoice" and "days_until_due" not in p and "due_date" not in p:
        raise errors.invalid(DAYS_UNTIL_DUE_NEEDED, "days_until_due")
    subscription = None
    if "subscription" in p:
        subscription = ctx.store.require("subscription", p["subscription"],
                                         param="subscription", in_path=False)
    discount_ids = _invoice_discounts(ctx, customer, subscription, p)
    invoice = new_invoice(ctx, customer, at=at, billing_reason="manual",
                          subscription=None, collection_method=method,
                          auto_advance=p.get("auto_advance", False),
                          days_until_due=p.get("days_until_due"),
                          description=p.get("description"),
                          meta=metadata.apply({}, p.get("metadata")), discounts=discount_ids,
                          currency=p.get("currency") or customer.get("currency"),
                          default_payment_method=p.get("default_payment_method"))
    if "due_date" in p:
        invoice["due_date"] = p["due_date"]
    if "default_source" in p:
        invoice["default_source"] = p["default_source"]
    if p.get("pending_invoice_items_behavior", "exclude") == "include":
        items = pending_items(ctx.store, customer["id"],
                              None if subscription is None else subscription["id"])
        attach_items(ctx, invoice, items)
        if items and not p.get("currency"):
            invoice["currency"] = items[0]["currency"]
    recompute(ctx, invoice)
    return invoice


def _invoice_discounts(ctx: Context, customer: Obj, subscription: Obj | None,
                       p: dict[str, Any]) -> list[str]:
    """``discounts`` given (``""``: none), else the customer's discount is inherited [S]."""
    raw = p.get("discounts")
    if raw == "":
        return []
    if raw:
        from . import discounts

        return [d["id"] for d in discounts.redeem_list(ctx, customer, raw, "discounts")]
    if subscription is not None:
        return list(subscription["discounts"])
    existing = customer.get("discount")
    if existing is not None:
        from . import discounts

        return [discounts.stored_customer_discount(ctx, customer)]
    return []


@route("GET", "/v1/invoices/{invoice}")
def retrieve(ctx: Context, invoice: str) -> Obj:
    return invoice_in_path(ctx, invoice)


_MONEY = ("discounts", "collection_method", "days_until_due", "currency", "default_tax_rates",
          "automatic_tax")


@route("POST", "/v1/invoices/{invoice}")
def update(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    p = ctx.params
    if obj["status"] != "draft" and any(key in p for key in _MONEY):
        raise errors.conflict(FINALIZED_NOT_EDITABLE)
    if obj["status"] in ("paid", "void", "uncollectible") and "auto_advance" in p:
        raise errors.conflict(FINALIZED_NOT_EDITABLE, "auto_advance")
    for key in ("auto_advance", "description", "footer", "statement_descriptor",
                "default_payment_method", "default_source", "collection_method", "due_date"):
        if key in p:
            obj[key] = p[key] or None if key not in ("auto_advance", "collection_method") \
                else p[key]
    if "days_until_due" in p:
        obj["due_date"] = obj["created"] + p["days_until_due"] * 86400
    if "metadata" in p:
        obj["metadata"] = metadata.apply(obj["metadata"], p["metadata"])
    if "discounts" in p:
        customer = _live_customer(ctx, obj["customer"])
        obj["discounts"] = _invoice_discounts(ctx, customer, None, p)
    if obj["status"] == "draft":
        recompute(ctx, obj)
    return obj


@route("DELETE", "/v1/invoices/{invoice}")
def delete(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    if obj["status"] != "draft":
        raise errors.conflict(DELETE_NOT_DRAFT)
    if obj["parent"] is not None:
        raise errors.conflict(DELETE_SUBSCRIPTION_DRAFT)
    for line in obj["lines"]["data"]:  # its invoice items become pending again
        item_id = _line_parent(line).get("invoice_item")
        ii = ctx.store.get("invoiceitem", item_id) if item_id else None
        if ii is not None:
            ii["invoice"] = None
    stub = {"id": obj["id"], "object": "invoice", "deleted": True}
    ctx.store.delete("invoice", obj["id"], stub)
    return stub


@route("POST", "/v1/invoices/{invoice}/finalize")
def finalize_endpoint(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    at = billing_now(ctx, obj["customer"])
    if "auto_advance" in ctx.params:
        obj["auto_advance"] = ctx.params["auto_advance"]
    finalize(ctx, obj, at)
    if obj["status"] == "open" and obj["auto_advance"] and \
            obj["collection_method"] == "charge_automatically":
        attempt(ctx, obj, at)  # [D] auto_advance collects at once after finalization
    return obj


@route("POST", "/v1/invoices/{invoice}/pay")
def pay(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    p = ctx.params
    at = billing_now(ctx, obj["customer"])
    if obj["status"] == "paid":
        raise errors.conflict(ALREADY_PAID)
    if obj["status"] not in ("draft", "open", "uncollectible"):
        _move(obj, "pay", allowed="`draft`, `open` or `uncollectible`")
    if obj["status"] == "draft":
        finalize(ctx, obj, at)
        if obj["status"] == "paid":
            return obj
    if p.get("paid_out_of_band"):
        _paid(ctx, obj, at, None, out_of_band=True)
        return obj
    if p.get("forgive"):
        pass  # [S] forgiving the difference needs partial payments: not modelled
    method = p.get("payment_method") or p.get("source")
    if method is None and resolve_payment_method(ctx, obj) is None:
        raise errors.conflict(NO_PAYMENT_METHOD_INVOICE)
    before = obj["status"]
    if not attempt(ctx, obj, at, payment_method=method, off_session=p.get("off_session", True),
                   automatic=False):
        from . import payment_glue

        pi_id = (ctx.store.get("invoice_payment", _payment_id(obj["id"])) or {}).get(
            "payment", {}).get("payment_intent")
        pi = ctx.store.get("payment_intent", pi_id) if pi_id else None
        obj["status"] = before if before != "draft" else "open"
        raise payment_glue.decline_error(ctx, pi)
    return obj


@route("POST", "/v1/invoices/{invoice}/void")
def void_endpoint(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    void(ctx, obj, billing_now(ctx, obj["customer"]))
    return obj


@route("POST", "/v1/invoices/{invoice}/mark_uncollectible")
def mark_uncollectible_endpoint(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    mark_uncollectible(ctx, obj, billing_now(ctx, obj["customer"]))
    return obj


@route("POST", "/v1/invoices/{invoice}/send")
def send(ctx: Context, invoice: str) -> Obj:
    """Test mode sends no email; ``invoice.sent`` fires [D]."""
    obj = invoice_in_path(ctx, invoice)
    at = billing_now(ctx, obj["customer"])
    if obj["status"] == "draft":
        finalize(ctx, obj, at)
    if obj["status"] != "open":
        raise errors.conflict(NOT_IN_STATUS.format(action="send", allowed="`open`",
                                                   status=obj["status"]),
                              code="invoice_not_editable")
    events.emit(ctx, "invoice.sent", obj)
    return obj


@route("GET", "/v1/invoices/{invoice}/lines")
def lines(ctx: Context, invoice: str) -> Obj:
    obj = invoice_in_path(ctx, invoice)
    return lists.page_of(obj["lines"]["data"], ctx.params, f"/v1/invoices/{invoice}/lines")


@route("GET", "/v1/invoices")
def list_invoices(ctx: Context) -> Obj:
    p = ctx.params
    wanted = {k: p[k] for k in ("status", "collection_method") if k in p}
    subscription, customer = p.get("subscription"), p.get("customer")

    def matches(inv: Obj) -> bool:
        if subscription is not None and _subscription_of(inv, None) != subscription:  # type: ignore[arg-type]
            return False
        return all(inv[k] == v for k, v in wanted.items())

    return lists.page(ctx.store.table("invoice"), p, "/v1/invoices", matches,
                      where=None if customer is None else ("customer", customer))


def _search_view(inv: Obj) -> Obj:
    return {**inv, "subscription": _subscription_of(inv, None)}  # type: ignore[arg-type]


@route("GET", "/v1/invoices/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("invoice"), ctx.params, "/v1/invoices/search",
                        SEARCH_FIELDS, _search_view)


# --- PaymentIntents confirmed by the customer (default_incomplete) ------------------------------

_AWAITING: weakref.WeakKeyDictionary[Store, set[str]] = weakref.WeakKeyDictionary()


def await_confirmation(ctx: Context, invoice: Obj) -> None:
    """The invoice's PaymentIntent waits for the client: once it succeeds, the invoice is
    paid (checked before each request)."""
    _AWAITING.setdefault(ctx.store, set()).add(invoice["id"])


@before_handler
def _settle_confirmed(ctx: Context) -> None:
    waiting = _AWAITING.get(ctx.store)
    if not waiting:
        return
    for iid in list(waiting):
        invoice = ctx.store.get("invoice", iid)
        payment = ctx.store.get("invoice_payment", _payment_id(iid))
        if invoice is None or invoice["status"] != "open" or payment is None:
            waiting.discard(iid)
            continue
        pi_id = payment["payment"].get("payment_intent")
        pi = ctx.store.get("payment_intent", pi_id) if pi_id else None
        if pi is not None and pi["status"] == "succeeded":
            waiting.discard(iid)
            _record_payment(ctx, invoice, pi, "paid", at=billing_now(ctx, invoice["customer"]))
            _paid(ctx, invoice, billing_now(ctx, invoice["customer"]), pi)
