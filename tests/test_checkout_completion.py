"""The customer's side of Checkout (``stripe_fake.checkout``): completing sessions as the hosted
page would, each outcome checked through the resulting objects (read back with the SDK) and the
events (STRIPE-API-RULES-BILLING.md section 7.4)."""

from __future__ import annotations

import pytest


@pytest.fixture
def mug(stripe_client):
    return stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1500, "product_data": {"name": "Mug"}})


def _session(client, price, quantity=1, **params):
    return client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/done",
        "line_items": [{"price": price.id, "quantity": quantity}], **params})


def _types(stripe_fake):
    return [e.type for e in stripe_fake.events]


def test_a_code_entered_on_the_page_covering_everything(stripe_client, stripe_fake, mug):
    stripe_client.v1.coupons.create(params={"id": "GIFT", "percent_off": 100})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": "GIFT"}, "code": "FREEMUG"})
    session = _session(stripe_client, mug, 2, allow_promotion_codes=True,
                       customer_creation="always", client_reference_id="order-7")
    done = stripe_fake.checkout.complete(session.id, promotion_code="freemug",
                                         email="ada@example.com", name="Ada Lovelace")
    assert (done.status, done.payment_status, done.url) == ("complete", "no_payment_required", None)
    assert (done.amount_subtotal, done.amount_total) == (3000, 0)
    assert done.payment_intent is None  # nothing to pay, no PaymentIntent
    assert done.discounts[0].promotion_code == code.id
    customer = stripe_client.v1.customers.retrieve(done.customer)
    assert (customer.email, customer.name) == ("ada@example.com", "Ada Lovelace")
    assert done.customer_details.email == "ada@example.com"
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1
    assert stripe_client.v1.coupons.retrieve("GIFT").times_redeemed == 1
    assert _types(stripe_fake)[-2:] == ["customer.created", "checkout.session.completed"]
    event = stripe_fake.events[-1]
    assert event.data.object.id == session.id
    assert event.data.object.client_reference_id == "order-7"
    assert event.request.id is None  # the customer acted, not an API request
    again = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.customer) == ("complete", customer.id)


def test_the_page_refuses_codes_it_does_not_take(stripe_client, stripe_fake, mug):
    from pytest_stripe_fixtures.fake.resources.checkout_sessions import HostedPageError

    stripe_client.v1.coupons.create(params={"id": "BIG", "percent_off": 100})
    stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": "BIG"}, "code": "BIGSPEND",
        "restrictions": {"minimum_amount": 10_000, "minimum_amount_currency": "usd"}})
    closed = _session(stripe_client, mug)
    with pytest.raises(HostedPageError):  # no promotion code field on this page
        stripe_fake.checkout.complete(closed.id, promotion_code="BIGSPEND")
    session = _session(stripe_client, mug, allow_promotion_codes=True)
    with pytest.raises(HostedPageError):
        stripe_fake.checkout.complete(session.id, promotion_code="NOSUCHCODE")
    with pytest.raises(HostedPageError):  # below the code's minimum amount
        stripe_fake.checkout.complete(session.id, promotion_code="BIGSPEND")
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert "checkout.session.completed" not in _types(stripe_fake)


def test_an_expired_session_cannot_be_paid(stripe_client, stripe_fake, mug):
    from pytest_stripe_fixtures.fake.resources.checkout_sessions import HostedPageError

    session = _session(stripe_client, mug)
    stripe_fake.clock.advance(24 * 3600)
    with pytest.raises(HostedPageError):
        stripe_fake.checkout.complete(session.id)
    expired = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert _types(stripe_fake).count("checkout.session.expired") == 1
    event = [e for e in stripe_fake.events if e.type == "checkout.session.expired"][0]
    assert event.data.object.status == "expired" and event.request.id is None


def test_expiring_by_the_endpoint_emits_the_event(stripe_client, stripe_fake, mug):
    session = _session(stripe_client, mug)
    stripe_client.v1.checkout.sessions.expire(session.id)
    event = stripe_fake.events[-1]
    assert (event.type, event.data.object.id) == ("checkout.session.expired", session.id)
    assert event.request.id is not None  # this one was an API request


def test_a_payment_link_visit_is_a_checkout_session(stripe_client, stripe_fake, mug):
    link = stripe_client.v1.payment_links.create(params={
        "line_items": [{"price": mug.id, "quantity": 2}], "metadata": {"campaign": "spring"},
        "after_completion": {"type": "redirect", "redirect": {"url": "https://shop.test/yay"}}})
    session = stripe_fake.checkout.open_payment_link(link.id)
    assert (session.payment_link, session.mode, session.amount_total) == (link.id, "payment", 3000)
    assert session.metadata.to_dict() == {"campaign": "spring"}  # copied from the link [S]
    assert session.success_url == "https://shop.test/yay"
    listed = stripe_client.v1.checkout.sessions.list(params={"payment_link": link.id})
    assert [s.id for s in listed.data] == [session.id]
    stripe_client.v1.payment_links.update(link.id, params={"active": False})
    from pytest_stripe_fixtures.fake.resources.checkout_sessions import HostedPageError

    with pytest.raises(HostedPageError):
        stripe_fake.checkout.open_payment_link(link.id)
