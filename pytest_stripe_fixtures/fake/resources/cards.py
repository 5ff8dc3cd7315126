"""Cards made from Stripe's test tokens (``tok_visa``, ...): the one place that knows them.

A token passed as ``source`` becomes a Card object (``card_...``): charged on the spot
(``POST /v1/charges``, the card belongs to no customer) or attached to a customer
(``POST /v1/customers``, ``POST /v1/customers/{id}/sources``; ``sources.py`` keeps the
attachment).  Stripe's magic test tokens are reusable in test mode, so no single-use rule
applies to them [D].  Declining test tokens decline when charged or attached [D].
"""

from __future__ import annotations

import time
from typing import Any

from .. import errors, metadata, test_cards, versions
from ..engine import Context
from ..store import Obj

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
INVALID_EXPIRY = {  # [C] card_error codes invalid_expiry_month / invalid_expiry_year
    "exp_month": "Your card's expiration month is invalid.",
    "exp_year": "Your card's expiration year is invalid.",
}

versions.register(
    versions.FieldAdded(
        "2024-06-20", "Cards carry `allow_redisplay`. [R] date; the 2023 spec lacks it.",
        object="card", path="allow_redisplay",
        schema={"type": ["string", "null"], "enum": ["always", "limited", "unspecified", None]}),
    versions.FieldAdded(
        "2024-10-28.acacia", "Cards carry `regulated_status`. [R] date; in current fixtures.",
        object="card", path="regulated_status",
        schema={"type": ["string", "null"], "enum": ["regulated", "unregulated", None]}),
)


TOKENS = {name: row for name, row in test_cards.BY_NAME.items() if name.startswith("tok_")}
BRAND_CODES = {legacy: code for code, legacy in test_cards.LEGACY_BRANDS.items()
               if code not in ("cartes_bancaires", "eftpos_au")}
UPDATABLE = ("address_city", "address_country", "address_line1", "address_line2",
             "address_state", "address_zip", "exp_month", "exp_year", "name")


def fingerprint(*parts: str) -> str:
    """A stable 16-character fingerprint (the same card always gets the same one)."""
    return test_cards.fingerprint("|".join(parts))


def is_token(value: str) -> bool:
    return value.startswith("tok_")


def test_card(token: str, param: str) -> test_cards.Instrument:
    """The test card behind ``token``, or Stripe's ``No such token`` [V]."""
    card = TOKENS.get(token)
    if card is None:
        raise errors.no_such("token", token, param, in_path=False)
    return card


def charge_decline(row: test_cards.Instrument | None) -> test_cards.Decline | None:
    """What charging a card of ``row`` answers, without a PaymentIntent: its decline, or for a
    card that needs 3D Secure on every payment ``authentication_required`` [R] (a legacy charge
    cannot authenticate)."""
    if row is None:
        return None
    if row.three_d_secure == test_cards.ALWAYS:
        return test_cards.NEEDS_AUTHENTICATION
    return row.decline


def attach_decline(row: test_cards.Instrument | None) -> test_cards.Decline | None:
    """Attaching verifies the card: declining cards fail, except those documented to attach
    and then fail every charge (``chargeCustomerFail``) [D]."""
    if row is None or row.charge_only:
        return None
    return row.decline


def decline(ctx: Context, card: Obj, charge_id: str | None = None, *,
            attaching: bool = False) -> errors.StripeError | None:
    """The 402 ``card_error`` a declining test card gives (``param`` only for field-specific
    codes [V]), or None."""
    row = test_cards.by_fingerprint(card.get("fingerprint"))
    found = attach_decline(row) if attaching else charge_decline(row)
    if found is None:
        return None
    return test_cards.card_error(found, ctx.version, charge=charge_id)


def from_token(ctx: Context, token: str, param: str) -> Obj:
    """A new Card object for ``token`` (not stored yet: the caller stores it once it is used)."""
    card = test_card(token, param)
    return {
        "id": ctx.new_id("card"),
        "object": "card",
        **dict.fromkeys(("address_city", "address_country", "address_line1",
                         "address_line1_check", "address_line2", "address_state", "address_zip",
                         "address_zip_check")),
        "allow_redisplay": "unspecified",
        "brand": card.legacy_brand,
        "country": "US",
        "customer": None,
        "cvc_check": "pass",  # [V] fixtures
        "dynamic_last4": None,
        "exp_month": 12,
        "exp_year": time.gmtime(ctx.now()).tm_year + 1,
        "fingerprint": card.fingerprint,
        "funding": card.funding,
        "last4": card.last4,
        "metadata": {},
        "name": None,
        "regulated_status": None,
        "tokenization_method": None,
    }


def update(card: Obj, p: dict[str, Any]) -> Obj:
    """``POST /v1/customers/{customer}/sources/{card}``: the card's own fields and metadata."""
    for name in ("owner", "account_holder_name", "account_holder_type"):
        if name in p:
            raise errors.unknown_param(name)
    changed = metadata.apply(card["metadata"], p["metadata"]) if "metadata" in p else None
    expiry = {name: _expiry(name, p[name]) for name in INVALID_EXPIRY if name in p}
    for name in UPDATABLE:
        if name in p:
            card[name] = expiry[name] if name in expiry else p[name] or None
    if changed is not None:
        card["metadata"] = changed
    return card


def _expiry(name: str, value: str) -> int:
    """``exp_month``/``exp_year`` are strings in the spec and integers on the card."""
    number = int(value) if value.isdigit() else 0
    if (name == "exp_month" and not 1 <= number <= 12) or (name == "exp_year" and number < 1):
        raise errors.StripeError(INVALID_EXPIRY[name], status=402, type="card_error",  # [R]
                                 code="invalid_expiry_" + name[4:], param=name)
    return number


def deleted_stub(card: Obj) -> Obj:
    """What deleting a customer's card returns (``deleted_payment_source``) [S]."""
    return {"id": card["id"], "object": "card", "deleted": True}


def charge_details(card: Obj) -> Obj:
    """``payment_method_details`` of a charge of ``card`` (a Card, or a card Source's hash)."""
    brand = BRAND_CODES.get(card["brand"], card["brand"].lower())
    return {"card": {
        "brand": brand, "checks": {"address_line1_check": card.get("address_line1_check"),
                                   "address_postal_code_check": card.get("address_zip_check"),
                                   "cvc_check": card.get("cvc_check")},
        "country": card["country"], "exp_month": card["exp_month"],
        "exp_year": card["exp_year"], "fingerprint": card["fingerprint"],
        "funding": card["funding"], "installments": None, "last4": card["last4"],
        "mandate": None, "network": brand, "network_token": {"used": False},
        "three_d_secure": None, "wallet": None}, "type": "card"}


def billing_details(card: Obj) -> Obj:
    """A charge's ``billing_details`` from a Card's address fields."""
    return {"address": {"city": card["address_city"], "country": card["address_country"],
                        "line1": card["address_line1"], "line2": card["address_line2"],
                        "postal_code": card["address_zip"], "state": card["address_state"]},
            "email": None, "name": card["name"], "phone": None}
