"""Promotion codes (STRIPE-API-RULES.md section 14), through the stripe SDK, in both request
shapes: ``coupon=`` (2023-08-16, the coupon embedded in responses) and
``promotion[type]=coupon&promotion[coupon]=`` (2025-09-30.clover and later)."""

from __future__ import annotations

import re

import pytest
import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake.resources import promotion_codes as promos


@pytest.fixture
def coupon(stripe_client):
    return stripe_client.v1.coupons.create(params={"id": "FALL", "percent_off": 20})


def _promo(client, coupon_id="FALL", **params):
    return client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon_id}, **params})


def _promo_2023(client, coupon_id="FALL", **params):
    return client.v1.promotion_codes.create(params={"coupon": coupon_id, **params})


def test_a_code_in_the_current_shape(stripe_client, stripe_fake, coupon):
    promo = _promo(stripe_client)
    assert re.fullmatch(r"promo_\d\w{23}", promo.id)
    assert re.fullmatch(r"[A-Z0-9]{8}", promo.code)  # generated when not given
    assert promo.promotion.to_dict() == {"coupon": "FALL", "type": "coupon"}  # an id, not expanded
    assert "coupon" not in promo
    assert (promo.active, promo.customer, promo.customer_account) == (True, None, None)
    assert (promo.expires_at, promo.max_redemptions, promo.times_redeemed) == (None, None, 0)
    assert promo.restrictions.to_dict() == {"first_time_transaction": False,
                                            "minimum_amount": None,
                                            "minimum_amount_currency": None}
    assert promo.created == stripe_fake.clock.now() and promo.livemode is False
    expanded = stripe_client.v1.promotion_codes.retrieve(
        promo.id, params={"expand": ["promotion.coupon"]})
    assert (expanded.promotion.coupon.id, expanded.promotion.coupon.percent_off) == ("FALL", 20)


def test_a_code_in_the_2023_shape_embeds_the_coupon(stripe_client_2023, coupon):
    promo = _promo_2023(stripe_client_2023, code="FALL20")
    assert promo.code == "FALL20"
    assert isinstance(promo.coupon, stripe.Coupon)
    assert (promo.coupon.id, promo.coupon.percent_off, promo.coupon.valid) == ("FALL", 20, True)
    assert "promotion" not in promo and "customer_account" not in promo


def test_2023_expands_inside_the_embedded_coupon(stripe_client, stripe_client_2023):
    mug = stripe_client.v1.products.create(params={"name": "Mug"})
    stripe_client.v1.coupons.create(
        params={"id": "MUGS", "percent_off": 5, "applies_to": {"products": [mug.id]}})
    promo = _promo_2023(stripe_client_2023, "MUGS")
    assert "applies_to" not in promo.coupon
    expanded = stripe_client_2023.v1.promotion_codes.retrieve(
        promo.id, params={"expand": ["coupon.applies_to"]})
    assert expanded.coupon.applies_to.products == [mug.id]
    listed = stripe_client_2023.v1.promotion_codes.list(
        params={"expand": ["data.coupon.applies_to"]})
    assert listed.data[0].coupon.applies_to.products == [mug.id]


def test_each_version_takes_only_its_own_shape(stripe_client, stripe_client_2023, coupon):
    err = _error(_promo_2023, stripe_client)
    assert (err.code, err.param) == ("parameter_unknown", "coupon")
    err = _error(_promo, stripe_client_2023)
    assert (err.code, err.param) == ("parameter_unknown", "promotion")


def test_the_coupon_is_required(stripe_client, stripe_client_2023):
    err = _error(stripe_client_2023.v1.promotion_codes.create, params={"code": "X"})
    assert (err.code, err.param) == ("parameter_missing", "coupon")
    assert err.user_message == "Missing required param: coupon."
    err = _error(stripe_client.v1.promotion_codes.create, params={"code": "X"})
    assert (err.code, err.param) == ("parameter_missing", "promotion")
    err = _error(stripe_client.v1.promotion_codes.create,
                 params={"promotion": {"type": "coupon"}})
    assert (err.code, err.param) == ("parameter_missing", "promotion[coupon]")
    assert err.user_message == "Missing required param: promotion[coupon]."


def test_the_coupon_must_exist_and_be_valid(stripe_client, stripe_client_2023):
    for create, param in ((_promo, "promotion[coupon]"), (_promo_2023, "coupon")):
        client = stripe_client if create is _promo else stripe_client_2023
        err = _error(create, client, "NOPE")
        assert (err.http_status, err.code, err.param) == (400, "resource_missing", param)
        assert err.user_message == "No such coupon: 'NOPE'"
    stripe_client.v1.coupons.create(params={"id": "OLD", "percent_off": 5})
    stripe_client.v1.coupons.delete("OLD")
    assert _error(_promo, stripe_client, "OLD").user_message == "No such coupon: 'OLD'"


def test_codes_use_letters_digits_and_dashes(stripe_client, coupon):
    assert _promo(stripe_client, code="Fall-2024").code == "Fall-2024"
    for bad in ("FALL 20", "FALL_20", "ÉTÉ"):
        err = _error(_promo, stripe_client, code=bad)
        assert (err.param, err.user_message) == ("code", promos.CODE_CHARACTERS)


def test_codes_are_unique_case_insensitively_among_active_codes(stripe_client, coupon):
    first = _promo(stripe_client, code="FALL20")
    err = _error(_promo, stripe_client, code="fall20")
    assert (err.http_status, err.code, err.param) == (400, None, None)
    assert err.user_message == "An active promotion code with `code: fall20` already exists."
    stripe_client.v1.promotion_codes.update(first.id, params={"active": False})
    assert _promo(stripe_client, code="fall20").active is True  # the old one is inactive
    assert _promo(stripe_client, code="FALL20", active=False).active is False


def test_customer_restricted_codes_may_share_a_code_but_not_with_an_open_one(stripe_client,
                                                                              coupon):
    amy = stripe_client.v1.customers.create(params={"email": "amy@example.com"})
    bob = stripe_client.v1.customers.create(params={"email": "bob@example.com"})
    for_amy = _promo(stripe_client, code="VIP", customer=amy.id)
    assert for_amy.customer == amy.id
    assert _promo(stripe_client, code="vip", customer=bob.id).customer == bob.id
    err = _error(_promo, stripe_client, code="VIP", customer=amy.id)
    assert err.user_message == "An active promotion code with `code: VIP` already exists."
    err = _error(_promo, stripe_client, code="VIP")  # open to any customer: clashes with both
    assert err.user_message == "An active promotion code with `code: VIP` already exists."
    _promo(stripe_client, code="OPEN")
    err = _error(_promo, stripe_client, code="open", customer=amy.id)
    assert err.user_message == "An active promotion code with `code: open` already exists."


def test_the_customer_must_exist(stripe_client, coupon):
    err = _error(_promo, stripe_client, customer="cus_nope")
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "customer")
    assert err.user_message == "No such customer: 'cus_nope'"


def test_expires_at_is_in_the_future_and_not_after_the_coupons_redeem_by(stripe_client,
                                                                          stripe_fake):
    now = stripe_fake.clock.now()
    stripe_client.v1.coupons.create(params={"id": "SOON", "percent_off": 5, "redeem_by": now + 100})
    err = _error(_promo, stripe_client, "SOON", expires_at=now - 1)
    assert (err.param, err.user_message) == ("expires_at", promos.EXPIRES_IN_PAST)
    err = _error(_promo, stripe_client, "SOON", expires_at=now + 101)
    assert err.param == "expires_at"
    assert err.user_message == promos.EXPIRES_AFTER_COUPON.format(redeem_by=now + 100)
    assert _promo(stripe_client, "SOON", expires_at=now + 50).expires_at == now + 50
    assert _promo(stripe_client, "SOON").expires_at == now + 100  # the coupon's redeem_by


def test_max_redemptions_is_positive_and_at_most_the_coupons(stripe_client):
    stripe_client.v1.coupons.create(params={"id": "FEW", "percent_off": 5, "max_redemptions": 3})
    err = _error(_promo, stripe_client, "FEW", max_redemptions=0)
    assert err.param == "max_redemptions"
    assert err.user_message == "This value must be greater than or equal to 1."
    err = _error(_promo, stripe_client, "FEW", max_redemptions=4)
    assert (err.param, err.user_message) == (
        "max_redemptions", promos.MORE_THAN_COUPON.format(limit=3))
    assert _promo(stripe_client, "FEW", max_redemptions=3).max_redemptions == 3


def test_restrictions(stripe_client, coupon):
    err = _error(_promo, stripe_client, restrictions={"minimum_amount": 1000})
    assert (err.code, err.param) == ("parameter_missing", "restrictions[minimum_amount_currency]")
    err = _error(_promo, stripe_client, restrictions={"minimum_amount_currency": "usd"})
    assert (err.code, err.param) == ("parameter_missing", "restrictions[minimum_amount]")
    err = _error(_promo, stripe_client, restrictions={
        "minimum_amount": 1000, "minimum_amount_currency": "usd",
        "currency_options": {"usd": {"minimum_amount": 900}}})
    assert err.param == "restrictions[currency_options][usd]"
    assert err.user_message == promos.SAME_AS_MINIMUM_CURRENCY.format(currency="usd")
    promo = _promo(stripe_client, restrictions={
        "minimum_amount": 1000, "minimum_amount_currency": "USD", "first_time_transaction": True,
        "currency_options": {"eur": {"minimum_amount": 900}}})
    assert promo.restrictions.to_dict() == {"first_time_transaction": True,
                                            "minimum_amount": 1000,
                                            "minimum_amount_currency": "usd"}
    expanded = stripe_client.v1.promotion_codes.retrieve(
        promo.id, params={"expand": ["restrictions.currency_options"]})
    assert expanded.restrictions.currency_options["eur"]["minimum_amount"] == 900


def test_update_changes_active_metadata_and_currency_options_only(stripe_client, coupon):
    promo = _promo(stripe_client, code="EDIT", metadata={"a": "1"},
                   restrictions={"minimum_amount": 1000, "minimum_amount_currency": "usd"})
    updated = stripe_client.v1.promotion_codes.update(promo.id, params={
        "active": False, "metadata": {"b": "2"},
        "restrictions": {"currency_options": {"eur": {"minimum_amount": 900}}},
        "expand": ["restrictions.currency_options"]})
    assert updated.active is False
    assert updated.metadata.to_dict() == {"a": "1", "b": "2"}
    assert updated.restrictions.currency_options["eur"]["minimum_amount"] == 900
    for field, value in (("code", "NEW"), ("max_redemptions", 2), ("expires_at", 2**31)):
        err = _error(stripe_client.v1.promotion_codes.update, promo.id, params={field: value})
        assert (err.code, err.param) == ("parameter_unknown", field)
    err = _error(stripe_client.v1.promotion_codes.update, promo.id,
                 params={"restrictions": {"minimum_amount": 5}})
    assert (err.code, err.param) == ("parameter_unknown", "restrictions[minimum_amount]")
    assert err.user_message == "Received unknown parameter: restrictions[minimum_amount]"


def test_reactivation_needs_a_free_code(stripe_client, coupon):
    old = _promo(stripe_client, code="BACK")
    stripe_client.v1.promotion_codes.update(old.id, params={"active": False})
    assert stripe_client.v1.promotion_codes.update(old.id, params={"active": True}).active
    stripe_client.v1.promotion_codes.update(old.id, params={"active": False})
    _promo(stripe_client, code="back")
    err = _error(stripe_client.v1.promotion_codes.update, old.id, params={"active": True})
    assert err.user_message == "An active promotion code with `code: BACK` already exists."


def test_a_deleted_coupon_makes_its_codes_permanently_inactive(stripe_client, stripe_client_2023,
                                                               coupon):
    promo = _promo(stripe_client)
    stripe_client.v1.coupons.delete("FALL")
    assert stripe_client.v1.promotion_codes.retrieve(promo.id).active is False
    err = _error(stripe_client.v1.promotion_codes.update, promo.id, params={"active": True})
    assert (err.param, err.user_message) == ("active", promos.CANNOT_REACTIVATE)
    old_shape = stripe_client_2023.v1.promotion_codes.retrieve(promo.id)
    assert (old_shape.coupon.id, old_shape.coupon.valid) == ("FALL", False)  # still embedded


def test_the_clock_passing_redeem_by_invalidates_the_coupon_and_its_codes(stripe_client,
                                                                           stripe_fake):
    now = stripe_fake.clock.now()
    stripe_client.v1.coupons.create(params={"id": "WEEK", "percent_off": 5,
                                            "redeem_by": now + 7 * 86400})
    promo = _promo(stripe_client, "WEEK", expires_at=now + 86400)
    other = _promo(stripe_client, "WEEK")
    stripe_fake.clock.advance(86400)  # the code expires, the coupon is still valid
    assert stripe_client.v1.promotion_codes.retrieve(promo.id).active is False
    assert stripe_client.v1.promotion_codes.retrieve(other.id).active is True
    err = _error(stripe_client.v1.promotion_codes.update, promo.id, params={"active": True})
    assert err.user_message == promos.CANNOT_REACTIVATE
    stripe_fake.clock.advance(6 * 86400 + 1)  # past redeem_by
    assert stripe_client.v1.coupons.retrieve("WEEK").valid is False
    assert stripe_client.v1.promotion_codes.retrieve(other.id).active is False
    assert [p.id for p in stripe_client.v1.promotion_codes.list(params={"active": True})] == []
    err = _error(_promo, stripe_client, "WEEK")
    assert (err.param, err.user_message) == ("promotion[coupon]", promos.COUPON_NOT_VALID)


def test_list_filters(stripe_client, stripe_fake, coupon):
    amy = stripe_client.v1.customers.create(params={"email": "amy@example.com"})
    stripe_client.v1.coupons.create(params={"id": "OTHER", "amount_off": 5, "currency": "usd"})
    a = _promo(stripe_client, code="ALPHA")
    stripe_fake.clock.advance(5)
    b = _promo(stripe_client, "OTHER", code="BETA", customer=amy.id)
    c = _promo(stripe_client, code="GAMMA", active=False)

    def ids(**params):
        return [p.id for p in stripe_client.v1.promotion_codes.list(params=params)]

    assert ids() == [c.id, b.id, a.id]
    assert ids(code="alpha") == [a.id]
    assert ids(coupon="FALL") == [c.id, a.id]
    assert ids(customer=amy.id) == [b.id]
    assert ids(active=False) == [c.id]
    assert ids(active=True, coupon="FALL") == [a.id]
    assert ids(created={"gt": a.created}) == [c.id, b.id]
    assert ids(limit=1, starting_after=b.id) == [a.id]


def test_the_2023_list_embeds_coupons(stripe_client_2023, coupon):
    _promo_2023(stripe_client_2023, code="LISTED")
    listed = stripe_client_2023.v1.promotion_codes.list(params={"code": "listed"})
    assert [(p.code, p.coupon.id) for p in listed] == [("LISTED", "FALL")]


def test_a_missing_code_is_a_404_and_codes_cannot_be_deleted(stripe_client):
    err = _error(stripe_client.v1.promotion_codes.retrieve, "promo_nope")
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "promotion_code")
    assert err.user_message == "No such promotion_code: 'promo_nope'"
    err = _error(stripe_client.raw_request, "delete", "/v1/promotion_codes/promo_nope")
    assert err.http_status == 404
    assert err.user_message.startswith(
        "Unrecognized request URL (DELETE: /v1/promotion_codes/promo_nope).")


def test_global_style(stripe_fake):
    stripe.Coupon.create(id="G", percent_off=5)
    promo = stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": "G"}, code="GLOBAL")
    assert stripe.PromotionCode.retrieve(promo.id).code == "GLOBAL"
    assert stripe.PromotionCode.modify(promo.id, active=False).active is False
    assert [p.id for p in stripe.PromotionCode.list(code="global")] == [promo.id]
