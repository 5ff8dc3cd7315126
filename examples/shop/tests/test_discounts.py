"""Discount campaigns: promotion codes redeemed by customers (API version 2023-08-16)."""

from __future__ import annotations

import pytest
import stripe

from billing.discounts import LEGACY_API_VERSION, Discounts, PromotionCodeInvalid

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR = 3600


@pytest.fixture
def customer_id(discounts_client: stripe.StripeClient) -> str:
    return discounts_client.v1.customers.create(params={"email": "ada@example.com"}).id


def test_a_customer_redeems_a_promotion_code(discounts: Discounts, discounts_client, customer_id):
    promo = discounts.create_campaign("SPRING25", percent_off=25)

    customer = discounts.redeem(customer_id, "spring25")  # codes are case-insensitive

    assert customer.discount is not None
    assert customer.discount.promotion_code == promo.id
    assert customer.discount.coupon.percent_off == 25
    coupon = discounts_client.v1.coupons.retrieve(customer.discount.coupon.id)
    assert coupon.times_redeemed == 1


def test_every_discount_request_is_pinned_to_the_legacy_version(discounts: Discounts, customer_id,
                                                                stripe_fake):
    stripe_fake.requests.clear()

    discounts.redeem(customer_id, discounts.create_campaign("PINNED", percent_off=10).code)

    assert stripe_fake.requests
    assert {r.api_version for r in stripe_fake.requests} == {LEGACY_API_VERSION}


def test_an_unknown_code_is_refused_before_touching_the_customer(discounts: Discounts, customer_id,
                                                                 stripe_fake):
    with pytest.raises(PromotionCodeInvalid) as refused:
        discounts.redeem(customer_id, "NOPE")

    assert refused.value.code == "NOPE"
    assert not [r for r in stripe_fake.requests if r.method == "POST" and r.path.endswith(customer_id)]


def test_a_used_up_code_is_refused(discounts: Discounts, discounts_client):
    discounts.create_campaign("ONCE", percent_off=50, max_redemptions=1)
    first, second = (discounts_client.v1.customers.create().id for _ in range(2))
    discounts.redeem(first, "ONCE")

    with pytest.raises(PromotionCodeInvalid):
        discounts.redeem(second, "ONCE")

    assert discounts_client.v1.customers.retrieve(second).discount is None


def test_a_personal_code_is_refused_to_other_customers(discounts: Discounts, discounts_client):
    ada, bob = (discounts_client.v1.customers.create().id for _ in range(2))
    discounts.create_campaign("ADA-THANKS", percent_off=20, customer_id=ada)

    with pytest.raises(PromotionCodeInvalid) as refused:
        discounts.redeem(bob, "ADA-THANKS")

    assert refused.value.reason  # Stripe's explanation, kept for the support team
    assert discounts_client.v1.customers.retrieve(bob).discount is None
    assert discounts.redeem(ada, "ADA-THANKS").discount is not None


def test_a_missing_customer_is_a_bug_not_a_bad_code(discounts: Discounts):
    discounts.create_campaign("WELCOME", percent_off=10)

    with pytest.raises(stripe.InvalidRequestError) as error:
        discounts.redeem("cus_does_not_exist", "WELCOME")

    assert error.value.http_status == 404


@pytest.mark.stripe_fake(now=NOW)
def test_an_expired_code_is_refused(discounts: Discounts, customer_id, stripe_fake):
    discounts.create_campaign("FLASH", percent_off=30, expires_at=NOW + HOUR)
    stripe_fake.clock.advance(2 * HOUR)

    with pytest.raises(PromotionCodeInvalid):
        discounts.redeem(customer_id, "FLASH")


def test_a_discount_can_be_removed(discounts: Discounts, discounts_client, customer_id):
    discounts.create_campaign("BYE", percent_off=5)
    discounts.redeem(customer_id, "BYE")

    discounts.remove(customer_id)

    assert discounts_client.v1.customers.retrieve(customer_id).discount is None
