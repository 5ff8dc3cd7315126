"""Sources (the deprecated Sources API) and a customer's attached sources (STRIPE-API-RULES.md §17).

A source's life (§17.4): created ``pending`` or ``chargeable`` depending on its type, moved on
by the customer's action (in tests: :func:`set_status` and :func:`receive_funds`), attached to
a customer, charged (``charges.py`` uses :func:`check_chargeable` and :func:`record_charge`),
and ``consumed`` when detached or when a single-use / unattached source is charged.
``consumed``, ``canceled`` and ``failed`` are terminal.

Which sources a customer has is kept in a side table (``customer_source`` rows keyed by the
source id, newest attachment last) because a detached source keeps its ``customer`` field, as
the API reference's detach example shows.  A customer's payment sources also include Card
objects made from test tokens (``cards.py``): attached the same way, deleted when detached.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import currencies, errors, events, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj, Store
from . import cards

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
NOT_CHARGEABLE = "The source you provided is not in a chargeable state."  # [V]
CONSUMED_REUSABLE = (  # [V]
    "The reusable source you provided is consumed because it was previously charged without "
    "being attached to a customer or was detached from a customer. To charge a reusable source "
    "multiple time you must attach it to a customer first.")
ALREADY_USED = (  # [V]
    "The provided source has already been used to make another payment. You cannot reuse "
    "sources without attaching them to a Customer object first.")
NOT_LINKED = "Customer {customer} does not have a linked source with ID {source}."  # [V]
ALREADY_ATTACHED = "The source you provided has already been attached to a customer"  # [V]
NOT_ATTACHABLE = (  # [R]
    "The source {source} is {status} and cannot be attached to a customer. Only sources in a "
    "chargeable or pending state can be attached.")
USAGE_UNSUPPORTED = "`usage={usage}` is not supported for sources of type `{type}`."  # [R]
FLOW_UNSUPPORTED = "`flow={flow}` is not supported for sources of type `{type}`."  # [R]
ATTACHED_NEEDS_CUSTOMER = (  # [R]
    "The source {source} is attached to customer {customer}: pass `customer={customer}` to "
    "charge it.")
CURRENCY_MISMATCH = (  # [R]
    "The currency of the charge ({currency}) must match the currency of the source "
    "({source_currency}).")
# The fake's own limits (no Stripe wording exists for these):
CARD_NEEDS_TOKEN = (
    "pytest-stripe-fixtures creates `card` sources from test tokens only: pass `token` (one of "
    "{tokens}).")
CARDS_NOT_FAKED = (
    "pytest-stripe-fixtures does not fake bank accounts, the `card`/`bank_account` params or "
    "tokens other than Stripe's test card tokens yet: pass a test token such as `tok_visa` or "
    "a Source's `src_...` id instead of {value!r}.")
SHARING_NOT_FAKED = (
    "pytest-stripe-fixtures does not fake source sharing (`customer` + `original_source`, a "
    "Connect feature).")

TERMINAL = frozenset({"consumed", "canceled", "failed"})
LIST_PREVIEW = 10  # an expanded `customer.sources` shows the first page, like every sub-list

versions.register(
    versions.FieldAdded(
        "2024-06-20",
        "Sources carry `allow_redisplay` (null for sources). [R] date; the 2023 spec lacks it, "
        "the current SDK and fixtures have it.",
        object="source", path="allow_redisplay",
        schema={"type": ["string", "null"], "enum": ["always", "limited", "unspecified", None]}),
)


# --- the source types -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceType:
    """How a source of one ``type`` starts out (suggested by the API reference's examples)."""

    flow: str
    usages: tuple[str, ...]  # the first is the default
    status: str
    details: Callable[[Context, str, dict[str, Any]], Obj]
    currency: str | None = None  # default currency when the request names none


def digest(*parts: str, length: int = 16) -> str:
    """A stable alphanumeric string (fingerprints, fake account numbers)."""
    raw = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return raw[:length]


_fingerprint = cards.fingerprint


def _nulls(*keys: str) -> Obj:
    return dict.fromkeys(keys)


def _ach_credit_transfer(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    """Shaped like the API reference's example (refund_* fields appear once they are known)."""
    return {"account_number": f"test_{digest(sid, length=12)}", "bank_name": "TEST BANK",
            "fingerprint": _fingerprint(sid, "ach_credit_transfer"),
            "routing_number": "110000000", "swift_code": "TSTEZ122"}


def _ach_debit(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {"bank_name": "STRIPE TEST BANK", "country": "US",
            "fingerprint": _fingerprint("ach_debit", "6789"), "last4": "6789",
            "routing_number": "110000000", "type": "individual"}


def _acss_debit(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {**_nulls("bank_address_city", "bank_address_line_1", "bank_address_line_2",
                     "bank_address_postal_code", "category"),
            "bank_name": "STRIPE TEST BANK", "country": "CA",
            "fingerprint": _fingerprint("acss_debit", "6789"), "last4": "6789",
            "routing_number": "11000-000"}


def _au_becs_debit(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {"bsb_number": "000000", "fingerprint": _fingerprint("au_becs_debit", "3456"),
            "last4": "3456"}


def _sepa_debit(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    secret = p["_client_secret"]
    return {"bank_code": "37040044", "branch_code": None, "country": "DE",
            "fingerprint": _fingerprint("sepa_debit", "3000"), "last4": "3000",
            "mandate_reference": digest(sid, "mandate").upper(),
            "mandate_url": f"https://hooks.stripe.com/adapter/sepa_debit/file/{sid}/{secret}"}


def _card(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    token = p.get("token")
    if token is None:
        raise errors.invalid(CARD_NEEDS_TOKEN.format(tokens=", ".join(TEST_CARD_TOKENS)), "token")
    card = cards.test_card(token, "token")
    brand, last4, funding = card.legacy_brand, card.last4, card.funding
    return {"address_line1_check": None, "address_zip_check": None, "brand": brand,
            "country": card.country, "cvc_check": None, "dynamic_last4": None, "exp_month": 12,
            "exp_year": time.gmtime(ctx.now()).tm_year + 1,
            "fingerprint": card.fingerprint, "funding": funding,
            "last4": last4, "name": None, "three_d_secure": "optional",
            "tokenization_method": None}


def _card_present(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {**_nulls("authorization_code", "evidence_customer_signature",
                     "evidence_transaction_certificate", "pos_device_id", "reader"),
            "brand": "Visa", "country": "US", "data_type": None, "exp_month": 12,
            "exp_year": time.gmtime(ctx.now()).tm_year + 1,
            "fingerprint": _fingerprint("card_present", "0000"), "funding": "credit",
            "last4": "0000", "read_method": "contact_emv"}


def _three_d_secure(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {**_nulls("address_line1_check", "address_zip_check", "brand", "card", "country",
                     "customer", "cvc_check", "dynamic_last4", "exp_month", "exp_year",
                     "funding", "last4", "name", "tokenization_method"),
            "authenticated": False, "fingerprint": "", "three_d_secure": "optional"}


def _redirect_bank(*keys: str) -> Callable[[Context, str, dict[str, Any]], Obj]:
    def details(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
        return _nulls(*keys)

    return details


def _multibanco(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {**_nulls("refund_account_holder_address_city", "refund_account_holder_address_country",
                     "refund_account_holder_address_line1", "refund_account_holder_address_line2",
                     "refund_account_holder_address_postal_code",
                     "refund_account_holder_address_state", "refund_account_holder_name",
                     "refund_iban"),
            "entity": "12345", "reference": digest(sid, length=9)}


def _p24(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {"reference": f"P24-{digest(sid, length=9).upper()}"}


def _wechat(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {"prepay_id": digest(sid, "prepay", length=24),
            "qr_code_url": f"weixin://wxpay/bizpayurl?pr={digest(sid, length=7)}",
            "statement_descriptor": p.get("statement_descriptor") or ""}


def _klarna(ctx: Context, sid: str, p: dict[str, Any]) -> Obj:
    return {"client_token": None}


TYPES: dict[str, SourceType] = {  # [R] flows/usages/statuses beyond the documented examples
    "ach_credit_transfer": SourceType("receiver", ("reusable", "single_use"), "pending",
                                      _ach_credit_transfer, "usd"),
    "ach_debit": SourceType("none", ("reusable",), "chargeable", _ach_debit, "usd"),
    "acss_debit": SourceType("none", ("reusable",), "chargeable", _acss_debit, "cad"),
    "alipay": SourceType("redirect", ("single_use", "reusable"), "pending",
                         _redirect_bank("data_string", "native_url", "statement_descriptor")),
    "au_becs_debit": SourceType("none", ("reusable",), "chargeable", _au_becs_debit, "aud"),
    "bancontact": SourceType("redirect", ("single_use",), "pending",
                             _redirect_bank("bank_code", "bank_name", "bic", "iban_last4",
                                            "preferred_language", "statement_descriptor"), "eur"),
    "card": SourceType("none", ("reusable", "single_use"), "chargeable", _card),
    "card_present": SourceType("none", ("single_use",), "chargeable", _card_present),
    "eps": SourceType("redirect", ("single_use",), "pending",
                      _redirect_bank("reference", "statement_descriptor"), "eur"),
    "giropay": SourceType("redirect", ("single_use",), "pending",
                          _redirect_bank("bank_code", "bank_name", "bic", "statement_descriptor"),
                          "eur"),
    "ideal": SourceType("redirect", ("single_use",), "pending",
                        _redirect_bank("bank", "bic", "iban_last4", "statement_descriptor"), "eur"),
    "klarna": SourceType("redirect", ("single_use",), "pending", _klarna),
    "multibanco": SourceType("receiver", ("single_use",), "pending", _multibanco, "eur"),
    "p24": SourceType("redirect", ("single_use",), "pending", _p24),
    "sepa_debit": SourceType("none", ("reusable",), "chargeable", _sepa_debit, "eur"),
    "sofort": SourceType("redirect", ("single_use",), "pending",
                         _redirect_bank("bank_code", "bank_name", "bic", "country", "iban_last4",
                                        "preferred_language", "statement_descriptor"), "eur"),
    "three_d_secure": SourceType("redirect", ("single_use",), "pending", _three_d_secure),
    "wechat": SourceType("none", ("single_use",), "pending", _wechat),
}

TEST_CARD_TOKENS = cards.TOKENS  # Stripe's test tokens (cards.py)


# --- building blocks ----------------------------------------------------------------------------


ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def address(raw: dict[str, Any] | None) -> Obj | None:
    """An address param as Stripe returns it: all six keys, missing ones null."""
    if not raw:
        return None
    return {k: raw.get(k) for k in ADDRESS_KEYS}


def shipping(raw: Any) -> Obj | None:
    """A ``shipping`` hash (customers and charges share the shape)."""
    if not raw:
        return None
    return {"address": address(raw["address"]) or dict.fromkeys(ADDRESS_KEYS),
            "carrier": raw.get("carrier"), "name": raw["name"], "phone": raw.get("phone"),
            "tracking_number": raw.get("tracking_number")}


def _owner(raw: dict[str, Any] | None, current: Obj | None = None) -> Obj:
    owner = dict(current) if current else {
        "address": None, "email": None, "name": None, "phone": None, "verified_address": None,
        "verified_email": None, "verified_name": None, "verified_phone": None}
    for key, value in (raw or {}).items():
        owner[key] = address(value) if key == "address" else value
    return owner


def _source_order(raw: dict[str, Any], currency: str | None, owner: Obj) -> Obj:
    currency = currency or next((i["currency"] for i in raw.get("items") or ()
                                 if i.get("currency")), None)
    if currency is None:  # an order is priced in the source's currency [R]
        raise errors.missing_param("currency")
    items = [{"amount": item.get("amount"), "currency": item.get("currency") or currency,
              "description": item.get("description"), "parent": item.get("parent"),
              "quantity": item.get("quantity", 1), "type": item.get("type")}
             for item in raw.get("items") or []]
    order: Obj = {"amount": sum((i["amount"] or 0) * i["quantity"] for i in items),
                  "currency": currency, "items": items}
    if owner.get("email"):
        order["email"] = owner["email"]
    shipping = raw.get("shipping")
    if shipping:
        order["shipping"] = {"address": address(shipping["address"]),
                             "carrier": shipping.get("carrier"),
                             "name": shipping.get("name") or owner.get("name") or "",  # [R]
                             "phone": shipping.get("phone"),
                             "tracking_number": shipping.get("tracking_number")}
    return order


def _flow_hash(flow: str, sid: str, secret: str, p: dict[str, Any],
               details: Obj) -> tuple[str, Obj] | None:
    if flow == "redirect":
        return "redirect", {
            "failure_reason": None, "return_url": p["redirect"]["return_url"], "status": "pending",
            "url": f"https://hooks.stripe.com/redirect/authenticate/{sid}?client_secret={secret}"}
    if flow == "receiver":
        account = details.get("account_number") or digest(sid, length=12)
        return "receiver", {
            "address": f"110000000-{account}", "amount_charged": 0, "amount_received": 0,
            "amount_returned": 0,
            "refund_attributes_method": (p.get("receiver") or {}).get("refund_attributes_method",
                                                                      "email"),
            "refund_attributes_status": "missing"}
    if flow == "code_verification":
        return "code_verification", {"attempts_remaining": 3, "status": "pending"}
    return None


def new_source(ctx: Context, p: dict[str, Any]) -> Obj:
    """Create and store a source from typed ``POST /v1/sources`` params."""
    if "customer" in p or "original_source" in p:
        raise errors.invalid(SHARING_NOT_FAKED)
    kind = p.get("type")
    if kind is None:
        raise errors.missing_param("type")
    spec = TYPES.get(kind)
    if spec is None:  # the spec's `type` param is a free string; the object's is an enum
        names = list(TYPES)
        raise errors.invalid(errors.INVALID_ENUM.format(
            param="type", choices=", ".join(names[:-1]) + f", or {names[-1]}"), "type")
    flow = p.get("flow", spec.flow)
    if flow != spec.flow:
        raise errors.invalid(FLOW_UNSUPPORTED.format(flow=flow, type=kind), "flow")
    usage = p.get("usage", spec.usages[0])
    if usage not in spec.usages:
        raise errors.invalid(USAGE_UNSUPPORTED.format(usage=usage, type=kind), "usage")
    currency = currencies.check(p["currency"]) if "currency" in p else spec.currency
    if usage == "single_use" and flow != "receiver":  # [S] "Required for single_use sources"
        if p.get("amount") is None:
            raise errors.missing_param("amount")
        if "currency" not in p:
            raise errors.missing_param("currency")
    if p.get("amount") is not None and p["amount"] < 0:
        raise errors.too_small("amount", 0)
    if flow == "redirect" and "redirect" not in p:
        raise errors.missing_param("redirect[return_url]")
    sid = ctx.new_id("source")
    secret = f"src_client_secret_{ctx.account.ids.token(24)}"
    details = spec.details(ctx, sid, {**p, "_client_secret": secret})
    owner = _owner(p.get("owner"))
    source: Obj = {
        "id": sid,
        "object": "source",
        kind: details,
        "allow_redisplay": None,
        "amount": p.get("amount"),
        "client_secret": secret,
        "created": ctx.now(),
        "currency": currency,
        "flow": flow,
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "owner": owner,
        "statement_descriptor": p.get("statement_descriptor"),
        "status": spec.status,
        "type": kind,
        "usage": usage,
    }
    flow_hash = _flow_hash(flow, sid, secret, p, details)
    if flow_hash is not None:
        source[flow_hash[0]] = flow_hash[1]
    if p.get("source_order"):
        source["source_order"] = _source_order(p["source_order"], currency, owner)
    return ctx.store.add(source)


# --- attachment -------------------------------------------------------------------------------


def payment_source(store: Store, oid: str) -> Obj | None:
    """A stored Source (``src_``) or Card (``card_``)."""
    return store.get("card" if oid.startswith("card_") else "source", oid)


def attached(store: Store, customer_id: str) -> list[Obj]:
    """The customer's attached sources and cards, most recently attached first."""
    links = store.table("customer_source").newest_first(where=("customer", customer_id))
    found = (payment_source(store, link["id"]) for link in links)  # a link's customer is fixed
    return [source for source in found if source is not None]


def attached_to(store: Store, source_id: str) -> str | None:
    """The id of the customer ``source_id`` is attached to, if any."""
    link = store.get("customer_source", source_id)
    return None if link is None else link["customer"]


def sources_list(store: Store, customer_id: str) -> Obj:
    """The ``customer.sources`` sub-list (includable: shown when expanded)."""
    found = attached(store, customer_id)
    return {"object": "list", "data": found[:LIST_PREVIEW], "has_more": len(found) > LIST_PREVIEW,
            "url": f"/v1/customers/{customer_id}/sources"}


def reject_unfaked(p: dict[str, Any], names: tuple[str, ...]) -> None:
    """A 400 naming the fake's limit for params it does not fake (``card``, ``bank_account``,
    ``alipay_account``: a token / account id or a hash of raw details)."""
    for name in names:
        if name in p:
            value = p[name] if isinstance(p[name], str) else name
            raise errors.invalid(CARDS_NOT_FAKED.format(value=value), name)


def reject_non_source(value: str, param: str) -> None:
    """Bank accounts and other tokens are not faked: say so instead of 'No such source'."""
    if not value.startswith(("src_", "card_", "tok_")):
        raise errors.invalid(CARDS_NOT_FAKED.format(value=value), param)


def check_attachable(ctx: Context, customer_id: str, source_id: str, param: str) -> Obj:
    """The source ``source_id`` if it may be attached to the customer (nothing changes yet).

    A test token gives a new Card (stored by :func:`attach`); a declining one is refused."""
    reject_non_source(source_id, param)
    if cards.is_token(source_id):
        card = cards.from_token(ctx, source_id, param)
        declined = cards.decline(ctx, card, attaching=True)
        if declined is not None:
            raise declined
        return card
    source = payment_source(ctx.store, source_id)
    if source is None:
        raise errors.no_such("source", source_id, param, in_path=False)
    if source["object"] == "card":  # [R] a card is attached to its customer for good
        if attached_to(ctx.store, source_id) != customer_id:
            raise errors.conflict(ALREADY_ATTACHED, param)
        return source
    owner = attached_to(ctx.store, source_id)
    if owner is not None and owner != customer_id:
        raise errors.conflict(ALREADY_ATTACHED, param)
    if owner is None and source["status"] in TERMINAL:
        raise errors.conflict(NOT_ATTACHABLE.format(source=source_id, status=source["status"]),
                              param)
    return source


def attach(ctx: Context, customer: Obj, source: Obj, *, make_default: bool = False) -> Obj:
    """Attach a checked source (see :func:`check_attachable`); the first becomes the default.
    Events: ``customer.source.created``, then ``customer.updated`` if the default changed [D]/[R]."""
    old_default = customer.get("default_source")
    if source["object"] == "card" and ctx.store.get("card", source["id"]) is None:
        ctx.store.add(source)  # a card just made from a token
    if attached_to(ctx.store, source["id"]) is None:
        ctx.store.add({"id": source["id"], "object": "customer_source",
                       "customer": customer["id"]})
        source["customer"] = customer["id"]
    if make_default or customer.get("default_source") is None:
        customer["default_source"] = source["id"]
    customer["sources"] = sources_list(ctx.store, customer["id"])
    events.emit(ctx, "customer.source.created", source)
    _default_changed(ctx, customer, old_default)
    return source


def _default_changed(ctx: Context, customer: Obj, old_default: str | None) -> None:
    if customer.get("default_source") != old_default:
        events.emit_updated(ctx, "customer.updated", customer, {"default_source": old_default})


def detach(ctx: Context, customer: Obj, source: Obj) -> Obj:
    """Detach: the source is ``consumed`` for good and keeps its ``customer`` field [D]; a card
    is deleted (the answer is its deleted stub) [S].  Events: ``customer.source.deleted`` (the
    source as it was attached), then ``customer.updated`` if the default changed [D]/[R]."""
    old_default = customer.get("default_source")
    events.emit(ctx, "customer.source.deleted", source)
    ctx.store.delete("customer_source", source["id"])
    if source["object"] == "card":
        answer = cards.deleted_stub(source)
        ctx.store.delete("card", source["id"], answer)
    else:
        source["status"] = "consumed"
        answer = source
    remaining = attached(ctx.store, customer["id"])
    if customer.get("default_source") == source["id"]:  # [R] the newest remaining one
        customer["default_source"] = remaining[0]["id"] if remaining else None
    customer["sources"] = sources_list(ctx.store, customer["id"])
    _default_changed(ctx, customer, old_default)
    return answer


def forget_customer(store: Store, customer_id: str) -> None:
    """A deleted customer's sources are no longer attached to anything; its cards are deleted
    with it. [R]"""
    for source in attached(store, customer_id):
        store.delete("customer_source", source["id"])
        if source["object"] == "card":
            store.delete("card", source["id"], cards.deleted_stub(source))


# --- charging ---------------------------------------------------------------------------------


def check_chargeable(store: Store, source: Obj, customer_id: str | None, currency: str) -> None:
    """Stripe's refusals for charging ``source`` (§17.7); ``customer_id`` from the request."""
    if source["object"] == "card":
        return  # declines are the charge's business (it records a failed charge first)
    status = source["status"]
    if status == "consumed":
        raise errors.conflict(CONSUMED_REUSABLE if source["usage"] == "reusable" else ALREADY_USED,
                              "source")
    if status != "chargeable":
        raise errors.conflict(NOT_CHARGEABLE, "source")
    owner = attached_to(store, source["id"])
    if customer_id is None and owner is not None:
        raise errors.conflict(ATTACHED_NEEDS_CUSTOMER.format(source=source["id"], customer=owner),
                              "source")
    if source.get("currency") and source["currency"] != currency:
        raise errors.conflict(CURRENCY_MISMATCH.format(
            currency=currency, source_currency=source["currency"]), "currency")


def record_charge(store: Store, source: Obj, amount: int) -> None:
    """After a successful charge: single-use and unattached sources are consumed [D]."""
    if source["object"] == "card":
        return  # a test card can be charged again and again
    receiver = source.get("receiver")
    if receiver is not None:
        receiver["amount_charged"] += amount
    if source["usage"] == "single_use" or attached_to(store, source["id"]) is None:
        source["status"] = "consumed"


# --- test helpers: what the customer does outside the API ----------------------------------------

_ALLOWED_MOVES = {"pending": {"chargeable", "failed", "canceled"}, "chargeable": {"canceled"}}
REDIRECT_FAILURES = ("user_abort", "declined", "processing_error")


def set_status(store: Store, source_id: str, status: str, *,
               failure_reason: str | None = None) -> Obj:
    """Move a source along its lifecycle as the customer would (§17.4): ``pending`` ->
    ``chargeable`` / ``failed`` / ``canceled``; ``chargeable`` -> ``canceled``.

    ``consumed`` is reached through the API only (charging, detaching).  Raises ``ValueError``
    for a move Stripe never makes."""
    source = store.get("source", source_id)
    if source is None:
        raise ValueError(f"no source {source_id!r} in this fake")
    if status not in _ALLOWED_MOVES.get(source["status"], set()):
        raise ValueError(f"a {source['status']} source cannot become {status} (STRIPE-API-RULES "
                         "§17.4)")
    redirect = source.get("redirect")
    if status == "failed":
        reason = failure_reason or "user_abort"
        if reason not in REDIRECT_FAILURES:
            raise ValueError(f"failure_reason must be one of {', '.join(REDIRECT_FAILURES)}")
        if redirect is not None:
            redirect.update(status="failed", failure_reason=reason)
    elif status == "chargeable" and redirect is not None:
        redirect["status"] = "succeeded"
    verification = source.get("code_verification")
    if verification is not None and status in ("chargeable", "failed"):
        verification["status"] = "succeeded" if status == "chargeable" else "failed"
    source["status"] = status
    events.emit_from_store(store, f"source.{status}", source)  # no API request caused it
    return source


def receive_funds(store: Store, source_id: str, amount: int) -> Obj:
    """The customer pushes ``amount`` to a receiver source (e.g. an ACH credit transfer): the
    receiver counts it and a pending source becomes chargeable."""
    source = store.get("source", source_id)
    if source is None or source.get("receiver") is None:
        raise ValueError(f"{source_id!r} is not a receiver-flow source of this fake")
    if source["status"] in TERMINAL:
        raise ValueError(f"source {source_id} is {source['status']}")
    source["receiver"]["amount_received"] += amount
    if source["status"] == "pending":
        source["status"] = "chargeable"
        events.emit_from_store(store, "source.chargeable", source)
    return source


# --- endpoints ----------------------------------------------------------------------------------


@route("POST", "/v1/sources")
def create(ctx: Context) -> Obj:
    return new_source(ctx, ctx.params)


@route("GET", "/v1/sources/{source}")
def retrieve(ctx: Context, source: str) -> Obj:
    # `client_secret` only matters with a publishable key, which the fake refuses anyway.
    return ctx.store.require("source", source, param="source", in_path=True)


def _update(obj: Obj, p: dict[str, Any]) -> Obj:
    owner = _owner(p["owner"], obj.get("owner")) if "owner" in p else obj.get("owner") or {}
    order = _source_order(p["source_order"], obj["currency"], owner) \
        if p.get("source_order") else None
    changed = metadata.apply(obj["metadata"], p["metadata"]) if "metadata" in p else None
    if "amount" in p:
        obj["amount"] = p["amount"]
    if "owner" in p:
        obj["owner"] = owner
    if changed is not None:
        obj["metadata"] = changed
    if order is not None:
        obj["source_order"] = order
    return obj  # `mandate` has no field on the object


@route("POST", "/v1/sources/{source}")
def update(ctx: Context, source: str) -> Obj:
    return _update(ctx.store.require("source", source, param="source", in_path=True), ctx.params)


def live_customer(ctx: Context, customer: str) -> Obj:
    """The (not deleted) customer named in the path.  [V] a customer id in the path is reported
    as param `id` (section 3.3); the nested endpoints (sources, discount) follow suit [R]."""
    return ctx.store.require("customer", customer, param="id", in_path=True)


def _attached_source(ctx: Context, customer: Obj, source_id: str) -> Obj:
    """A source or card attached to ``customer`` (404 otherwise [R])."""
    source = payment_source(ctx.store, source_id)
    if source is None or attached_to(ctx.store, source_id) != customer["id"]:
        raise errors.no_such("source", source_id, "id", in_path=True)
    return source


@route("POST", "/v1/customers/{customer}/sources")
def attach_to_customer(ctx: Context, customer: str) -> Obj:
    obj = live_customer(ctx, customer)
    p = ctx.params
    reject_unfaked(p, ("card", "bank_account", "alipay_account"))
    if "source" not in p:
        raise errors.missing_param("source")  # [V] "Missing required param: source."
    source = check_attachable(ctx, obj["id"], p["source"], "source")
    if "metadata" in p:
        source["metadata"] = metadata.apply(source["metadata"], p["metadata"])
    return attach(ctx, obj, source)


@route("GET", "/v1/customers/{customer}/sources")
def list_customer_sources(ctx: Context, customer: str) -> Obj:
    obj = live_customer(ctx, customer)
    found = attached(ctx.store, obj["id"])
    kind = ctx.params.get("object")
    if kind is not None:
        found = [s for s in found if s["object"] == kind]
    return lists.page_of(found, ctx.params, f"/v1/customers/{obj['id']}/sources")


@route("GET", "/v1/customers/{customer}/sources/{id}")
def retrieve_customer_source(ctx: Context, customer: str, id: str) -> Obj:
    return _attached_source(ctx, live_customer(ctx, customer), id)


CARD_ONLY_FIELDS = ("account_holder_name", "account_holder_type", "address_city",
                    "address_country", "address_line1", "address_line2", "address_state",
                    "address_zip", "exp_month", "exp_year", "name")


@route("POST", "/v1/customers/{customer}/sources/{id}")
def update_customer_source(ctx: Context, customer: str, id: str) -> Obj:
    source = _attached_source(ctx, live_customer(ctx, customer), id)
    before = events.copy_tree(source)
    if source["object"] == "card":
        updated = cards.update(source, ctx.params)
    else:
        for name in CARD_ONLY_FIELDS:  # card / bank account fields do not exist on a Source [R]
            if name in ctx.params:
                raise errors.unknown_param(name)
        updated = _update(source, ctx.params)
    events.emit_changes(ctx, "customer.source.updated", updated, before)
    return updated


@route("DELETE", "/v1/customers/{customer}/sources/{id}")
def detach_from_customer(ctx: Context, customer: str, id: str) -> Obj:
    obj = live_customer(ctx, customer)
    return detach(ctx, obj, _attached_source(ctx, obj, id))
