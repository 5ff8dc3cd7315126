"""Products (STRIPE-API-RULES.md section 11), through the stripe SDK."""

from __future__ import annotations

import pytest
import stripe

from pytest_stripe_fixtures.fake.resources import products

FULL = {
    "name": "Dinosaur T-shirt",
    "active": True,
    "description": "Comfortable cotton",
    "id": "tshirt-dino",
    "images": ["https://example.com/dino.png"],
    "marketing_features": [{"name": "Organic"}],
    "metadata": {"sku": "DINO-1"},
    "package_dimensions": {"height": 1.5, "length": 10, "weight": 0.2, "width": 8},
    "shippable": True,
    "statement_descriptor": "DINO SHIRT",
    "tax_code": "txcd_99999999",
    "unit_label": "shirt",
    "url": "https://example.com/dino",
}


def test_create_with_every_param_echoes_them(stripe_client):
    product = stripe_client.v1.products.create(params=FULL)
    for key, value in FULL.items():
        got = product[key]
        got = [f.to_dict() for f in got] if key == "marketing_features" else got
        got = got.to_dict() if hasattr(got, "to_dict") else got
        assert got == value, key
    assert product.object == "product" and product.default_price is None
    assert product.created == product.updated
    assert product.type == "service"


def test_create_defaults(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    assert product.to_dict() | {"id": None, "created": None, "updated": None} == {
        "id": None, "object": "product", "active": True, "created": None, "default_price": None,
        "description": None, "images": [], "livemode": False, "marketing_features": [],
        "metadata": {}, "name": "Mug", "package_dimensions": None, "shippable": None,
        "statement_descriptor": None, "tax_code": None, "type": "service", "unit_label": None,
        "updated": None, "url": None}


def test_a_chosen_id_must_be_unique(stripe_client):
    stripe_client.v1.products.create(params={"name": "Mug", "id": "mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "id": "mug"})
    assert (info.value.code, info.value.param) == ("resource_already_exists", "id")
    assert info.value.user_message == "Product already exists."


def test_default_price_data_creates_the_price_and_sets_default_price(stripe_client):
    product = stripe_client.v1.products.create(params={
        "name": "Mug", "default_price_data": {
            "currency": "usd", "unit_amount": 1200, "recurring": {"interval": "month"},
            "tax_behavior": "exclusive"}})
    price = stripe_client.v1.prices.retrieve(product.default_price)
    assert (price.product, price.unit_amount, price.type) == (product.id, 1200, "recurring")
    assert price.tax_behavior == "exclusive"


def test_invalid_default_price_data_creates_nothing(stripe_client, stripe_fake):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug",
                                                 "default_price_data": {"currency": "usd"}})
    assert info.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug",
                                                 "default_price_data": {"unit_amount": 5}})
    assert info.value.param == "default_price_data[currency]"
    assert stripe_fake.objects("product") == [] and stripe_fake.objects("price") == []


def test_statement_descriptor_rules(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "statement_descriptor": "12345"})
    assert info.value.user_message == products.STATEMENT_DESCRIPTOR_LETTER
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "statement_descriptor": "MUG <3"})
    assert info.value.user_message == products.STATEMENT_DESCRIPTOR_CHARS


def test_unit_label_is_at_most_12_characters(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "unit_label": "x" * 13})
    assert info.value.param == "unit_label"


def test_at_most_8_images_and_15_features(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "images": ["https://x/i"] * 9})
    assert info.value.param == "images"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(
            params={"name": "Mug", "marketing_features": [{"name": str(i)} for i in range(16)]})
    assert info.value.param == "marketing_features"


def test_update_changes_fields_and_bumps_updated(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params=FULL)
    stripe_fake.clock.advance(30)
    updated = stripe_client.v1.products.update(product.id, params={
        "name": "Raptor T-shirt", "active": False, "shippable": False})
    assert (updated.name, updated.active, updated.shippable) == ("Raptor T-shirt", False, False)
    assert updated.updated == product.updated + 30 and updated.created == product.created


@pytest.mark.parametrize("field,cleared", [
    ("description", None), ("images", []), ("marketing_features", []),
    ("package_dimensions", None), ("tax_code", None), ("unit_label", None), ("url", None)])
def test_update_clears_unsettable_fields_with_empty_strings(stripe_client, field, cleared):
    product = stripe_client.v1.products.create(params=FULL)
    updated = stripe_client.v1.products.update(product.id, params={field: ""})
    assert updated[field] == cleared


@pytest.mark.parametrize("field,value", [("id", "other"), ("type", "good"),
                                         ("default_price_data", {"currency": "usd"})])
def test_fields_outside_the_update_allow_list_are_unknown(stripe_client, field, value):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.update(product.id, params={field: value})
    assert (info.value.code, info.value.param) == ("parameter_unknown", field)


def test_default_price_must_be_a_price_of_this_product(stripe_client):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    cup = stripe_client.v1.products.create(params={"name": "Cup"})
    cup_price = stripe_client.v1.prices.create(
        params={"product": cup.id, "currency": "usd", "unit_amount": 100})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.update(mug.id, params={"default_price": cup_price.id})
    assert info.value.param == "default_price"
    assert info.value.user_message == products.DEFAULT_PRICE_OTHER_PRODUCT.format(
        price=cup_price.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.update(mug.id, params={"default_price": "price_missing"})
    assert (info.value.code, info.value.param) == ("resource_missing", "default_price")
    assert info.value.user_message == "No such price: 'price_missing'"


def test_default_price_can_be_set_and_unset(stripe_client):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    price = stripe_client.v1.prices.create(
        params={"product": mug.id, "currency": "usd", "unit_amount": 100})
    assert stripe_client.v1.products.update(
        mug.id, params={"default_price": price.id}).default_price == price.id
    assert stripe_client.v1.products.update(
        mug.id, params={"default_price": ""}).default_price is None


def test_a_product_without_prices_can_be_deleted(stripe_client):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    deleted = stripe_client.v1.products.delete(mug.id)
    assert deleted.to_dict() == {"id": mug.id, "object": "product", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.retrieve(mug.id)
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")


def test_a_product_with_prices_cannot_be_deleted_even_archived_ones(stripe_client):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    price = stripe_client.v1.prices.create(
        params={"product": mug.id, "currency": "usd", "unit_amount": 100})
    stripe_client.v1.prices.update(price.id, params={"active": False})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.delete(mug.id)
    assert info.value.http_status == 400
    assert info.value.user_message == (
        "This product cannot be deleted because it has one or more user-created prices.")


def test_archiving_a_product_leaves_its_prices_active(stripe_client):
    mug = stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 5}})
    stripe_client.v1.products.update(mug.id, params={"active": False})
    assert stripe_client.v1.prices.retrieve(mug.default_price).active is True


def test_list_filters(stripe_client):
    a = stripe_client.v1.products.create(params={"name": "A", "shippable": True,
                                                 "url": "https://x/a"})
    b = stripe_client.v1.products.create(params={"name": "B", "active": False})
    c = stripe_client.v1.products.create(params={"name": "C", "type": "good"})
    ids = lambda **p: [x.id for x in stripe_client.v1.products.list(params=p)]  # noqa: E731
    assert ids() == [c.id, b.id, a.id]  # without `active`, both active and inactive
    assert ids(active=True) == [c.id, a.id]
    assert ids(active=False) == [b.id]
    assert ids(shippable=True) == [a.id]
    assert ids(url="https://x/a") == [a.id]
    assert ids(type="good") == [c.id]
    assert ids(ids=[a.id, c.id]) == [c.id, a.id]


def test_ids_cannot_be_combined_with_cursors(stripe_client):
    a = stripe_client.v1.products.create(params={"name": "A"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.list(params={"ids": [a.id], "starting_after": a.id})
    assert info.value.param == "ids"
    assert info.value.user_message == (
        "You may only specify one of these parameters: ids, starting_after.")


def test_global_style_crud(stripe_fake):
    stripe.api_key = "sk_test_fake"
    try:
        product = stripe.Product.create(name="Mug")
        assert stripe.Product.retrieve(product.id).name == "Mug"
        assert stripe.Product.modify(product.id, name="Cup").name == "Cup"
        assert stripe.Product.delete(product.id).deleted is True
    finally:
        stripe.api_key = None


def test_tax_details_are_present_only_once_set(stripe_client, stripe_client_2023):
    product = stripe_client.v1.products.create(
        params={"name": "Concert", "tax_details": {"tax_code": "txcd_20030000"}})
    assert product.tax_details.to_dict() == {"performance_location": None,
                                             "tax_code": "txcd_20030000"}
    merged = stripe_client.v1.products.update(
        product.id, params={"tax_details": {"performance_location": "taxloc_1"}})
    assert merged.tax_details.to_dict() == {"performance_location": "taxloc_1",
                                            "tax_code": "txcd_20030000"}
    assert "tax_details" not in stripe_client.v1.products.update(
        product.id, params={"tax_details": ""})
    assert "tax_details" not in stripe_client_2023.v1.products.retrieve(product.id)
