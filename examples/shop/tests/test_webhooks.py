"""The shop's webhook endpoint, in Flask and in FastAPI, fed by the fake's signed deliveries.

``stripe_fake.webhooks.deliver_to(app, path=..., secret=...)`` POSTs every event the fake
emits to the app, in-process, right after the API call that caused it, signed with ``secret``
exactly as Stripe signs; the app verifies it with ``stripe.Webhook.construct_event``.
"""

from __future__ import annotations

import pytest
import stripe

from billing import web_fastapi, web_flask
from billing.webhooks import Ledger

SECRET = "whsec_shop_test"


@pytest.fixture(params=["flask", "fastapi"])
def ledger(request: pytest.FixtureRequest, stripe_fake, global_stripe) -> Ledger:
    """The shop's records, kept by its webhook endpoint (each test runs on both frameworks)."""
    ledger = Ledger()
    module = web_flask if request.param == "flask" else web_fastapi
    stripe_fake.webhooks.deliver_to(module.create_app(SECRET, ledger), path="/stripe/webhook",
                                    secret=SECRET)
    return ledger


def test_a_successful_charge_marks_the_order_paid(ledger, stripe_fake):
    charge = stripe.Charge.create(amount=1200, currency="usd", source="tok_visa",
                                  metadata={"order": "A-1001"})
    assert ledger.paid_orders == {"A-1001": charge.id}
    assert stripe_fake.webhooks.failures == []


def test_a_removed_card_is_forgotten(ledger):
    customer = stripe.Customer.create(source="tok_visa")
    stripe.Customer.delete_source(customer.id, customer.default_source)
    assert ledger.removed_sources == [(customer.id, customer.default_source)]


def test_a_declined_charge_pays_nothing(ledger, stripe_fake):
    with pytest.raises(stripe.CardError):
        stripe.Charge.create(amount=1200, currency="usd", source="tok_chargeDeclined",
                             metadata={"order": "A-1002"})
    assert [e.type for e in stripe_fake.events] == ["charge.failed"]
    assert ledger.paid_orders == {}


def test_the_same_event_twice_counts_once(ledger, stripe_fake):
    stripe_fake.trigger("charge.succeeded")
    (event,) = [e for e in stripe_fake.events if e.type == "charge.succeeded"]
    ledger.handle(stripe.Event.construct_from(event, stripe.api_key))
    assert len(ledger.seen) == 1


def test_an_unsigned_request_is_refused(stripe_fake, global_stripe):
    from pytest_stripe_fixtures.fake.webhooks import signed_request

    ledger = Ledger()
    app = web_flask.create_app(SECRET, ledger)
    payload, headers = signed_request({"id": "evt_x", "object": "event",
                                       "type": "charge.succeeded",
                                       "data": {"object": {"id": "ch_x", "object": "charge",
                                                           "metadata": {"order": "X"}}}},
                                      "whsec_not_the_shops")
    answer = app.test_client().post("/stripe/webhook", data=payload, headers=headers)
    assert answer.status_code == 400 and ledger.paid_orders == {}
