"""Prices (STRIPE-API-RULES.md section 12).  Prices are never deleted, only archived."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .. import currencies, errors, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
NEED_PRODUCT = "You must specify either `product` or `product_data` when creating a price."  # [C]
NEED_AMOUNT = "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set."  # [C]
TIERED_ONE_TIME = "Prices with `type=one_time` are not supported with tiered billing."  # [C]
TIER_NO_AMOUNT = "An entry in the tiers array is missing an amount."  # [V]
TIERS_NEED_TIERED = "Tiers can only be specified when `billing_scheme=tiered`."  # [R]
TIERS_ORDER = "The `up_to` values of tiers must be in ascending order."  # [R]
TIERS_LAST_INF = "The last tier must have `up_to=inf`."  # [R]
TIERS_ONLY_LAST_INF = "Only the last tier can have `up_to=inf`."  # [R]
TRANSFORM_WITH_TIERS = "You cannot use `transform_quantity` with tiered prices."  # [R]
CUSTOM_RECURRING = "`custom_unit_amount` is only supported for one-time prices."  # [R]
CUSTOM_MIN_MAX = "`custom_unit_amount[minimum]` must be less than or equal to `maximum`."  # [R]
INTERVAL_TOO_LONG = (  # [R]
    "The maximum billing interval is one year (1 year, 12 months, or 52 weeks).")
DECIMAL_PLACES = "`{param}` can have at most 12 decimal places."  # [R]
LOOKUP_KEY_TAKEN = "A price (`{price}`) already uses that lookup key."  # [V] / [C]
DEFAULT_PRICE_ARCHIVE = (  # [V]
    "This price cannot be archived because it is the default price of its product.")
TAX_BEHAVIOR_LOCKED = (  # [R]
    "`tax_behavior` cannot be changed once it is set to `inclusive` or `exclusive`.")
OPTION_SAME_CURRENCY = (  # [V]
    "You are specifying an update to a currency option that matches the top-level currency for "
    "this price. Please remove this currency option and update the top-level params instead.")
MAX_INTERVAL = {"day": 365, "week": 52, "month": 12, "year": 1}

SEARCH_FIELDS = {"active": "token", "currency": "token", "lookup_key": "string",
                 "metadata": "token", "product": "string", "type": "token"}

versions.register(
    versions.FieldRemoved(
        "2025-03-31.basil",
        "Prices: `recurring.aggregate_usage` is gone (usage is billed through meters).",
        object="price", path="recurring.aggregate_usage",
        value=lambda recurring: "sum" if recurring.get("usage_type") == "metered" else None,
        params={"POST /v1/prices": ("recurring.aggregate_usage",)}),
    versions.FieldAdded(
        "2025-03-31.basil", "Prices: `recurring.meter` names the billing meter.",
        object="price", path="recurring.meter", schema={"type": ["string", "null"]},
        params={"POST /v1/prices": {"recurring.meter": {"type": "string", "maxLength": 5000}}}),
    versions.FieldAdded(
        "2025-03-31.basil",
        "Prices: `recurring.trial_period_days` (seen in real responses, absent from the 2023 "
        "spec). [R]",
        object="price", path="recurring.trial_period_days",
        schema={"type": ["integer", "null"]},
        params={"POST /v1/prices": {"recurring.trial_period_days": {"type": "integer"}}}),
)

_DECIMAL_PLACES = re.compile(r"\.(\d+)\Z")


def _decimal(value: str, param: str) -> str:
    """Normalize a decimal string the way Stripe echoes it (``"2000"``, ``"12.5"``)."""
    m = _DECIMAL_PLACES.search(value)
    if m and len(m.group(1)) > 12:
        raise errors.invalid(DECIMAL_PLACES.format(param=param), param)
    d = Decimal(value)
    if d < 0:
        raise errors.too_small(param, 0)
    text = format(d.normalize(), "f")
    return text


def _amounts(amount: int | None, decimal: str | None, prefix: str,
             name: str = "unit_amount") -> tuple[int | None, str | None]:
    """(``name``, ``name``_decimal) as Stripe returns them: the integer when whole, and the
    decimal string always."""
    if amount is not None and decimal is not None:
        raise errors.invalid(errors.ONE_OF.format(params=f"{name}, {name}_decimal"),
                             _p(prefix, name))
    if amount is not None:
        if amount < 0:
            raise errors.too_small(_p(prefix, name), 0)
        return amount, str(amount)
    if decimal is not None:
        text = _decimal(decimal, _p(prefix, f"{name}_decimal"))
        whole = Decimal(text)
        return (int(whole) if whole == whole.to_integral_value() else None), text
    return None, None


def _p(prefix: str, name: str) -> str:
    """A nested param's name: ``default_price_data[`` + ``currency`` -> bracketed."""
    return f"{prefix}{name}]" if prefix else name


def _tiers(raw: list[dict[str, Any]], param: str) -> list[Obj]:
    tiers: list[Obj] = []
    previous = 0
    for index, tier in enumerate(raw):
        where = f"{param}[{index}]"
        up_to = tier["up_to"]
        if up_to == "inf":
            if index != len(raw) - 1:
                raise errors.invalid(TIERS_ONLY_LAST_INF, f"{where}[up_to]")
            up_to = None
        else:
            if up_to <= previous:
                raise errors.invalid(TIERS_ORDER, f"{where}[up_to]")
            previous = up_to
        unit, unit_dec = _amounts(tier.get("unit_amount"), tier.get("unit_amount_decimal"),
                                  f"{where}[")
        flat, flat_dec = _amounts(tier.get("flat_amount"), tier.get("flat_amount_decimal"),
                                  f"{where}[", "flat_amount")
        if unit is None and unit_dec is None and flat is None and flat_dec is None:
            raise errors.invalid(TIER_NO_AMOUNT, "amount")
        tiers.append({"flat_amount": flat, "flat_amount_decimal": flat_dec,
                      "unit_amount": unit, "unit_amount_decimal": unit_dec, "up_to": up_to})
    if tiers and tiers[-1]["up_to"] is not None:
        raise errors.invalid(TIERS_LAST_INF, f"{param}[{len(tiers) - 1}][up_to]")
    return tiers


def _custom(raw: dict[str, Any] | None, param: str) -> Obj | None:
    if raw is None:
        return None
    minimum, maximum = raw.get("minimum"), raw.get("maximum")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise errors.invalid(CUSTOM_MIN_MAX, f"{param}[minimum]")
    return {"maximum": maximum, "minimum": minimum, "preset": raw.get("preset")}


def _option(currency: str, raw: dict[str, Any], recurring: bool, param: str) -> Obj:
    custom = _custom(raw.get("custom_unit_amount"), f"{param}[custom_unit_amount]")
    tiers = _tiers(raw["tiers"], f"{param}[tiers]") if raw.get("tiers") else None
    unit, unit_dec = _amounts(raw.get("unit_amount"), raw.get("unit_amount_decimal"),
                              f"{param}[")
    option: Obj = {"custom_unit_amount": custom,
                   "tax_behavior": raw.get("tax_behavior", "unspecified"),
                   "unit_amount": unit, "unit_amount_decimal": unit_dec}
    if tiers is not None:
        option["tiers"] = tiers
    return option


def _currency_options(ctx_currency: str, raw: Any, recurring: bool, param: str,
                      on_update: bool = False) -> dict[str, Obj]:
    options: dict[str, Obj] = {}
    for key, value in (raw or {}).items():
        currency = currencies.check_map_key(key, param)
        where = f"{param}[{currency}]"
        if currency == ctx_currency:
            if on_update:
                raise errors.invalid(OPTION_SAME_CURRENCY, where)
            continue
        options[currency] = _option(currency, value, recurring, where)
    return options


def check_price_params(ctx: Context, p: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Validate price params (``POST /v1/prices`` or a product's ``default_price_data``) and
    return the computed fields.  Raises before anything is created."""
    currency = currencies.check(p["currency"], _p(prefix, "currency"))
    recurring_raw = p.get("recurring")
    scheme = p.get("billing_scheme", "per_unit")
    custom = _custom(p.get("custom_unit_amount"), _p(prefix, "custom_unit_amount"))
    tiers: list[Obj] | None = None
    if p.get("tiers") is not None and scheme != "tiered":
        raise errors.invalid(TIERS_NEED_TIERED, _p(prefix, "tiers"))
    if scheme == "tiered":
        if "tiers" not in p:
            raise errors.missing_param(_p(prefix, "tiers"))
        if "tiers_mode" not in p:
            raise errors.missing_param(_p(prefix, "tiers_mode"))
        if recurring_raw is None:
            raise errors.invalid(TIERED_ONE_TIME, "interval")
        if p.get("transform_quantity") is not None:
            raise errors.invalid(TRANSFORM_WITH_TIERS, _p(prefix, "transform_quantity"))
        tiers = _tiers(p["tiers"], _p(prefix, "tiers"))
        unit, unit_dec = None, None
    else:
        if custom is not None:
            if recurring_raw is not None:
                raise errors.invalid(CUSTOM_RECURRING, _p(prefix, "custom_unit_amount"))
            if p.get("unit_amount") is not None or p.get("unit_amount_decimal") is not None:
                raise errors.one_of(_p(prefix, "unit_amount"), _p(prefix, "custom_unit_amount"))
        unit, unit_dec = _amounts(p.get("unit_amount"), p.get("unit_amount_decimal"), prefix)
        if unit is None and unit_dec is None and custom is None:
            raise errors.invalid(NEED_AMOUNT)
    recurring = None
    if recurring_raw is not None:
        interval = recurring_raw["interval"]
        count = recurring_raw.get("interval_count", 1)
        if count < 1:
            raise errors.too_small(_p(prefix, "recurring") + "[interval_count]", 1)
        if count > MAX_INTERVAL[interval]:
            raise errors.invalid(INTERVAL_TOO_LONG,
                                 _p(prefix, "recurring") + "[interval_count]")
        recurring = {"interval": interval, "interval_count": count,
                     "meter": recurring_raw.get("meter"),
                     "trial_period_days": recurring_raw.get("trial_period_days"),
                     "usage_type": recurring_raw.get("usage_type", "licensed")}
    transform = p.get("transform_quantity")
    if transform is not None:
        if transform["divide_by"] < 1:
            raise errors.too_small(_p(prefix, "transform_quantity") + "[divide_by]", 1)
        transform = {"divide_by": transform["divide_by"], "round": transform["round"]}
    options = _currency_options(currency, p.get("currency_options"), recurring is not None,
                                _p(prefix, "currency_options"))
    return {"currency": currency, "billing_scheme": scheme, "custom_unit_amount": custom,
            "tiers": tiers, "unit_amount": unit, "unit_amount_decimal": unit_dec,
            "recurring": recurring, "transform_quantity": transform, "currency_options": options}


def new_price(ctx: Context, p: dict[str, Any], computed: dict[str, Any], prefix: str = "") -> Obj:
    """Create and store a price for ``p["product"]`` (which must exist); ``computed`` is what
    :func:`check_price_params` returned for ``p``."""
    lookup_key = p.get("lookup_key")
    if lookup_key is not None:
        _take_lookup_key(ctx, lookup_key, bool(p.get("transfer_lookup_key")))
    tax_behavior = p.get("tax_behavior", "unspecified")
    currency = computed["currency"]
    main_option: Obj = {"custom_unit_amount": computed["custom_unit_amount"],
                        "tax_behavior": tax_behavior,
                        "unit_amount": computed["unit_amount"],
                        "unit_amount_decimal": computed["unit_amount_decimal"]}
    if computed["tiers"] is not None:
        main_option["tiers"] = computed["tiers"]
    price: Obj = {
        "id": ctx.new_id("price"),
        "object": "price",
        "active": p.get("active", True),
        "billing_scheme": computed["billing_scheme"],
        "created": ctx.now(),
        "currency": currency,
        "currency_options": {currency: main_option, **computed["currency_options"]},
        "custom_unit_amount": computed["custom_unit_amount"],
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata.apply({}, p.get("metadata"), _p(prefix, "metadata")),
        "nickname": p.get("nickname"),
        "product": p["product"],
        "recurring": computed["recurring"],
        "tax_behavior": tax_behavior,
        "tiers": computed["tiers"] or [],
        "tiers_mode": p.get("tiers_mode"),
        "transform_quantity": computed["transform_quantity"],
        "type": "recurring" if computed["recurring"] else "one_time",
        "unit_amount": computed["unit_amount"],
        "unit_amount_decimal": computed["unit_amount_decimal"],
    }
    ctx.store.add(price)
    if lookup_key is not None:
        ctx.store.table("price").claim("lookup_key", lookup_key, price)
    return price


def _lookup_key_holder(ctx: Context, lookup_key: str, transfer: bool) -> Obj | None:
    """The price holding ``lookup_key``, which ``transfer_lookup_key`` may take it from (the
    holder stays active [S]/[C]); lookup keys are unique across all prices, archived ones
    too, so without ``transfer`` a held key is refused.  Nothing changes here."""
    holder = ctx.store.table("price").holder("lookup_key", lookup_key)
    if holder is not None and not transfer:
        raise errors.conflict(LOOKUP_KEY_TAKEN.format(price=holder["id"]), "lookup_key")
    return holder


def _take_lookup_key(ctx: Context, lookup_key: str, transfer: bool) -> None:
    """Free ``lookup_key`` for a new holder (see :func:`_lookup_key_holder`)."""
    holder = _lookup_key_holder(ctx, lookup_key, transfer)
    if holder is not None:
        ctx.store.table("price").claim("lookup_key", None, holder)
        holder["lookup_key"] = None


@route("POST", "/v1/prices")
def create(ctx: Context) -> Obj:
    from . import products

    p = dict(ctx.params)
    has_product, has_data = "product" in p, "product_data" in p
    if has_product and has_data:
        raise errors.one_of("product", "product_data")
    if not has_product and not has_data:
        raise errors.invalid(NEED_PRODUCT)
    if has_product:
        ctx.store.require("product", p["product"], param="product", in_path=False)
        return new_price(ctx, p, check_price_params(ctx, p))
    computed = check_price_params(ctx, p)  # nothing is created when the price is invalid
    if p.get("lookup_key") is not None:
        _lookup_key_holder(ctx, p["lookup_key"], bool(p.get("transfer_lookup_key")))
    product = products.new_product(ctx, p["product_data"], "product_data[")
    p["product"] = product["id"]
    return new_price(ctx, p, computed)


@route("GET", "/v1/prices/{price}")
def retrieve(ctx: Context, price: str) -> Obj:
    return ctx.store.require("price", price, param="price", in_path=True)


@route("POST", "/v1/prices/{price}")
def update(ctx: Context, price: str) -> Obj:
    obj = ctx.store.require("price", price, param="price", in_path=True)
    p = ctx.params
    if p.get("active") is False and obj["active"]:
        product = ctx.store.get("product", obj["product"])
        if product is not None and product["default_price"] == obj["id"]:
            raise errors.conflict(DEFAULT_PRICE_ARCHIVE, "active")
    if "tax_behavior" in p and p["tax_behavior"] != obj["tax_behavior"]:
        if obj["tax_behavior"] in ("inclusive", "exclusive"):
            raise errors.conflict(TAX_BEHAVIOR_LOCKED, "tax_behavior")
    options = None
    if "currency_options" in p:
        options = ({} if p["currency_options"] == "" else
                   _currency_options(obj["currency"], p["currency_options"],
                                     obj["recurring"] is not None, "currency_options",
                                     on_update=True))
    if "lookup_key" in p and p["lookup_key"] != obj["lookup_key"]:  # never "" (the schema)
        _take_lookup_key(ctx, p["lookup_key"], bool(p.get("transfer_lookup_key")))
        ctx.store.table("price").claim("lookup_key", p["lookup_key"], obj)
    for key in ("active", "nickname", "lookup_key", "tax_behavior"):
        if key in p:
            obj[key] = p[key]
    if "tax_behavior" in p:
        obj["currency_options"][obj["currency"]]["tax_behavior"] = p["tax_behavior"]
    if options is not None:
        main = obj["currency_options"][obj["currency"]]
        merged = {obj["currency"]: main}
        if p["currency_options"] != "":
            merged.update({k: v for k, v in obj["currency_options"].items()
                           if k != obj["currency"]})
            merged.update(options)
        obj["currency_options"] = merged
    if "metadata" in p:
        obj["metadata"] = metadata.apply(obj["metadata"], p["metadata"])
    return obj


@route("GET", "/v1/prices")
def list_prices(ctx: Context) -> Obj:
    p = ctx.params
    active = p.get("active", True)  # [D] without `active`, only active prices are listed
    product, currency, kind = p.get("product"), p.get("currency"), p.get("type")
    lookup_keys = set(p["lookup_keys"]) if "lookup_keys" in p else None
    recurring = p.get("recurring") or {}

    def matches(price: Obj) -> bool:
        if price["active"] != active:
            return False
        if product is not None and price["product"] != product:
            return False
        if currency is not None and price["currency"] != currency.lower():
            return False
        if kind is not None and price["type"] != kind:
            return False
        if lookup_keys is not None and price["lookup_key"] not in lookup_keys:
            return False
        if recurring:
            rec = price["recurring"]
            if rec is None or any(rec.get(k) != v for k, v in recurring.items()):
                return False
        return True

    table = ctx.store.table("price")
    if lookup_keys is not None:  # a handful of holders, newest first, instead of a scan
        held = lists.newest_of(table, (table.holder("lookup_key", k) for k in lookup_keys))
        return lists.page_of(held, p, "/v1/prices", matches, table)
    return lists.page(table, p, "/v1/prices", matches,
                      where=None if product is None else ("product", product))


@route("GET", "/v1/prices/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("price"), ctx.params, "/v1/prices/search", SEARCH_FIELDS)
