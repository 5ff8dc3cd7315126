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


# --- completion that takes money (PaymentIntents, SetupIntents, subscriptions) --------------

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
