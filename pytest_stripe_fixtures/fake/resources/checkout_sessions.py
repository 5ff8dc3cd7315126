"""Checkout Sessions (STRIPE-API-RULES-BILLING.md section 7).

A session is ``open`` from creation until the customer completes it (``complete``: see
:func:`complete`, which plays the customer's side of the hosted page) or it expires
(``expired``: at ``expires_at`` on the fake clock, 24 hours after creation by default, or by
``POST /v1/checkout/sessions/{session}/expire``).  The amounts (``amount_subtotal``,
``amount_total``, ``total_details``) and the line items (``item`` objects, ``li_...``) are fixed
when the session is created; a discount given at creation (``discounts``) or entered on the page
(``allow_promotion_codes``) is redeemed only when the session completes.

Current shape (2026-10-28.endive): ``ui_mode`` in ``hosted_page | embedded_page | elements |
form``, ``client_secret``, ``return_url``, ``redirect_on_completion``, ``discounts``,
``collected_information`` (basil moved ``shipping_details`` there), ``customer_account``;
``payment_method_types`` is read-only (endive: create takes ``allowed_payment_method_types``).
2023-08-16 has none of these.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from .. import currencies, errors, lists, metadata, versions
from ..engine import Context, before_handler
from ..routing import route
from ..store import Obj, Store
from ..versions import CLOVER

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
CANNOT_EXPIRE = (  # [V] Sylius/PayumStripePlugin#70 (2025), with `expired`; `complete` [V pattern]
    'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has '
    "a status of `{status}`.")
NEED_LINE_ITEMS = "`line_items` is required in `{mode}` mode."  # [R]
SETUP_LINE_ITEMS = "`line_items` cannot be used in `setup` mode."  # [R]
NEED_QUANTITY = "Quantity is required. Add `quantity` to `line_items[{index}]`"  # [C]
PRICE_INACTIVE = (  # [C]
    "The price specified is inactive. This field only accepts active prices.")
RECURRING_IN_PAYMENT = (  # [C]
    "You specified `payment` mode but passed a recurring price. Either switch to "
    "`subscription` mode or use only one-time prices.")
NEED_RECURRING = (  # [C]
    "You must provide at least one recurring price in `subscription` mode when using prices.")
MIXED_CURRENCIES = (  # [R]
    "All line items of a Checkout Session must use the same currency; line_items[{index}] uses "
    "`{currency}`, not `{expected}`.")
CUSTOMER_CREATION_MODE = "`customer_creation` can only be used in `payment` and `setup` mode."  # [R]
PROMOTION_CODES_SETUP = "`allow_promotion_codes` cannot be used in `setup` mode."  # [R]
DISCOUNTS_SETUP = "`discounts` cannot be used in `setup` mode."  # [R]
ONE_DISCOUNT = "You may only specify one discount."  # [R]
DISCOUNT_NEEDS_ONE = "Each entry in `discounts` must set `coupon` or `promotion_code`."  # [R]
COUPON_INVALID = "This coupon is no longer valid: {id}"  # [R]
CODE_INACTIVE = "This promotion code is not active: {id}"  # [R]
EXPIRES_TOO_SOON = (  # [R] rule [S]: "anywhere from 30 minutes to 24 hours after creation"
    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.")
EXPIRES_TOO_LATE = (  # [R] rule [S]
    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.")
ADJUSTABLE_RANGE = (  # [R]
    "`line_items[{index}][quantity]` must be between `adjustable_quantity[minimum]` and "
    "`adjustable_quantity[maximum]`.")
ADJUSTABLE_MAX = "`adjustable_quantity[maximum]` must be at most 999999."  # [R] rule [S py]
ADJUSTABLE_ORDER = (  # [R]
    "`adjustable_quantity[minimum]` must be less than or equal to `adjustable_quantity[maximum]`.")
NOT_WITH_UI_MODE = "`{param}` is not allowed when `ui_mode` is `{ui_mode}`."  # [R] rule [S py]
NEED_RETURN_URL = (  # [R] rule [S py]
    "`return_url` is required when `ui_mode` is `{ui_mode}` unless `redirect_on_completion` "
    "is `never`.")

CREATE = "POST /v1/checkout/sessions"
DAY = 24 * 3600
MIN_EXPIRY = 30 * 60
MAX_ADJUSTABLE = 999_999
DEFAULT_MAXIMUM = 99  # [S py] adjustable_quantity[maximum] defaults to 99
DAHLIA = "2026-03-25.dahlia"
BASIL = "2025-03-31.basil"
ENDIVE = "2026-09-30.endive"
HOSTED = "hosted_page"
CHECKOUT_URL = "https://checkout.stripe.com/c/pay/{id}"  # [V] shape; the #fragment is left out


# --- version changes ---------------------------------------------------------------------------


@dataclass
class PaymentMethodTypesParam(versions.Change):
    """2026-09-30.endive: ``payment_method_types`` is no longer a create param (the object keeps
    it, read-only); ``allowed_payment_method_types`` replaces it [D]
    (…/endive/2026-09-30/remove-payment-method-types-checkout-sessions).  Older requests'
    ``payment_method_types`` are lifted into ``allowed_payment_method_types``."""

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        if endpoint == CREATE and "payment_method_types" in params:
            params["allowed_payment_method_types"] = params.pop("payment_method_types")

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        props = schemas["endpoints"][CREATE]["params"]["properties"]
        props["allowed_payment_method_types"] = props.pop("payment_method_types")


@dataclass
class SuccessUrlOptional(versions.Change):
    """``success_url`` stopped being required when embedded and elements sessions (which take
    ``return_url`` instead) arrived [S py] (date [R])."""

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        params = schemas["endpoints"][CREATE]["params"]
        params["required"] = [r for r in params["required"] if r != "success_url"]


_NULLABLE_STRING = {"type": ["string", "null"]}
_UI_MODES = ["elements", "embedded_page", "form", "hosted_page"]
_SHIPPING_DETAILS = {"anyOf": [{"type": "object"}, {"type": "null"}]}


def _collected_shipping(session: Obj) -> Any:
    return (session.get("collected_information") or {}).get("shipping_details")


versions.register(
    SuccessUrlOptional("2023-10-16", "Checkout Sessions: `success_url` optional. [R] date"),
    versions.FieldAdded(
        "2023-10-16", "Checkout Sessions: `client_secret` (embedded sessions). [R] date",
        object="checkout.session", path="client_secret", schema=_NULLABLE_STRING),
    versions.FieldAdded(
        "2023-10-16", "Checkout Sessions: `return_url`. [R] date", object="checkout.session",
        path="return_url", schema=_NULLABLE_STRING,
        params={CREATE: {"return_url": {"type": "string", "maxLength": 5000}}}),
    versions.FieldAdded(
        "2023-10-16", "Checkout Sessions: `redirect_on_completion`. [R] date",
        object="checkout.session", path="redirect_on_completion",
        schema={"anyOf": [{"type": "string", "enum": ["always", "if_required", "never"]},
                          {"type": "null"}]},
        params={CREATE: {"redirect_on_completion": {
            "type": "string", "enum": ["always", "if_required", "never"]}}}),
    versions.FieldAdded(
        "2025-01-27.acacia", "Checkout Sessions: `discounts`. [S py] date [R]",
        object="checkout.session", path="discounts",
        schema={"anyOf": [{"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["coupon", "promotion_code"],
            "properties": {"coupon": _NULLABLE_STRING, "promotion_code": _NULLABLE_STRING}}},
            {"type": "null"}]}),
    versions.FieldAdded(
        BASIL, "Checkout Sessions: `collected_information`. [S py12.0.0]",
        object="checkout.session", path="collected_information",
        schema={"anyOf": [{"type": "object", "additionalProperties": False,
                           "required": ["business_name", "individual_name", "shipping_details"],
                           "properties": {"business_name": _NULLABLE_STRING,
                                          "individual_name": _NULLABLE_STRING,
                                          "shipping_details": _SHIPPING_DETAILS}},
                          {"type": "null"}]}),
    versions.FieldRemoved(
        BASIL, "Checkout Sessions: `shipping_details` moved to `collected_information`. "
        "[S py12.0.0]", object="checkout.session", path="shipping_details",
        value=_collected_shipping),
    versions.FieldAdded(
        BASIL, "Line items: `adjustable_quantity`. [S py] date [R]", object="item",
        path="adjustable_quantity",
        schema={"anyOf": [{"type": "object", "additionalProperties": False,
                           "required": ["enabled", "maximum", "minimum"],
                           "properties": {"enabled": {"type": "boolean"},
                                          "maximum": {"type": ["integer", "null"]},
                                          "minimum": {"type": ["integer", "null"]}}},
                          {"type": "null"}]}),
    versions.FieldAdded(
        CLOVER, "Checkout Sessions: `customer_account` (Accounts v2; null here). [R] date",
        object="checkout.session", path="customer_account", schema=_NULLABLE_STRING),
    versions.FieldAdded(
        DAHLIA, "Checkout Sessions: `ui_mode` (values renamed in dahlia [D]; absent from the "
        "2023-08-16 spec)", object="checkout.session", path="ui_mode",
        schema={"anyOf": [{"type": "string", "enum": _UI_MODES}, {"type": "null"}]},
        params={CREATE: {"ui_mode": {"type": "string", "enum": _UI_MODES}}}),
    versions.ParamsAdded(
        "2024-04-10", "Checkout Sessions: the list's `status` filter. [R] date",
        params={"GET /v1/checkout/sessions": {
            "status": {"type": "string", "enum": ["complete", "expired", "open"]}}}),
    PaymentMethodTypesParam(ENDIVE, "Checkout Sessions: `payment_method_types` param removed."),
)


# --- line items and amounts ----------------------------------------------------------------


def _adjustable(raw: dict[str, Any] | None, quantity: int, index: int, param: str) -> Obj | None:
    if raw is None:
        return None
    where = f"{param}[{index}][adjustable_quantity]"
    minimum, maximum = raw.get("minimum", 0), raw.get("maximum", DEFAULT_MAXIMUM)
    if maximum > MAX_ADJUSTABLE:
        raise errors.invalid(ADJUSTABLE_MAX, f"{where}[maximum]")
    if minimum < 0:
        raise errors.too_small(f"{where}[minimum]", 0)
    if minimum > maximum:
        raise errors.invalid(ADJUSTABLE_ORDER, f"{where}[minimum]")
    if raw["enabled"] and not minimum <= quantity <= maximum:
        raise errors.invalid(ADJUSTABLE_RANGE.format(index=index), f"{param}[{index}][quantity]")
    return {"enabled": raw["enabled"], "maximum": maximum, "minimum": minimum}


def _inline_price(ctx: Context, raw: dict[str, Any], where: str) -> Obj:
    """A ``price_data`` line: a new price (and product, from ``product_data``), archived: it
    serves this line only [C]."""
    from . import prices, products

    prefix = f"{where}[price_data]["
    p = dict(raw)
    has_product, has_data = "product" in p, "product_data" in p
    if has_product == has_data:
        raise errors.one_of(f"{where}[price_data][product]", f"{where}[price_data][product_data]")
    computed = prices.check_price_params(ctx, p, prefix)
    if has_product:
        ctx.store.require("product", p["product"], param=f"{prefix}product]", in_path=False)
    else:
        p["product"] = products.new_product(ctx, p.pop("product_data"), f"{prefix}product_data][")["id"]
    p["active"] = False
    return prices.new_price(ctx, p, computed, prefix)


def build_line_items(ctx: Context, raw_items: list[dict[str, Any]], param: str = "line_items",
                     *, need_quantity: bool = True) -> list[Obj]:
    """``item`` objects for ``line_items[]`` (``price`` or ``price_data``), amounts before
    discounts.  Checks everything before creating inline prices."""
    store = ctx.store
    plan: list[tuple[int, dict[str, Any], Obj | None]] = []
    for index, raw in enumerate(raw_items):
        where = f"{param}[{index}]"
        if ("price" in raw) == ("price_data" in raw):
            raise errors.one_of(f"{where}[price]", f"{where}[price_data]")
        if "quantity" not in raw and need_quantity:
            raise errors.invalid(NEED_QUANTITY.format(index=index), f"{where}[quantity]")
        quantity = raw.get("quantity", 1)
        if quantity < 0:
            raise errors.too_small(f"{where}[quantity]", 0)
        _adjustable(raw.get("adjustable_quantity"), quantity, index, param)
        price = None
        if "price" in raw:
            price = store.require("price", raw["price"], param=f"{where}[price]", in_path=False)
            if not price["active"]:
                raise errors.conflict(PRICE_INACTIVE, f"{where}[price]")
        plan.append((index, raw, price))
    items = []
    for index, raw, price in plan:
        where = f"{param}[{index}]"
        if price is None:
            price = _inline_price(ctx, raw["price_data"], where)
        product = store.get("product", price["product"])
        quantity = raw.get("quantity", 1)
        amount = _line_amount(price, quantity)
        items.append({
            "id": ctx.new_id("item"),
            "object": "item",
            "adjustable_quantity": _adjustable(raw.get("adjustable_quantity"), quantity, index,
                                               param),
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": price["currency"],
            "description": product["name"] if product else "",
            "discounts": [],
            "price": price,
            "quantity": quantity,
            "taxes": [],
        })
    return items


def _line_amount(price: Obj, quantity: int) -> int:
    """What ``quantity`` of a per-unit price costs (``transform_quantity`` applied)."""
    unit = price["unit_amount"]
    if unit is None:
        unit = int(round(float(price["unit_amount_decimal"] or 0)))
    transform = price.get("transform_quantity")
    if transform:
        units = quantity / transform["divide_by"]
        quantity = int(units) + (1 if transform["round"] == "up" and units % 1 else 0)
    return unit * quantity


def _currency_of(items: list[Obj], param: str) -> str | None:
    currency = None
    for index, item in enumerate(items):
        if currency is None:
            currency = item["currency"]
        elif item["currency"] != currency:
            raise errors.invalid(MIXED_CURRENCIES.format(index=index, currency=item["currency"],
                                                         expected=currency),
                                 f"{param}[{index}]")
    return currency


def _coupon_amount(coupon: Obj, eligible: int, currency: str) -> int:
    """How much ``coupon`` takes off ``eligible`` (in ``currency``)."""
    if coupon["percent_off"] is not None:
        return min(eligible, int(round(eligible * coupon["percent_off"] / 100)))
    if coupon["currency"] == currency:
        off = coupon["amount_off"]
    else:
        option = (coupon.get("currency_options") or {}).get(currency)
        off = option["amount_off"] if option else 0
    return min(eligible, off or 0)


def _applies(coupon: Obj, item: Obj) -> bool:
    products = (coupon.get("applies_to") or {}).get("products")
    return not products or item["price"]["product"] in products


def apply_discount(session: Obj, discount: Obj | None, coupon: Obj | None) -> None:
    """(Re)compute the line items' and the session's amounts with ``discount`` (of ``coupon``)
    spread over the eligible items in proportion to their amounts (the last takes the
    rounding) [R]."""
    items = session["line_items"]["data"]
    for item in items:
        item["amount_discount"], item["discounts"] = 0, []
        item["amount_total"] = item["amount_subtotal"]
    subtotal = sum(item["amount_subtotal"] for item in items)
    off = 0
    if discount is not None and coupon is not None and items:
        eligible = [item for item in items if _applies(coupon, item)]
        base = sum(item["amount_subtotal"] for item in eligible)
        off = _coupon_amount(coupon, base, session["currency"]) if base else 0
        left = off
        for position, item in enumerate(eligible):
            share = left if position == len(eligible) - 1 else (
                off * item["amount_subtotal"] // base)
            left -= share
            item["amount_discount"] = share
            item["amount_total"] = item["amount_subtotal"] - share
            item["discounts"] = [{"amount": share, "discount": discount}]
    session["amount_subtotal"] = subtotal
    session["amount_total"] = subtotal - off
    session["total_details"] = {
        "amount_discount": off, "amount_shipping": 0, "amount_tax": 0,
        "breakdown": {"discounts": ([{"amount": off, "discount": discount}]
                                    if discount is not None else []),
                      "taxes": []}}


def trial_zeroes_recurring(session: Obj) -> None:
    """A subscription with a trial owes nothing today for its recurring items [R]."""
    for item in session["line_items"]["data"]:
        if item["price"]["type"] == "recurring":
            item["amount_subtotal"] = item["amount_total"] = 0


# --- discounts -------------------------------------------------------------------------------


def check_promotion_code(ctx: Context, code: Obj, param: str) -> Obj:
    """The coupon of a promotion code that can be redeemed now (raises when not)."""
    from . import promotion_codes

    promotion_codes.refresh_coupon(ctx.store, code["promotion"]["coupon"], ctx.now())
    if not code["active"]:
        raise errors.conflict(CODE_INACTIVE.format(id=code["id"]), param)
    return check_coupon(ctx, code["promotion"]["coupon"], param)


def check_coupon(ctx: Context, coupon_id: str, param: str) -> Obj:
    from . import promotion_codes

    promotion_codes.refresh_coupon(ctx.store, coupon_id, ctx.now())
    coupon = ctx.store.require("coupon", coupon_id, param=param, in_path=False)
    if not coupon["valid"]:
        raise errors.conflict(COUPON_INVALID.format(id=coupon_id), param)
    return coupon


def new_discount(ctx: Context, session_id: str, coupon: Obj, code: Obj | None) -> Obj:
    """The ``discount`` a session carries (``checkout_session`` set; customer set on
    completion)."""
    from .discounts import add_months

    now = ctx.now()
    return {
        "id": ctx.new_id("discount"),
        "object": "discount",
        "checkout_session": session_id,
        "customer": None,
        "customer_account": None,
        "end": (add_months(now, coupon["duration_in_months"])
                if coupon["duration"] == "repeating" else None),
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None if code is None else code["id"],
        "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": now,
        "subscription": None,
        "subscription_item": None,
    }


def _discount_param(ctx: Context, session_id: str, raw: list[dict[str, Any]]
                    ) -> tuple[Obj | None, Obj | None]:
    """``discounts=[{coupon}|{promotion_code}]`` -> (discount, coupon), checked now."""
    if not raw:
        return None, None
    if len(raw) > 1:
        raise errors.invalid(ONE_DISCOUNT, "discounts")
    entry = raw[0]
    if "coupon" in entry and "promotion_code" in entry:
        raise errors.one_of("discounts[0][coupon]", "discounts[0][promotion_code]")
    if "promotion_code" in entry:
        param = "discounts[0][promotion_code]"
        code = ctx.store.require("promotion_code", entry["promotion_code"], param=param,
                                 in_path=False)
        coupon = check_promotion_code(ctx, code, param)
        return new_discount(ctx, session_id, coupon, code), coupon
    if "coupon" not in entry:
        raise errors.invalid(DISCOUNT_NEEDS_ONE, "discounts[0]")
    coupon = check_coupon(ctx, entry["coupon"], "discounts[0][coupon]")
    return new_discount(ctx, session_id, coupon, None), coupon


def session_coupon(store: Store, session: Obj) -> Obj | None:
    """The coupon of the session's discount (a deleted coupon's last state included)."""
    discount = session_discount(session)
    if discount is None:
        return None
    cid = discount["source"]["coupon"]
    return store.get("coupon", cid) or store.get_deleted("coupon", cid)


def discount_entry(discount: Obj) -> Obj:
    """The session's ``discounts[]`` entry: the promotion code when one was used, else the
    coupon [S py]."""
    code = discount["promotion_code"]
    return {"coupon": None if code else discount["source"]["coupon"], "promotion_code": code}


def session_discount(session: Obj) -> Obj | None:
    found = session["total_details"]["breakdown"]["discounts"] if session["total_details"] else []
    return found[0]["discount"] if found else None


# --- open sessions follow the clock ---------------------------------------------------------

_OPEN: weakref.WeakKeyDictionary[Store, dict[str, Obj]] = weakref.WeakKeyDictionary()
# What completion needs from the create params, kept beside the session (never rendered).
_COMPLETION: weakref.WeakKeyDictionary[Store, dict[str, Obj]] = weakref.WeakKeyDictionary()
COMPLETION_PARAMS = ("payment_intent_data", "subscription_data", "setup_intent_data")
_swept_at: weakref.WeakKeyDictionary[Store, int] = weakref.WeakKeyDictionary()


def open_sessions(store: Store) -> dict[str, Obj]:
    found = _OPEN.get(store)
    if found is None:
        found = _OPEN[store] = {}
    return found


def completion_params(store: Store) -> dict[str, Obj]:
    """Session id -> its ``payment_intent_data`` / ``subscription_data`` / ``setup_intent_data``."""
    found = _COMPLETION.get(store)
    if found is None:
        found = _COMPLETION[store] = {}
    return found


def sweep(ctx: Context) -> None:
    """Expire every open session past its ``expires_at`` (``checkout.session.expired``)."""
    from .. import events

    now = ctx.now()
    if _swept_at.get(ctx.store) == now:
        return
    _swept_at[ctx.store] = now
    due = [s for s in open_sessions(ctx.store).values() if s["expires_at"] <= now]
    if not due:
        return
    # Stripe expires them, not the request that notices: events with a null `request`,
    # delivered once the current request is answered
    recorder = (events.begin(ctx.store, "", {}, events.NO_REQUEST)
                if ctx.store.recorder is None else None)
    try:
        for session in due:
            expire_session(ctx, session)
    finally:
        if recorder is not None:
            events.finish(ctx, recorder)


@before_handler
def _follow_the_clock(ctx: Context) -> None:
    sweep(ctx)


def expire_session(ctx: Context, session: Obj) -> Obj:
    from .. import events

    session["status"] = "expired"
    session["url"] = None
    recovery = (session["after_expiration"] or {}).get("recovery")
    if recovery and recovery["enabled"]:  # [R] url shape and 30-day window
        recovery["url"] = f"https://buy.stripe.com/r/test_{ctx.account.ids.token(24)}"
        recovery["expires_at"] = ctx.now() + 30 * DAY
    open_sessions(ctx.store).pop(session["id"], None)
    events.emit(ctx, "checkout.session.expired", session)
    return session


# --- create ------------------------------------------------------------------------------------


def _check_modes(p: dict[str, Any], mode: str) -> None:
    if p.get("customer") is not None and p.get("customer_email") is not None:
        raise errors.one_of("customer", "customer_email")
    if mode == "subscription" and "customer_creation" in p:
        raise errors.invalid(CUSTOMER_CREATION_MODE, "customer_creation")
    if p.get("allow_promotion_codes") and p.get("discounts"):
        raise errors.one_of("allow_promotion_codes", "discounts")
    if mode == "setup":
        if p.get("line_items"):
            raise errors.invalid(SETUP_LINE_ITEMS, "line_items")
        if p.get("allow_promotion_codes"):
            raise errors.invalid(PROMOTION_CODES_SETUP, "allow_promotion_codes")
        if p.get("discounts"):
            raise errors.invalid(DISCOUNTS_SETUP, "discounts")
    elif not p.get("line_items"):
        raise errors.invalid(NEED_LINE_ITEMS.format(mode=mode), "line_items")
    ui_mode = p.get("ui_mode", HOSTED)
    if ui_mode != HOSTED:
        for name in ("success_url", "cancel_url"):
            if name in p and not (ui_mode == "form" and name == "success_url"):
                raise errors.invalid(NOT_WITH_UI_MODE.format(param=name, ui_mode=ui_mode), name)
        if (ui_mode == "embedded_page" and "return_url" not in p
                and p.get("redirect_on_completion") != "never"):
            raise errors.invalid(NEED_RETURN_URL.format(ui_mode=ui_mode), "return_url")
    elif "return_url" in p:
        raise errors.invalid(NOT_WITH_UI_MODE.format(param="return_url", ui_mode=ui_mode),
                             "return_url")


def _check_types(items: list[Obj], mode: str) -> None:
    recurring = [i for i in items if i["price"]["type"] == "recurring"]
    if mode == "payment" and recurring:
        index = items.index(recurring[0])
        raise errors.invalid(RECURRING_IN_PAYMENT, f"line_items[{index}][price]")
    if mode == "subscription" and not recurring:
        raise errors.invalid(NEED_RECURRING, "line_items")


def _expires_at(ctx: Context, p: dict[str, Any]) -> int:
    now = ctx.now()
    value = p.get("expires_at")
    if value is None:
        return now + DAY
    if value < now + MIN_EXPIRY:
        raise errors.invalid(EXPIRES_TOO_SOON, "expires_at")
    if value > now + DAY:
        raise errors.invalid(EXPIRES_TOO_LATE, "expires_at")
    return value


def _after_expiration(raw: dict[str, Any] | None) -> Obj | None:
    recovery = (raw or {}).get("recovery")
    if recovery is None:
        return None
    return {"recovery": {"allow_promotion_codes": recovery.get("allow_promotion_codes", False),
                         "enabled": recovery["enabled"], "expires_at": None, "url": None}}


def _invoice_creation(raw: dict[str, Any] | None, mode: str) -> Obj | None:
    if mode != "payment":
        return None
    raw = raw or {}
    data = raw.get("invoice_data") or {}
    return {"enabled": raw.get("enabled", False),
            "invoice_data": {"account_tax_ids": data.get("account_tax_ids") or None,
                             "custom_fields": data.get("custom_fields") or None,
                             "description": data.get("description"),
                             "footer": data.get("footer"),
                             "metadata": metadata.apply({}, data.get("metadata"),
                                                        "invoice_creation[invoice_data][metadata]"),
                             "rendering_options": None}}


def new_session(ctx: Context, p: dict[str, Any], *, payment_link: str | None = None) -> Obj:
    """Check ``p`` (the create params, current shape) and store an open session."""
    store = ctx.store
    mode = p.get("mode")
    if mode is None:
        raise errors.missing_param("mode")
    _check_modes(p, mode)
    customer = p.get("customer")
    if customer is not None:
        store.require("customer", customer, param="customer", in_path=False)
    expires_at = _expires_at(ctx, p)
    sid = ctx.new_id("checkout.session")
    items = build_line_items(ctx, p.get("line_items") or [])
    _check_types(items, mode)
    currency = _currency_of(items, "line_items")
    if p.get("currency") is not None:
        currency = currencies.check(p["currency"])
    discount, coupon = _discount_param(ctx, sid, p.get("discounts") or [])
    ui_mode = p.get("ui_mode", HOSTED)
    trial = (p.get("subscription_data") or {}).get("trial_period_days") or (
        p.get("subscription_data") or {}).get("trial_end")
    types = p.get("allowed_payment_method_types") or ["card"]  # [R] the Dashboard's defaults
    session: Obj = {
        "id": sid,
        "object": "checkout.session",
        "after_expiration": _after_expiration(p.get("after_expiration")),
        "allow_promotion_codes": p.get("allow_promotion_codes"),
        "amount_subtotal": None,
        "amount_total": None,
        "automatic_tax": {"enabled": bool((p.get("automatic_tax") or {}).get("enabled")),
                          "status": None},
        "billing_address_collection": p.get("billing_address_collection"),
        "cancel_url": p.get("cancel_url"),
        "client_reference_id": p.get("client_reference_id"),
        "client_secret": (None if ui_mode == HOSTED
                          else f"{sid}_secret_{ctx.account.ids.token(24)}"),
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": ctx.now(),
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {"shipping_address": None, "submit": None},
        "customer": customer,
        "customer_account": None,
        "customer_creation": (None if mode == "subscription"
                              else p.get("customer_creation", "if_required")),
        "customer_details": None,
        "customer_email": p.get("customer_email"),
        "discounts": [] if discount is None else [discount_entry(discount)],
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": _invoice_creation(p.get("invoice_creation"), mode),
        "line_items": {"object": "list", "data": items, "has_more": False,
                       "url": f"/v1/checkout/sessions/{sid}/line_items"},
        "livemode": False,
        "locale": p.get("locale"),
        "metadata": metadata.apply({}, p.get("metadata")),
        "mode": mode,
        "payment_intent": None,  # created when the customer pays [D] 2022-08-01
        "payment_link": payment_link,
        "payment_method_collection": (p.get("payment_method_collection", "always")
                                      if mode in ("subscription", "setup") else None),
        "payment_method_options": {},
        "payment_method_types": list(types),
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
        "phone_number_collection": {"enabled": bool(
            (p.get("phone_number_collection") or {}).get("enabled"))},
        "recovered_from": None,
        "redirect_on_completion": (None if ui_mode == HOSTED
                                   else p.get("redirect_on_completion", "always")),
        "return_url": p.get("return_url"),
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.get("submit_type") if mode == "payment" else None,
        "subscription": None,
        "success_url": p.get("success_url"),
        "tax_id_collection": {"enabled": bool((p.get("tax_id_collection") or {}).get("enabled"))},
        "total_details": None,
        "ui_mode": ui_mode,
        "url": CHECKOUT_URL.format(id=sid) if ui_mode == HOSTED else None,
    }
    if mode != "setup":
        if mode == "subscription" and trial:
            trial_zeroes_recurring(session)
        apply_discount(session, discount, coupon)
    store.add(session)
    open_sessions(store)[sid] = session
    completion_params(store)[sid] = {key: p[key] for key in COMPLETION_PARAMS if key in p}
    return session


# --- endpoints -------------------------------------------------------------------------------


@route("POST", "/v1/checkout/sessions")
def create(ctx: Context) -> Obj:
    return new_session(ctx, ctx.params)


def require(ctx: Context, session: str, *, in_path: bool = True, param: str = "session") -> Obj:
    return ctx.store.require("checkout.session", session, param=param, in_path=in_path,
                             name="checkout.session")


@route("GET", "/v1/checkout/sessions/{session}")
def retrieve(ctx: Context, session: str) -> Obj:
    return require(ctx, session)


@route("POST", "/v1/checkout/sessions/{session}/expire")
def expire(ctx: Context, session: str) -> Obj:
    obj = require(ctx, session)
    if obj["status"] != "open":
        raise errors.conflict(CANNOT_EXPIRE.format(status=obj["status"]))
    return expire_session(ctx, obj)


@route("GET", "/v1/checkout/sessions/{session}/line_items")
def line_items(ctx: Context, session: str) -> Obj:
    obj = require(ctx, session)
    return lists.page_of(obj["line_items"]["data"], ctx.params,
                         f"/v1/checkout/sessions/{session}/line_items")


@route("GET", "/v1/checkout/sessions")
def list_sessions(ctx: Context) -> Obj:
    p = ctx.params
    exact = {key: p[key] for key in ("customer", "payment_intent", "payment_link", "subscription",
                                     "status") if key in p}
    email = (p.get("customer_details") or {}).get("email")

    def matches(session: Obj) -> bool:
        if email is not None and (session["customer_details"] or {}).get("email") != email:
            return False
        return all(session[key] == value for key, value in exact.items())

    return lists.page(ctx.store.table("checkout.session"), p, "/v1/checkout/sessions", matches)


# --- completion: what Checkout does when the customer pays ---------------------------------------

CODE_NOT_ALLOWED = "This Checkout Session does not accept promotion codes."  # the page has no field
CODE_UNKNOWN = "This code is invalid."  # [R] what the page shows
CODE_MINIMUM = "This code requires a minimum purchase."  # [R]
CODE_FIRST_TIME = "This code is only valid for first-time customers."  # [R] rule [S]
CODE_OTHER_CUSTOMER = "This code is not valid for this customer."  # [R]
NOT_OPEN = "Checkout Session {id} is {status}: only an open session can be completed."
DEFAULT_EMAIL = "jenny.rosen@example.com"  # Stripe's docs' test customer
ASYNC_EVENTS = {True: "checkout.session.async_payment_succeeded",
                False: "checkout.session.async_payment_failed"}


class HostedPageError(ValueError):
    """What the hosted page would show instead of completing (a code it refuses, a session
    that is no longer open): the test asked for something the customer could not do."""


@dataclass
class Attempt:
    """The outcome of one :func:`complete`: the session, and for a declined or unfinished
    payment the intent left waiting (its ``last_payment_error`` says why)."""

    session: Obj
    completed: bool
    intent: Obj | None = None


def _find_code(ctx: Context, entered: str) -> Obj | None:
    from .promotion_codes import CODE_INDEX

    if entered.startswith("promo_"):
        return ctx.store.get("promotion_code", entered)
    table = ctx.store.table("promotion_code")
    for code in table.newest_first(where=(CODE_INDEX, entered.lower())):
        if code["active"]:
            return code
    return None


def _enter_code(ctx: Context, session: Obj, entered: str, customer: Obj | None) -> None:
    """The customer types a promotion code on the page: checked, then shown in the totals."""
    if not session["allow_promotion_codes"]:
        raise HostedPageError(CODE_NOT_ALLOWED)
    code = _find_code(ctx, entered)
    if code is None:
        raise HostedPageError(f"{CODE_UNKNOWN} ({entered!r})")
    try:
        coupon = check_promotion_code(ctx, code, "promotion_code")
    except errors.StripeError as exc:
        raise HostedPageError(f"{CODE_UNKNOWN} ({exc.message})") from None
    restrictions = code["restrictions"]
    minimum = restrictions["minimum_amount"]
    if minimum is not None:
        if session["currency"] == restrictions["minimum_amount_currency"]:
            needed = minimum
        else:
            needed = ((restrictions.get("currency_options") or {}).get(
                session["currency"]) or {}).get("minimum_amount", 0)
        if session["amount_subtotal"] < needed:
            raise HostedPageError(CODE_MINIMUM)
    if code["customer"] is not None and (customer is None or customer["id"] != code["customer"]):
        raise HostedPageError(CODE_OTHER_CUSTOMER)
    if restrictions["first_time_transaction"] and customer is not None and any(
            charge.get("customer") == customer["id"] for charge in ctx.store.all("charge")):
        raise HostedPageError(CODE_FIRST_TIME)
    discount = new_discount(ctx, session["id"], coupon, code)
    apply_discount(session, discount, coupon)
    session["discounts"] = [discount_entry(discount)]


def _redeem(ctx: Context, session: Obj, customer_id: str | None) -> None:
    """Count the discount's redemption (coupon and promotion code) once the session completes."""
    from . import promotion_codes

    discount = session_discount(session)
    if discount is None:
        return
    discount["customer"] = customer_id
    coupon = ctx.store.get("coupon", discount["source"]["coupon"])
    if coupon is not None:
        coupon["times_redeemed"] += 1
    if discount["promotion_code"] is not None:
        code = ctx.store.get("promotion_code", discount["promotion_code"])
        if code is not None:
            code["times_redeemed"] += 1
    promotion_codes.refresh_coupon(ctx.store, discount["source"]["coupon"], ctx.now())


def _call(ctx: Context, handler: Any, params: dict[str, Any], **path: str) -> Obj:
    """Run another resource's endpoint handler with ``params`` (current shape) in this context:
    what Checkout does through the API on the merchant's account."""
    from ..engine import Context as _Context

    return handler(_Context(ctx.fake, ctx.account, params, ctx.version, ctx.request,
                            ctx.endpoint), **path)


def _customer(ctx: Context, session: Obj, email: str | None, name: str | None) -> Obj | None:
    """The session's customer, or the one Checkout creates (subscription mode, or
    ``customer_creation=always``) [S]; a retry after a decline reuses the one it created."""
    from . import customers

    store = ctx.store
    if session["customer"] is not None:
        return store.get("customer", session["customer"])
    kept = completion_params(store).setdefault(session["id"], {})
    if kept.get("_customer") is not None:
        return store.get("customer", kept["_customer"])
    if session["mode"] != "subscription" and session["customer_creation"] != "always":
        return None  # a guest [D] (guest customers)
    params: dict[str, Any] = {"email": email}
    if name:
        params["name"] = name
    customer = _call(ctx, customers.create, params)
    kept["_customer"] = customer["id"]
    return customer


def _needs(module: str, what: str) -> Any:
    """Another resource module completion builds on (they land separately)."""
    import importlib

    try:
        return importlib.import_module(f"{__package__}.{module}")
    except ModuleNotFoundError:
        raise NotImplementedError(f"completing this session needs {what}, which this build of "
                                  "the fake does not have yet") from None


def _pay(ctx: Context, session: Obj, customer: Obj | None, payment_method: str) -> Obj:
    payment_intents = _needs("payment_intents", "PaymentIntents")  # the contract's function

    data = completion_params(ctx.store).get(session["id"], {}).get("payment_intent_data") or {}
    extra = {key: data[key] for key in ("capture_method", "setup_future_usage",
                                        "statement_descriptor", "statement_descriptor_suffix",
                                        "receipt_email", "transfer_group", "on_behalf_of")
             if key in data}
    return payment_intents.create_and_confirm(
        ctx, amount=session["amount_total"], currency=session["currency"],
        customer=None if customer is None else customer["id"], payment_method=payment_method,
        description=data.get("description"), metadata=data.get("metadata"), extra=extra)


def _subscribe(ctx: Context, session: Obj, customer: Obj, payment_method: str) -> tuple[Obj, Obj]:
    """The subscription and its first invoice (issue 14's internal function)."""
    subscriptions = _needs("subscriptions", "Subscriptions")
    if not hasattr(subscriptions, "create_from_checkout"):  # the seam issue 14 is to provide
        raise NotImplementedError("completing a subscription-mode session needs "
                                  "subscriptions.create_from_checkout, not in this build yet")

    data = completion_params(ctx.store).get(session["id"], {}).get("subscription_data") or {}
    discount = session_discount(session)
    return subscriptions.create_from_checkout(
        ctx, customer=customer["id"], payment_method=payment_method,
        items=[{"price": item["price"]["id"], "quantity": item["quantity"]}
               for item in session["line_items"]["data"]],
        subscription_data=data,
        coupon=None if discount is None else discount["source"]["coupon"],
        promotion_code=None if discount is None else discount["promotion_code"])


def _set_up(ctx: Context, session: Obj, customer: Obj | None, payment_method: str) -> Obj:
    setup_intents = _needs("setup_intents", "SetupIntents")

    data = completion_params(ctx.store).get(session["id"], {}).get("setup_intent_data") or {}
    return setup_intents.create_and_confirm(
        ctx, customer=None if customer is None else customer["id"],
        payment_method=payment_method, usage="off_session",
        description=data.get("description"), metadata=data.get("metadata"))


def _details(customer: Obj | None, email: str | None, name: str | None) -> Obj:
    return {"address": None if customer is None else customer.get("address"),
            "email": email, "name": name, "phone": None if customer is None else customer["phone"],
            "tax_exempt": "none" if customer is None else customer["tax_exempt"], "tax_ids": []}


def complete(ctx: Context, session: Obj, *, payment_method: str = "pm_card_visa",
             promotion_code: str | None = None, email: str | None = None,
             name: str | None = None) -> Attempt:
    """The customer pays (or saves a card) on the hosted page of ``session``.

    Payment mode: a PaymentIntent confirmed with ``payment_method`` (none when nothing is due);
    subscription mode: the subscription and its first invoice, paid (a trial owes nothing);
    setup mode: a SetupIntent.  On success the discount is redeemed, the session is
    ``complete`` with its ``payment_status``, ``customer``, ``customer_details`` and links, and
    ``checkout.session.completed`` is emitted.  A declined card (or one waiting for 3D Secure)
    leaves the session ``open``, as the page would, with the failed intent in the answer."""
    from .. import events

    sweep(ctx)
    if session["status"] != "open":
        raise HostedPageError(NOT_OPEN.format(id=session["id"], status=session["status"]))
    store = ctx.store
    existing = store.get("customer", session["customer"]) if session["customer"] else None
    if promotion_code is not None:
        _enter_code(ctx, session, promotion_code, existing)
    email = email or session["customer_email"] or (existing or {}).get("email") or DEFAULT_EMAIL
    name = name or (existing or {}).get("name")
    customer = _customer(ctx, session, email, name)
    mode = session["mode"]
    intent = None
    payment_status = "paid"
    if mode == "payment":
        if session["amount_total"] == 0:
            payment_status = "no_payment_required"
        else:
            intent = _pay(ctx, session, customer, payment_method)
            session["payment_intent"] = intent["id"]
            if intent["status"] == "processing":
                payment_status = "unpaid"  # settles later: async_payment_succeeded|failed
            elif intent["status"] not in ("succeeded", "requires_capture"):
                return Attempt(session, False, intent)
    elif mode == "subscription":
        subscription, invoice = _subscribe(ctx, session, customer, payment_method)  # type: ignore[arg-type]
        if subscription["status"] not in ("active", "trialing"):
            return Attempt(session, False, invoice)
        session["subscription"], session["invoice"] = subscription["id"], invoice["id"]
        if invoice["amount_due"] == 0:
            payment_status = "no_payment_required"  # [D] "the payment is delayed to a future date"
    else:
        intent = _set_up(ctx, session, customer, payment_method)
        if intent["status"] != "succeeded":
            return Attempt(session, False, intent)
        session["setup_intent"] = intent["id"]
        payment_status = "no_payment_required"
    customer_id = None if customer is None else customer["id"]
    if mode != "subscription":  # a subscription redeems its discount itself (billing)
        _redeem(ctx, session, customer_id)
    session.update(status="complete", url=None, payment_status=payment_status,
                   customer=customer_id, customer_details=_details(customer, email, name))
    open_sessions(store).pop(session["id"], None)
    events.emit(ctx, "checkout.session.completed", session)
    return Attempt(session, True, intent)


def settle(ctx: Context, session: Obj, succeeded: bool) -> Obj:
    """An asynchronous payment (``payment_status=unpaid`` at completion) succeeded or failed:
    ``checkout.session.async_payment_succeeded|failed`` [D] (fulfillment docs)."""
    from .. import events

    if session["status"] != "complete" or session["payment_status"] != "unpaid":
        raise HostedPageError(f"Checkout Session {session['id']} has no payment in flight.")
    if succeeded:
        session["payment_status"] = "paid"
    events.emit(ctx, ASYNC_EVENTS[succeeded], session)
    return session
