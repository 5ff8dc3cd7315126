"""Checkout Sessions (STRIPE-API-RULES-BILLING.md section 7), through the stripe SDK: creating a
session in each mode, its amounts and line items, discounts, expiry on the fake clock and by
the endpoint, lists, and the two API shapes."""

from __future__ import annotations

import re

import pytest
import stripe
from helpers import request_error

DAY = 24 * 3600


@pytest.fixture
def mug(stripe_client):
    return stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1500, "product_data": {"name": "Mug"}})


@pytest.fixture
def plan(stripe_client):
    return stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"},
        "product_data": {"name": "Pro plan"}})


def _session(client, **params):
    return client.v1.checkout.sessions.create(params={
        "success_url": "https://shop.test/done", **params})


def test_a_payment_session_is_open_with_its_amounts_and_a_hosted_url(stripe_client, stripe_fake,
                                                                      mug):
    session = _session(stripe_client, mode="payment", cancel_url="https://shop.test/cart",
                       line_items=[{"price": mug.id, "quantity": 2}],
                       client_reference_id="cart-42", metadata={"order": "42"})
    assert re.fullmatch(r"cs_test_a1\w{56}", session.id)
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3000, 3000, "usd")
    assert session.total_details.to_dict() == {"amount_discount": 0, "amount_shipping": 0,
                                               "amount_tax": 0}
    assert session.expires_at == stripe_fake.clock.now() + DAY  # 24 h by default
    assert (session.client_reference_id, session.metadata.to_dict()) == ("cart-42",
                                                                         {"order": "42"})
    assert session.payment_intent is None  # created when the customer pays [D] 2022-08-01
    assert (session.customer, session.customer_details, session.customer_creation) == (
        None, None, "if_required")
    assert (session.ui_mode, session.client_secret) == ("hosted_page", None)
    assert "line_items" not in session  # includable


def test_line_items_are_listed_and_expandable(stripe_client, mug):
    session = _session(stripe_client, mode="payment",
                       line_items=[{"price": mug.id, "quantity": 2},
                                   {"price_data": {"currency": "usd", "unit_amount": 250,
                                                   "product_data": {"name": "Gift wrap"}},
                                    "quantity": 1}])
    items = stripe_client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_subtotal, i.amount_total) for i in items.data] == [
        ("Mug", 2, 3000, 3000), ("Gift wrap", 1, 250, 250)]
    assert all(re.fullmatch(r"li_\d\w{23}", i.id) for i in items.data)
    assert items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    inline = items.data[1].price
    assert inline.active is False  # a price_data price serves its line only
    expanded = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items", "line_items.data.price.product"]})
    assert expanded.line_items.data[0].price.product.name == "Mug"
    assert expanded.amount_total == 3250
    page = stripe_client.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert (len(page.data), page.has_more) == (1, True)


def test_a_coupon_discounts_the_session(stripe_client, mug):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 10, "duration": "once"})
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/done",
        "line_items": [{"price": mug.id, "quantity": 3}], "discounts": [{"coupon": coupon.id}],
        "expand": ["total_details.breakdown", "line_items"]})
    assert (session.amount_subtotal, session.amount_total) == (4500, 4050)
    assert session.total_details.amount_discount == 450
    discount = session.total_details.breakdown.discounts[0]
    assert discount.amount == 450
    assert discount.discount.source.coupon == coupon.id
    assert discount.discount.checkout_session == session.id
    assert session.line_items.data[0].amount_discount == 450
    assert session.discounts[0].to_dict() == {"coupon": coupon.id, "promotion_code": None}
    # nothing is redeemed before the customer pays
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


def test_a_promotion_code_given_at_creation(stripe_client, mug):
    stripe_client.v1.coupons.create(params={"id": "FIVE", "amount_off": 500, "currency": "usd"})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": "FIVE"}, "code": "SAVE5"})
    session = _session(stripe_client, mode="payment",
                       line_items=[{"price": mug.id, "quantity": 1}],
                       discounts=[{"promotion_code": code.id}])
    assert session.amount_total == 1000
    assert session.discounts[0].to_dict() == {"coupon": None, "promotion_code": code.id}


def test_a_subscription_session_with_a_trial_owes_nothing_today(stripe_client, plan):
    session = _session(stripe_client, mode="subscription",
                       line_items=[{"price": plan.id, "quantity": 1}],
                       subscription_data={"trial_period_days": 14})
    assert (session.amount_subtotal, session.amount_total) == (0, 0)
    assert (session.customer_creation, session.payment_method_collection) == (None, "always")
    plain = _session(stripe_client, mode="subscription",
                     line_items=[{"price": plan.id, "quantity": 3}])
    assert plain.amount_total == 2700


def test_a_setup_session_has_no_amounts(stripe_client):
    session = _session(stripe_client, mode="setup", currency="usd")
    assert (session.payment_status, session.amount_total, session.currency) == (
        "no_payment_required", None, "usd")


@pytest.mark.parametrize(("params", "param"), [
    ({"mode": "payment"}, "line_items"),
    ({"mode": "payment", "line_items": [{"price": "PLAN"}]}, "line_items[0][quantity]"),
    ({"mode": "subscription", "line_items": [{"price": "MUG", "quantity": 1}]}, "line_items"),
    ({"mode": "payment", "line_items": [{"price": "PLAN", "quantity": 1}]},
     "line_items[0][price]"),
    ({"mode": "payment", "line_items": [{"price": "MUG", "quantity": 1}],
      "customer": "cus_x", "customer_email": "a@b.co"}, "customer"),
    ({"mode": "subscription", "line_items": [{"price": "PLAN", "quantity": 1}],
      "customer_creation": "always"}, "customer_creation"),
    ({"mode": "payment", "line_items": [{"price": "MUG", "quantity": 1}],
      "allow_promotion_codes": True, "discounts": [{"coupon": "X"}]}, "allow_promotion_codes"),
    ({"mode": "setup", "line_items": [{"price": "MUG", "quantity": 1}]}, "line_items"),
    ({"mode": "payment", "line_items": [{"price": "MUG", "quantity": 1}],
      "expires_at": "+600"}, "expires_at"),
    ({"mode": "payment", "line_items": [{"price": "MUG", "quantity": 1}],
      "expires_at": "+90000"}, "expires_at"),
    ({"mode": "payment", "line_items": [{"price": "MUG", "quantity": 5,
                                         "adjustable_quantity": {"enabled": True,
                                                                 "maximum": 3}}]},
     "line_items[0][quantity]"),
    ({"mode": "payment", "line_items": [{"price": "price_nope", "quantity": 1}]},
     "line_items[0][price]"),
])
def test_create_refuses_what_stripe_refuses(stripe_client, stripe_fake, mug, plan, params, param):
    names = {"MUG": mug.id, "PLAN": plan.id}
    for item in params.get("line_items", ()):
        item["price"] = names.get(item["price"], item["price"])
    if isinstance(params.get("expires_at"), str):
        params["expires_at"] = stripe_fake.clock.now() + int(params["expires_at"])
    err = request_error(_session, stripe_client, **params)
    assert err.param == param


def test_an_inactive_price_is_refused(stripe_client, mug):
    stripe_client.v1.prices.update(mug.id, params={"active": False})
    err = request_error(_session, stripe_client, mode="payment",
                        line_items=[{"price": mug.id, "quantity": 1}])
    assert err.param == "line_items[0][price]"


def test_a_session_expires_on_the_clock_and_says_so(stripe_client, stripe_fake, mug):
    session = _session(stripe_client, mode="payment", line_items=[{"price": mug.id, "quantity": 1}],
                       expires_at=stripe_fake.clock.now() + 3600)
    stripe_fake.clock.advance(3599)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    stripe_fake.clock.advance(1)
    expired = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.url) == ("expired", None)


def test_expire_only_from_open(stripe_client, mug):
    session = _session(stripe_client, mode="payment", line_items=[{"price": mug.id, "quantity": 1}])
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    err = request_error(stripe_client.v1.checkout.sessions.expire, session.id)
    assert "can be expired" in err.user_message  # [V] wording, not asserted exactly
    missing = request_error(stripe_client.v1.checkout.sessions.retrieve, "cs_test_nope")
    assert (missing.http_status, missing.code) == (404, "resource_missing")


def test_expiry_fills_the_recovery_url(stripe_client, mug):
    session = _session(stripe_client, mode="payment", line_items=[{"price": mug.id, "quantity": 1}],
                       after_expiration={"recovery": {"enabled": True}})
    assert session.after_expiration.recovery.url is None
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert expired.after_expiration.recovery.url.startswith("https://buy.stripe.com/r/")


def test_lists_filter_by_status_and_customer(stripe_client, mug):
    customer = stripe_client.v1.customers.create(params={"email": "ada@example.com"})
    mine = _session(stripe_client, mode="payment", customer=customer.id,
                    line_items=[{"price": mug.id, "quantity": 1}])
    other = _session(stripe_client, mode="payment", line_items=[{"price": mug.id, "quantity": 1}])
    stripe_client.v1.checkout.sessions.expire(other.id)
    sessions = stripe_client.v1.checkout.sessions
    assert [s.id for s in sessions.list().data] == [other.id, mine.id]
    assert [s.id for s in sessions.list(params={"customer": customer.id}).data] == [mine.id]
    assert [s.id for s in sessions.list(params={"status": "expired"}).data] == [other.id]
    assert [s.id for s in sessions.list(params={"status": "open", "limit": 1}).data] == [mine.id]


def test_embedded_sessions_have_a_client_secret_and_no_url(stripe_client, mug):
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "ui_mode": "embedded_page", "return_url": "https://shop.test/back",
        "line_items": [{"price": mug.id, "quantity": 1}]})
    assert session.url is None
    assert session.client_secret.startswith(f"{session.id}_secret_")
    assert (session.return_url, session.redirect_on_completion) == ("https://shop.test/back",
                                                                    "always")
    err = request_error(stripe_client.v1.checkout.sessions.create, params={
        "mode": "payment", "ui_mode": "embedded_page",
        "line_items": [{"price": mug.id, "quantity": 1}]})
    assert err.param == "return_url"


def test_the_2023_shape(stripe_client_2023, stripe_client, mug):
    coupon = stripe_client.v1.coupons.create(params={"amount_off": 100, "currency": "usd"})
    session = stripe_client_2023.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/done",
        "payment_method_types": ["card"], "line_items": [{"price": mug.id, "quantity": 1}],
        "discounts": [{"coupon": coupon.id}], "expand": ["total_details.breakdown"]})
    assert session.payment_method_types == ["card"]
    assert session.shipping_details is None  # basil moved it into collected_information
    for later in ("ui_mode", "client_secret", "discounts", "collected_information"):
        assert later not in session
    assert session.total_details.breakdown.discounts[0].discount.coupon.id == coupon.id
    current = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert current.collected_information is None and "shipping_details" not in current
    # endive: `payment_method_types` is no create param any more
    err = request_error(stripe_client.v1.checkout.sessions.create, params={
        "mode": "payment", "success_url": "https://shop.test/done",
        "payment_method_types": ["card"], "line_items": [{"price": mug.id, "quantity": 1}]})
    assert err.code == "parameter_unknown"
    # ... and 2023-08-16 knows no `ui_mode`, and requires `success_url`
    err = request_error(stripe_client_2023.v1.checkout.sessions.create, params={
        "mode": "payment", "ui_mode": "hosted_page", "success_url": "https://shop.test/done",
        "line_items": [{"price": mug.id, "quantity": 1}]})
    assert err.param == "ui_mode"
    err = request_error(stripe_client_2023.v1.checkout.sessions.create, params={
        "mode": "payment", "line_items": [{"price": mug.id, "quantity": 1}]})
    assert err.param == "success_url"


def test_allowed_payment_method_types(stripe_client, mug):
    session = _session(stripe_client, mode="payment", line_items=[{"price": mug.id, "quantity": 1}],
                       allowed_payment_method_types=["card", "us_bank_account"])
    assert session.payment_method_types == ["card", "us_bank_account"]


def test_global_style_sdk(stripe_fake, mug):
    session = stripe.checkout.Session.create(
        mode="payment", success_url="https://shop.test/done",
        line_items=[{"price": mug.id, "quantity": 1}])
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert [i.quantity for i in stripe.checkout.Session.list_line_items(session.id)] == [1]
