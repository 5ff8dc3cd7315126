"""Promotion codes (STRIPE-API-RULES.md section 14).

Current shape (2025-09-30.clover and later): ``promotion: {type: "coupon", coupon: <id>}``
(``promotion.coupon`` expandable); 2023-08-16 embeds the full ``coupon`` object and takes
``coupon=<id>`` on create.  A code is *redeemable* while its coupon is valid, it has not
expired and it is not used up; once it is not, it is permanently inactive.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import currencies, errors, lists, metadata, versions
from ..engine import Context, before_handler
from ..routing import route
from ..store import Obj, Store, keyed_index
from ..versions import CLOVER
from . import coupons

# --- messages: [C] as tagged, the rest [R]; correct them here --------------------------------
CODE_TAKEN = "An active promotion code with `code: {code}` already exists."  # [C] no code/param
CODE_CHARACTERS = (  # [R]
    "Promotion codes can only contain lowercase letters (a-z), uppercase letters (A-Z), "
    "digits (0-9), and dashes (-).")
COUPON_NOT_VALID = (  # [R]
    "This coupon is no longer valid, so it cannot be used for a new promotion code.")
EXPIRES_IN_PAST = "`expires_at` must be in the future."  # [R]
EXPIRES_AFTER_COUPON = (  # [R]
    "The promotion code's `expires_at` cannot be after the coupon's `redeem_by` ({redeem_by}).")
MORE_THAN_COUPON = (  # [R]
    "The promotion code's `max_redemptions` cannot be greater than the coupon's "
    "`max_redemptions` ({limit}).")
SAME_AS_MINIMUM_CURRENCY = (  # [R] rule [D]
    "`restrictions[currency_options]` cannot contain `{currency}`, the promotion code's "
    "`minimum_amount_currency`.")
CANNOT_REACTIVATE = (  # [R] rule [S]/[D]
    "This promotion code cannot be reactivated: its coupon is no longer valid, or the code has "
    "expired or reached its `max_redemptions`.")

_CODE_RE = re.compile(r"[A-Za-z0-9-]+\Z")
_COUPON_SCHEMA = {"anyOf": [{"type": "string"}, {"$ref": "coupon.json"}, {"type": "null"}]}
CREATE = "POST /v1/promotion_codes"
CODE_INDEX = "code.lower"  # promotion codes by lower-cased ``code`` (codes never change)
COUPON_INDEX = "promotion.coupon"  # promotion codes by coupon (fixed at creation)
keyed_index("promotion_code", CODE_INDEX, lambda obj: obj["code"].lower())
keyed_index("promotion_code", COUPON_INDEX, lambda obj: obj["promotion"]["coupon"])


def reorder(obj: Obj) -> None:
    """``id`` and ``object`` first, then the fields alphabetically (as Stripe prints them)."""
    items = sorted(obj.items(), key=lambda kv: (kv[0] not in ("id", "object"),
                                                kv[0] != "id", kv[0]))
    obj.clear()
    obj.update(items)


def embedded_coupon(view: versions.View, coupon: Any) -> Any:
    """The full coupon object for an id (a deleted coupon's last state), for older versions."""
    if isinstance(coupon, str):
        return view.lookup("coupon", coupon) or view.lookup("deleted_coupon", coupon)
    return coupon


def lift_expand(params: Obj, after: str, old: str, new: str) -> None:
    """Rewrite ``expand[]`` paths of an older version: the field ``old`` following ``after``
    (``""``: at the top, or after ``data.`` in a list) now lives at ``new``."""
    paths = params.get("expand")
    if not paths:
        return
    lifted = []
    for path in paths:
        parts = path.split(".")
        for i in range(len(parts)):
            before = parts[i - 1] if i else ""
            if parts[i] == old and (before == after or (not after and i == 1 and before == "data")):
                parts[i:i + 1] = new.split(".")
                break
        lifted.append(".".join(parts))
    params["expand"] = lifted


@dataclass
class CouponWrapped(versions.Change):
    """2025-09-30.clover: an embedded ``coupon`` became ``<wrapper>: {type: "coupon", coupon:
    <id>}`` (``<wrapper>.coupon`` expandable) [D]: promotion codes' ``promotion``, discounts'
    ``source``."""

    wrapper: str = ""
    schema_objects: tuple[str, ...] = ()  # schemas to edit (a deleted object's too)
    own_endpoint: Callable[[str], bool] = lambda endpoint: False  # answers with the object
    embedded_in: str | None = None  # a field of other objects holding one (expand paths)
    create: str | None = None  # the create endpoint, which took ``coupon=<id>``

    def downgrade(self, obj: Obj, view: versions.View) -> None:
        wrapped = obj.pop(self.wrapper, None)
        if wrapped is not None:
            obj["coupon"] = embedded_coupon(view, wrapped.get("coupon"))
            reorder(obj)

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        new = f"{self.wrapper}.coupon"
        if endpoint == self.create and "coupon" in params:
            params[self.wrapper] = {"type": "coupon", "coupon": params.pop("coupon")}
        if self.own_endpoint(endpoint):  # e.g. expand[]=coupon.applies_to
            lift_expand(params, "", "coupon", new)
        if self.embedded_in is not None:  # e.g. customer.discount.coupon
            lift_expand(params, self.embedded_in, "coupon", new)

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        for name in self.schema_objects:
            for _, node in versions._schema_nodes(schemas, name):
                node["properties"].pop("coupon", None)
                node["properties"][self.wrapper] = {
                    "type": "object", "additionalProperties": False,
                    "required": ["coupon", "type"],
                    "properties": {"coupon": dict(_COUPON_SCHEMA),
                                   "type": {"type": "string", "enum": ["coupon"]}}}
                node["required"] = sorted({*node["required"], self.wrapper} - {"coupon"})
                node.setdefault("x-expandable", {})[f"{self.wrapper}.coupon"] = ["coupon"]
        if self.create is None:
            return
        params = schemas["endpoints"][self.create]["params"]
        params["properties"].pop("coupon", None)
        params["properties"][self.wrapper] = {
            "type": "object", "additionalProperties": False, "required": ["type"],
            "properties": {"coupon": {"type": "string", "maxLength": 5000},
                           "type": {"type": "string", "enum": ["coupon"]}}}
        params["required"] = sorted({*params["required"], self.wrapper} - {"coupon"})


_ACCOUNT_PARAM = {"type": "string", "maxLength": 5000}
versions.register(
    CouponWrapped(CLOVER, "Promotion codes: `coupon` -> `promotion[coupon]`.",
                  objects=("promotion_code",), wrapper="promotion",
                  schema_objects=("promotion_code",), create=CREATE,
                  own_endpoint=lambda endpoint: "/v1/promotion_codes" in endpoint),
    versions.FieldAdded(
        CLOVER, "Promotion codes: `customer_account` (Accounts v2 customers). [R] date",
        object="promotion_code", path="customer_account", schema={"type": ["string", "null"]},
        params={"POST /v1/promotion_codes": {"customer_account": _ACCOUNT_PARAM},
                "GET /v1/promotion_codes": {"customer_account": _ACCOUNT_PARAM}}),
)


# --- state --------------------------------------------------------------------------------


def redeemable(store: Store, code: Obj, now: int) -> bool:
    """Coupon valid, not expired, not used up (the coupon's ``valid`` must be fresh)."""
    coupon = store.get("coupon", code["promotion"]["coupon"])
    if coupon is None or not coupon["valid"]:
        return False
    if code["expires_at"] is not None and now >= code["expires_at"]:
        return False
    limit = code["max_redemptions"]
    return limit is None or code["times_redeemed"] < limit


def _deactivate(store: Store, codes: Iterable[Obj], now: int) -> None:
    """Codes that can no longer be redeemed go inactive (for good)."""
    for code in codes:
        if code["active"] and not redeemable(store, code, now):
            code["active"] = False


def refresh(store: Store, now: int) -> None:
    """The full sweep, for when the clock has moved: every coupon's ``valid``, then every
    promotion code."""
    coupons.refresh(store, now)
    _deactivate(store, store.all("promotion_code"), now)


def refresh_coupon(store: Store, coupon_id: str, now: int) -> None:
    """After a redemption or a deletion, which change one coupon (and its codes): that
    coupon's ``valid``, then its promotion codes."""
    coupon = store.get("coupon", coupon_id)
    if coupon is not None:
        coupon["valid"] = coupons.is_valid(coupon, now)
    codes = store.table("promotion_code").newest_first(where=(COUPON_INDEX, coupon_id))
    _deactivate(store, codes, now)


_refreshed_at: weakref.WeakKeyDictionary[Store, int] = weakref.WeakKeyDictionary()


@before_handler
def _follow_the_clock(ctx: Context) -> None:
    """Expiry needs no request of its own: catch up whenever the clock has moved."""
    now = ctx.now()
    if _refreshed_at.get(ctx.store) != now:
        refresh(ctx.store, now)
        _refreshed_at[ctx.store] = now


# --- rules --------------------------------------------------------------------------------


def _conflicting(store: Store, code: str, customer: str | None, skip: str | None = None
                 ) -> Obj | None:
    """An active code with the same ``code`` (any case) whose customer scope overlaps [D]."""
    lowered = code.lower()
    for other in store.table("promotion_code").newest_first(where=(CODE_INDEX, lowered)):
        if (other["active"] and other["id"] != skip
                and (customer is None or other["customer"] is None
                     or other["customer"] == customer)):
            return other
    return None


def _currency_options(raw: dict[str, Any], minimum_currency: str | None) -> dict[str, Obj]:
    param = "restrictions[currency_options]"
    options: dict[str, Obj] = {}
    for key, value in raw.items():
        cur = currencies.check_map_key(key, param)
        if cur == minimum_currency:
            raise errors.invalid(SAME_AS_MINIMUM_CURRENCY.format(currency=cur),
                                 f"{param}[{cur}]")
        if "minimum_amount" not in value:
            raise errors.missing_param(f"{param}[{cur}][minimum_amount]")
        if value["minimum_amount"] < 0:
            raise errors.too_small(f"{param}[{cur}][minimum_amount]", 0)
        options[cur] = {"minimum_amount": value["minimum_amount"]}
    return options


def _restrictions(raw: dict[str, Any]) -> Obj:
    amount, currency = raw.get("minimum_amount"), raw.get("minimum_amount_currency")
    if amount is not None and currency is None:
        raise errors.missing_param("restrictions[minimum_amount_currency]")
    if currency is not None and amount is None:
        raise errors.missing_param("restrictions[minimum_amount]")
    if amount is not None and amount < 0:
        raise errors.too_small("restrictions[minimum_amount]", 0)
    if currency is not None:
        currency = currencies.check(currency, "restrictions[minimum_amount_currency]")
    restrictions: Obj = {"first_time_transaction": raw.get("first_time_transaction", False),
                         "minimum_amount": amount, "minimum_amount_currency": currency}
    if "currency_options" in raw:  # includable: absent unless expanded
        restrictions["currency_options"] = _currency_options(raw["currency_options"], currency)
    return dict(sorted(restrictions.items()))


def _coupon_param(ctx: Context) -> str:
    """How the request named the coupon (its shape depends on the API version)."""
    old = versions.version_key(ctx.version) < versions.version_key(CLOVER)
    return "coupon" if old else "promotion[coupon]"


def _new_code(ctx: Context) -> str:
    while True:
        code = ctx.account.ids.code()
        if _conflicting(ctx.store, code, None) is None:
            return code


@route("POST", "/v1/promotion_codes")
def create(ctx: Context) -> Obj:
    p = ctx.params
    coupon_param = _coupon_param(ctx)
    coupon_id = p["promotion"].get("coupon")
    if coupon_id is None:
        raise errors.missing_param(coupon_param)
    coupon = ctx.store.require("coupon", coupon_id, param=coupon_param, in_path=False)
    if not coupon["valid"]:
        raise errors.conflict(COUPON_NOT_VALID, coupon_param)
    if "code" in p and not _CODE_RE.match(p["code"]):
        raise errors.invalid(CODE_CHARACTERS, "code")
    customer = p.get("customer")
    if customer is not None:
        ctx.store.require("customer", customer, param="customer", in_path=False)
    expires_at = p.get("expires_at")
    if expires_at is not None:
        if expires_at <= ctx.now():
            raise errors.invalid(EXPIRES_IN_PAST, "expires_at")
        if coupon["redeem_by"] is not None and expires_at > coupon["redeem_by"]:
            raise errors.invalid(EXPIRES_AFTER_COUPON.format(redeem_by=coupon["redeem_by"]),
                                 "expires_at")
    else:  # [D] the coupon's redeem_by populates expires_at
        expires_at = coupon["redeem_by"]
    limit = p.get("max_redemptions")
    if limit is not None:
        if limit < 1:
            raise errors.too_small("max_redemptions", 1)
        if coupon["max_redemptions"] is not None and limit > coupon["max_redemptions"]:
            raise errors.invalid(MORE_THAN_COUPON.format(limit=coupon["max_redemptions"]),
                                 "max_redemptions")
    restrictions = _restrictions(p.get("restrictions") or {})
    active = p.get("active", True)
    code = p.get("code")
    if code is None:
        code = _new_code(ctx)
    elif active and _conflicting(ctx.store, code, customer) is not None:
        raise errors.conflict(CODE_TAKEN.format(code=code))
    promo: Obj = {
        "id": ctx.new_id("promotion_code"),
        "object": "promotion_code",
        "active": active,
        "code": code,
        "created": ctx.now(),
        "customer": customer,
        "customer_account": p.get("customer_account"),
        "expires_at": expires_at,
        "livemode": False,
        "max_redemptions": limit,
        "metadata": metadata.apply({}, p.get("metadata")),
        "promotion": {"coupon": coupon_id, "type": "coupon"},
        "restrictions": restrictions,
        "times_redeemed": 0,
    }
    return ctx.store.add(promo)


@route("GET", "/v1/promotion_codes/{promotion_code}")
def retrieve(ctx: Context, promotion_code: str) -> Obj:
    return ctx.store.require("promotion_code", promotion_code, param="promotion_code",
                             in_path=True)


@route("POST", "/v1/promotion_codes/{promotion_code}")
def update(ctx: Context, promotion_code: str) -> Obj:
    """Only ``active``, ``metadata`` and ``restrictions[currency_options]`` are editable."""
    promo = ctx.store.require("promotion_code", promotion_code, param="promotion_code",
                              in_path=True)
    p = ctx.params
    if p.get("active") is True and not promo["active"]:
        if not redeemable(ctx.store, promo, ctx.now()):
            raise errors.conflict(CANNOT_REACTIVATE, "active")
        if _conflicting(ctx.store, promo["code"], promo["customer"], skip=promo["id"]):
            raise errors.conflict(CODE_TAKEN.format(code=promo["code"]))
    options = None
    if "currency_options" in (p.get("restrictions") or {}):
        options = _currency_options(p["restrictions"]["currency_options"],
                                    promo["restrictions"]["minimum_amount_currency"])
    if "active" in p:
        promo["active"] = p["active"]
    if "metadata" in p:
        promo["metadata"] = metadata.apply(promo["metadata"], p["metadata"])
    if options is not None:
        restrictions = promo["restrictions"]
        restrictions["currency_options"] = {**restrictions.get("currency_options", {}), **options}
        promo["restrictions"] = dict(sorted(restrictions.items()))
    return promo


@route("GET", "/v1/promotion_codes")
def list_codes(ctx: Context) -> Obj:
    p = ctx.params
    code = p["code"].lower() if "code" in p else None
    exact = {key: p[key] for key in ("active", "customer", "customer_account") if key in p}
    coupon = p.get("coupon")

    def matches(promo: Obj) -> bool:
        if coupon is not None and promo["promotion"]["coupon"] != coupon:  # with a code
            return False
        return all(promo[key] == value for key, value in exact.items())

    return lists.page(ctx.store.table("promotion_code"), p, "/v1/promotion_codes", matches,
                      where=((CODE_INDEX, code) if code is not None
                             else None if coupon is None else (COUPON_INDEX, coupon)))
