"""Prices (STRIPE-API-RULES.md section 12), through the stripe SDK."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe

from pytest_stripe_fixtures.fake.resources import prices


@pytest.fixture
def mug(stripe_client):
    return stripe_client.v1.products.create(params={"name": "Mug"})


def _price(client, product, **params):
    return client.v1.prices.create(params={"product": product.id, "currency": "usd", **params})


def test_a_one_time_price(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=2000, nickname="Standard",
                   metadata={"k": "v"})
    assert (price.object, price.type, price.billing_scheme) == ("price", "one_time", "per_unit")
    assert (price.unit_amount, price.unit_amount_decimal) == (2000, Decimal("2000"))
    assert (price.recurring, price.tax_behavior, price.active) == (None, "unspecified", True)
    assert price.nickname == "Standard" and price.metadata.to_dict() == {"k": "v"}


def test_a_recurring_price(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=500,
                   recurring={"interval": "week", "interval_count": 2})
    assert price.type == "recurring"
    assert price.recurring.to_dict() == {"interval": "week", "interval_count": 2, "meter": None,
                                         "trial_period_days": None, "usage_type": "licensed"}


def test_the_recurring_interval_is_at_most_a_year(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=5, recurring={"interval": "month",
                                                             "interval_count": 13})
    assert info.value.param == "recurring[interval_count]"
    assert info.value.user_message == prices.INTERVAL_TOO_LONG


def test_currency_is_required_and_must_be_supported(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(params={"product": mug.id, "unit_amount": 5})
    assert (info.value.code, info.value.param) == ("parameter_missing", "currency")
    assert info.value.user_message == "Missing required param: currency."
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, currency="xyz", unit_amount=5)
    assert info.value.param == "currency"
    assert info.value.user_message.startswith("Invalid currency: xyz.")


def test_exactly_one_of_product_and_product_data(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(params={"currency": "usd", "unit_amount": 5})
    assert info.value.user_message == prices.NEED_PRODUCT
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=5, product_data={"name": "Other"})
    assert info.value.user_message == (
        "You may only specify one of these parameters: product, product_data.")


def test_product_data_creates_the_product(stripe_client, stripe_fake):
    price = stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 5,
        "product_data": {"name": "Sticker", "metadata": {"a": "b"}, "unit_label": "piece"}})
    product = stripe_client.v1.products.retrieve(price.product)
    assert (product.name, product.unit_label, product.active) == ("Sticker", "piece", True)
    assert product.default_price is None


def test_a_per_unit_price_needs_an_amount(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug)
    assert info.value.user_message == prices.NEED_AMOUNT


def test_unit_amount_and_unit_amount_decimal_are_exclusive(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=5, unit_amount_decimal="5.5")
    assert info.value.user_message == (
        "You may only specify one of these parameters: unit_amount, unit_amount_decimal.")


def test_unit_amount_decimal(stripe_client, mug):
    fractional = _price(stripe_client, mug, unit_amount_decimal="12.5")
    assert (fractional.unit_amount, fractional.unit_amount_decimal) == (None, Decimal("12.5"))
    whole = _price(stripe_client, mug, unit_amount_decimal="1200")
    assert (whole.unit_amount, whole.unit_amount_decimal) == (1200, Decimal("1200"))
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount_decimal="0.1234567890123")
    assert info.value.param == "unit_amount_decimal"


def test_a_free_price_is_allowed(stripe_client, mug):
    assert _price(stripe_client, mug, unit_amount=0).unit_amount == 0


TIERS = [{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 400,
                                              "flat_amount": 100}]


def test_a_tiered_price(stripe_client, mug):
    price = _price(stripe_client, mug, billing_scheme="tiered", tiers_mode="graduated",
                   tiers=TIERS, recurring={"interval": "month"})
    assert (price.unit_amount, price.unit_amount_decimal) == (None, None)
    assert price.tiers_mode == "graduated" and "tiers" not in price
    full = stripe_client.v1.prices.retrieve(price.id, params={"expand": ["tiers"]})
    assert [t.up_to for t in full.tiers] == [10, None]
    assert full.tiers[1].to_dict() == {"flat_amount": 100, "flat_amount_decimal": Decimal(100),
                                       "unit_amount": 400, "unit_amount_decimal": Decimal(400),
                                       "up_to": None}


def test_tiered_prices_need_tiers_and_tiers_mode_and_recurring(stripe_client, mug):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, billing_scheme="tiered", tiers=TIERS,
               recurring={"interval": "month"})
    assert info.value.user_message == "Missing required param: tiers_mode."
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, billing_scheme="tiered", tiers_mode="volume",
               recurring={"interval": "month"})
    assert info.value.user_message == "Missing required param: tiers."
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, billing_scheme="tiered", tiers_mode="volume", tiers=TIERS)
    assert info.value.user_message == prices.TIERED_ONE_TIME
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=5, tiers=TIERS)
    assert info.value.user_message == prices.TIERS_NEED_TIERED


def test_every_tier_needs_an_amount_and_the_last_goes_to_infinity(stripe_client, mug):
    base = {"billing_scheme": "tiered", "tiers_mode": "volume", "recurring": {"interval": "month"}}
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, **base, tiers=[{"up_to": 5}, {"up_to": "inf",
                                                                 "unit_amount": 1}])
    assert (info.value.param, info.value.user_message) == ("amount", prices.TIER_NO_AMOUNT)
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, **base, tiers=[{"up_to": 5, "unit_amount": 1}])
    assert info.value.user_message == prices.TIERS_LAST_INF
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, **base, tiers=[{"up_to": 5, "unit_amount": 1,
                                                   "unit_amount_decimal": "1"},
                                                  {"up_to": "inf", "unit_amount": 1}])
    assert info.value.param == "tiers[0][unit_amount]"


def test_transform_quantity(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=100,
                   transform_quantity={"divide_by": 10, "round": "up"})
    assert price.transform_quantity.to_dict() == {"divide_by": 10, "round": "up"}


def test_custom_unit_amount(stripe_client, mug):
    price = _price(stripe_client, mug, custom_unit_amount={"enabled": True, "minimum": 100,
                                                           "maximum": 5000, "preset": 500})
    assert price.custom_unit_amount.to_dict() == {"maximum": 5000, "minimum": 100, "preset": 500}
    assert price.unit_amount is None
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, custom_unit_amount={"enabled": True},
               recurring={"interval": "month"})
    assert info.value.user_message == prices.CUSTOM_RECURRING


def test_currency_options(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=1000,
                   currency_options={"eur": {"unit_amount": 900, "tax_behavior": "inclusive"}})
    full = stripe_client.v1.prices.retrieve(price.id, params={"expand": ["currency_options"]})
    assert full.currency_options["eur"].to_dict() == {
        "custom_unit_amount": None, "tax_behavior": "inclusive", "unit_amount": 900,
        "unit_amount_decimal": "900"}  # the SDK types no Decimal inside currency maps
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=1, currency_options={"EUR": {"unit_amount": 9}})
    assert info.value.user_message == (
        "Currencies must be lowercase when used as keys in a map. Use `eur` instead of `EUR`.")


def test_currency_options_update_cannot_touch_the_top_level_currency(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.update(price.id, params={
            "currency_options": {"usd": {"unit_amount": 5}}})
    assert info.value.param == "currency_options[usd]"
    assert info.value.user_message == prices.OPTION_SAME_CURRENCY
    updated = stripe_client.v1.prices.update(price.id, params={
        "currency_options": {"gbp": {"unit_amount": 800}}, "expand": ["currency_options"]})
    assert set(updated.currency_options.to_dict()) == {"usd", "gbp"}


def test_lookup_keys_are_unique(stripe_client, mug):
    first = _price(stripe_client, mug, unit_amount=1, lookup_key="standard")
    with pytest.raises(stripe.InvalidRequestError) as info:
        _price(stripe_client, mug, unit_amount=2, lookup_key="standard")
    assert info.value.param == "lookup_key"
    assert info.value.user_message == f"A price (`{first.id}`) already uses that lookup key."


def test_an_archived_price_still_holds_its_lookup_key(stripe_client, mug):
    first = _price(stripe_client, mug, unit_amount=1, lookup_key="standard")
    stripe_client.v1.prices.update(first.id, params={"active": False})
    with pytest.raises(stripe.InvalidRequestError):
        _price(stripe_client, mug, unit_amount=2, lookup_key="standard")


def test_transfer_lookup_key_moves_it(stripe_client, mug):
    first = _price(stripe_client, mug, unit_amount=1, lookup_key="standard")
    second = _price(stripe_client, mug, unit_amount=2, lookup_key="standard",
                    transfer_lookup_key=True)
    old = stripe_client.v1.prices.retrieve(first.id)
    assert (old.lookup_key, old.active, second.lookup_key) == (None, True, "standard")
    third = _price(stripe_client, mug, unit_amount=3)
    moved = stripe_client.v1.prices.update(third.id, params={"lookup_key": "standard",
                                                             "transfer_lookup_key": True})
    assert moved.lookup_key == "standard"
    assert stripe_client.v1.prices.retrieve(second.id).lookup_key is None


def test_prices_are_archived_not_deleted(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=1)
    assert stripe_client.v1.prices.update(price.id, params={"active": False}).active is False
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.raw_request("delete", f"/v1/prices/{price.id}")
    assert info.value.http_status == 404


def test_the_default_price_cannot_be_archived(stripe_client):
    product = stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 5}})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.update(product.default_price, params={"active": False})
    assert info.value.user_message == (
        "This price cannot be archived because it is the default price of its product.")


@pytest.mark.parametrize("field,value", [
    ("unit_amount", 5), ("currency", "eur"), ("product", "prod_x"),
    ("recurring", {"interval": "day"}), ("billing_scheme", "tiered"), ("type", "one_time")])
def test_fields_fixed_at_creation_cannot_be_updated(stripe_client, mug, field, value):
    price = _price(stripe_client, mug, unit_amount=1)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.update(price.id, params={field: value})
    assert info.value.user_message == f"Received unknown parameter: {field}"


def test_tax_behavior_is_fixed_once_inclusive_or_exclusive(stripe_client, mug):
    price = _price(stripe_client, mug, unit_amount=1)
    assert stripe_client.v1.prices.update(
        price.id, params={"tax_behavior": "inclusive"}).tax_behavior == "inclusive"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.update(price.id, params={"tax_behavior": "exclusive"})
    assert info.value.user_message == prices.TAX_BEHAVIOR_LOCKED


def test_list_shows_only_active_prices_unless_asked(stripe_client, mug):
    live = _price(stripe_client, mug, unit_amount=1)
    archived = _price(stripe_client, mug, unit_amount=2)
    stripe_client.v1.prices.update(archived.id, params={"active": False})
    assert [p.id for p in stripe_client.v1.prices.list()] == [live.id]
    assert [p.id for p in stripe_client.v1.prices.list(params={"active": False})] == [archived.id]


def test_list_filters(stripe_client, mug):
    cup = stripe_client.v1.products.create(params={"name": "Cup"})
    monthly = _price(stripe_client, mug, unit_amount=1, recurring={"interval": "month"},
                     lookup_key="m")
    metered = _price(stripe_client, mug, unit_amount=1, lookup_key="x",
                     recurring={"interval": "month", "usage_type": "metered"})
    once_eur = _price(stripe_client, cup, unit_amount=1, currency="eur")
    ids = lambda **p: [x.id for x in stripe_client.v1.prices.list(params=p)]  # noqa: E731
    assert ids(product=cup.id) == [once_eur.id]
    assert ids(currency="eur") == [once_eur.id]
    assert ids(type="recurring") == [metered.id, monthly.id]
    assert ids(lookup_keys=["m", "x"]) == [metered.id, monthly.id]
    assert ids(recurring={"usage_type": "metered"}) == [metered.id]
    assert ids(recurring={"interval": "month", "usage_type": "licensed"}) == [monthly.id]


def test_prices_keep_working_in_2023_08_16(stripe_client_2023, mug):
    price = stripe_client_2023.v1.prices.create(params={
        "product": mug.id, "currency": "usd", "unit_amount": 1,
        "recurring": {"interval": "month", "usage_type": "metered", "aggregate_usage": "max"}})
    assert price.recurring.usage_type == "metered" and "meter" not in price.recurring
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client_2023.v1.prices.create(params={
            "product": mug.id, "currency": "usd", "unit_amount": 1,
            "recurring": {"interval": "month", "meter": "mtr_1"}})
    assert info.value.param == "recurring[meter]"


def test_lookup_keys_follow_every_move(stripe_client, mug):
    a = _price(stripe_client, mug, unit_amount=1, lookup_key="a")
    stripe_client.v1.prices.update(a.id, params={"lookup_key": "b"})
    again = _price(stripe_client, mug, unit_amount=2, lookup_key="a")  # "a" is free again
    found = stripe_client.v1.prices.list(params={"lookup_keys": ["a", "b"]})
    assert [p.id for p in found] == [again.id, a.id]
    with pytest.raises(stripe.InvalidRequestError):
        _price(stripe_client, mug, unit_amount=3, lookup_key="b")


def test_a_lookup_keys_list_accepts_any_price_as_its_cursor(stripe_client, mug):
    a = _price(stripe_client, mug, unit_amount=1, lookup_key="a")
    b = _price(stripe_client, mug, unit_amount=2, lookup_key="b")
    c = _price(stripe_client, mug, unit_amount=3, lookup_key="c")
    page = stripe_client.v1.prices.list(params={"lookup_keys": ["a", "c"], "starting_after": b.id})
    assert [p.id for p in page] == [a.id]
    page = stripe_client.v1.prices.list(params={"lookup_keys": ["a", "c"], "ending_before": b.id})
    assert [p.id for p in page] == [c.id]
