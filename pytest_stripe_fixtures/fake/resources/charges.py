"""Charges, minimal (STRIPE-API-RULES.md section 18): a charge of a Source, of a test card
token (``tok_visa``: a new Card), of a customer's default source or card, or of a source or card
attached to the customer.  Declining test cards leave a failed charge and answer 402.

Captures, refunds and disputes are out of scope.  ``balance_transaction`` and the other
expandable ids stay ids: the fake has no balance transactions, so expanding one returns the id.
Coupons never apply to one-off charges: ``coupon`` is not a charge param (the schema says so).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from .. import currencies, errors, events, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import cards, sources

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
MUST_PROVIDE = "Must provide source or customer."  # [V]
NO_ACTIVE_CARD = "Cannot charge a customer that has no active card"  # [V] (402 card_error)
AMOUNT_TOO_SMALL_USD = "Amount must be at least 50 cents"  # [V]
AMOUNT_TOO_SMALL = (  # [V] format ("£0.32 converts to approximately $0.49.")
    "Amount must convert to at least 50 cents. {amount} converts to approximately {usd}.")
AMOUNT_TOO_LARGE = "Amount must be no more than {limit}"  # [R]
CUSTOMER_ALREADY_SET = (  # [R] (rule [S]: only when the charge has no customer)
    "This charge already has a customer ({customer}); it cannot be changed.")
TRANSFER_GROUP_SET = (  # [R] (rule [S]: only when not set yet)
    "This charge already has a transfer_group ({group}); it cannot be changed.")
DECLINE_SELLER_MESSAGE = "The bank did not return any further details with this decline."  # [V]
INSUFFICIENT_SELLER_MESSAGE = "The bank returned the decline code `insufficient_funds`."  # [R]

MAX_AMOUNT = 99_999_999  # [D] "up to eight digits" (e.g. $999,999.99)
MIN_USD_CENTS = 50  # [D] "The minimum amount is $0.50 US or equivalent in charge currency"
# Approximate US cents per minor unit, to judge "converts to at least 50 cents" on a US
# account [R] (fixed rates; real Stripe uses the day's rate).  Currencies not listed are only
# held to `amount >= 1`.
USD_CENTS_PER_UNIT: dict[str, float] = {
    "usd": 1.0, "aed": 0.27, "aud": 0.66, "bgn": 0.55, "brl": 0.18, "cad": 0.73, "chf": 1.13,
    "czk": 0.043, "dkk": 0.145, "eur": 1.08, "gbp": 1.27, "hkd": 0.128, "huf": 0.0027,
    "inr": 0.012, "jpy": 0.67, "mxn": 0.058, "myr": 0.21, "nok": 0.093, "nzd": 0.60,
    "pln": 0.25, "ron": 0.22, "sek": 0.095, "sgd": 0.74, "thb": 0.028,
}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}

SEARCH_FIELDS = {
    "amount": "numeric", "created": "numeric", "billing_details.address.postal_code": "token",
    "currency": "token", "customer": "token", "disputed": "token", "metadata": "token",
    "refunded": "token", "status": "token",
    **{f"payment_method_details.{kind}.{name}": "token"
       for kind in ("card", "card_present", "interac_present")
       for name in ("last4", "exp_month", "exp_year", "brand", "fingerprint")},
}

_OUTCOME_FIELD = {"type": ["string", "null"]}
versions.register(
    versions.FieldAdded(
        "2024-06-20",
        "Charges embed the Source or Card they were made from as `source` (in real responses and "
        "the current SDK; the 2023 spec omits it). [R] date",
        object="charge", path="source",
        schema={"anyOf": [{"$ref": "payment_source.json"}, {"type": "null"}]}),
    versions.FieldAdded("2024-06-20", "Charges: `outcome.network_advice_code`. [R] date",
                        object="charge", path="outcome.network_advice_code",
                        schema=_OUTCOME_FIELD),
    versions.FieldAdded("2024-06-20", "Charges: `outcome.network_decline_code`. [R] date",
                        object="charge", path="outcome.network_decline_code",
                        schema=_OUTCOME_FIELD),
    versions.FieldAdded("2024-09-30.acacia", "Charges: `outcome.advice_code`. [R] date",
                        object="charge", path="outcome.advice_code", schema=_OUTCOME_FIELD),
    versions.FieldRemoved(
        "2025-03-31.basil",
        "Charges: `invoice` removed (invoice payments) [D] changelog 2025-03-31.basil.",
        object="charge", path="invoice"),
    versions.ParamsAdded(
        "2025-03-31.basil", "Charges: `transfer_data[description]`. [R] date",
        params={"POST /v1/charges": {"transfer_data.description": {"type": "string",
                                                                   "maxLength": 5000}}}),
)


# --- amounts ------------------------------------------------------------------------------------


def _money(amount: float, currency: str) -> str:
    """``£0.32``, ``¥40``, ``CHF 0.40`` (the style of Stripe's amount messages [R])."""
    zero = currency in currencies.ZERO_DECIMAL
    number = f"{amount:,.0f}" if zero else f"{amount / 100:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{currency.upper()} {number}"


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    """Stripe's bounds on a charge amount: >= 1, >= 50 US cents equivalent, <= 8 digits."""
    if amount < 1:
        raise errors.too_small(param, 1)  # [V] "This value must be greater than or equal to 1."
    rate = USD_CENTS_PER_UNIT.get(currency)
    if rate is not None and amount * rate < MIN_USD_CENTS:
        message = AMOUNT_TOO_SMALL_USD if currency == "usd" else AMOUNT_TOO_SMALL.format(
            amount=_money(amount, currency), usd=_money(amount * rate, "usd"))
        raise errors.invalid(message, param, "amount_too_small")
    if amount > MAX_AMOUNT:
        raise errors.invalid(AMOUNT_TOO_LARGE.format(limit=_money(MAX_AMOUNT, currency)), param,
                             "amount_too_large")


# --- what a charge shows of its source -----------------------------------------------------------

_PMD_KEYS: dict[str, tuple[str, ...]] = {  # payment_method_details.<type> fields [S]
    "ach_credit_transfer": ("account_number", "bank_name", "routing_number", "swift_code"),
    "ach_debit": ("account_holder_type", "bank_name", "country", "fingerprint", "last4",
                  "routing_number"),
    "acss_debit": ("bank_name", "fingerprint", "institution_number", "last4", "mandate",
                   "transit_number"),
    "au_becs_debit": ("bsb_number", "fingerprint", "last4", "mandate"),
    "bancontact": ("bank_code", "bank_name", "bic", "generated_sepa_debit",
                   "generated_sepa_debit_mandate", "iban_last4", "preferred_language",
                   "verified_name"),
    "eps": ("bank", "verified_name"),
    "giropay": ("bank_code", "bank_name", "bic", "verified_name"),
    "ideal": ("bank", "bic", "generated_sepa_debit", "generated_sepa_debit_mandate",
              "iban_last4", "verified_name"),
    "klarna": ("payment_method_category", "preferred_locale"),
    "multibanco": ("entity", "reference"),
    "p24": ("bank", "reference", "verified_name"),
    "sepa_debit": ("bank_code", "branch_code", "country", "fingerprint", "last4", "mandate"),
    "sofort": ("bank_code", "bank_name", "bic", "country", "generated_sepa_debit",
               "generated_sepa_debit_mandate", "iban_last4", "preferred_language",
               "verified_name"),
    "wechat": (),
}
def _payment_method_details(source: Obj) -> Obj | None:
    if source["object"] == "card":
        return cards.charge_details(source)
    kind = source["type"]
    details = source[kind]
    if kind == "card":
        return cards.charge_details(details)
    keys = _PMD_KEYS.get(kind)
    if keys is None:  # three_d_secure, card_present, alipay: no details shown [R]
        return None
    shown = {key: details.get(key) for key in keys}
    if "mandate" in shown and kind in ("acss_debit", "au_becs_debit"):  # non-null there [S]
        shown["mandate"] = f"mandate_{sources.digest(source['id'], 'mandate', length=24)}"
    return {kind: shown, "type": kind}


def _billing_details(source: Obj) -> Obj:
    if source["object"] == "card":
        return cards.billing_details(source)
    owner = source.get("owner") or {}
    return {"address": owner.get("address") or dict.fromkeys(sources.ADDRESS_KEYS),
            "email": owner.get("email"), "name": owner.get("name"), "phone": owner.get("phone")}


# --- endpoints ----------------------------------------------------------------------------------


def _source_to_charge(ctx: Context, customer: Obj | None, source_id: str | None) -> Obj:
    """The source a charge takes its money from (§18.3 combination rules [V])."""
    store = ctx.store
    if customer is not None:
        if source_id is None:
            source_id = customer["default_source"]
            if source_id is None:
                raise errors.StripeError(NO_ACTIVE_CARD, status=402, type="card_error",
                                         code="missing", param="card", saved=True)
        elif sources.attached_to(store, source_id) != customer["id"]:
            raise errors.StripeError(
                sources.NOT_LINKED.format(customer=customer["id"], source=source_id),
                status=404, code="missing", param="source", saved=True)
        found = sources.payment_source(store, source_id)
        if found is None:
            raise errors.no_such("source", source_id, "source", in_path=False)
        return found
    assert source_id is not None
    sources.reject_non_source(source_id, "source")
    if cards.is_token(source_id):
        return cards.from_token(ctx, source_id, "source")
    if source_id.startswith("card_"):
        card = store.get("card", source_id)
        owner = None if card is None else sources.attached_to(store, source_id)
        if owner is None:  # [R] a token's card is spent by its charge
            raise errors.no_such("source", source_id, "source", in_path=False)
        raise errors.conflict(sources.ATTACHED_NEEDS_CUSTOMER.format(source=source_id,
                                                                     customer=owner), "source")
    return store.require("source", source_id, param="source", in_path=False)


def _decline(charge: Obj, error: errors.StripeError) -> None:
    """Turn a new charge into the failed charge a declined card leaves behind [V] shape."""
    code = error.extra["decline_code"]
    charge.update(
        amount_captured=0, balance_transaction=None, captured=False, failure_code="card_declined",
        failure_message=error.message, paid=False, status="failed",
        outcome={**charge["outcome"], "network_status": "declined_by_network", "reason": code,
                 "seller_message": INSUFFICIENT_SELLER_MESSAGE if code == "insufficient_funds"
                 else DECLINE_SELLER_MESSAGE, "type": "issuer_declined"})


@route("POST", "/v1/charges")
def create(ctx: Context) -> Obj:
    p = ctx.params
    for name in ("amount", "currency"):
        if name not in p:
            raise errors.missing_param(name)
    currency = currencies.check(p["currency"])
    amount = p["amount"]
    check_amount(amount, currency)
    sources.reject_unfaked(p, ("card",))
    if "customer" not in p and "source" not in p:
        raise errors.invalid(MUST_PROVIDE)
    customer = None
    if "customer" in p:
        customer = ctx.store.require("customer", p["customer"], param="customer", in_path=False)
    source = _source_to_charge(ctx, customer, p.get("source"))
    sources.check_chargeable(ctx.store, source, None if customer is None else customer["id"],
                             currency)
    captured = p.get("capture", True)
    cid = ctx.new_id("charge")
    transfer = p.get("transfer_data")
    destination = p.get("destination")
    if transfer is None and destination is not None:  # the deprecated spelling
        transfer = ({"destination": destination} if isinstance(destination, str)
                    else {"destination": destination["account"],
                          "amount": destination.get("amount")})
    charge: Obj = {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": p.get("application_fee_amount"),
        "balance_transaction": ctx.new_id("balance_transaction") if captured else None,
        "billing_details": _billing_details(source),
        "calculated_statement_descriptor": p.get("statement_descriptor"),
        "captured": captured,
        "created": ctx.now(),
        "currency": currency,
        "customer": None if customer is None else customer["id"],
        "description": p.get("description"),
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "on_behalf_of": p.get("on_behalf_of"),
        "outcome": {"advice_code": None, "network_advice_code": None,
                    "network_decline_code": None, "network_status": "approved_by_network",
                    "reason": None, "risk_level": "normal",
                    "risk_score": int(sources.digest(cid, length=4), 16) % 50 + 5,
                    "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True,
        "payment_intent": None,
        "payment_method": source["id"],
        "payment_method_details": _payment_method_details(source),
        "receipt_email": p.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{ctx.account.ids.token(60)}",
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False,
                    "url": f"/v1/charges/{cid}/refunds"},
        "review": None,
        "shipping": sources.shipping(p.get("shipping")),
        "source": source,  # the stored source itself: it renders as it is now
        "source_transfer": None,
        "statement_descriptor": p.get("statement_descriptor"),
        "statement_descriptor_suffix": p.get("statement_descriptor_suffix"),
        "status": "succeeded",
        "transfer_data": None if transfer is None else {
            "amount": transfer.get("amount"), "destination": transfer["destination"]},
        "transfer_group": p.get("transfer_group"),
    }
    if p.get("radar_options", {}).get("session"):
        charge["radar_options"] = {"session": p["radar_options"]["session"]}
    if source["object"] == "card" and ctx.store.get("card", source["id"]) is None:
        ctx.store.add(source)  # the card a token stands for
    declined = cards.decline(source, cid) if source["object"] == "card" else None
    if declined is not None:
        _decline(charge, declined)
        ctx.store.add(charge)
        events.emit(ctx, "charge.failed", charge)
        raise declined
    sources.record_charge(ctx.store, source, amount)
    ctx.store.add(charge)
    events.emit(ctx, "charge.succeeded", charge)  # uncaptured too (`captured: false`) [C]
    return charge


@route("GET", "/v1/charges/{charge}")
def retrieve(ctx: Context, charge: str) -> Obj:
    return ctx.store.require("charge", charge, param="charge", in_path=True)


@route("POST", "/v1/charges/{charge}")
def update(ctx: Context, charge: str) -> Obj:
    obj = ctx.store.require("charge", charge, param="charge", in_path=True)
    p = ctx.params
    if "customer" in p and p["customer"] != obj["customer"]:
        if obj["customer"] is not None:
            raise errors.conflict(CUSTOMER_ALREADY_SET.format(customer=obj["customer"]),
                                  "customer")
        ctx.store.require("customer", p["customer"], param="customer", in_path=False)
    group = p.get("transfer_group")
    if group is not None and obj["transfer_group"] not in (None, group):
        raise errors.conflict(TRANSFER_GROUP_SET.format(group=obj["transfer_group"]),
                              "transfer_group")
    for key in ("customer", "description", "receipt_email", "transfer_group"):
        if key in p:
            obj[key] = p[key]
    if "shipping" in p:
        obj["shipping"] = sources.shipping(p["shipping"])
    if "fraud_details" in p:
        report = p["fraud_details"]["user_report"]
        details = {k: v for k, v in obj["fraud_details"].items() if k != "user_report"}
        obj["fraud_details"] = {**details, "user_report": report} if report else details
    if "metadata" in p:
        obj["metadata"] = metadata.apply(obj["metadata"], p["metadata"])
    return obj


@route("GET", "/v1/charges")
def list_charges(ctx: Context) -> Obj:
    p = ctx.params
    filters = {key: p[key] for key in ("customer", "payment_intent", "transfer_group") if key in p}

    def matches(charge: Obj) -> bool:
        return all(charge.get(key) == value for key, value in filters.items())

    return lists.page(ctx.store.table("charge"), p, "/v1/charges", matches if filters else None)


def _searchable(charge: Obj) -> Mapping[str, Any]:
    """The charge as search sees it: ``refunded`` is ``true`` (fully refunded), ``false``
    (partially refunded) or null (not refunded) [D].  A view over the charge, not a copy."""
    refunded = charge["amount_refunded"]
    state = None if refunded == 0 else refunded >= charge["amount"]
    return ChainMap({"refunded": state}, charge)


@route("GET", "/v1/charges/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("charge"), ctx.params, "/v1/charges/search",
                        SEARCH_FIELDS, view=_searchable)
