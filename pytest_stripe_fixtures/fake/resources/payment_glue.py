"""How billing takes money: through ``payment_intents.create_and_confirm`` (the payments
module's one entry point).  Until that module exists, a stand-in with the same signature
creates a minimal PaymentIntent: it succeeds unless the payment method is a declining test
card (a card source from ``tok_chargeDeclined``-style tokens, or ``pm_card_*`` names of
declining cards)."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import Context
from ..store import Obj
from . import cards

_DECLINING_NAMES = ("chargeCustomerFail", "chargeDeclined", "chargeDeclinedInsufficientFunds")


def _stand_in(ctx: Context, *, amount: int, currency: str, customer: str | None,
              payment_method: str | None, off_session: bool = False,
              description: str | None = None, metadata: Obj | None = None,
              extra: dict[str, Any] | None = None) -> Obj:
    declined = False
    if payment_method and payment_method.startswith("pm_card_"):
        declined = payment_method[len("pm_card_"):] in _DECLINING_NAMES
    elif payment_method:
        card = ctx.store.get("card", payment_method)
        declined = card is not None and cards.decline(card) is not None
    pid = "pi_" + ctx.account.ids.token(24)
    pi: Obj = {"id": pid, "object": "payment_intent", "amount": amount,
               "client_secret": f"{pid}_secret_{ctx.account.ids.token(24)}",
               "created": ctx.now(), "currency": currency, "customer": customer,
               "description": description, "last_payment_error": None,
               "latest_charge": None, "livemode": False, "metadata": dict(metadata or {}),
               "payment_method": payment_method,
               "status": "requires_payment_method" if declined or not payment_method
               else "succeeded"}
    if declined:
        pi["last_payment_error"] = {"code": "card_declined", "decline_code": "generic_decline",
                                    "message": cards.DECLINED, "type": "card_error"}
    ctx.store.table("payment_intent").add(pi)
    return pi


def pay(ctx: Context, *, amount: int, currency: str, customer: str | None,
        payment_method: str | None, off_session: bool, description: str | None,
        invoice_id: str) -> Obj:
    try:
        from .payment_intents import create_and_confirm  # type: ignore[import-not-found]
    except ImportError:
        create_and_confirm = _stand_in
    return create_and_confirm(ctx, amount=amount, currency=currency, customer=customer,
                              payment_method=payment_method, off_session=off_session,
                              description=description)


def decline_error(ctx: Context, pi: Obj | None) -> errors.StripeError:
    """The 402 a failed invoice payment answers with (the PaymentIntent's last error)."""
    error = (pi or {}).get("last_payment_error") or {}
    extra = {k: error[k] for k in ("decline_code",) if error.get(k)}
    if pi is not None:
        extra["payment_intent"] = {"id": pi["id"], "object": "payment_intent",
                                   "status": pi["status"]}
    return errors.StripeError(error.get("message") or cards.DECLINED, status=402,
                              type="card_error", code=error.get("code") or "card_declined",
                              saved=True, extra=extra)
