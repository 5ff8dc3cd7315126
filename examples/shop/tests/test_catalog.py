"""The catalog sync: products, prices, lookup keys, re-syncs."""

from __future__ import annotations

import stripe

from billing.catalog import Catalog, CatalogItem, find_price

COFFEE = CatalogItem("House blend, 1 kg", "coffee-1kg", 2400, metadata={"category": "coffee"})
CLUB = CatalogItem("Coffee club", "club-monthly", 1500, interval="month",
                   metadata={"category": "subscription"})


def test_sync_creates_a_product_with_a_default_price_per_item(catalog: Catalog):
    report = catalog.sync([COFFEE, CLUB])

    assert report.created == ["coffee-1kg", "club-monthly"]
    coffee = catalog.price("coffee-1kg")
    assert coffee is not None
    assert (coffee.unit_amount, coffee.currency, coffee.type) == (2400, "usd", "one_time")
    assert coffee.product.name == "House blend, 1 kg"
    assert coffee.product.default_price == coffee.id
    club = catalog.price("club-monthly")
    assert club is not None and club.recurring is not None
    assert club.recurring.interval == "month"


def test_a_second_sync_of_the_same_catalog_only_reads(catalog: Catalog, stripe_fake):
    catalog.sync([COFFEE, CLUB])
    stripe_fake.requests.clear()

    report = catalog.sync([COFFEE, CLUB])

    assert report.unchanged == ["coffee-1kg", "club-monthly"]
    assert {r.method for r in stripe_fake.requests} == {"GET"}


def test_a_new_amount_moves_the_lookup_key_to_a_new_price_and_archives_the_old(
        catalog: Catalog, client: stripe.StripeClient, stripe_fake):
    catalog.sync([COFFEE])
    old = catalog.price("coffee-1kg")
    assert old is not None

    report = catalog.sync([CatalogItem(COFFEE.name, "coffee-1kg", 2600)])

    assert report.repriced == ["coffee-1kg"]
    new = catalog.price("coffee-1kg")
    assert new is not None and new.id != old.id
    assert new.unit_amount == 2600
    assert new.product.id == old.product.id  # same product, no duplicate
    assert new.product.default_price == new.id
    archived = client.v1.prices.retrieve(old.id)
    assert archived.active is False
    assert archived.lookup_key is None
    assert len(stripe_fake.objects("product")) == 1


def test_a_renamed_item_updates_its_product(catalog: Catalog):
    catalog.sync([COFFEE])

    report = catalog.sync([CatalogItem("Signature blend, 1 kg", "coffee-1kg", 2400)])

    assert report.updated == ["coffee-1kg"]
    price = catalog.price("coffee-1kg")
    assert price is not None and price.product.name == "Signature blend, 1 kg"


def test_price_lookup_in_the_global_style(catalog: Catalog, global_stripe):
    catalog.sync([COFFEE])

    price = find_price("coffee-1kg")

    assert price is not None and price.unit_amount == 2400
    assert find_price("tea-1kg") is None


def test_products_are_read_page_by_page(client: stripe.StripeClient, stripe_fake):
    Catalog(client).sync(CatalogItem(f"Mug #{n}", f"mug-{n}", 900 + n) for n in range(25))
    stripe_fake.requests.clear()

    names = [product.name for product in Catalog(client, page_size=10).products()]

    assert sorted(names) == sorted(f"Mug #{n}" for n in range(25))
    pages = [r for r in stripe_fake.requests if r.endpoint == "GET /v1/products"]
    assert len(pages) == 3


def test_products_are_found_by_metadata(catalog: Catalog):
    # The fake's search index is up to date at once; Stripe's lags writes by up to a minute.
    catalog.sync([COFFEE, CLUB, CatalogItem("Espresso, 250 g", "espresso-250g", 900,
                                            metadata={"category": "coffee"})])

    found = catalog.search_products("category", "coffee")

    assert sorted(p.name for p in found) == ["Espresso, 250 g", "House blend, 1 kg"]
