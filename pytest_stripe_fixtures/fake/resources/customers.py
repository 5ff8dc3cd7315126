"""Customers (STRIPE-API-RULES.md section 15).

A deleted customer stays readable: ``GET`` answers 200 with the deleted stub, anything else
answers ``No such customer``.  The includable fields (``sources``, ``tax_ids``,
``subscriptions``, ``cash_balance``, ``invoice_credit_balance``, ``tax``) are stored on the
object and dropped by the renderer unless expanded.  Attaching sources lives in ``sources.py``;
redeeming coupons and promotion codes in ``discounts.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import errors, events, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from ..versions import CLOVER
from . import payment_methods, sources

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
INVALID_EMAIL = "Invalid email address: {value}"  # [R]
INVALID_INVOICE_PREFIX = (  # [R] (rule [S]: "Must be 3-12 uppercase letters or numbers")
    "Invalid invoice_prefix: {value}. The prefix must be 3-12 uppercase letters or numbers.")
TEST_CLOCK = "test_helpers.test_clock"  # [R] "No such test_helpers.test_clock: ..."

SEARCH_FIELDS = {"created": "numeric", "email": "string", "metadata": "token", "name": "string",
                 "phone": "string"}

BASIL = "2025-03-31.basil"
CREATE, UPDATE = "POST /v1/customers", "POST /v1/customers/{customer}"
ATTACH = "POST /v1/customers/{customer}/sources"
LEGACY_DISCOUNT = "_legacy_discount"  # see LegacyDiscountParams

_EMPTYABLE_NAME = {"anyOf": [{"type": "string", "maxLength": 150},
                             {"type": "string", "enum": [""]}]}


@dataclass
class LegacyDiscountParams(versions.Change):
    """2025-03-31.basil removed ``coupon`` / ``promotion_code`` from customer create and update
    [D] (discounts moved to subscriptions and invoices).  Current-version requests that send
    them get ``Received unknown parameter``.

    Older requests still apply a customer discount, so lifting them to the current shape moves
    the two params under the private key ``LEGACY_DISCOUNT`` (no client can send it: it is in no
    schema), which the customer handlers read."""

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        if endpoint in (CREATE, UPDATE):
            legacy = {k: params.pop(k) for k in ("coupon", "promotion_code") if k in params}
            if legacy:
                params[LEGACY_DISCOUNT] = legacy

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        for endpoint in (CREATE, UPDATE):
            for name in ("coupon", "promotion_code"):
                schemas["endpoints"][endpoint]["params"]["properties"].pop(name, None)


def _both(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {CREATE: schema, UPDATE: schema}


versions.register(
    LegacyDiscountParams(BASIL, "Customers: `coupon` / `promotion_code` params removed."),
    versions.FieldAdded(
        CLOVER, "Customers: `business_name`. [R] date", object="customer",
        path="business_name", schema={"type": ["string", "null"]},
        params=_both({"business_name": _EMPTYABLE_NAME})),
    versions.FieldAdded(
        CLOVER, "Customers: `individual_name`. [R] date", object="customer",
        path="individual_name", schema={"type": ["string", "null"]},
        params=_both({"individual_name": _EMPTYABLE_NAME})),
    versions.FieldAdded(
        CLOVER, "Customers: `customer_account` (Accounts v2; always null here). [R] date",
        object="customer", path="customer_account", schema={"type": ["string", "null"]}),
    versions.FieldAdded(
        CLOVER, "Customers: `invoice_settings.rendering_options.template`. [R] date",
        object="customer", path="invoice_settings.rendering_options.template",
        schema={"type": ["string", "null"]},
        params=_both({"invoice_settings.rendering_options.template":
                      {"type": "string", "maxLength": 5000}})),
    versions.FieldAdded(
        CLOVER, "Customers: `tax.provider` (includable `tax`). [R] date", object="customer",
        path="tax.provider", schema={"type": "string"}),
    versions.FieldAdded(
        CLOVER, "Cash balances: `customer_account`. [R] date", object="cash_balance",
        path="customer_account", schema={"type": ["string", "null"]}),
    versions.FieldAdded(
        CLOVER, "Tax ids: `customer_account`. [R] date", object="tax_id",
        path="customer_account", schema={"type": ["string", "null"]}),
    versions.FieldAdded(
        CLOVER, "Tax ids: `owner`. [R] date", object="tax_id", path="owner",
        schema={"type": ["object", "null"]}),
    versions.ParamsAdded(
        CLOVER, "Customers: `validate` and `tax[validate_location]` params. [R] date",
        params={CREATE: {"validate": {"type": "boolean"},
                         "tax.validate_location": {"type": "string",
                                                   "enum": ["deferred", "immediately"]}},
                UPDATE: {"validate": {"type": "boolean"},
                         "tax.validate_location": {"type": "string",
                                                   "enum": ["deferred", "immediately"]}},
                ATTACH: {"validate": {"type": "boolean"}}}),
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_INVOICE_PREFIX = re.compile(r"[A-Z0-9]{3,12}\Z")


# --- building blocks ----------------------------------------------------------------------------


def _rendering_options(raw: Any) -> Obj | None:
    if not raw:
        return None
    display = raw.get("amount_tax_display")
    return {"amount_tax_display": display or None, "template": raw.get("template")}


def _invoice_settings(raw: dict[str, Any] | None, current: Obj | None = None) -> Obj:
    settings = dict(current) if current else {"custom_fields": None,
                                              "default_payment_method": None, "footer": None,
                                              "rendering_options": None}
    for key, value in (raw or {}).items():
        if key == "custom_fields":
            fields = [] if value == "" else [{"name": f["name"], "value": f["value"]}
                                             for f in value]
            settings[key] = fields or None
        elif key == "rendering_options":
            settings[key] = _rendering_options(value)
        else:
            settings[key] = value or None
    return settings


def _tax(ip_address: str | None, address: Obj | None) -> Obj:
    """The includable ``tax`` hash: where Stripe Tax locates the customer [R]."""
    country = (address or {}).get("country")
    location = None if not country else {"country": country, "source": "billing_address",
                                         "state": (address or {}).get("state")}
    return {"automatic_tax": "supported" if location else "unrecognized_location",
            "ip_address": ip_address, "location": location, "provider": "stripe"}


def _tax_id(ctx: Context, customer_id: str, raw: dict[str, Any]) -> Obj:
    kind, value = raw["type"], raw["value"]
    country = value[:2].upper() if kind == "eu_vat" else kind.split("_", 1)[0].upper()
    return {"id": f"txi_{ctx.account.ids.token(24)}", "object": "tax_id", "country": country,
            "created": ctx.now(), "customer": customer_id, "customer_account": None,
            "livemode": False,
            "owner": {"account": None, "application": None, "customer": customer_id,
                      "customer_account": None, "type": "customer"},
            "type": kind, "value": value,
            "verification": {"status": "pending", "verified_address": None,
                             "verified_name": None}}


def _sub_list(customer_id: str, name: str, data: list[Obj] | None = None) -> Obj:
    return {"object": "list", "data": data or [], "has_more": False,
            "url": f"/v1/customers/{customer_id}/{name}"}


def _check_fields(p: dict[str, Any]) -> None:
    """Rules on plain fields, checked before anything changes."""
    email = p.get("email")
    if email and not _EMAIL.match(email):
        raise errors.invalid(INVALID_EMAIL.format(value=email), "email")
    prefix = p.get("invoice_prefix")
    if prefix is not None and not _INVOICE_PREFIX.match(prefix):
        raise errors.invalid(INVALID_INVOICE_PREFIX.format(value=prefix), "invoice_prefix")
    if p.get("next_invoice_sequence") is not None and p["next_invoice_sequence"] < 1:
        raise errors.too_small("next_invoice_sequence", 1)


def _legacy_discount(ctx: Context, customer: Obj, legacy: dict[str, str] | None,
                     *, creating: bool) -> None:
    """Apply (or with ``coupon=""`` remove) the discount of a 2023-era request."""
    if not legacy:
        return
    from .discounts import apply_to_customer, remove_from_customer

    if "coupon" in legacy and "promotion_code" in legacy:
        raise errors.one_of("coupon", "promotion_code")
    if "" in legacy.values():
        if not creating:
            remove_from_customer(ctx, customer)
        return
    apply_to_customer(ctx, customer, coupon=legacy.get("coupon"),
                      promotion_code=legacy.get("promotion_code"), announce=not creating)


# --- endpoints ----------------------------------------------------------------------------------


@route("POST", "/v1/customers")
def create(ctx: Context) -> Obj:
    p = ctx.params
    _check_fields(p)
    cid = ctx.new_id("customer")
    source = sources.check_attachable(ctx, cid, p["source"], "source") if "source" in p else None
    address = sources.address(p.get("address"))
    cash = (p.get("cash_balance") or {}).get("settings") or {}
    mode = cash.get("reconciliation_mode", "merchant_default")
    customer: Obj = {
        "id": cid,
        "object": "customer",
        "address": address,
        "balance": p.get("balance", 0),
        "business_name": p.get("business_name") or None,
        "cash_balance": {"object": "cash_balance", "available": None, "customer": cid,
                         "customer_account": None, "livemode": False,
                         "settings": {"reconciliation_mode":
                                      "automatic" if mode == "merchant_default" else mode,
                                      "using_merchant_default": mode == "merchant_default"}},
        "created": ctx.now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": p.get("description"),
        "discount": None,
        "email": p.get("email"),
        "individual_name": p.get("individual_name") or None,
        "invoice_credit_balance": {},
        "invoice_prefix": p.get("invoice_prefix") or ctx.account.ids.code(8),
        "invoice_settings": _invoice_settings(p.get("invoice_settings")),
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "name": p.get("name"),
        "next_invoice_sequence": p.get("next_invoice_sequence", 1),
        "phone": p.get("phone"),
        "preferred_locales": list(p.get("preferred_locales") or []),
        "shipping": sources.shipping(p.get("shipping")),
        "sources": _sub_list(cid, "sources"),
        "subscriptions": _sub_list(cid, "subscriptions"),
        "tax": _tax((p.get("tax") or {}).get("ip_address") or None, address),
        "tax_exempt": p.get("tax_exempt") or "none",
        "tax_ids": _sub_list(cid, "tax_ids",
                             [_tax_id(ctx, cid, raw) for raw in p.get("tax_id_data") or []]),
        "test_clock": None if "test_clock" not in p else ctx.store.require(
            "test_helpers.test_clock", p["test_clock"], param="test_clock", in_path=False,
            name=TEST_CLOCK)["id"],
    }
    pm = None
    if "payment_method" in p:
        pm = payment_methods.resolve(ctx, p["payment_method"], "payment_method")
        payment_methods.check_usable(ctx.store, pm, None, "payment_method")
    default_pm = customer["invoice_settings"]["default_payment_method"]
    if default_pm and (pm is None or pm["id"] != default_pm) and p.get("payment_method") != \
            default_pm:
        raise errors.StripeError(payment_methods.NOT_CUSTOMERS.format(pm=default_pm),
                                 code="resource_missing", saved=True,
                                 param="invoice_settings[default_payment_method]")
    if pm is not None:
        customer["invoice_settings"]["default_payment_method"] = \
            pm["id"] if default_pm else None
    _legacy_discount(ctx, customer, p.get(LEGACY_DISCOUNT), creating=True)
    ctx.store.add(customer)  # customer.created (fake/events.py), then its discount's event
    if customer["discount"] is not None:
        from .discounts import announce_created

        announce_created(ctx, customer)
    if source is not None:
        sources.attach(ctx, customer, source, make_default=True)
    if pm is not None:
        payment_methods.attach(ctx, pm, customer)
    return customer


@route("GET", "/v1/customers/{customer}")
def retrieve(ctx: Context, customer: str) -> Obj:
    deleted = ctx.store.get_deleted("customer", customer)
    if deleted is not None:
        return deleted  # 200 with the stub [S]/[C]
    return sources.live_customer(ctx, customer)


_PLAIN = ("balance", "description", "email", "invoice_prefix", "name", "next_invoice_sequence",
          "phone")
_NULLED_BY_EMPTY = ("business_name", "individual_name")
_UNFAKED_DEFAULTS = {"default_alipay_account": "alipay_account",  # none exist in the fake
                     "default_bank_account": "bank_account"}
# A new default must be one of the customer's own payment sources (cards are sources too) [R]
_DEFAULTS = {"default_card": "card", "default_source": "source"}


@route("POST", "/v1/customers/{customer}")
def update(ctx: Context, customer: str) -> Obj:
    obj = sources.live_customer(ctx, customer)
    p = ctx.params
    _check_fields(p)
    sources.reject_unfaked(p, ("card", "bank_account"))
    for param, kind in _UNFAKED_DEFAULTS.items():
        if param in p:
            raise errors.no_such(kind, p[param], param, in_path=False)
    new_source = sources.check_attachable(ctx, obj["id"], p["source"], "source") \
        if "source" in p else None
    default = None
    for param, kind in _DEFAULTS.items():  # `default_source` wins when both are sent
        value = p.get(param)
        if value is None:
            continue
        if (sources.attached_to(ctx.store, value) != obj["id"]
                or (kind == "card" and not value.startswith("card_"))):
            raise errors.no_such(kind, value, param, in_path=False)  # [R]
        default = value
    default_pm = (p.get("invoice_settings") or {}).get("default_payment_method")
    if default_pm:
        payment_methods.customer_pm(ctx, obj, default_pm,
                                    "invoice_settings[default_payment_method]")
    _legacy_discount(ctx, obj, p.get(LEGACY_DISCOUNT), creating=False)
    for key in _PLAIN:
        if key in p:
            obj[key] = p[key]
    for key in _NULLED_BY_EMPTY:
        if key in p:
            obj[key] = p[key] or None
    if "address" in p:
        obj["address"] = sources.address(p["address"]) if p["address"] != "" else None
    if "shipping" in p:
        obj["shipping"] = sources.shipping(p["shipping"])
    if "preferred_locales" in p:
        obj["preferred_locales"] = list(p["preferred_locales"] or [])
    if "tax_exempt" in p:
        obj["tax_exempt"] = p["tax_exempt"] or "none"
    if "invoice_settings" in p:
        obj["invoice_settings"] = _invoice_settings(p["invoice_settings"], obj["invoice_settings"])
    if "cash_balance" in p:
        mode = ((p["cash_balance"] or {}).get("settings") or {}).get("reconciliation_mode")
        if mode is not None:
            obj["cash_balance"]["settings"] = {
                "reconciliation_mode": "automatic" if mode == "merchant_default" else mode,
                "using_merchant_default": mode == "merchant_default"}
    ip = (p.get("tax") or {}).get("ip_address", obj["tax"]["ip_address"])
    obj["tax"] = _tax(ip or None, obj["address"])
    if "metadata" in p:
        obj["metadata"] = metadata.apply(obj["metadata"], p["metadata"])
    if new_source is not None:
        sources.attach(ctx, obj, new_source, make_default=True)
    if default is not None:
        obj["default_source"] = default
    return obj


@route("DELETE", "/v1/customers/{customer}")
def delete(ctx: Context, customer: str) -> Obj:
    obj = sources.live_customer(ctx, customer)
    stub = {"id": customer, "object": "customer", "deleted": True}
    sources.forget_customer(ctx.store, customer)
    payment_methods.forget_customer(ctx.store, customer)
    ctx.store.delete("customer", customer, stub)  # customer.deleted: the customer as it was
    if obj.get("discount") is not None:
        events.emit(ctx, "customer.discount.deleted", obj["discount"])  # [R] second
    return stub


@route("GET", "/v1/customers")
def list_customers(ctx: Context) -> Obj:
    p = ctx.params
    email, clock = p.get("email"), p.get("test_clock")

    def matches(customer: Obj) -> bool:
        if email is not None and customer["email"] != email:  # case-sensitive [S]
            return False
        return customer["test_clock"] == clock  # none without the param [S]; no clocks here

    return lists.page(ctx.store.table("customer"), p, "/v1/customers", matches)


@route("GET", "/v1/customers/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("customer"), ctx.params, "/v1/customers/search",
                        SEARCH_FIELDS)
