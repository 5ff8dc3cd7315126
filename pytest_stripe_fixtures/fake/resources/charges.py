"""Charges, minimal (STRIPE-API-RULES.md section 18): a charge of a Source, of a test card
token (``tok_visa``: a new Card), of a customer's default source or card, or of a source or card
attached to the customer.  Declining test cards leave a failed charge and answer 402.

``capture=false`` authorizes only; ``POST /v1/charges/{charge}/capture`` captures (partially:
the rest is released).  A captured charge has a real, expandable ``balance_transaction``
(``balance_transactions.py``); refunds live in ``refunds.py``; disputes are out of scope.
Coupons never apply to one-off charges: ``coupon`` is not a charge param (the schema says so).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from .. import currencies, errors, events, lists, metadata, test_cards, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import balance_transactions, cards, sources

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
BANK_SELLER_MESSAGE = "The bank returned the decline code `{code}`."  # [V] (insufficient_funds)
BLOCKED_SELLER_MESSAGE = "Stripe blocked this payment as too risky."  # [V]
ALREADY_CAPTURED = "Charge {charge} has already been captured."  # [C] stripe-stateful-mock
CANNOT_CAPTURE = "Charge {charge} cannot be captured: its status is {status}."  # [R]
CAPTURE_THE_INTENT = (  # [C] prefix (phase notes); tail [R]
    "This uncaptured Charge was created by a PaymentIntent ({intent}). You must capture the "
    "PaymentIntent instead.")
CAPTURE_TOO_LARGE = (  # [R]
    "Amount to capture ({amount}) is greater than the amount of the charge ({charge}).")

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


def decline_outcome(decline: test_cards.Decline, row: test_cards.Instrument | None) -> Obj:
    """The ``outcome`` of a declined charge [V]/[C] (STRIPE-API-RULES-PAYMENTS.md §6.3)."""
    if row is not None and row.blocked:
        return {"network_status": "not_sent_to_network", "reason": "highest_risk_level",
                "risk_level": "highest", "rule": "block_if_high_risk",
                "seller_message": BLOCKED_SELLER_MESSAGE, "type": "blocked"}
    reason = decline.decline_code or decline.code
    return {"network_status": "declined_by_network", "reason": reason,
            "seller_message": DECLINE_SELLER_MESSAGE if reason == "generic_decline"
            else BANK_SELLER_MESSAGE.format(code=reason), "type": "issuer_declined"}


def fail(charge: Obj, decline: test_cards.Decline, row: test_cards.Instrument | None) -> None:
    """Turn a new charge into the failed charge a declined card leaves behind [V] shape."""
    charge.update(
        amount_captured=0, balance_transaction=None, captured=False, failure_code=decline.code,
        failure_message=decline.message, paid=False, status="failed",
        outcome={**charge["outcome"], **decline_outcome(decline, row)})


def new_charge(ctx: Context, *, amount: int, currency: str, customer: str | None,
               payment_method: str, details: Obj | None, billing: Obj, captured: bool,
               p: dict[str, Any], source: Obj | None = None, payment_intent: str | None = None,
               row: test_cards.Instrument | None = None) -> Obj:
    """A succeeded (or, uncaptured, authorized) charge, not stored yet: legacy charges and
    PaymentIntents build their charges here."""
    cid = ctx.new_id("charge")
    transfer = p.get("transfer_data")
    destination = p.get("destination")
    if transfer is None and destination is not None:  # the deprecated spelling
        transfer = ({"destination": destination} if isinstance(destination, str)
                    else {"destination": destination["account"],
                          "amount": destination.get("amount")})
    risk_level = row.risk_level if row is not None else "normal"
    score = int(sources.digest(cid, length=4), 16) % 50 + 5
    charge: Obj = {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": p.get("application_fee_amount"),
        "balance_transaction": None,
        "billing_details": billing,
        "calculated_statement_descriptor": p.get("statement_descriptor"),
        "captured": captured,
        "created": ctx.now(),
        "currency": currency,
        "customer": customer,
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
                    "reason": "elevated_risk_level" if risk_level == "elevated" else None,
                    "risk_level": risk_level,
                    "risk_score": score if risk_level == "normal" else score + 40,
                    "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True,
        "payment_intent": payment_intent,
        "payment_method": payment_method,
        "payment_method_details": details,
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
    if captured:
        charge["balance_transaction"] = balance_transactions.for_charge(ctx, charge, row)
    return charge


def _card_of(source: Obj) -> Obj | None:
    """The card hash a charge of ``source`` checks for declines (a Card, or a card Source)."""
    if source["object"] == "card":
        return source
    return source.get("card") if source.get("type") == "card" else None


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
    card = _card_of(source)
    row = test_cards.by_fingerprint(card.get("fingerprint")) if card is not None else None
    declined = cards.charge_decline(row)
    charge = new_charge(ctx, amount=amount, currency=currency,
                        customer=None if customer is None else customer["id"],
                        payment_method=source["id"], details=_payment_method_details(source),
                        billing=_billing_details(source), captured=p.get("capture", True)
                        and declined is None, p=p, source=source, row=row)
    if source["object"] == "card" and ctx.store.get("card", source["id"]) is None:
        ctx.store.add(source)  # the card a token stands for
    if declined is not None:
        fail(charge, declined, row)
        ctx.store.add(charge)
        events.emit(ctx, "charge.failed", charge)
        raise test_cards.card_error(declined, ctx.version, charge=charge["id"])
    sources.record_charge(ctx.store, source, amount)
    ctx.store.add(charge)
    events.emit(ctx, "charge.succeeded", charge)  # uncaptured too (`captured: false`) [C]
    return charge


def capture_charge(ctx: Context, charge: Obj, amount: int, p: dict[str, Any]) -> None:
    """Capture an authorized charge for ``amount``: the rest of the authorization is released
    for good (shown as refunded, the legacy reading [R])."""
    charge["captured"] = True
    charge["amount_captured"] = amount
    charge["amount_refunded"] = charge["amount"] - amount
    charge["balance_transaction"] = balance_transactions.for_charge(
        ctx, charge, _row_of_charge(charge), amount)
    for name in ("receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                 "transfer_group", "application_fee_amount"):
        if name in p:
            charge[name] = p[name]
    events.emit(ctx, "charge.captured", charge)


def release(ctx: Context, charge: Obj) -> None:
    """An uncaptured charge whose authorization is released (its PaymentIntent canceled): the
    whole amount shows as refunded [S] (cancel description); fields [R]."""
    charge["amount_refunded"] = charge["amount"]
    charge["refunded"] = True
    events.emit(ctx, "charge.refunded", charge, previous_attributes={
        "amount_refunded": 0, "refunded": False})


def _row_of_charge(charge: Obj) -> test_cards.Instrument | None:
    details = (charge.get("payment_method_details") or {}).get("card") or {}
    return test_cards.by_fingerprint(details.get("fingerprint"))


@route("POST", "/v1/charges/{charge}/capture")
def capture(ctx: Context, charge: str) -> Obj:
    obj = ctx.store.require("charge", charge, param="charge", in_path=True)
    p = ctx.params
    if obj["captured"]:
        raise errors.conflict(ALREADY_CAPTURED.format(charge=obj["id"]), code="charge_already_captured")
    if obj["status"] != "succeeded" or obj["refunded"]:
        raise errors.conflict(CANNOT_CAPTURE.format(charge=obj["id"], status=obj["status"]))
    if obj["payment_intent"] is not None:
        raise errors.conflict(CAPTURE_THE_INTENT.format(intent=obj["payment_intent"]))
    amount = p.get("amount", obj["amount"])
    if amount > obj["amount"]:
        raise errors.conflict(CAPTURE_TOO_LARGE.format(
            amount=_money(amount, obj["currency"]), charge=_money(obj["amount"], obj["currency"])),
            "amount", "amount_too_large")
    if amount < 1:
        raise errors.too_small("amount", 1)
    capture_charge(ctx, obj, amount, p)
    return obj


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
