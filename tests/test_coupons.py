"""Coupons (STRIPE-API-RULES.md section 13), through the stripe SDK.

Coupons look the same in 2023-08-16 and the current version; ``valid`` turning false as
coupons are redeemed is shown in test_discounts.py, and as the clock passes ``redeem_by`` in
test_promotion_codes.py.
"""

from __future__ import annotations

import re

import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake.resources import coupons


def test_a_percent_coupon_with_stripes_defaults(stripe_client, stripe_fake):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 25.5})
    assert re.fullmatch(r"[A-Za-z0-9]{8}", coupon.id)
    assert (coupon.object, coupon.percent_off, coupon.amount_off, coupon.currency) == (
        "coupon", 25.5, None, None)
    assert (coupon.duration, coupon.duration_in_months) == ("once", None)
    assert (coupon.valid, coupon.times_redeemed, coupon.max_redemptions) == (True, 0, None)
    assert (coupon.name, coupon.redeem_by, coupon.livemode) == (None, None, False)
    assert coupon.metadata.to_dict() == {}
    assert coupon.created == stripe_fake.clock.now()
    assert "applies_to" not in coupon and "currency_options" not in coupon  # includable


def test_integral_percentages_serialize_as_integers(stripe_client, stripe_fake):
    stripe_client.v1.coupons.create(params={"percent_off": 100})
    assert '"percent_off": 100,' in stripe_fake.last_request.response.text


def test_an_amount_coupon_needs_a_currency(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"amount_off": 500})
    assert (err.http_status, err.param, err.code) == (400, "currency", None)
    assert err.user_message == "You must pass currency when passing amount_off"
    coupon = stripe_client.v1.coupons.create(params={"amount_off": 500, "currency": "EUR"})
    assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (500, "eur", None)


def test_exactly_one_of_percent_off_and_amount_off(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"duration": "forever"})
    assert (err.code, err.param) == ("parameter_missing", None)
    assert err.user_message == "Must provide percent_off or amount_off."
    err = _error(stripe_client.v1.coupons.create,
                 params={"percent_off": 10, "amount_off": 100, "currency": "usd"})
    assert (err.code, err.param) == (None, None)
    assert err.user_message == (
        "Received both percent_off and amount_off parameters. Please pass in only one.")


def test_the_discount_must_be_positive_and_at_most_100_percent(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"percent_off": 0})
    assert err.param == "percent_off"
    assert err.user_message == (
        "This value must be greater than or equal to 0.01 (it currently is '0.0').")
    err = _error(stripe_client.v1.coupons.create, params={"percent_off": 101})
    assert err.param == "percent_off"
    assert err.user_message == (
        "This value must be less than or equal to 100 (it currently is '101.0').")
    err = _error(stripe_client.v1.coupons.create, params={"amount_off": 0, "currency": "usd"})
    assert err.param == "amount_off"
    assert err.user_message == "This value must be greater than or equal to 1."


def test_duration_in_months_goes_with_repeating_only_and_always(stripe_client):
    err = _error(stripe_client.v1.coupons.create,
                 params={"percent_off": 10, "duration": "repeating"})
    assert err.param == "duration"
    assert err.user_message == ("The duration_in_months param must be set when creating a "
                                "coupon with a repeating duration")
    err = _error(stripe_client.v1.coupons.create,
                 params={"percent_off": 10, "duration": "forever", "duration_in_months": 3})
    assert (err.param, err.user_message) == ("duration_in_months", coupons.MONTHS_NOT_REPEATING)
    coupon = stripe_client.v1.coupons.create(
        params={"percent_off": 10, "duration": "repeating", "duration_in_months": 3})
    assert (coupon.duration, coupon.duration_in_months) == ("repeating", 3)


def test_duration_must_be_one_of_the_three(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"percent_off": 10, "duration": "weekly"})
    assert err.param == "duration"
    assert err.user_message == "Invalid duration: must be one of forever, once, or repeating"


def test_max_redemptions_is_a_positive_integer(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"percent_off": 10, "max_redemptions": 0})
    assert err.param == "max_redemptions"
    assert err.user_message == "This value must be greater than or equal to 1."
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 10, "max_redemptions": 5})
    assert coupon.max_redemptions == 5


def test_redeem_by_must_be_in_the_future_of_the_fake_clock(stripe_client, stripe_fake):
    now = stripe_fake.clock.now()
    for past in (now - 3600, now):
        err = _error(stripe_client.v1.coupons.create,
                     params={"percent_off": 10, "redeem_by": past})
        assert err.param == "redeem_by"
        assert err.user_message == (
            "The parameter `redeem_by` expects a unix timestamp representing a date and time in "
            f"the future. You specified the value `{past}` which is in the past.")
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 10, "redeem_by": now + 60})
    assert (coupon.redeem_by, coupon.valid) == (now + 60, True)


def test_a_chosen_id_and_its_uniqueness(stripe_client, stripe_client_2023):
    coupon = stripe_client.v1.coupons.create(params={"id": "SUMMER25", "percent_off": 25})
    assert coupon.id == "SUMMER25"
    for client in (stripe_client, stripe_client_2023):
        err = _error(client.v1.coupons.create, params={"id": "SUMMER25", "percent_off": 5})
        assert (err.http_status, err.code, err.param) == (400, "resource_already_exists", None)
        assert err.user_message == "Coupon already exists."


def test_an_empty_id_is_refused(stripe_client):
    err = _error(stripe_client.v1.coupons.create, params={"id": "", "percent_off": 5})
    assert err.param == "id"
    assert err.user_message == (
        "You cannot set 'id' to an empty string. We interpret empty strings as null in requests. "
        "You may set 'id' to null to delete the property.")


def test_applies_to_names_existing_products_and_shows_when_expanded(stripe_client):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    err = _error(stripe_client.v1.coupons.create,
                 params={"percent_off": 10, "applies_to": {"products": [mug.id, "prod_nope"]}})
    assert (err.http_status, err.code, err.param) == (
        400, "resource_missing", "applies_to[products][1]")
    assert err.user_message == "No such product: 'prod_nope'"
    coupon = stripe_client.v1.coupons.create(
        params={"percent_off": 10, "applies_to": {"products": [mug.id]}})
    assert "applies_to" not in coupon
    expanded = stripe_client.v1.coupons.retrieve(coupon.id, params={"expand": ["applies_to"]})
    assert expanded.applies_to.products == [mug.id]


def test_currency_options_are_for_amount_coupons_only(stripe_client):
    err = _error(stripe_client.v1.coupons.create,
                 params={"percent_off": 10, "currency_options": {"eur": {"amount_off": 90}}})
    assert err.param == "currency_options"
    assert err.user_message == (
        "You may only specify one of these parameters: currency_options, percent_off.")
    err = _error(stripe_client.v1.coupons.create,
                 params={"amount_off": 100, "currency": "usd",
                         "currency_options": {"EUR": {"amount_off": 90}}})
    assert err.user_message == (
        "Currencies must be lowercase when used as keys in a map. Use `eur` instead of `EUR`.")
    coupon = stripe_client.v1.coupons.create(
        params={"amount_off": 100, "currency": "usd",
                "currency_options": {"eur": {"amount_off": 90}}, "expand": ["currency_options"]})
    assert coupon.currency_options.to_dict() == {"usd": {"amount_off": 100},
                                                 "eur": {"amount_off": 90}}


def test_update_changes_name_metadata_and_currency_options_only(stripe_client):
    coupon = stripe_client.v1.coupons.create(
        params={"amount_off": 100, "currency": "usd", "metadata": {"a": "1"}})
    updated = stripe_client.v1.coupons.update(coupon.id, params={
        "name": "Welcome", "metadata": {"b": "2"}, "currency_options": {"gbp": {"amount_off": 80}},
        "expand": ["currency_options"]})
    assert updated.name == "Welcome"
    assert updated.metadata.to_dict() == {"a": "1", "b": "2"}
    assert updated.currency_options.to_dict() == {"usd": {"amount_off": 100},
                                                  "gbp": {"amount_off": 80}}
    for field, value in (("max_redemptions", 5), ("percent_off", 10), ("duration", "forever")):
        err = _error(stripe_client.v1.coupons.update, coupon.id, params={field: value})
        assert (err.code, err.param) == ("parameter_unknown", field)
        assert err.user_message == f"Received unknown parameter: {field}"


def test_a_percent_coupon_takes_no_currency_options_on_update(stripe_client):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 10})
    err = _error(stripe_client.v1.coupons.update, coupon.id,
                 params={"currency_options": {"eur": {"amount_off": 90}}})
    assert (err.param, err.user_message) == ("currency_options", coupons.OPTIONS_NEED_AMOUNT)


def test_a_missing_coupon_is_a_404_naming_the_path_param(stripe_client):
    err = _error(stripe_client.v1.coupons.retrieve, "nope")
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "coupon")
    assert err.user_message == "No such coupon: 'nope'"


def test_delete_returns_the_stub_and_the_coupon_is_gone(stripe_client):
    coupon = stripe_client.v1.coupons.create(params={"id": "GONE", "percent_off": 10})
    deleted = stripe_client.v1.coupons.delete(coupon.id)
    assert deleted.to_dict() == {"id": "GONE", "object": "coupon", "deleted": True}
    for call, args in ((stripe_client.v1.coupons.retrieve, ("GONE",)),
                       (stripe_client.v1.coupons.update, ("GONE", {"name": "x"})),
                       (stripe_client.v1.coupons.delete, ("GONE",))):
        err = _error(call, *args)
        assert (err.http_status, err.code, err.param) == (404, "resource_missing", "coupon")
        assert err.user_message == "No such coupon: 'GONE'"
    assert [c.id for c in stripe_client.v1.coupons.list()] == []


def test_list_newest_first_with_created_filter_and_pagination(stripe_client, stripe_fake):
    first = stripe_client.v1.coupons.create(params={"percent_off": 1})
    stripe_fake.clock.advance(10)
    second = stripe_client.v1.coupons.create(params={"percent_off": 2})
    third = stripe_client.v1.coupons.create(params={"percent_off": 3})
    page = stripe_client.v1.coupons.list(params={"limit": 2})
    assert [c.id for c in page.data] == [third.id, second.id] and page.has_more
    assert page.url == "/v1/coupons"
    rest = stripe_client.v1.coupons.list(params={"starting_after": second.id})
    assert [c.id for c in rest.data] == [first.id] and not rest.has_more
    newer = stripe_client.v1.coupons.list(params={"created": {"gt": first.created}})
    assert [c.id for c in newer.data] == [third.id, second.id]
    assert [c.id for c in stripe_client.v1.coupons.list().auto_paging_iter()] == [
        third.id, second.id, first.id]


def test_coupons_look_the_same_in_2023(stripe_client_2023):
    coupon = stripe_client_2023.v1.coupons.create(
        params={"amount_off": 500, "currency": "usd", "duration": "forever", "name": "Five"})
    again = stripe_client_2023.v1.coupons.retrieve(coupon.id)
    assert again.to_dict() == coupon.to_dict()
    assert (again.amount_off, again.name, again.valid) == (500, "Five", True)


def test_global_style(stripe_fake):
    coupon = stripe.Coupon.create(percent_off=15, duration="once", metadata={"k": "v"})
    assert stripe.Coupon.retrieve(coupon.id).metadata["k"] == "v"
    assert stripe.Coupon.modify(coupon.id, name="Fifteen").name == "Fifteen"
    assert stripe.Coupon.delete(coupon.id).deleted is True
