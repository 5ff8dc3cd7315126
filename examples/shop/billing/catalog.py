"""Keep Stripe's products and prices in line with the shop's catalog.

Each catalog item is one product with one active price, found again by the price's
``lookup_key``, so the shop never stores Stripe ids.  A sync is idempotent: running it again
with the same catalog makes read requests only.  When an amount changes, Stripe prices being
immutable, the item gets a new price that takes over the lookup key, becomes the product's
default price, and the old price is archived.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import stripe

Interval = Literal["day", "week", "month", "year"]


@dataclass(frozen=True)
class CatalogItem:
    """One thing the shop sells.  ``interval`` makes it a subscription price."""

    name: str
    lookup_key: str
    unit_amount: int  # in the currency's smallest unit (cents)
    currency: str = "usd"
    interval: Interval | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SyncReport:
    """Lookup keys per outcome of :meth:`Catalog.sync`."""

    created: list[str] = field(default_factory=list)
    repriced: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # product name/default price fixed
    unchanged: list[str] = field(default_factory=list)


class Catalog:
    """The catalog as stored in Stripe.  The client is injected: the app builds one
    ``stripe.StripeClient`` at startup, tests pass theirs."""

    def __init__(self, client: stripe.StripeClient, *, page_size: int = 100) -> None:
        self._client = client
        self._page_size = page_size

    def sync(self, items: Iterable[CatalogItem]) -> SyncReport:
        """Create or update one product and price per item."""
        report = SyncReport()
        for item in items:
            price = self.price(item.lookup_key)
            if price is None:
                self._create(item)
                report.created.append(item.lookup_key)
            elif not _same_price(price, item):
                self._reprice(price, item)
                report.repriced.append(item.lookup_key)
            elif self._fix_product(price, item):
                report.updated.append(item.lookup_key)
            else:
                report.unchanged.append(item.lookup_key)
        return report

    def price(self, lookup_key: str) -> stripe.Price | None:
        """The active price holding ``lookup_key`` (with its product expanded), if any."""
        prices = self._client.v1.prices.list(
            params={"lookup_keys": [lookup_key], "expand": ["data.product"], "limit": 1})
        return prices.data[0] if prices.data else None

    def products(self) -> Iterator[stripe.Product]:
        """Every active product, page by page (the SDK fetches the next page when needed)."""
        first_page = self._client.v1.products.list(params={"active": True, "limit": self._page_size})
        return first_page.auto_paging_iter()

    def search_products(self, key: str, value: str) -> list[stripe.Product]:
        """Products whose metadata ``key`` equals ``value``.  Stripe's search index lags
        writes by up to a minute: don't search for what you have just created."""
        query = f'metadata["{_quote(key)}"]:"{_quote(value)}"'
        result = self._client.v1.products.search(params={"query": query, "limit": self._page_size})
        return list(result.auto_paging_iter())

    # --- steps of a sync -------------------------------------------------------------------

    def _create(self, item: CatalogItem) -> None:
        # A product's ``default_price_data`` cannot carry a lookup key, so create the price
        # with ``product_data`` (one request, the key is set at once), then make it the
        # product's default price.  If the second request fails, the next sync repairs it.
        price = self._client.v1.prices.create(params={
            **_price_params(item),
            "product_data": {"name": item.name, "metadata": _product_metadata(item)},
        })
        product_id = str(price.product)  # an id: not expanded
        self._client.v1.products.update(product_id, params={"default_price": price.id})

    def _reprice(self, old: stripe.Price, item: CatalogItem) -> None:
        product = _product(old)
        new = self._client.v1.prices.create(params={**_price_params(item), "product": product.id})
        # A product's default price cannot be archived: point the product at the new price
        # first, then archive the old one.
        self._client.v1.products.update(product.id, params={"default_price": new.id, "name": item.name})
        self._client.v1.prices.update(old.id, params={"active": False})

    def _fix_product(self, price: stripe.Price, item: CatalogItem) -> bool:
        product = _product(price)
        changes: dict[str, Any] = {}
        if product.name != item.name:
            changes["name"] = item.name
        if product.default_price != price.id:
            changes["default_price"] = price.id
        if changes:
            self._client.v1.products.update(product.id, params=changes)
        return bool(changes)


def find_price(lookup_key: str) -> stripe.Price | None:
    """The active price holding ``lookup_key``, in the SDK's global style (``stripe.api_key``
    set at startup), as older parts of an app often do it."""
    prices = stripe.Price.list(lookup_keys=[lookup_key], limit=1)
    return prices.data[0] if prices.data else None


def _price_params(item: CatalogItem) -> dict[str, Any]:
    params: dict[str, Any] = {
        "currency": item.currency,
        "unit_amount": item.unit_amount,
        "lookup_key": item.lookup_key,
        # The catalog owns its lookup keys: take the key over even from an archived price.
        "transfer_lookup_key": True,
    }
    if item.interval is not None:
        params["recurring"] = {"interval": item.interval}
    return params


def _product_metadata(item: CatalogItem) -> dict[str, str]:
    return {**item.metadata, "lookup_key": item.lookup_key}


def _same_price(price: stripe.Price, item: CatalogItem) -> bool:
    interval = price.recurring.interval if price.recurring else None
    return (price.unit_amount, price.currency, interval) == (
        item.unit_amount, item.currency.lower(), item.interval)


def _product(price: stripe.Price) -> stripe.Product:
    return cast(stripe.Product, price.product)  # expanded by Catalog.price


def _quote(text: str) -> str:
    """Escape a value for a search query's double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
