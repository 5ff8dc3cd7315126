"""Products (STRIPE-API-RULES.md section 11)."""

from __future__ import annotations

from typing import Any

from .. import errors, lists, metadata, versions
from ..engine import Context
from ..routing import route
from ..store import Obj

# --- rules whose wording is not verified ([R]); correct them here --------------------------
ALREADY_EXISTS = "Product already exists."  # [V] stripe/stripe-go#1774 (2023)
HAS_PRICES = "This product cannot be deleted because it has one or more user-created prices."  # [V]
DEFAULT_PRICE_OTHER_PRODUCT = "The price `{price}` does not belong to this product."  # [R]
DEFAULT_PRICE_INACTIVE = "The price `{price}` is not active and cannot be the default price."  # [R]
TOO_MANY = "You can pass at most {limit} {what}."  # [R]
STATEMENT_DESCRIPTOR_LETTER = "The statement descriptor must contain at least one letter."  # [R]
STATEMENT_DESCRIPTOR_CHARS = (  # [R]
    "The statement descriptor contains one of the disallowed characters: < > \\ ' \"."
)
MAX_FEATURES, MAX_IMAGES = 15, 8

SEARCH_FIELDS = {"active": "token", "description": "string", "metadata": "token",
                 "name": "string", "shippable": "token", "url": "string"}

# Fields ``""`` clears on update, and what they clear to.
CLEARED = {"description": None, "images": [], "marketing_features": [],
           "package_dimensions": None, "tax_code": None, "unit_label": None, "url": None,
           "default_price": None}

_TAX_DETAILS_PARAM = {
    "type": "object", "additionalProperties": False,
    "properties": {"performance_location": {"type": "string", "maxLength": 5000},
                   "tax_code": {"anyOf": [{"type": "string", "maxLength": 5000},
                                          {"type": "string", "enum": [""]}]}}}

versions.register(
    versions.FieldRenamed(
        "2024-04-10", "Products: `features` is now `marketing_features`.",
        object="product", old="features", new="marketing_features",
        endpoints=("POST /v1/products", "POST /v1/products/{id}")),
    versions.FieldAdded(
        "2024-04-10", "Products carry `type` (`good`/`service`); the 2023 spec omits it. [R]",
        object="product", path="type",
        schema={"type": "string", "enum": ["good", "service"]},
        params={"POST /v1/products": {"type": {"type": "string", "enum": ["good", "service"]}},
                "GET /v1/products": {"type": {"type": "string", "enum": ["good", "service"]}}}),
    versions.FieldAdded(
        "2026-03-25.dahlia",
        "Products carry `tax_details` once set (the current example product has none). [R]",
        object="product", path="tax_details", always=False,
        schema={"type": "object", "additionalProperties": False,
                "required": ["performance_location", "tax_code"],
                "properties": {"performance_location": {"type": ["string", "null"]},
                               "tax_code": {"type": ["string", "null"]}}},
        params={endpoint: {"tax_details": _TAX_DETAILS_PARAM if create else
                           {"anyOf": [_TAX_DETAILS_PARAM, {"type": "string", "enum": [""]}]}}
                for endpoint, create in (("POST /v1/products", True),
                                         ("POST /v1/products/{id}", False))}),
)


def check_statement_descriptor(value: str, param: str = "statement_descriptor") -> None:
    if not any(c.isalpha() for c in value):
        raise errors.invalid(STATEMENT_DESCRIPTOR_LETTER, param)
    if any(c in value for c in "<>\\'\""):
        raise errors.invalid(STATEMENT_DESCRIPTOR_CHARS, param)


def _check_lists(p: dict[str, Any]) -> None:
    if len(p.get("marketing_features") or ()) > MAX_FEATURES:
        raise errors.invalid(TOO_MANY.format(limit=MAX_FEATURES, what="marketing features"),
                             "marketing_features")
    if len(p.get("images") or ()) > MAX_IMAGES:
        raise errors.invalid(TOO_MANY.format(limit=MAX_IMAGES, what="images"), "images")


def _tax_details(current: Obj | None, update: Any) -> Obj | None:
    """``tax_details`` after create/update: ``""`` clears it, a key set to ``""`` unsets it."""
    if update is None:
        return current
    if update == "":
        return None
    merged = dict(current or {"performance_location": None, "tax_code": None})
    for key, value in update.items():
        merged[key] = value or None
    return merged


def new_product(ctx: Context, p: dict[str, Any], param_prefix: str = "") -> Obj:
    """Create and store a product from typed params (also used by ``price.product_data``)."""
    pid = p.get("id")
    if pid is not None and (ctx.store.get("product", pid) or ctx.store.get_deleted("product", pid)):
        raise errors.conflict(ALREADY_EXISTS, f"{param_prefix}id", "resource_already_exists")
    if p.get("statement_descriptor"):
        check_statement_descriptor(p["statement_descriptor"],
                                   f"{param_prefix}statement_descriptor")
    _check_lists(p)
    now = ctx.now()
    product: Obj = {
        "id": pid or ctx.new_id("product"),
        "object": "product",
        "active": p.get("active", True),
        "created": now,
        "default_price": None,
        "description": p.get("description"),
        "images": list(p.get("images") or []),
        "livemode": False,
        "marketing_features": [{"name": f["name"]} for f in p.get("marketing_features") or []],
        "metadata": metadata.apply({}, p.get("metadata"), f"{param_prefix}metadata"),
        "name": p["name"],
        "package_dimensions": p.get("package_dimensions"),
        "shippable": p.get("shippable"),
        "statement_descriptor": p.get("statement_descriptor"),
        "tax_code": p.get("tax_code"),
        "type": p.get("type", "service"),
        "unit_label": p.get("unit_label"),
        "updated": now,
        "url": p.get("url"),
    }
    if p.get("tax_details"):
        product["tax_details"] = _tax_details(None, p["tax_details"])
    return ctx.store.add(product)


@route("POST", "/v1/products")
def create(ctx: Context) -> Obj:
    from . import prices

    p = ctx.params
    data = p.get("default_price_data")
    if data is not None:
        computed = prices.check_price_params(ctx, data, "default_price_data[")  # fail first
    product = new_product(ctx, p)
    if data is not None:
        price = prices.new_price(ctx, {**data, "product": product["id"]}, computed,
                                 "default_price_data[")
        product["default_price"] = price["id"]
    return product


@route("GET", "/v1/products/{id}")
def retrieve(ctx: Context, id: str) -> Obj:
    return ctx.store.require("product", id, param="id", in_path=True)


@route("POST", "/v1/products/{id}")
def update(ctx: Context, id: str) -> Obj:
    product = ctx.store.require("product", id, param="id", in_path=True)
    p = ctx.params
    _check_lists(p)
    if p.get("statement_descriptor"):
        check_statement_descriptor(p["statement_descriptor"])
    if "default_price" in p and p["default_price"] != "":
        price = ctx.store.require("price", p["default_price"], param="default_price",
                                  in_path=False)
        if price["product"] != id:
            raise errors.conflict(DEFAULT_PRICE_OTHER_PRODUCT.format(price=price["id"]),
                                  "default_price")
        if not price["active"]:
            raise errors.conflict(DEFAULT_PRICE_INACTIVE.format(price=price["id"]),
                                  "default_price")
    changes: dict[str, Any] = {}
    for key, value in p.items():
        if key in ("expand", "metadata"):
            continue
        if value == "" and key in CLEARED:
            changes[key] = CLEARED[key]
        elif key == "marketing_features":
            changes[key] = [{"name": f["name"]} for f in value]
        elif key == "tax_details":
            changes[key] = _tax_details(product.get("tax_details"), value)
        else:
            changes[key] = value
    if "metadata" in p:
        changes["metadata"] = metadata.apply(product["metadata"], p["metadata"])
    product.update(changes)
    if "tax_details" in changes and changes["tax_details"] is None:
        del product["tax_details"]  # present only while set
    product["updated"] = ctx.now()
    return product


@route("DELETE", "/v1/products/{id}")
def delete(ctx: Context, id: str) -> Obj:
    ctx.store.require("product", id, param="id", in_path=True)
    if next(ctx.store.table("price").newest_first(where=("product", id)), None) is not None:
        raise errors.conflict(HAS_PRICES)
    stub = {"id": id, "object": "product", "deleted": True}
    ctx.store.delete("product", id, stub)
    return stub


@route("GET", "/v1/products")
def list_products(ctx: Context) -> Obj:
    p = ctx.params
    filters = {k: p[k] for k in ("active", "shippable", "url", "type") if k in p}

    def matches(product: Obj) -> bool:
        return all(product.get(k) == v for k, v in filters.items())

    predicate = matches if filters else None
    if "ids" in p:
        for cursor in ("starting_after", "ending_before"):
            if cursor in p:
                raise errors.one_of("ids", cursor)
        chosen = lists.newest_of(ctx.store.table("product"),
                                 (ctx.store.get("product", oid) for oid in set(p["ids"])))
        return lists.page_of(chosen, p, "/v1/products", predicate, ctx.store.table("product"))
    return lists.page(ctx.store.table("product"), p, "/v1/products", predicate)


@route("GET", "/v1/products/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("product"), ctx.params, "/v1/products/search",
                        SEARCH_FIELDS)

