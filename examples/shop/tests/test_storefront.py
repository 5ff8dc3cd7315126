"""The storefront end to end: the Flask app opens a Checkout Session, the customer pays on
Stripe's page (``stripe_fake.checkout``), and Stripe's signed webhooks, delivered to the same
app in-process, fulfil or cancel the order."""

from __future__ import annotations

import pytest
import stripe

from billing.storefront import Orders, create_app

SECRET = "whsec_shop_test"


@pytest.fixture
def orders() -> Orders:
    return Orders()


@pytest.fixture
def app(client: stripe.StripeClient, stripe_fake, orders: Orders):
    app = create_app(client, webhook_secret=SECRET, orders=orders)
    stripe_fake.webhooks.deliver_to(app, "/webhooks/stripe", secret=SECRET,
                                    events=["checkout.session.completed",
                                            "checkout.session.async_payment_succeeded",
                                            "checkout.session.async_payment_failed",
                                            "checkout.session.expired"])
    return app


@pytest.fixture
def beans(client: stripe.StripeClient):
    return client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1800, "product_data": {"name": "Espresso beans 1kg"}})


def _order(app, price, **body):
    response = app.test_client().post("/checkout", json={"price": price.id, **body})
    assert response.status_code == 201
    return response.get_json()


def _session_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_an_order_paid_in_full_with_a_promotion_code_is_fulfilled(app, orders, client, beans,
                                                                   stripe_fake):
    client.v1.coupons.create(params={"id": "STAFF", "percent_off": 100})
    client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": "STAFF"},
                                             "code": "STAFFCOFFEE"})
    placed = _order(app, beans, quantity=2, email="barista@example.com")
    order = orders.by_id[placed["order"]]
    assert order.status == "pending"  # nothing happens before Stripe says so

    stripe_fake.checkout.complete(_session_id(placed["checkout_url"]), promotion_code="STAFFCOFFEE")

    assert (order.status, order.fulfilled, order.amount_paid) == ("paid", 1, 0)
    assert order.email == "barista@example.com"
    assert client.v1.customers.retrieve(order.customer_id).email == "barista@example.com"
    (attempt,) = [a for a in stripe_fake.webhooks.attempts
                  if a.event_type == "checkout.session.completed"]
    assert attempt.status == 200  # the app accepted Stripe's signature


def test_a_card_payment_fulfils_the_order_and_a_decline_does_not(app, orders, client, beans,
                                                                  stripe_fake):
    placed = _order(app, beans, quantity=3, email="regular@example.com")
    order = orders.by_id[placed["order"]]
    session_id = _session_id(placed["checkout_url"])
    stripe_fake.checkout.complete(session_id, payment_method="pm_card_chargeDeclined")
    assert order.status == "pending"  # the page shows the decline; no webhook fulfils anything
    stripe_fake.checkout.complete(session_id, payment_method="pm_card_visa")
    assert (order.status, order.fulfilled, order.amount_paid) == ("paid", 1, 5400)
    session = client.v1.checkout.sessions.retrieve(session_id)
    assert client.v1.payment_intents.retrieve(session.payment_intent).status == "succeeded"


def test_an_abandoned_checkout_cancels_its_order(app, orders, beans, stripe_fake):
    placed = _order(app, beans)
    stripe_fake.clock.advance(24 * 3600)  # Checkout Sessions expire after 24 hours
    stripe.checkout.Session.list(limit=1)  # any call: Stripe expires the session on its side
    assert orders.by_id[placed["order"]].status == "canceled"


def test_the_webhook_refuses_unsigned_calls(app):
    response = app.test_client().post("/webhooks/stripe", data=b'{"type": "checkout.session.completed"}',
                                      headers={"Stripe-Signature": "t=1,v1=forged"})
    assert response.status_code == 400
