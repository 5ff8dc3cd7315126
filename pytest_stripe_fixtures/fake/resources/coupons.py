"""Coupons (STRIPE-API-RULES.md section 13).

``valid`` is derived from ``redeem_by``, ``max_redemptions`` vs ``times_redeemed`` and
deletion by :func:`is_valid`; :func:`refresh` writes it back (see ``promotion_codes.refresh``,
which runs before every request once the clock has moved; a redemption or deletion refreshes
just its coupon: ``promotion_codes.refresh_coupon``).  A deleted coupon answers 404, but
its last state stays readable by id (``store.get_deleted``) so that discounts and 2023-style
promotion codes can still embed it.
"""

from __future__ import annotations

from typing import Any

from .. import currencies, errors, lists, metadata
from ..engine import Context
from ..routing import route
from ..store import Obj, Store

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
NEED_DISCOUNT = "Must provide percent_off or amount_off."  # [C] code parameter_missing, no param
BOTH_DISCOUNTS = (  # [V] no code, no param
    "Received both percent_off and amount_off parameters. Please pass in only one.")
NEED_CURRENCY = "You must pass currency when passing amount_off"  # [V] (sic: no period); param [C]
NEED_MONTHS = (  # [C] param `duration` (sic)
    "The duration_in_months param must be set when creating a coupon with a repeating duration")
MONTHS_NOT_REPEATING = (  # [R]
    "The duration_in_months param can only be set when creating a coupon with a repeating "
    "duration")
ALREADY_EXISTS = "Coupon already exists."  # [C] code resource_already_exists, no param
REDEEM_BY_PAST = (  # [C]
    "The parameter `redeem_by` expects a unix timestamp representing a date and time in the "
    "future. You specified the value `{value}` which is in the past.")
OPTIONS_NEED_AMOUNT = (  # [R] (update of a percent-based coupon)
    "`currency_options` can only be set on coupons with `amount_off`.")
OPTION_SAME_CURRENCY = (  # [R] by analogy with prices' [V] message
    "You are specifying an update to a currency option that matches the top-level currency for "
    "this coupon. Coupon amounts cannot be changed.")
MAX_PERCENT = 100


def is_valid(coupon: Obj, now: int) -> bool:
    """Whether a live ``coupon`` can still be redeemed at ``now`` (deleted ones never can)."""
    if coupon["redeem_by"] is not None and now > coupon["redeem_by"]:
        return False
    limit = coupon["max_redemptions"]
    return limit is None or coupon["times_redeemed"] < limit


def refresh(store: Store, now: int) -> None:
    """Bring every live coupon's ``valid`` up to date."""
    for coupon in store.all("coupon"):
        coupon["valid"] = is_valid(coupon, now)


def _percent(value: float) -> int | float:
    """``25.5`` stays a float; integral values serialize as integers (``100``) [V]."""
    return int(value) if float(value).is_integer() else value


def _options(raw: dict[str, Any], currency: str | None, *, on_update: bool) -> dict[str, Obj]:
    options: dict[str, Obj] = {}
    for key, value in raw.items():
        cur = currencies.check_map_key(key, "currency_options")
        where = f"currency_options[{cur}]"
        if cur == currency:
            if on_update:
                raise errors.invalid(OPTION_SAME_CURRENCY, where)
            continue  # the coupon's own currency is `amount_off` itself
        if value["amount_off"] < 1:
            raise errors.too_small(f"{where}[amount_off]", 1)
        options[cur] = {"amount_off": value["amount_off"]}
    return options


def _check(ctx: Context, p: dict[str, Any]) -> None:
    """The create rules, in the order the reference observed them."""
    percent, amount = p.get("percent_off"), p.get("amount_off")
    if percent is None and amount is None:
        raise errors.invalid(NEED_DISCOUNT, code="parameter_missing")
    if percent is not None and amount is not None:
        raise errors.invalid(BOTH_DISCOUNTS)
    if amount is not None and "currency" not in p:
        raise errors.invalid(NEED_CURRENCY, "currency")
    duration = p.get("duration", "once")
    if duration == "repeating" and "duration_in_months" not in p:
        raise errors.invalid(NEED_MONTHS, "duration")
    if duration != "repeating" and "duration_in_months" in p:
        raise errors.invalid(MONTHS_NOT_REPEATING, "duration_in_months")
    if p.get("duration_in_months") is not None and p["duration_in_months"] < 1:
        raise errors.too_small("duration_in_months", 1)
    if percent is not None and percent <= 0:
        raise errors.too_small("percent_off", 0.01, float(percent))
    if percent is not None and percent > MAX_PERCENT:
        raise errors.too_large("percent_off", MAX_PERCENT, float(percent))
    if amount is not None and amount < 1:
        raise errors.too_small("amount_off", 1)
    if "currency_options" in p and percent is not None:
        raise errors.one_of("currency_options", "percent_off")
    if p.get("max_redemptions") is not None and p["max_redemptions"] < 1:
        raise errors.too_small("max_redemptions", 1)
    for index, product in enumerate((p.get("applies_to") or {}).get("products") or ()):
        ctx.store.require("product", product, param=f"applies_to[products][{index}]",
                          in_path=False)


@route("POST", "/v1/coupons")
def create(ctx: Context) -> Obj:
    p = ctx.params
    _check(ctx, p)
    currency = currencies.check(p["currency"]) if "currency" in p else None
    amount = p.get("amount_off")
    options = (_options(p["currency_options"], currency, on_update=False)
               if "currency_options" in p else {})
    cid = p.get("id")
    if cid is not None and ctx.store.get("coupon", cid) is not None:
        raise errors.conflict(ALREADY_EXISTS, code="resource_already_exists")
    if p.get("redeem_by") is not None and p["redeem_by"] <= ctx.now():
        raise errors.invalid(REDEEM_BY_PAST.format(value=p["redeem_by"]), "redeem_by")
    coupon: Obj = {
        "id": cid or ctx.account.ids.token(8),
        "object": "coupon",
        "amount_off": amount,
        "created": ctx.now(),
        "currency": currency,
        "duration": p.get("duration", "once"),
        "duration_in_months": p.get("duration_in_months"),
        "livemode": False,
        "max_redemptions": p.get("max_redemptions"),
        "metadata": metadata.apply({}, p.get("metadata")),
        "name": p.get("name"),
        "percent_off": None if p.get("percent_off") is None else _percent(p["percent_off"]),
        "redeem_by": p.get("redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    if "applies_to" in p:  # includable: only coupons restricted to products carry it
        coupon["applies_to"] = {"products": list(p["applies_to"].get("products") or [])}
    if amount is not None:  # [R] like prices, the own currency is listed too
        coupon["currency_options"] = {currency: {"amount_off": amount}, **options}
    return ctx.store.add(coupon)


@route("GET", "/v1/coupons/{coupon}")
def retrieve(ctx: Context, coupon: str) -> Obj:
    return ctx.store.require("coupon", coupon, param="coupon", in_path=True)


@route("POST", "/v1/coupons/{coupon}")
def update(ctx: Context, coupon: str) -> Obj:
    """Only ``name``, ``metadata`` and ``currency_options`` are editable (the schema refuses
    the rest as unknown parameters [V])."""
    obj = ctx.store.require("coupon", coupon, param="coupon", in_path=True)
    p = ctx.params
    options = None
    if "currency_options" in p:
        if obj["amount_off"] is None:
            raise errors.invalid(OPTIONS_NEED_AMOUNT, "currency_options")
        options = _options(p["currency_options"], obj["currency"], on_update=True)
    if "name" in p:
        obj["name"] = p["name"]
    if "metadata" in p:
        obj["metadata"] = metadata.apply(obj["metadata"], p["metadata"])
    if options:
        obj["currency_options"] = {**obj["currency_options"], **options}
    return obj


@route("DELETE", "/v1/coupons/{coupon}")
def delete(ctx: Context, coupon: str) -> Obj:
    """Existing discounts keep the coupon; its promotion codes become permanently inactive."""
    from . import promotion_codes

    obj = ctx.store.require("coupon", coupon, param="coupon", in_path=True)
    obj["valid"] = False
    ctx.store.delete("coupon", coupon, obj)
    promotion_codes.refresh_coupon(ctx.store, coupon, ctx.now())
    return {"id": coupon, "object": "coupon", "deleted": True}


@route("GET", "/v1/coupons")
def list_coupons(ctx: Context) -> Obj:
    return lists.page(ctx.store.table("coupon"), ctx.params, "/v1/coupons")
