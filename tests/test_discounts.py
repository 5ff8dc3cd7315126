"""Customer-level discounts (STRIPE-API-RULES.md sections 13, 14 and 16), through the stripe SDK.

Customers take ``coupon`` / ``promotion_code`` only up to 2025-03-31.basil, so discounts are
applied with a 2023-08-16 client; reading and removing them works in every version.  2023
discounts embed the coupon; current ones point at it with ``source: {type, coupon}``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake.resources import discounts


@pytest.fixture
def ten(stripe_client):
    return stripe_client.v1.coupons.create(params={"id": "TEN", "percent_off": 10})


def _discount(client, customer_id: str, **params):
    """``GET /v1/customers/{customer}/discount`` (the SDK has no method for it)."""
    response = client.raw_request("get", f"/v1/customers/{customer_id}/discount", **params)
    return client.deserialize(response, api_mode="V1")


def test_a_coupon_on_a_customer_in_the_2023_shape(stripe_client_2023, stripe_fake, ten):
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    discount = customer.discount
    assert re.fullmatch(r"di_\d\w{23}", discount.id)
    assert (discount.object, discount.customer, discount.promotion_code) == (
        "discount", customer.id, None)
    assert (discount.start, discount.end) == (stripe_fake.clock.now(), None)
    assert (discount.checkout_session, discount.invoice, discount.invoice_item,
            discount.subscription) == (None, None, None, None)
    assert isinstance(discount.coupon, stripe.Coupon)  # embedded, not an id
    assert (discount.coupon.id, discount.coupon.times_redeemed) == ("TEN", 1)
    assert "source" not in discount and "subscription_item" not in discount
    assert stripe_client_2023.v1.coupons.retrieve("TEN").times_redeemed == 1


def test_the_current_shape_points_at_the_coupon_through_source(stripe_client, stripe_client_2023,
                                                              ten):
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    discount = _discount(stripe_client, customer.id)
    assert discount.id == customer.discount.id
    assert discount.source.to_dict() == {"coupon": "TEN", "type": "coupon"}
    assert (discount.subscription_item, discount.customer_account) == (None, None)
    assert "coupon" not in discount
    expanded = _discount(stripe_client, customer.id, expand=["source.coupon"])
    assert (expanded.source.coupon.id, expanded.source.coupon.percent_off) == ("TEN", 10)
    again = stripe_client.v1.customers.retrieve(customer.id)
    assert again.discount.source.coupon == "TEN"


def test_2023_expands_inside_the_embedded_coupon(stripe_client_2023):
    stripe_client_2023.v1.coupons.create(
        params={"id": "EUR5", "amount_off": 500, "currency": "eur",
                "currency_options": {"usd": {"amount_off": 550}}})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "EUR5"})
    assert "currency_options" not in customer.discount.coupon
    again = stripe_client_2023.v1.customers.retrieve(
        customer.id, params={"expand": ["discount.coupon.currency_options"]})
    assert again.discount.coupon.currency_options["usd"]["amount_off"] == 550
    discount = _discount(stripe_client_2023, customer.id, expand=["coupon.currency_options"])
    assert discount.coupon.currency_options["eur"]["amount_off"] == 500


@pytest.mark.stripe_fake(now=int(datetime(2024, 1, 31, 12, tzinfo=timezone.utc).timestamp()))
def test_a_repeating_coupon_ends_after_its_months(stripe_client_2023, stripe_fake):
    stripe_client_2023.v1.coupons.create(
        params={"id": "Q1", "percent_off": 50, "duration": "repeating", "duration_in_months": 3})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "Q1"})
    end = datetime.fromtimestamp(customer.discount.end, tz=timezone.utc)
    assert end == datetime(2024, 4, 30, 12, tzinfo=timezone.utc)  # calendar months, clamped
    assert customer.discount.start == stripe_fake.clock.now()


def test_a_promotion_code_applies_its_coupon_and_counts_on_both(stripe_client,
                                                                stripe_client_2023, ten):
    promo = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": "TEN"}, "max_redemptions": 1})
    customer = stripe_client_2023.v1.customers.create()
    updated = stripe_client_2023.v1.customers.update(
        customer.id, params={"promotion_code": promo.id})
    assert (updated.discount.promotion_code, updated.discount.coupon.id) == (promo.id, "TEN")
    used = stripe_client.v1.promotion_codes.retrieve(promo.id)
    assert (used.times_redeemed, used.active) == (1, False)  # used up: permanently inactive
    assert stripe_client.v1.coupons.retrieve("TEN").times_redeemed == 1
    err = _error(stripe_client_2023.v1.customers.create, params={"promotion_code": promo.id})
    assert (err.http_status, err.param) == (400, "promotion_code")
    assert err.user_message == discounts.CODE_INACTIVE
    expanded = _discount(stripe_client, customer.id, expand=["promotion_code"])
    assert expanded.promotion_code.code == promo.code


def test_the_coupon_must_exist(stripe_client_2023):
    err = _error(stripe_client_2023.v1.customers.create, params={"coupon": "NOPE"})
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "coupon")
    assert err.user_message == "No such coupon: 'NOPE'"
    err = _error(stripe_client_2023.v1.customers.create, params={"promotion_code": "promo_nope"})
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "promotion_code")
    assert err.user_message == "No such promotion_code: 'promo_nope'"


def test_a_used_up_coupon_is_no_longer_valid(stripe_client_2023):
    stripe_client_2023.v1.coupons.create(params={"id": "ONCE", "percent_off": 5,
                                                 "max_redemptions": 1})
    stripe_client_2023.v1.customers.create(params={"coupon": "ONCE"})
    coupon = stripe_client_2023.v1.coupons.retrieve("ONCE")
    assert (coupon.times_redeemed, coupon.valid) == (1, False)
    err = _error(stripe_client_2023.v1.customers.create, params={"coupon": "ONCE"})
    assert (err.param, err.user_message) == ("coupon", discounts.COUPON_USED_UP.format(id="ONCE"))


def test_an_expired_coupon_cannot_be_redeemed(stripe_client_2023, stripe_fake):
    stripe_client_2023.v1.coupons.create(params={
        "id": "BRIEF", "percent_off": 5, "redeem_by": stripe_fake.clock.now() + 60})
    stripe_fake.clock.advance(61)
    err = _error(stripe_client_2023.v1.customers.create, params={"coupon": "BRIEF"})
    assert (err.param, err.user_message) == ("coupon", discounts.COUPON_EXPIRED.format(id="BRIEF"))


def test_a_deleted_coupon_cannot_be_redeemed_but_existing_discounts_keep_it(stripe_client_2023,
                                                                          ten):
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    stripe_client_2023.v1.coupons.delete("TEN")
    err = _error(stripe_client_2023.v1.customers.create, params={"coupon": "TEN"})
    assert (err.code, err.param, err.user_message) == (
        "resource_missing", "coupon", "No such coupon: 'TEN'")
    kept = stripe_client_2023.v1.customers.retrieve(customer.id).discount
    assert (kept.coupon.id, kept.coupon.valid) == ("TEN", False)


def test_a_code_restricted_to_another_customer(stripe_client, stripe_client_2023, ten):
    amy = stripe_client_2023.v1.customers.create()
    promo = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": "TEN"}, "customer": amy.id})
    bob = stripe_client_2023.v1.customers.create()
    err = _error(stripe_client_2023.v1.customers.update, bob.id,
                 params={"promotion_code": promo.id})
    assert (err.param, err.user_message) == ("promotion_code", discounts.CODE_OTHER_CUSTOMER)
    assert stripe_client_2023.v1.customers.update(
        amy.id, params={"promotion_code": promo.id}).discount.promotion_code == promo.id


def test_a_first_time_code_is_refused_to_a_customer_who_has_paid(stripe_client,
                                                                 stripe_client_2023, ten):
    promo = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": "TEN"},
        "restrictions": {"first_time_transaction": True}})
    newcomer = stripe_client_2023.v1.customers.create(params={"promotion_code": promo.id})
    assert newcomer.discount.promotion_code == promo.id
    card = stripe_client_2023.v1.sources.create(params={"type": "card", "token": "tok_visa"})
    regular = stripe_client_2023.v1.customers.create(params={"source": card.id})
    stripe_client_2023.v1.charges.create(
        params={"amount": 1000, "currency": "usd", "customer": regular.id})
    err = _error(stripe_client_2023.v1.customers.update, regular.id,
                 params={"promotion_code": promo.id})
    assert err.param == "promotion_code"
    assert err.user_message == ("This promotion code cannot be redeemed because the associated "
                                "customer has prior transactions.")


def test_coupon_and_promotion_code_are_exclusive(stripe_client, stripe_client_2023, ten):
    promo = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": "TEN"}})
    err = _error(stripe_client_2023.v1.customers.create,
                 params={"coupon": "TEN", "promotion_code": promo.id})
    assert err.user_message == "You may only specify one of these parameters: coupon, promotion_code."


def test_a_new_coupon_replaces_the_discount(stripe_client_2023, ten):
    stripe_client_2023.v1.coupons.create(params={"id": "TWENTY", "percent_off": 20})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    updated = stripe_client_2023.v1.customers.update(customer.id, params={"coupon": "TWENTY"})
    assert updated.discount.coupon.id == "TWENTY"
    assert updated.discount.id != customer.discount.id


def test_delete_discount_returns_the_deleted_discount(stripe_client, stripe_client_2023, ten):
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    deleted = stripe_client.v1.customers.delete_discount(customer.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (customer.discount.id, "discount", True)
    assert deleted.source.coupon == "TEN" and deleted.customer == customer.id
    assert "end" not in deleted  # the deleted_discount schema has no `end`
    assert stripe_client.v1.customers.retrieve(customer.id).discount is None
    for call in (lambda: _discount(stripe_client, customer.id),
                 lambda: stripe_client.v1.customers.delete_discount(customer.id)):
        err = _error(call)
        assert (err.http_status, err.code) == (404, "resource_missing")
        assert err.user_message == discounts.NO_DISCOUNT.format(customer=customer.id)


def test_delete_discount_in_2023_embeds_the_coupon(stripe_client_2023, ten):
    customer = stripe_client_2023.v1.customers.create(params={"coupon": "TEN"})
    deleted = stripe_client_2023.v1.customers.delete_discount(customer.id)
    assert deleted.deleted is True and deleted.coupon.id == "TEN"


def test_the_customer_in_the_path_must_exist(stripe_client):
    for call in (lambda: _discount(stripe_client, "cus_nope"),
                 lambda: stripe_client.v1.customers.delete_discount("cus_nope")):
        err = _error(call)
        assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
        assert err.user_message == "No such customer: 'cus_nope'"


def test_global_style(stripe_fake, ten):
    customer = stripe.Customer.create(coupon="TEN", stripe_version="2023-08-16")
    assert customer.discount.coupon.id == "TEN"
    assert stripe.Customer.delete_discount(customer.id).deleted is True
