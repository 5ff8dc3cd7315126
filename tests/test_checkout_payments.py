"""Checkout completion that takes money (builds on PaymentIntents): each outcome read back
through the SDK and the events."""

from __future__ import annotations

import pytest


@pytest.fixture
def mug(stripe_client):
    return stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1500, "product_data": {"name": "Mug"}})


def _types(stripe_fake):
    return [e.type for e in stripe_fake.events]


def test_a_one_time_purchase_with_a_promotion_code(stripe_client, stripe_fake, mug):
    stripe_client.v1.coupons.create(params={"id": "SPRING", "percent_off": 20})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": "SPRING"}, "code": "SPRING20"})
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/done", "allow_promotion_codes": True,
        "line_items": [{"price": mug.id, "quantity": 2}],
        "payment_intent_data": {"metadata": {"order": "7"}}})
    done = stripe_fake.checkout.complete(session.id, promotion_code="SPRING20",
                                         email="ada@example.com")
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert (done.amount_subtotal, done.amount_total) == (3000, 2400)
    assert done.customer is None  # payment mode, customer_creation=if_required: a guest
    assert done.customer_details.email == "ada@example.com"
    intent = stripe_client.v1.payment_intents.retrieve(done.payment_intent)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2400, "usd")
    assert intent.metadata.to_dict() == {"order": "7"}
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1
    types = _types(stripe_fake)
    assert types.index("payment_intent.succeeded") < types.index("checkout.session.completed")
    assert "charge.succeeded" in types
    completed = stripe_fake.events[-1]
    assert completed.data.object.payment_intent == intent.id


def test_a_declined_card_leaves_the_session_open(stripe_client, stripe_fake, mug):
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/done",
        "line_items": [{"price": mug.id, "quantity": 1}]})
    tried = stripe_fake.checkout.complete(session.id, payment_method="pm_card_chargeDeclined")
    assert (tried.status, tried.payment_status, tried.url) == ("open", "unpaid", session.url)
    failed = stripe_client.v1.payment_intents.retrieve(tried.payment_intent)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "card_declined"
    assert "checkout.session.completed" not in _types(stripe_fake)
    assert "payment_intent.payment_failed" in _types(stripe_fake)
    paid = stripe_fake.checkout.complete(session.id)  # the customer tries another card
    assert (paid.status, paid.payment_status) == ("complete", "paid")


def test_a_setup_session_saves_the_card_to_the_customer(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create(params={"email": "ada@example.com"})
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "setup", "currency": "usd", "customer": customer.id,
        "success_url": "https://shop.test/saved"})
    done = stripe_fake.checkout.complete(session.id, payment_method="pm_card_visa")
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    intent = stripe_client.v1.setup_intents.retrieve(done.setup_intent)
    assert intent.status == "succeeded"
    method = stripe_client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.customer == customer.id
    types = _types(stripe_fake)
    assert "setup_intent.succeeded" in types
    assert types.index("setup_intent.succeeded") < types.index("checkout.session.completed")


def test_a_subscription_sign_up_with_a_trial(stripe_client, stripe_fake):
    plan = stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"},
        "product_data": {"name": "Pro"}})
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": "https://shop.test/welcome",
        "line_items": [{"price": plan.id, "quantity": 1}],
        "subscription_data": {"trial_period_days": 14}})
    done = stripe_fake.checkout.complete(session.id, email="ada@example.com")
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    assert done.customer is not None  # subscription mode always creates a customer
    sub = stripe_client.v1.subscriptions.retrieve(done.subscription)
    assert (sub.status, sub.customer) == ("trialing", done.customer)
    assert sub.trial_end - sub.trial_start == 14 * 86400
    method = stripe_client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert method.customer == done.customer
    invoice = stripe_client.v1.invoices.retrieve(done.invoice)
    assert (invoice.amount_due, invoice.status) == (0, "paid")
    types = _types(stripe_fake)
    assert types.index("customer.subscription.created") < types.index(
        "checkout.session.completed")
