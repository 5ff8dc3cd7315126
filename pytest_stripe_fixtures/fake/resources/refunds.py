"""Refunds of card charges (STRIPE-API-RULES-PAYMENTS.md §7).

A refund names a ``charge`` or a ``payment_intent`` (its successful charge); the checks run in
Stripe's order (§9.4): the charge resolves, succeeded, is captured (an uncaptured PaymentIntent
charge is canceled through its PaymentIntent instead), is not fully refunded, and the amount is
at most what remains [V].  The charge counts it (``amount_refunded``, ``refunded`` once all of
it is refunded, the includable ``refunds`` list) and emits ``charge.refunded`` [V]; the
PaymentIntent is untouched [C].  Card refunds succeed at once, except the "Refunds" test cards:
``pm_card_pendingRefund`` starts ``pending`` and ``pm_card_refundFail`` later fails [D] -- in
tests, ``stripe_fake.payments.settle_refund(re_id)`` is that "later".
"""

from __future__ import annotations

from typing import Any

from .. import errors, events, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import balance_transactions, charges

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
ONE_OF = ("One of the following params should be provided for this request: payment_intent or "
          "charge.")  # [V] bhrugen/Bulky#8
OVER_UNREFUNDED = ("Refund amount ({amount}) is greater than unrefunded amount on charge "
                   "({left})")  # [V] reactioncommerce#3704
OVER_AMOUNT = "Refund amount ({amount}) is greater than charge amount ({charge})"  # [V] wc#1315
ALREADY_REFUNDED = "Charge {charge} has already been refunded."  # [V] Sylius StripePlugin#120
UNCAPTURED_INTENT = (  # [V] woocommerce-gateway-stripe#1081
    "This uncaptured Charge was created by a PaymentIntent ({intent}). You must cancel the "
    "PaymentIntent to reverse the authorization instead of refunding the Charge directly. For "
    "more information, see "
    "https://stripe.com/docs/payments/payment-intents/creating-payment-intents"
    "#separate-auth-capture")
PARTIAL_UNCAPTURED = ("You cannot partially refund an uncaptured charge. Instead, capture the "
                      "charge for an amount less than the original amount")  # [C]
NO_SUCCESSFUL_CHARGE = ("This PaymentIntent ({intent}) does not have a successful charge to "
                        "refund.")  # [C]
FAILED_CHARGE = "Charge {charge} has failed and cannot be refunded."  # [R]
MISMATCH = "The charge {charge} does not belong to the PaymentIntent {intent}."  # [R]
CANCEL_UNSUPPORTED = "Canceling this refund is unsupported."  # [C] (400, no code [V])

versions.register(
    versions.FieldAdded(
        "2024-06-20", "Refunds: `destination_details` (card: the acquirer reference) [V] 2024 "
        "bodies; [R] date.", object="refund", path="destination_details",
        schema={"type": ["object", "null"]}),
)

PREVIEW = 10  # the embedded `refunds` list shows this many, like every sub-list


def _refunds_of(ctx: Context, charge_id: str) -> list[Obj]:
    return list(ctx.store.table("refund").newest_first(where=("charge", charge_id)))


def _refresh_list(ctx: Context, charge: Obj) -> None:
    found = _refunds_of(ctx, charge["id"])
    charge["refunds"] = {"object": "list", "data": found[:PREVIEW],
                         "has_more": len(found) > PREVIEW,
                         "url": f"/v1/charges/{charge['id']}/refunds"}


def _charge_to_refund(ctx: Context, p: dict[str, Any]) -> Obj:
    if "charge" not in p and "payment_intent" not in p:
        raise errors.invalid(ONE_OF)
    if "payment_intent" in p:
        pi = ctx.store.require("payment_intent", p["payment_intent"], param="payment_intent",
                               in_path=False, name="payment_intent")
        charge = ctx.store.get("charge", pi["latest_charge"]) if pi["latest_charge"] else None
        if charge is None or charge["status"] != "succeeded":
            raise errors.conflict(NO_SUCCESSFUL_CHARGE.format(intent=pi["id"]))
        if "charge" in p and p["charge"] != charge["id"]:
            raise errors.conflict(MISMATCH.format(charge=p["charge"], intent=pi["id"]), "charge")
        return charge
    return ctx.store.require("charge", p["charge"], param="charge", in_path=False)


def new_refund(ctx: Context, charge: Obj, p: dict[str, Any]) -> Obj:
    """Check and make a refund of ``charge`` (``p``: amount, reason, metadata)."""
    currency = charge["currency"]
    if charge["status"] != "succeeded":
        raise errors.conflict(FAILED_CHARGE.format(charge=charge["id"]), "charge")
    amount = p.get("amount")
    if amount is not None and amount < 1:
        raise errors.too_small("amount", 1)
    if not charge["captured"]:
        if charge["payment_intent"] is not None:
            raise errors.conflict(UNCAPTURED_INTENT.format(intent=charge["payment_intent"]))
        if amount is not None and amount != charge["amount"]:
            raise errors.conflict(PARTIAL_UNCAPTURED, "amount")
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        raise errors.conflict(ALREADY_REFUNDED.format(charge=charge["id"]),
                              code="charge_already_refunded")
    amount = left if amount is None else amount
    if amount > left:
        money = charges.money
        message = (OVER_AMOUNT.format(amount=money(amount, currency),
                                      charge=money(charge["amount"], currency))
                   if charge["amount_refunded"] == 0 else
                   OVER_UNREFUNDED.format(amount=money(amount, currency),
                                          left=money(left, currency)))
        raise errors.conflict(message, "amount")
    row = charges.row_of_charge(charge)
    refund: Obj = {
        "id": ctx.new_id("refund"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": currency,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": metadata.apply({}, p.get("metadata")),
        "payment_intent": charge["payment_intent"],
        "reason": p.get("reason"),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "pending" if row is not None and row.refund == "pending" else "succeeded",
        "transfer_reversal": None,
    }
    if charge["captured"]:
        refund["balance_transaction"] = balance_transactions.for_refund(ctx, refund, charge)
    ctx.store.add(refund)
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    _refresh_list(ctx, charge)
    events.emit(ctx, "charge.refunded", charge, previous_attributes=previous)
    return refund


def settle(ctx: Context, refund: Obj) -> Obj:
    """What happens to a card refund later (test helper): a ``pendingRefund`` card's refund
    succeeds; a ``refundFail`` card's refund fails (``expired_or_canceled_card``, the amount
    back on the charge) [D]; any other refund stays as it is."""
    charge = ctx.store.get("charge", refund["charge"])
    row = charges.row_of_charge(charge) if charge is not None else None
    previous = {"status": refund["status"]}
    if refund["status"] == "pending":
        refund["status"] = "succeeded"
    elif row is not None and row.refund == "fails" and refund["status"] == "succeeded":
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        assert charge is not None
        refund["failure_balance_transaction"] = balance_transactions.for_refund(
            ctx, {**refund, "amount": -refund["amount"]}, charge)
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        _refresh_list(ctx, charge)
    else:
        return refund
    events.emit(ctx, "refund.updated", refund, previous_attributes=previous)
    events.emit(ctx, "charge.refund.updated", refund, previous_attributes=previous)
    return refund


# --- endpoints ----------------------------------------------------------------------------------


@route("POST", "/v1/refunds")
def create(ctx: Context) -> Obj:
    p = ctx.params
    for name in ("instructions_email", "origin", "customer", "currency"):
        if name in p:  # customer-balance refunds
            raise errors.invalid(f"pytest-stripe-fixtures fakes card refunds only ({name}).",
                                 name)
    return new_refund(ctx, _charge_to_refund(ctx, p), p)


def _in_path(ctx: Context, refund: str) -> Obj:
    return ctx.store.require("refund", refund, param="refund", in_path=True)


@route("GET", "/v1/refunds/{refund}")
def retrieve(ctx: Context, refund: str) -> Obj:
    return _in_path(ctx, refund)


@route("POST", "/v1/refunds/{refund}")
def update(ctx: Context, refund: str) -> Obj:
    obj = _in_path(ctx, refund)
    if "metadata" in ctx.params:
        before = dict(obj["metadata"] or {})
        obj["metadata"] = metadata.apply(obj["metadata"] or {}, ctx.params["metadata"])
        if obj["metadata"] != before:  # refund.updated is automatic (the update endpoint)
            events.emit(ctx, "charge.refund.updated", obj,
                        previous_attributes={"metadata": before})
    return obj


@route("POST", "/v1/refunds/{refund}/cancel")
def cancel(ctx: Context, refund: str) -> Obj:
    _in_path(ctx, refund)
    raise errors.conflict(CANCEL_UNSUPPORTED)  # card refunds are never requires_action [S]


@route("GET", "/v1/refunds")
def list_refunds(ctx: Context) -> Obj:
    p = ctx.params
    table = ctx.store.table("refund")
    if "charge" in p:
        return lists.page(table, p, "/v1/refunds", where=("charge", p["charge"]))
    if "payment_intent" in p:
        return lists.page(table, p, "/v1/refunds", where=("payment_intent", p["payment_intent"]))
    return lists.page(table, p, "/v1/refunds")


# legacy: refunds under their charge [S]


@route("POST", "/v1/charges/{charge}/refunds")
def create_for_charge(ctx: Context, charge: str) -> Obj:
    obj = ctx.store.require("charge", charge, param="charge", in_path=True)
    p = ctx.params
    if "payment_intent" in p and p["payment_intent"] != obj["payment_intent"]:
        raise errors.conflict(MISMATCH.format(charge=obj["id"], intent=p["payment_intent"]))
    return new_refund(ctx, obj, p)


@route("GET", "/v1/charges/{charge}/refunds")
def list_for_charge(ctx: Context, charge: str) -> Obj:
    obj = ctx.store.require("charge", charge, param="charge", in_path=True)
    return lists.page(ctx.store.table("refund"), ctx.params, f"/v1/charges/{obj['id']}/refunds",
                      where=("charge", obj["id"]))


@route("GET", "/v1/charges/{charge}/refunds/{refund}")
def retrieve_for_charge(ctx: Context, charge: str, refund: str) -> Obj:
    obj = _in_path(ctx, refund)
    if obj["charge"] != charge:
        raise errors.no_such("refund", refund, "refund", in_path=True)
    return obj
