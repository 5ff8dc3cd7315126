"""Stripe's test card tokens as payment sources, through the stripe SDK: ``source=tok_visa`` on
a charge charges a new Card; on a customer it attaches a Card that becomes the default source."""

from __future__ import annotations

import pytest
import stripe

from pytest_stripe_fixtures.fake import errors, test_cards
from pytest_stripe_fixtures.fake.resources import cards


def _charge(client: stripe.StripeClient, **params) -> stripe.Charge:
    return client.v1.charges.create(params={"amount": 2000, "currency": "usd", **params})


def test_charging_a_test_token_charges_a_new_card(stripe_client):
    charge = _charge(stripe_client, source="tok_visa")
    assert (charge.status, charge.paid, charge.captured, charge.customer) == (
        "succeeded", True, True, None)
    card = charge.source
    assert card.id.startswith("card_") and card.object == "card"
    assert (card.brand, card.last4, card.funding, card.customer) == ("Visa", "4242", "credit", None)
    assert charge.payment_method == card.id
    details = charge.payment_method_details
    assert details.type == "card"
    assert (details.card.brand, details.card.last4, details.card.exp_month,
            details.card.exp_year, details.card.fingerprint) == (
        "visa", "4242", card.exp_month, card.exp_year, card.fingerprint)
    assert details.card.checks.cvc_check == "pass"


def test_the_global_sdk_style_and_other_brands(stripe_fake):
    stripe.api_key = "sk_test_fake"
    charge = stripe.Charge.create(amount=2000, currency="usd", source="tok_amex")
    assert (charge.payment_method_details.card.brand, charge.source.brand,
            charge.source.last4) == ("amex", "American Express", "8431")


def test_magic_test_tokens_can_be_used_again_and_again(stripe_client):
    first = _charge(stripe_client, source="tok_mastercard")
    second = _charge(stripe_client, source="tok_mastercard")
    assert first.payment_method != second.payment_method  # a new card each time
    assert first.source.fingerprint == second.source.fingerprint  # the same card number


def test_2023_charges_show_the_card_in_payment_method_details(stripe_client_2023):
    charge = _charge(stripe_client_2023, source="tok_visa")
    assert "source" not in charge  # not in the 2023-08-16 spec (see test_charges.py)
    assert charge.payment_method.startswith("card_")
    assert charge.payment_method_details.card.last4 == "4242"


def test_an_unknown_token(stripe_client):
    for call in (lambda: _charge(stripe_client, source="tok_nope"),
                 lambda: stripe_client.v1.customers.create(params={"source": "tok_nope"})):
        with pytest.raises(stripe.InvalidRequestError) as info:
            call()
        err = info.value
        assert (err.http_status, err.code, err.param, err.user_message) == (
            400, "resource_missing", "source", "No such token: 'tok_nope'")


def test_a_customer_created_with_a_token_has_it_as_default_card(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa",
                                                         "expand": ["sources"]})
    card_id = customer.default_source
    assert card_id.startswith("card_")
    [card] = customer.sources.data
    assert (card.id, card.object, card.customer, card.last4) == (
        card_id, "card", customer.id, "4242")
    assert "allow_redisplay" in card and "regulated_status" in card
    charge = _charge(stripe_client, customer=customer.id)  # the default card pays
    assert (charge.customer, charge.payment_method, charge.source.id) == (
        customer.id, card_id, card_id)
    assert charge.payment_method_details.card.last4 == "4242"
    expanded = stripe_client.v1.customers.retrieve(customer.id,
                                                   params={"expand": ["default_source"]})
    assert expanded.default_source.object == "card"


def test_default_card_picks_one_of_the_customers_cards(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    second = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                               params={"source": "tok_amex"})
    assert stripe_client.v1.customers.retrieve(customer.id).default_source != second.id
    updated = stripe_client.v1.customers.update(customer.id, params={"default_card": second.id})
    assert updated.default_source == second.id
    assert _charge(stripe_client, customer=customer.id).payment_method == second.id
    other = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    source = stripe_client.v1.sources.create(params={"type": "card", "token": "tok_visa"})
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    for not_a_card_of_hers in (other.default_source, "card_nope", source.id):
        with pytest.raises(stripe.InvalidRequestError) as info:
            stripe_client.v1.customers.update(customer.id,
                                              params={"default_card": not_a_card_of_hers})
        err = info.value
        assert (err.http_status, err.code, err.param, err.user_message) == (
            400, "resource_missing", "default_card",
            errors.NO_SUCH.format(object="card", id=not_a_card_of_hers))  # [R] object name
    for param, kind in (("default_bank_account", "bank_account"),
                        ("default_alipay_account", "alipay_account")):
        with pytest.raises(stripe.InvalidRequestError) as info:
            stripe_client.v1.customers.update(customer.id, params={param: "ba_nope"})
        assert (info.value.param, info.value.user_message) == (
            param, errors.NO_SUCH.format(object=kind, id="ba_nope"))  # not faked


def test_2023_cards_lack_the_newer_fields(stripe_client_2023):
    customer = stripe_client_2023.v1.customers.create(params={"source": "tok_visa"})
    card = stripe_client_2023.v1.customers.payment_sources.retrieve(customer.id,
                                                                    customer.default_source)
    assert card.object == "card" and card.brand == "Visa"
    assert "allow_redisplay" not in card and "regulated_status" not in card


def test_cards_and_sources_are_listed_together(stripe_client):
    customer = stripe_client.v1.customers.create()
    card = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                             params={"source": "tok_visa"})
    assert card.object == "card" and card.customer == customer.id
    assert stripe_client.v1.customers.retrieve(customer.id).default_source == card.id
    source = stripe_client.v1.sources.create(params={"type": "card", "token": "tok_amex"})
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    listed = stripe_client.v1.customers.payment_sources.list(customer.id)
    assert [s.id for s in listed.data] == [source.id, card.id]
    only_cards = stripe_client.v1.customers.payment_sources.list(customer.id,
                                                                 params={"object": "card"})
    assert [s.id for s in only_cards.data] == [card.id]
    got = stripe_client.v1.customers.payment_sources.retrieve(customer.id, card.id)
    assert got.id == card.id and got.last4 == "4242"
    again = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                              params={"source": "tok_visa"})
    assert again.id != card.id  # a test token is reusable: another card
    assert stripe_client.v1.customers.retrieve(customer.id).default_source == card.id
    charge = _charge(stripe_client, customer=customer.id, source=again.id)
    assert charge.payment_method == again.id


def test_updating_a_customer_card(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    updated = stripe_client.v1.customers.payment_sources.update(
        customer.id, customer.default_source,
        params={"name": "Jenny Rosen", "exp_year": 2040, "address_zip": "94107",
                "metadata": {"k": "v"}})
    assert (updated.name, updated.exp_year, updated.address_zip) == ("Jenny Rosen", 2040, "94107")
    assert updated.metadata.to_dict() == {"k": "v"}
    charge = _charge(stripe_client, customer=customer.id)
    assert (charge.billing_details.name, charge.billing_details.address.postal_code) == (
        "Jenny Rosen", "94107")


def test_deleting_a_card_returns_the_deleted_stub(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    card_id = customer.default_source
    deleted = stripe_client.v1.customers.payment_sources.delete(customer.id, card_id)
    assert deleted.to_dict() == {"id": card_id, "object": "card", "deleted": True}
    customer = stripe_client.v1.customers.retrieve(customer.id, params={"expand": ["sources"]})
    assert customer.default_source is None and customer.sources.data == []
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.customers.payment_sources.retrieve(customer.id, card_id)
    assert info.value.http_status == 404
    with pytest.raises(stripe.CardError) as declined:  # nothing left to charge
        _charge(stripe_client, customer=customer.id)
    assert declined.value.code == "missing"


def test_a_customer_card_is_charged_through_its_customer(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        _charge(stripe_client, source=customer.default_source)
    assert info.value.param == "source"


@pytest.mark.parametrize(("token", "decline_code", "message"), [
    ("tok_chargeDeclined", "generic_decline", "Your card was declined."),
    ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds",
     "Your card has insufficient funds."),
])
def test_declining_test_cards(stripe_client, stripe_fake, token, decline_code, message):
    assert message in (test_cards.DECLINED, test_cards.INSUFFICIENT_FUNDS)
    with pytest.raises(stripe.CardError) as info:
        _charge(stripe_client, source=token)
    err = info.value
    assert (err.http_status, err.code, err.user_message, err.error.decline_code) == (
        402, "card_declined", message, decline_code)
    failed = stripe_client.v1.charges.retrieve(err.error.charge)  # the failed charge remains
    assert (failed.status, failed.paid, failed.failure_code, failed.failure_message) == (
        "failed", False, "card_declined", message)
    assert failed.outcome.type == "issuer_declined" and failed.outcome.reason == decline_code
    with pytest.raises(stripe.CardError) as attaching:  # attaching the card declines too
        stripe_client.v1.customers.create(params={"source": token})
    assert (attaching.value.code, attaching.value.error.decline_code) == (
        "card_declined", decline_code)
    assert stripe_fake.objects("customer") == []


def test_a_bad_expiry_month(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    with pytest.raises(stripe.CardError) as info:
        stripe_client.v1.customers.payment_sources.update(customer.id, customer.default_source,
                                                          params={"exp_month": "13"})
    assert (info.value.code, info.value.param, info.value.user_message) == (
        "invalid_expiry_month", "exp_month", cards.INVALID_EXPIRY["exp_month"])


DECLINING_TOKENS = sorted(name for name, row in test_cards.BY_NAME.items()
                          if name.startswith("tok_") and row.decline is not None)


@pytest.mark.parametrize("token", DECLINING_TOKENS)
def test_every_declining_token_on_a_legacy_charge(stripe_client, token):
    row = test_cards.by_name(token)
    expected = cards.charge_decline(row)
    with pytest.raises(stripe.CardError) as info:
        _charge(stripe_client, source=token)
    assert (info.value.code, info.value.error.decline_code, info.value.user_message) == (
        expected.code, expected.decline_code, expected.message)
    failed = stripe_client.v1.charges.retrieve(info.value.error.charge)
    assert (failed.status, failed.failure_code) == ("failed", expected.code)


def test_a_token_for_a_card_that_always_needs_3ds_cannot_pay_a_legacy_charge(stripe_client):
    with pytest.raises(stripe.CardError) as info:
        _charge(stripe_client, source="tok_threeDSecure2Required")
    assert info.value.code == "authentication_required"  # [R] no way to authenticate here


def test_the_charge_customer_fail_token_attaches_then_fails(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": "tok_chargeCustomerFail"})
    with pytest.raises(stripe.CardError) as info:
        _charge(stripe_client, customer=customer.id)
    assert info.value.error.decline_code == "generic_decline"
