"""Balance transactions: what a succeeded charge or a refund does to the balance
(STRIPE-API-RULES-PAYMENTS.md §6.4).

Fees follow Stripe's US card pricing, which test-mode captures mirror: 2.9% + 30 cents of the
charge currency's minor unit, one ``stripe_fee`` row [C] (five captures 2017-2025: 2000 -> 88,
999 -> 59, 400 -> 42); other currencies use the same formula [R].  Refunds give no fee back
[C].  Funds become available at 00:00 UTC seven days after the payment [R] ("~7 days" in
captures); ``pm_card_bypassPending`` funds are available at once [D].
"""

from __future__ import annotations

from .. import lists
from ..engine import Context
from ..routing import route
from ..store import Obj
from ..test_cards import Instrument

FEE_PERCENT_TENTHS = 29  # 2.9% [C]
FEE_FIXED = 30  # [C]
DAY = 86_400
PENDING_DAYS = 7  # [R]
FEE_DESCRIPTION = "Stripe processing fees"  # [C]
REFUND_DESCRIPTION = "REFUND FOR CHARGE ({what})"  # [C]


def card_fee(amount: int) -> int:
    """Stripe's processing fee for a card payment of ``amount`` [C]."""
    return (amount * FEE_PERCENT_TENTHS + 500) // 1000 + FEE_FIXED


def _new(ctx: Context, *, amount: int, fee: int, currency: str, source: str, kind: str,
         description: str | None, available: bool) -> str:
    now = ctx.now()
    txn: Obj = {
        "id": ctx.new_id("balance_transaction"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now if available else (now // DAY + PENDING_DAYS) * DAY,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": currency,
                         "description": FEE_DESCRIPTION, "type": "stripe_fee"}] if fee else [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "available" if available else "pending",
        "type": kind,
    }
    return ctx.store.add(txn)["id"]


def for_charge(ctx: Context, charge: Obj, row: Instrument | None, amount: int | None = None
               ) -> str:
    """The balance transaction of a captured charge (``amount``: what was captured)."""
    captured = charge["amount"] if amount is None else amount
    return _new(ctx, amount=captured, fee=card_fee(captured), currency=charge["currency"],
                source=charge["id"], kind="charge", description=charge["description"],
                available=row is not None and row.available)


def for_refund(ctx: Context, refund: Obj, charge: Obj) -> str:
    """The balance transaction of a refund: the amount leaves the balance, no fee [C]."""
    return _new(ctx, amount=-refund["amount"], fee=0, currency=refund["currency"],
                source=refund["id"], kind="refund",
                description=REFUND_DESCRIPTION.format(what=charge["description"] or charge["id"]),
                available=False)


@route("GET", "/v1/balance_transactions/{id}")
def retrieve(ctx: Context, id: str) -> Obj:
    return ctx.store.require("balance_transaction", id, param="id", in_path=True)


@route("GET", "/v1/balance_transactions")
def list_transactions(ctx: Context) -> Obj:
    p = ctx.params
    filters = {key: p[key] for key in ("currency", "source", "type") if key in p}

    def matches(txn: Obj) -> bool:
        return all(txn.get(key) == value for key, value in filters.items())

    return lists.page(ctx.store.table("balance_transaction"), p, "/v1/balance_transactions",
                      matches if filters else None)
