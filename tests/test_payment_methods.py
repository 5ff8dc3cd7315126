"""PaymentMethods of type card, through the stripe SDK: made from magic ids and tokens, attached
to and detached from customers, listed, updated, and the customer's default for invoices."""

from __future__ import annotations

import pytest
import stripe
from helpers import request_error

from pytest_stripe_fixtures.fake import test_cards
from pytest_stripe_fixtures.fake.resources import payment_methods


def _customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create(params={"email": "jenny@example.com"})


def test_a_payment_method_from_a_token_has_the_test_cards_details(stripe_client):
    pm = stripe_client.v1.payment_methods.create(params={"type": "card",
                                                         "card": {"token": "tok_visa"}})
    assert pm.id.startswith("pm_") and pm.object == "payment_method" and pm.type == "card"
    assert pm.customer is None and pm.livemode is False and pm.metadata.to_dict() == {}
    card = pm.card
    assert (card.brand, card.last4, card.funding, card.country, card.wallet) == (
        "visa", "4242", "credit", "US", None)
    assert card.checks.cvc_check == "unchecked"  # [V] pass only after a successful charge
    assert card.networks.available == ["visa"] and card.three_d_secure_usage.supported is True
    assert len(card.fingerprint) == 16
    assert pm.billing_details.address.country is None and pm.billing_details.name is None
    assert "acss_debit" not in pm  # only the hash named by `type`


def test_the_same_card_has_the_same_fingerprint(stripe_client):
    a = stripe_client.v1.payment_methods.create(params={"type": "card",
                                                        "card": {"token": "tok_mastercard"}})
    b = stripe_client.v1.payment_methods.retrieve("pm_card_mastercard")  # a fresh one
    assert a.id != b.id and a.card.fingerprint == b.card.fingerprint
    assert (b.card.brand, b.card.last4) == ("mastercard", "4444")


def test_an_unknown_token_or_payment_method(stripe_client):
    err = request_error(stripe_client.v1.payment_methods.create,
                        params={"type": "card", "card": {"token": "tok_nope"}})
    assert (err.http_status, err.code, err.user_message) == (
        400, "resource_missing", "No such token: 'tok_nope'")
    err = request_error(stripe_client.v1.payment_methods.retrieve, "pm_nope")
    assert (err.http_status, err.code, err.user_message) == (
        404, "resource_missing", "No such PaymentMethod: 'pm_nope'")


def test_raw_card_numbers_are_refused_unless_the_account_allows_them(stripe_client):
    with pytest.raises(stripe.CardError) as info:  # the SDK's class for any 402
        stripe_client.v1.payment_methods.create(params={"type": "card", "card": {
            "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    assert info.value.http_status == 402 and info.value.error.type == "invalid_request_error"
    assert info.value.user_message == payment_methods.RAW_CARD_DATA


@pytest.mark.stripe_fake(raw_card_data=True)
def test_raw_card_numbers_where_the_account_allows_them(stripe_client):
    def create(**card):
        return stripe_client.v1.payment_methods.create(params={"type": "card", "card": {
            "exp_month": 12, "exp_year": 2030, "cvc": "123", **card}})

    pm = create(number="4000 0566 5566 5556")
    assert (pm.card.brand, pm.card.last4, pm.card.funding, pm.card.exp_month,
            pm.card.exp_year) == ("visa", "5556", "debit", 12, 2030)
    assert pm.card.fingerprint == test_cards.fingerprint("4000056655665556")
    for card, code, param in [({"number": "4242424242424241"}, "incorrect_number", "number"),
                              ({"number": "4242424242424242", "exp_month": 13},
                               "invalid_expiry_month", "exp_month"),
                              ({"number": "4242424242424242", "exp_year": 2001},
                               "invalid_expiry_year", "exp_year"),
                              ({"number": "4242424242424242", "cvc": "99"}, "invalid_cvc", "cvc")]:
        with pytest.raises(stripe.CardError) as info:
            create(**card)
        assert (info.value.http_status, info.value.code, info.value.param) == (402, code, param)
    other = create(number="4012888888881881")  # any valid number is an ordinary card
    assert (other.card.brand, other.card.last4) == ("visa", "1881")


def test_attach_list_and_detach(stripe_client, stripe_fake):
    customer = _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert pm.id.startswith("pm_") and pm.id != "pm_card_visa"  # a magic id mints a new one [V]
    assert pm.customer == customer.id
    again = stripe_client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    assert again.customer == customer.id  # attaching twice to the same customer: no change
    second = stripe_client.v1.payment_methods.attach("pm_card_amex",
                                                     params={"customer": customer.id})
    listed = stripe_client.v1.customers.payment_methods.list(customer.id)
    assert [m.id for m in listed.data] == [second.id, pm.id]  # newest first
    assert [m.id for m in stripe_client.v1.payment_methods.list(
        params={"customer": customer.id, "type": "card", "limit": 1}).data] == [second.id]
    assert stripe_client.v1.payment_methods.list().data == []  # no customer: none [C]
    one = stripe_client.v1.customers.payment_methods.retrieve(customer.id, pm.id)
    assert one.id == pm.id

    detached = stripe_client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    assert [m.id for m in stripe_client.v1.customers.payment_methods.list(customer.id).data] == [
        second.id]
    err = request_error(stripe_client.v1.customers.payment_methods.retrieve, customer.id, pm.id)
    assert (err.http_status, err.param) == (404, "customer")
    assert err.user_message == payment_methods.NOT_CUSTOMERS.format(pm=pm.id)
    err = request_error(stripe_client.v1.payment_methods.detach, pm.id)  # twice [V]
    assert err.user_message == payment_methods.NOT_ATTACHED_DETACH and err.code is None
    err = request_error(stripe_client.v1.payment_methods.attach, pm.id,
                        params={"customer": customer.id})  # never again [V]
    assert err.user_message == payment_methods.CANNOT_REUSE


def test_attach_needs_a_customer_that_exists(stripe_client):
    pm = stripe_client.v1.payment_methods.create(params={"type": "card",
                                                         "card": {"token": "tok_visa"}})
    err = request_error(stripe_client.v1.payment_methods.attach, pm.id, params={})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "customer", "Missing required param: customer.")
    err = request_error(stripe_client.v1.payment_methods.attach, pm.id,
                        params={"customer": "cus_nope"})
    assert (err.code, err.param) == ("resource_missing", "customer")


@pytest.mark.parametrize("magic", ["pm_card_chargeDeclined", "pm_card_visa_chargeDeclinedLostCard",
                                   "pm_card_chargeDeclinedExpiredCard"])
def test_declining_cards_cannot_be_attached(stripe_client, magic):
    customer = _customer(stripe_client)
    with pytest.raises(stripe.CardError) as info:
        stripe_client.v1.payment_methods.attach(magic, params={"customer": customer.id})
    row = test_cards.by_name(magic)
    assert info.value.http_status == 402 and info.value.code == row.decline.code
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data == []


def test_charge_customer_fail_cards_attach(stripe_client):
    customer = _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                 params={"customer": customer.id})
    assert pm.customer == customer.id and pm.card.last4 == "0341"


def test_update_billing_details_metadata_and_expiry(stripe_client):
    customer = _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    updated = stripe_client.v1.payment_methods.update(pm.id, params={
        "billing_details": {"name": "Jenny Rosen", "address": {"postal_code": "94107"}},
        "metadata": {"k": "v"}, "card": {"exp_month": 4, "exp_year": 2031}})
    assert updated.billing_details.name == "Jenny Rosen"
    assert updated.billing_details.address.postal_code == "94107"
    assert (updated.metadata.to_dict(), updated.card.exp_month, updated.card.exp_year) == (
        {"k": "v"}, 4, 2031)
    with pytest.raises(stripe.CardError) as info:
        stripe_client.v1.payment_methods.update(pm.id, params={"card": {"exp_month": 13}})
    assert info.value.code == "invalid_expiry_month"


def test_the_customers_default_payment_method_for_invoices(stripe_client):
    customer = stripe_client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    default = customer.invoice_settings.default_payment_method
    assert default.startswith("pm_") and default != "pm_card_visa"
    [pm] = stripe_client.v1.customers.payment_methods.list(customer.id).data
    assert pm.id == default and pm.customer == customer.id
    expanded = stripe_client.v1.customers.retrieve(
        customer.id, params={"expand": ["invoice_settings.default_payment_method"]})
    assert expanded.invoice_settings.default_payment_method.card.last4 == "4242"

    stranger = stripe_client.v1.payment_methods.create(params={"type": "card",
                                                               "card": {"token": "tok_visa"}})
    err = request_error(stripe_client.v1.customers.update, customer.id, params={
        "invoice_settings": {"default_payment_method": stranger.id}})
    assert err.param == "invoice_settings[default_payment_method]"
    assert err.user_message == payment_methods.NOT_CUSTOMERS.format(pm=stranger.id)
    other = stripe_client.v1.payment_methods.attach(stranger.id, params={"customer": customer.id})
    moved = stripe_client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": other.id}})
    assert moved.invoice_settings.default_payment_method == other.id
    stripe_client.v1.payment_methods.detach(other.id)  # detaching the default clears it [R]
    assert stripe_client.v1.customers.retrieve(
        customer.id).invoice_settings.default_payment_method is None
    cleared = stripe_client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": ""}})
    assert cleared.invoice_settings.default_payment_method is None


def test_a_payment_method_attached_to_one_customer_cannot_go_to_another(stripe_client):
    one, two = _customer(stripe_client), _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_visa", params={"customer": one.id})
    err = request_error(stripe_client.v1.payment_methods.attach, pm.id, params={"customer": two.id})
    assert err.http_status == 400


def test_2023_payment_methods_have_the_2023_shape(stripe_client_2023):
    pm = stripe_client_2023.v1.payment_methods.create(params={"type": "card",
                                                              "card": {"token": "tok_visa"}})
    assert "allow_redisplay" not in pm and "display_brand" not in pm.card
    assert pm.card.brand == "visa"


def test_current_payment_methods_have_the_newer_fields(stripe_client):
    pm = stripe_client.v1.payment_methods.create(params={"type": "card",
                                                         "card": {"token": "tok_amex"}})
    assert pm.allow_redisplay == "unspecified"
    assert pm.card.display_brand == "american_express"


@pytest.mark.asyncio
async def test_payment_methods_async(stripe_fake):
    client = stripe.StripeClient("sk_test_fake", http_client=stripe.HTTPXClient())
    customer = await client.v1.customers.create_async(params={})
    pm = await client.v1.payment_methods.attach_async("pm_card_visa",
                                                      params={"customer": customer.id})
    listed = await client.v1.customers.payment_methods.list_async(customer.id)
    assert [m.id for m in listed.data] == [pm.id]
    assert (await client.v1.payment_methods.detach_async(pm.id)).customer is None
