"""Subscriptions, invoices and test clocks (STRIPE-API-RULES-BILLING.md), through the SDK."""

from __future__ import annotations

import pytest
import stripe

from pytest_stripe_fixtures.fake.resources.subscriptions import add_interval

START = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture
def monthly(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Pro"})
    return stripe_client.v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 1000,
        "recurring": {"interval": "month"}})


def _customer(client, clock=None, token="tok_visa"):
    params = {"source": token}
    if clock is not None:
        params["test_clock"] = clock.id
    return client.v1.customers.create(params=params)


@pytest.mark.stripe_fake(now=START)
def test_a_monthly_subscription_renews_twelve_times_on_a_test_clock(stripe_client, monthly):
    clock = stripe_client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    customer = _customer(stripe_client, clock)
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}]})
    assert sub.status == "active"
    assert sub["items"].data[0].current_period_end == add_interval(START, "month", 1)
    for month in range(1, 13):
        advanced = stripe_client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": add_interval(START, "month", month) + 7200})
        assert advanced.status == "advancing"
    assert stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready"
    paid = stripe_client.v1.invoices.list(params={"customer": customer.id, "limit": 100,
                                                  "status": "paid"}).data
    assert len(paid) == 13  # the first invoice and 12 renewals
    assert [i.billing_reason for i in paid].count("subscription_cycle") == 12
    assert all(i.amount_paid == 1000 for i in paid)
    sub = stripe_client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    assert sub["items"].data[0].current_period_start == add_interval(START, "month", 12)


@pytest.mark.stripe_fake(now=START)
def test_the_2023_shape_keeps_the_period_and_payment_intent_on_top(stripe_client_2023, monthly):
    customer = _customer(stripe_client_2023)
    sub = stripe_client_2023.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}],
        "expand": ["latest_invoice.payment_intent"]})
    assert sub.current_period_end == add_interval(START, "month", 1)
    assert sub.latest_invoice.paid is True
    assert sub.latest_invoice.payment_intent.status == "succeeded"


@pytest.mark.stripe_fake(now=START)
def test_a_trial_ends_into_a_first_charge(stripe_client, monthly):
    customer = _customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}], "trial_period_days": 14})
    assert sub.status == "trialing"
    first = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert (first.status, first.amount_due) == ("paid", 0)


@pytest.mark.stripe_fake(now=START)
def test_the_fake_clock_ends_the_trial_and_charges(stripe_client, stripe_fake, monthly):
    customer = _customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}], "trial_period_days": 14})
    stripe_fake.clock.advance(14 * 86400 + 3600)
    sub = stripe_client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    invoice = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_cycle", "paid", 1000)


@pytest.mark.stripe_fake(now=START)
def test_a_three_month_repeating_coupon_discounts_exactly_three_invoices(stripe_client,
                                                                        stripe_fake, monthly):
    coupon = stripe_client.v1.coupons.create(params={
        "percent_off": 50, "duration": "repeating", "duration_in_months": 3})
    customer = _customer(stripe_client)
    stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}],
        "discounts": [{"coupon": coupon.id}]})
    for month in range(1, 6):
        stripe_fake.clock.set(add_interval(START, "month", month) + 7200)
    paid = stripe_client.v1.invoices.list(params={"customer": customer.id}).data[::-1]
    assert [i.amount_paid for i in paid] == [500, 500, 500, 1000, 1000, 1000]
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


@pytest.mark.stripe_fake(now=START)
def test_a_first_time_promotion_code_is_refused_after_a_payment(stripe_client, monthly):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 20})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "WELCOME",
        "restrictions": {"first_time_transaction": True}})
    customer = _customer(stripe_client)
    stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}]})
    with pytest.raises(stripe.InvalidRequestError) as err:
        stripe_client.v1.subscriptions.create(params={
            "customer": customer.id, "items": [{"price": monthly.id}],
            "discounts": [{"promotion_code": code.id}]})
    assert "prior transactions" in err.value.user_message


@pytest.mark.stripe_fake(now=START)
def test_an_upgrade_mid_period_creates_the_proration_lines(stripe_client, monthly):
    premium = stripe_client.v1.prices.create(params={
        "product": monthly.product, "currency": "usd", "unit_amount": 2000,
        "recurring": {"interval": "month"}})
    customer = _customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}]})
    item = sub["items"].data[0]
    end = item.current_period_end
    half = START + (end - START) // 2
    sub = stripe_client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "price": premium.id}], "proration_date": half,
        "proration_behavior": "always_invoice"})
    invoice = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_update"
    amounts = sorted(line.amount for line in invoice.lines.data)
    assert amounts == [-500, 1000]
    assert invoice.amount_paid == 500
    assert any(line.description.startswith("Unused time on Pro after")
               for line in invoice.lines.data)


@pytest.mark.stripe_fake(now=START)
def test_cancel_at_period_end_takes_effect(stripe_client, stripe_fake, monthly):
    customer = _customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": monthly.id}]})
    sub = stripe_client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert (sub.status, sub.cancel_at) == ("active", sub["items"].data[0].current_period_end)
    stripe_fake.clock.set(sub.cancel_at + 1)
    assert stripe_client.v1.subscriptions.retrieve(sub.id).status == "canceled"
