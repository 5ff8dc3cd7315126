"""PaymentMethods of type ``card`` (STRIPE-API-RULES-PAYMENTS.md §3).

A magic id (``pm_card_visa``) used anywhere a PaymentMethod id is taken mints a fresh
``pm_...`` with the test card's data [V] (aat; openfoodnetwork 2023); ``card[token]=tok_visa``
makes one from a token.  Raw card numbers are refused as Stripe refuses them on accounts without
raw-card access (402) [V], unless the fake allows raw card data (``StripeFake(raw_card_data=
True)``, marker ``raw_card_data=True``), as some older accounts still do [V].

Attaching verifies the card (declining cards fail, ``chargeCustomerFail`` cards attach) [D]; a
PaymentMethod that was detached, or used on a PaymentIntent without a customer, can never be
attached again [V].  Which of them has been set up for off-session use (a SetupIntent, or a
PaymentIntent with ``setup_future_usage``) is kept beside the PaymentMethod (table
``payment_method_usage``), never on it.
"""

from __future__ import annotations

import time
from typing import Any

from .. import errors, events, lists, metadata, test_cards, versions
from ..engine import Context
from ..routing import route
from ..store import Obj, Store
from . import cards, sources

NAME = "PaymentMethod"  # [V] "No such PaymentMethod: 'pm_...'"

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
RAW_CARD_DATA = (  # [V] stripe-cli#1121, flutter_stripe#1638 (402, invalid_request_error)
    "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you "
    "use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. "
    "To enable raw card data APIs in test mode, see "
    "https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.")
CANNOT_REUSE = (  # [V] liberapay#2686, stripe-eccube-plugin#21 (2023-2024)
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was detached "
    "from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must "
    "attach it to a Customer first.")
NOT_ATTACHED_DETACH = (  # [V] stripe-ruby-mock#751, quoting Stripe
    "The payment method you provided is not attached to a customer so detachment is impossible.")
NOT_CUSTOMERS = (  # [V] flutter_stripe#379, lago-api#3826
    "The customer does not have a payment method with the ID {pm}. The payment method must be "
    "attached to the customer.")
ATTACHED_ELSEWHERE = (  # [R] (the rule [C]; no capture of the text)
    "The payment method you provided has already been attached to a customer.")
TYPE_NOT_FAKED = (  # [R] the fake's limit, not Stripe's
    "pytest-stripe-fixtures fakes PaymentMethods of type card only (got type '{type}').")
CARD_NEEDS_DATA = "Missing required param: card[token]."  # [R] (card[number] or card[token])
MISSING_TYPE = "Missing required param: type."  # [V pattern]
INVALID_EXPIRY = {"exp_month": test_cards.INVALID_EXPIRY_MONTH,  # [C] texts, [D] codes
                  "exp_year": test_cards.INVALID_EXPIRY_YEAR}

versions.register(
    versions.FieldAdded(
        "2024-06-20", "PaymentMethods carry `allow_redisplay`. [R] date; in current fixtures.",
        object="payment_method", path="allow_redisplay",
        schema={"type": "string", "enum": ["always", "limited", "unspecified"]}),
    versions.FieldAdded(
        "2024-06-20", "PaymentMethod cards: `card.display_brand`. [R] date",
        object="payment_method", path="card.display_brand", schema={"type": ["string", "null"]}),
    versions.FieldAdded(
        "2024-10-28.acacia", "PaymentMethod cards: `card.regulated_status`. [R] date",
        object="payment_method", path="card.regulated_status",
        schema={"type": ["string", "null"], "enum": ["regulated", "unregulated", None]}),
)

DISPLAY_BRANDS = {"visa": "visa", "mastercard": "mastercard", "amex": "american_express",
                  "discover": "discover", "diners": "diners_club", "jcb": "jcb",
                  "unionpay": "union_pay", "unknown": "other"}  # [R] from the SDK's docs


# --- building blocks ------------------------------------------------------------------------------


def billing_details(raw: dict[str, Any] | None, current: Obj | None = None) -> Obj:
    out = current or {"address": dict.fromkeys(sources.ADDRESS_KEYS), "email": None,
                      "name": None, "phone": None}
    for key, value in (raw or {}).items():
        if key == "address":
            out["address"] = {**dict.fromkeys(sources.ADDRESS_KEYS),
                              **({} if value == "" else value)}
        else:
            out[key] = value or None
    return out


def _expiry(p: dict[str, Any], now: int) -> tuple[int, int]:
    """``exp_month``/``exp_year`` of raw card data, or Stripe's card errors [D] codes."""
    year_now = time.gmtime(now).tm_year
    month, year = p.get("exp_month"), p.get("exp_year")
    if month is not None and not 1 <= month <= 12:
        raise _card_field_error("invalid_expiry_month", "exp_month")
    if year is not None and year < 100:
        year += 2000
    if year is not None and year < year_now:
        raise _card_field_error("invalid_expiry_year", "exp_year")
    return month or 12, year or year_now + 1


def _card_field_error(code: str, param: str) -> errors.StripeError:
    message = INVALID_EXPIRY.get(param, test_cards.INVALID_CVC)
    return errors.StripeError(message, status=402, type="card_error", code=code, param=param,
                              saved=True)


def new(ctx: Context, row: test_cards.Instrument, *, billing: Obj | None = None,
        meta: Obj | None = None, exp: tuple[int, int] | None = None,
        cvc_check: str = "unchecked") -> Obj:
    """A new, unattached card PaymentMethod for a test card (stored)."""
    now = ctx.now()
    # magic ids expire next year in the current month [V] (openfoodnetwork: Nov 2023 -> 11/2024)
    month, year = exp or (time.gmtime(now).tm_mon, time.gmtime(now).tm_year + 1)
    checks = {"address_line1_check": None, "address_postal_code_check": None,
              "cvc_check": cvc_check}
    checks.update(row.checks)
    pm: Obj = {
        "id": ctx.new_id("payment_method"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing or billing_details(None),
        "card": {
            "brand": row.brand,
            "checks": checks,
            "country": row.country,
            "display_brand": DISPLAY_BRANDS.get(row.brand, row.brand),
            "exp_month": month,
            "exp_year": year,
            "fingerprint": row.fingerprint,
            "funding": row.funding,
            "generated_from": None,
            "last4": row.last4,
            "networks": {"available": list(row.networks or (row.brand,)), "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": row.three_d_secure != test_cards.NOT_SUPPORTED},
            "wallet": None,
        },
        "created": now,
        "customer": None,
        "livemode": False,
        "metadata": meta or {},
        "type": "card",
    }
    return ctx.store.add(pm)


def row_of(obj: Obj) -> test_cards.Instrument | None:
    """The test card a PaymentMethod (or legacy Card) was made from."""
    card = obj.get("card") if obj["object"] == "payment_method" else obj
    return test_cards.by_fingerprint((card or {}).get("fingerprint"))


def resolve(ctx: Context, value: str, param: str) -> Obj:
    """The PaymentMethod a ``payment_method`` param names: a stored ``pm_...``, a magic
    ``pm_card_*`` id (minted into a new one), or a customer's legacy Card ``card_...``."""
    row = test_cards.by_name(value) if value.startswith("pm_card_") else None
    if row is not None:
        return new(ctx, row)
    if value.startswith("card_"):
        card = ctx.store.get("card", value)
        if card is not None:
            return card
    return ctx.store.require("payment_method", value, param=param, in_path=False, name=NAME)


def _usage(store: Store, pm_id: str) -> Obj:
    usage = store.get("payment_method_usage", pm_id)
    if usage is None:
        usage = store.add({"id": pm_id, "object": "payment_method_usage", "burned": False,
                           "set_up": False})
    return usage


def is_set_up(store: Store, pm: Obj) -> bool:
    """Whether the PaymentMethod was set up for off-session payments."""
    usage = store.get("payment_method_usage", pm["id"])
    return bool(usage and usage["set_up"])


def mark_set_up(store: Store, pm: Obj) -> None:
    if pm["object"] == "payment_method":
        _usage(store, pm["id"])["set_up"] = True


def mark_used_without_customer(store: Store, pm: Obj) -> None:
    """Used on a payment without a customer: it may not be attached later [V]."""
    if pm["object"] == "payment_method" and pm["customer"] is None:
        _usage(store, pm["id"])["burned"] = True


def check_usable(store: Store, pm: Obj, customer_id: str | None, param: str) -> None:
    """A PaymentMethod used with a customer must be theirs (or still free) [R]; a burned one
    may not be used again [V]."""
    if pm["object"] != "payment_method":
        return
    usage = store.get("payment_method_usage", pm["id"])
    if usage is not None and usage["burned"]:
        raise errors.conflict(CANNOT_REUSE, param)
    if customer_id is not None and pm["customer"] not in (None, customer_id):
        raise errors.conflict(ATTACHED_ELSEWHERE, param)


def attach(ctx: Context, pm: Obj, customer: Obj, *, verify: bool = True) -> Obj:
    """Attach ``pm`` to ``customer`` (a no-op when already theirs [C]).  ``verify`` runs the
    card's verification (declining cards fail) [D]."""
    if pm["customer"] == customer["id"]:
        return pm
    usage = ctx.store.get("payment_method_usage", pm["id"])
    if usage is not None and usage["burned"]:
        raise errors.conflict(CANNOT_REUSE)
    if pm["customer"] is not None:
        raise errors.conflict(ATTACHED_ELSEWHERE)
    if verify:
        found = cards.attach_decline(row_of(pm))
        if found is not None:
            raise test_cards.card_error(found, ctx.version)
    pm["customer"] = customer["id"]
    link = ctx.store.get("customer_payment_method", pm["id"])
    if link is None or link["customer"] != customer["id"]:
        if link is not None:
            ctx.store.delete("customer_payment_method", pm["id"])
        ctx.store.add({"id": pm["id"], "object": "customer_payment_method",
                       "customer": customer["id"]})
    events.emit(ctx, "payment_method.attached", pm)
    return pm


def attached(store: Store, customer_id: str) -> list[Obj]:
    """The customer's PaymentMethods, most recently attached first."""
    links = store.table("customer_payment_method").newest_first(where=("customer", customer_id))
    found = (store.get("payment_method", link["id"]) for link in links)
    return [pm for pm in found if pm is not None and pm["customer"] == customer_id]


def customer_pm(ctx: Context, customer: Obj, pm_id: str, param: str) -> Obj:
    """A PaymentMethod attached to ``customer``, or Stripe's 'does not have' error [V]."""
    pm = ctx.store.get("payment_method", pm_id)
    if pm is None or pm["customer"] != customer["id"]:
        raise errors.StripeError(NOT_CUSTOMERS.format(pm=pm_id), status=404,
                                 code="resource_missing", param=param, saved=True)
    return pm


def forget_customer(store: Store, customer_id: str) -> None:
    """A deleted customer's PaymentMethods are detached (and may not be used again) [R]."""
    for pm in attached(store, customer_id):
        pm["customer"] = None
        _usage(store, pm["id"])["burned"] = True


# --- endpoints ----------------------------------------------------------------------------------


def _from_card_params(ctx: Context, card: dict[str, Any]) -> Obj:
    if "token" in card:
        row = cards.test_card(card["token"], "card[token]")
        return new(ctx, row)
    if "number" not in card:
        raise errors.invalid(CARD_NEEDS_DATA, "card[token]", "parameter_missing")
    if not ctx.fake.raw_card_data:
        raise errors.StripeError(RAW_CARD_DATA, status=402, saved=True)
    number = card["number"].replace(" ", "")
    row = test_cards.by_number(number)
    if row.decline is test_cards.BAD_NUMBER:
        raise test_cards.card_error(row.decline, ctx.version)
    exp = _expiry(card, ctx.now())
    cvc = card.get("cvc")
    if cvc is not None and (not cvc.isdigit() or len(cvc) not in (3, 4)):
        raise _card_field_error("invalid_cvc", "cvc")
    return new(ctx, row, exp=exp, cvc_check="unchecked")


@route("POST", "/v1/payment_methods")
def create(ctx: Context) -> Obj:
    p = ctx.params
    if "payment_method" in p or "customer" in p:  # cloning onto a connected account
        raise errors.invalid(TYPE_NOT_FAKED.format(type="(shared from a platform)"),
                             "payment_method")
    if "type" not in p:
        raise errors.invalid(MISSING_TYPE, "type", "parameter_missing")
    if p["type"] != "card":
        raise errors.invalid(TYPE_NOT_FAKED.format(type=p["type"]), "type")
    if "card" not in p:
        raise errors.invalid(CARD_NEEDS_DATA, "card", "parameter_missing")
    billing = billing_details(p.get("billing_details")) if "billing_details" in p else None
    meta = metadata.apply({}, p.get("metadata")) if "metadata" in p else None
    pm = _from_card_params(ctx, p["card"])
    if billing is not None:
        pm["billing_details"] = billing
    if meta is not None:
        pm["metadata"] = meta
    return pm


def _pm_in_path(ctx: Context, payment_method: str) -> Obj:
    return ctx.store.require("payment_method", payment_method, param="payment_method",
                             in_path=True, name=NAME)


@route("GET", "/v1/payment_methods/{payment_method}")
def retrieve(ctx: Context, payment_method: str) -> Obj:
    row = test_cards.by_name(payment_method) if payment_method.startswith("pm_card_") else None
    if row is not None:  # [R] a magic id reads as a fresh PaymentMethod
        return new(ctx, row)
    return _pm_in_path(ctx, payment_method)


@route("POST", "/v1/payment_methods/{payment_method}")
def update(ctx: Context, payment_method: str) -> Obj:
    pm = _pm_in_path(ctx, payment_method)
    p = ctx.params
    for name in ("link", "us_bank_account"):
        if name in p:
            raise errors.invalid(TYPE_NOT_FAKED.format(type=name), name)
    card = p.get("card") or {}
    exp = _expiry(card, ctx.now()) if card else None
    if "metadata" in p:
        pm["metadata"] = metadata.apply(pm["metadata"] or {}, p["metadata"])
    if "billing_details" in p:
        pm["billing_details"] = billing_details(p["billing_details"], pm["billing_details"])
    if exp is not None:
        if "exp_month" in card:
            pm["card"]["exp_month"] = exp[0]
        if "exp_year" in card:
            pm["card"]["exp_year"] = exp[1]
    return pm


@route("GET", "/v1/payment_methods")
def list_payment_methods(ctx: Context) -> Obj:
    p = ctx.params
    kind = p.get("type")
    if "customer" not in p:  # [C] an account's own PaymentMethods: none on a normal account
        return lists.page_of([], p, "/v1/payment_methods")
    customer = ctx.store.require("customer", p["customer"], param="customer", in_path=False)
    found = [pm for pm in attached(ctx.store, customer["id"]) if kind in (None, pm["type"])]
    return lists.page_of(found, p, "/v1/payment_methods",
                         table=ctx.store.table("payment_method"))


@route("POST", "/v1/payment_methods/{payment_method}/attach")
def attach_endpoint(ctx: Context, payment_method: str) -> Obj:
    p = ctx.params
    if "customer" not in p:
        raise errors.missing_param("customer")
    row = test_cards.by_name(payment_method) if payment_method.startswith("pm_card_") else None
    customer = ctx.store.require("customer", p["customer"], param="customer", in_path=False)
    if row is not None:
        found = cards.attach_decline(row)
        if found is not None:
            raise test_cards.card_error(found, ctx.version)
        pm = new(ctx, row)
    else:
        pm = _pm_in_path(ctx, payment_method)
    return attach(ctx, pm, customer)


@route("POST", "/v1/payment_methods/{payment_method}/detach")
def detach_endpoint(ctx: Context, payment_method: str) -> Obj:
    pm = _pm_in_path(ctx, payment_method)
    if pm["customer"] is None:
        raise errors.conflict(NOT_ATTACHED_DETACH)
    previous = pm["customer"]
    pm["customer"] = None
    _usage(ctx.store, pm["id"])["burned"] = True
    customer = ctx.store.get("customer", previous)
    if customer is not None:
        settings = customer["invoice_settings"]
        if settings.get("default_payment_method") == pm["id"]:  # [R]
            settings["default_payment_method"] = None
    events.emit(ctx, "payment_method.detached", pm, previous_attributes={"customer": previous})
    return pm


@route("GET", "/v1/customers/{customer}/payment_methods")
def list_customer_payment_methods(ctx: Context, customer: str) -> Obj:
    obj = sources.live_customer(ctx, customer)
    kind = ctx.params.get("type")
    found = [pm for pm in attached(ctx.store, obj["id"]) if kind in (None, pm["type"])]
    return lists.page_of(found, ctx.params, f"/v1/customers/{obj['id']}/payment_methods",
                         table=ctx.store.table("payment_method"))


@route("GET", "/v1/customers/{customer}/payment_methods/{payment_method}")
def retrieve_customer_payment_method(ctx: Context, customer: str, payment_method: str) -> Obj:
    obj = sources.live_customer(ctx, customer)
    return customer_pm(ctx, obj, payment_method, "customer")
