"""Customer-level discounts (STRIPE-API-RULES.md section 16): the mechanics customers use to
redeem a coupon or promotion code, and ``/v1/customers/{customer}/discount``.

Current shape (2025-09-30.clover and later): ``source: {type: "coupon", coupon: <id>}``
(``source.coupon`` expandable); 2023-08-16 embeds the full ``coupon`` object.  Discounts
cannot be fetched by id: they live in ``customer["discount"]``.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

from .. import errors, events, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from ..versions import CLOVER
from . import promotion_codes
from .promotion_codes import CouponWrapped
from .sources import live_customer

# --- messages: [V] as tagged, the rest [R]; correct them here --------------------------------
COUPON_EXPIRED = "Coupon expired: {id}"  # [R] (past its redeem_by)
COUPON_USED_UP = "Coupon {id} has reached its max_redemptions and can no longer be redeemed."  # [R]
CODE_INACTIVE = "This promotion code is not active and cannot be redeemed."  # [R]
CODE_OTHER_CUSTOMER = (  # [R] rule [D]
    "This promotion code is restricted to another customer and cannot be redeemed by this "
    "customer.")
PRIOR_TRANSACTIONS = (  # [V] (stripe-node#1318, stripe-php#1146: checkout, 2021)
    "This promotion code cannot be redeemed because the associated customer has prior "
    "transactions.")
NO_DISCOUNT = "The customer `{customer}` does not have a discount."  # [R] status 404 [R]

versions.register(
    CouponWrapped(CLOVER, "Discounts: `coupon` -> `source[coupon]`.", objects=("discount",),
                  wrapper="source", schema_objects=("discount", "deleted_discount"),
                  own_endpoint=lambda endpoint: endpoint.endswith("/discount"),
                  embedded_in="discount"),
    *(versions.FieldAdded(CLOVER, f"Discounts: `{name}`. [R] date", object="discount",
                          path=name, schema={"type": ["string", "null"]},
                          also=("deleted_discount",))
      for name in ("customer_account", "subscription_item")),
)


def add_months(timestamp: int, months: int) -> int:
    """``timestamp`` plus calendar months (UTC; the day clamps to the month's last day)."""
    start = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _has_payments(ctx: Context, customer_id: str) -> bool:
    return any(ch.get("customer") == customer_id and ch.get("status", "succeeded") == "succeeded"
               for ch in ctx.store.all("charge"))


def apply_to_customer(ctx: Context, customer: dict, *, coupon: str | None = None,
                      promotion_code: str | None = None, param_prefix: str = "",
                      announce: bool = True) -> dict:
    """Redeem a coupon or a promotion code for ``customer`` (replacing any discount it has):
    sets ``customer["discount"]``, counts the redemption, returns the new discount.

    Event: ``customer.discount.created`` (``.updated`` when it replaced one [D] cli-fixtures,
    with the old discount as ``previous_attributes``); ``announce=False`` leaves it to the
    caller (a customer not stored yet: :func:`announce_created`)."""
    coupon_param, code_param = f"{param_prefix}coupon", f"{param_prefix}promotion_code"
    if coupon is not None and promotion_code is not None:
        raise errors.one_of(coupon_param, code_param)
    store, now = ctx.store, ctx.now()
    code: Obj | None = None
    if promotion_code is not None:
        code = store.require("promotion_code", promotion_code, param=code_param, in_path=False)
        promotion_codes.refresh_coupon(store, code["promotion"]["coupon"], now)
        if not code["active"]:
            raise errors.conflict(CODE_INACTIVE, code_param)
        if code["customer"] is not None and code["customer"] != customer["id"]:
            raise errors.conflict(CODE_OTHER_CUSTOMER, code_param)
        if code["restrictions"]["first_time_transaction"] and _has_payments(ctx, customer["id"]):
            raise errors.conflict(PRIOR_TRANSACTIONS, code_param)
        coupon, where = code["promotion"]["coupon"], code_param
    else:
        if coupon is None:
            raise errors.missing_param(coupon_param)
        promotion_codes.refresh_coupon(store, coupon, now)
        where = coupon_param
    found = store.require("coupon", coupon, param=where, in_path=False)
    if not found["valid"]:
        expired = found["redeem_by"] is not None and now > found["redeem_by"]
        raise errors.conflict((COUPON_EXPIRED if expired else COUPON_USED_UP).format(id=coupon),
                              where)
    end = (add_months(now, found["duration_in_months"])
           if found["duration"] == "repeating" else None)
    discount: Obj = {
        "id": ctx.new_id("discount"),
        "object": "discount",
        "checkout_session": None,
        "customer": customer["id"],
        "customer_account": None,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None if code is None else code["id"],
        "source": {"coupon": coupon, "type": "coupon"},
        "start": now,
        "subscription": None,
        "subscription_item": None,
    }
    previous = customer.get("discount")
    customer["discount"] = discount
    if announce:
        _announce(ctx, customer, previous)
    found["times_redeemed"] += 1
    if code is not None:
        code["times_redeemed"] += 1
    promotion_codes.refresh_coupon(store, coupon, now)  # only this coupon and its codes changed
    return discount


def _announce(ctx: Context, customer: dict, previous: dict | None) -> None:
    discount = customer["discount"]
    if previous is None:
        events.emit(ctx, "customer.discount.created", discount)
    else:
        events.emit(ctx, "customer.discount.updated", discount,
                    events.diff(previous, discount))


def announce_created(ctx: Context, customer: dict) -> None:
    """``customer.discount.created`` for a discount applied with ``announce=False``."""
    if customer.get("discount") is not None:
        _announce(ctx, customer, None)


def remove_from_customer(ctx: Context, customer: dict) -> dict | None:
    """Take the customer's discount off; the ``deleted_discount`` (the discount without ``end``,
    plus ``deleted: true`` [S]) or None when it had none.  Event: ``customer.discount.deleted``
    (data: the discount as it was [D] cli-fixtures)."""
    discount = customer.get("discount")
    if discount is None:
        return None
    events.emit(ctx, "customer.discount.deleted", discount)
    customer["discount"] = None
    deleted = {key: value for key, value in discount.items() if key != "end"}
    deleted["deleted"] = True
    promotion_codes.reorder(deleted)
    return deleted


def _no_discount(customer: str) -> errors.StripeError:
    return errors.StripeError(NO_DISCOUNT.format(customer=customer), status=404,
                              code="resource_missing", saved=True)


@route("GET", "/v1/customers/{customer}/discount")
def retrieve(ctx: Context, customer: str) -> Obj:
    discount = live_customer(ctx, customer).get("discount")
    if discount is None:
        raise _no_discount(customer)
    return discount


@route("DELETE", "/v1/customers/{customer}/discount")
def delete(ctx: Context, customer: str) -> Obj:
    deleted = remove_from_customer(ctx, live_customer(ctx, customer))
    if deleted is None:
        raise _no_discount(customer)
    return deleted


# --- billing: discounts on subscriptions and invoices (STRIPE-API-RULES-BILLING.md §3) -------

MINIMUM_AMOUNT = (  # [C] one of two reported wordings
    "This promotion code cannot be redeemed because the associated purchase does not meet the "
    "minimum amount requirement")


def _paid_before(ctx: Context, customer_id: str) -> bool:
    """[S] "Customers without any successful payments or invoices": a paid invoice counts."""
    if _has_payments(ctx, customer_id):
        return True
    return any(inv["status"] == "paid" and inv["amount_paid"] > 0
               for inv in ctx.store.table("invoice").newest_first(
                   where=("customer", customer_id)))


def redeem(ctx: Context, customer: Obj, entry: dict, param: str, *, at: int,
           subscription: str | None = None, invoice: str | None = None,
           amount: int | None = None, currency: str | None = None) -> Obj:
    """Redeem one ``discounts[]`` entry (``coupon``, ``promotion_code`` or an existing
    ``discount``): Stripe's refusals, ``times_redeemed`` counted, the stored discount."""
    store = ctx.store
    if entry.get("discount"):
        found = store.get("discount", entry["discount"])
        if found is None:
            raise errors.no_such("discount", entry["discount"], f"{param}[discount]",
                                 in_path=False)
        return found
    coupon_id, code = entry.get("coupon"), None
    code_id = entry.get("promotion_code")
    if coupon_id and code_id:
        raise errors.one_of(f"{param}[coupon]", f"{param}[promotion_code]")
    where = f"{param}[coupon]"
    if code_id:
        where = f"{param}[promotion_code]"
        code = store.require("promotion_code", code_id, param=where, in_path=False)
        promotion_codes.refresh_coupon(store, code["promotion"]["coupon"], ctx.now())
        if not code["active"]:
            raise errors.conflict(CODE_INACTIVE, where)
        if code["customer"] is not None and code["customer"] != customer["id"]:
            raise errors.conflict(CODE_OTHER_CUSTOMER, where)
        restrictions = code["restrictions"]
        if restrictions["first_time_transaction"] and _paid_before(ctx, customer["id"]):
            raise errors.conflict(PRIOR_TRANSACTIONS, where)
        minimum = restrictions.get("minimum_amount")
        if minimum is not None and amount is not None and (
                currency is None or currency == restrictions["minimum_amount_currency"]) \
                and amount < minimum:
            raise errors.StripeError(MINIMUM_AMOUNT, param=where,
                                     code="promotion_code_amount_insufficient", saved=True)
        coupon_id = code["promotion"]["coupon"]
    if not coupon_id:
        raise errors.missing_param(f"{param}[coupon]")
    promotion_codes.refresh_coupon(store, coupon_id, ctx.now())
    coupon = store.require("coupon", coupon_id, param=where, in_path=False)
    if not coupon["valid"]:
        expired = coupon["redeem_by"] is not None and ctx.now() > coupon["redeem_by"]
        raise errors.conflict((COUPON_EXPIRED if expired else COUPON_USED_UP).format(
            id=coupon_id), where)
    end = (add_months(at, coupon["duration_in_months"])
           if coupon["duration"] == "repeating" else None)
    discount: Obj = {
        "id": ctx.new_id("discount"), "object": "discount", "checkout_session": None,
        "customer": customer["id"], "customer_account": None, "end": end,
        "invoice": invoice, "invoice_item": None,
        "promotion_code": None if code is None else code["id"],
        "source": {"coupon": coupon_id, "type": "coupon"}, "start": at,
        "subscription": subscription, "subscription_item": None,
    }
    store.table("discount").add(discount)
    coupon["times_redeemed"] += 1
    if code is not None:
        code["times_redeemed"] += 1
    promotion_codes.refresh_coupon(store, coupon_id, ctx.now())
    return discount


def redeem_list(ctx: Context, customer: Obj, raw: list, param: str, **where: object) -> list:
    """Every entry of a ``discounts[]`` param, redeemed (see :func:`redeem`)."""
    at = where.pop("at", None) or ctx.now()
    return [redeem(ctx, customer, entry, f"{param}[{index}]", at=at, **where)  # type: ignore[arg-type]
            for index, entry in enumerate(raw or [])]


def stored_customer_discount(ctx: Context, customer: Obj) -> str:
    """The customer's discount as a stored discount (invoices point at discounts by id)."""
    discount = customer["discount"]
    if ctx.store.get("discount", discount["id"]) is None:
        ctx.store.table("discount").add(discount)
    return discount["id"]


def coupon_of(store, discount: Obj) -> Obj | None:  # type: ignore[no-untyped-def]
    cid = discount["source"]["coupon"]
    return store.get("coupon", cid) or store.get_deleted("coupon", cid)
