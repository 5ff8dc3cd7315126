"""Charges, minimal (STRIPE-API-RULES.md section 18), through the stripe SDK: a charge of a
Source, of a customer's default source, or of a source attached to the customer."""

from __future__ import annotations

import pytest
import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake.resources import charges, sources
from pytest_stripe_fixtures.fake.resources.sources import receive_funds


def _card(client: stripe.StripeClient, **params) -> stripe.Source:
    return client.v1.sources.create(params={"type": "card", "token": "tok_visa", **params})


def _customer_with_card(client: stripe.StripeClient) -> tuple[stripe.Customer, stripe.Source]:
    source = _card(client)
    return client.v1.customers.create(params={"source": source.id}), source


def _charge(client: stripe.StripeClient, **params) -> stripe.Charge:
    return client.v1.charges.create(params={"amount": 2000, "currency": "usd", **params})


def test_charging_a_source(stripe_client, stripe_fake):
    source = _card(stripe_client, owner={"name": "Jenny Rosen", "email": "jenny@example.com"})
    charge = _charge(stripe_client, source=source.id, description="Mug",
                     metadata={"order": "6735"})
    assert charge.id.startswith("ch_") and charge.object == "charge"
    assert (charge.amount, charge.currency, charge.status, charge.paid, charge.captured) == (
        2000, "usd", "succeeded", True, True)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (2000, 0, False)
    assert (charge.customer, charge.payment_method, charge.description) == (
        None, source.id, "Mug")
    assert charge.metadata.to_dict() == {"order": "6735"}
    assert charge.balance_transaction.startswith("txn_")
    assert charge.outcome.type == "authorized" and charge.outcome.network_status == (
        "approved_by_network")
    assert (charge.billing_details.name, charge.billing_details.email) == (
        "Jenny Rosen", "jenny@example.com")
    details = charge.payment_method_details
    assert details.type == "card"
    assert (details.card.brand, details.card.last4, details.card.network) == (
        "visa", "4242", "visa")
    assert charge.source.id == source.id and charge.source.object == "source"  # embedded
    assert "refunds" not in charge  # includable since 2022-11-15 [D]
    assert charge.created == stripe_fake.clock.now()


def test_2023_charges_have_no_source_but_an_invoice(stripe_client_2023):
    charge = _charge(stripe_client_2023, source=_card(stripe_client_2023).id)
    assert "source" not in charge  # not in the 2023-08-16 spec
    assert charge.invoice is None  # removed in 2025-03-31.basil
    assert "advice_code" not in charge.outcome


def test_an_unattached_reusable_source_is_consumed_by_its_charge(stripe_client):
    source = _card(stripe_client)
    _charge(stripe_client, source=source.id)
    assert stripe_client.v1.sources.retrieve(source.id).status == "consumed"
    err = _error(_charge, stripe_client, source=source.id)
    assert (err.http_status, err.code, err.param) == (400, None, "source")
    assert err.user_message == sources.CONSUMED_REUSABLE == (
        "The reusable source you provided is consumed because it was previously charged without "
        "being attached to a customer or was detached from a customer. To charge a reusable "
        "source multiple time you must attach it to a customer first.")


def test_a_single_use_source_is_consumed_after_one_charge(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create()
    source = stripe_client.v1.sources.create(params={
        "type": "card", "token": "tok_visa", "usage": "single_use", "amount": 2000,
        "currency": "usd"})
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    _charge(stripe_client, customer=customer.id, source=source.id)
    assert stripe_client.v1.sources.retrieve(source.id).status == "consumed"
    err = _error(_charge, stripe_client, customer=customer.id, source=source.id)
    assert err.user_message == sources.ALREADY_USED == (
        "The provided source has already been used to make another payment. You cannot reuse "
        "sources without attaching them to a Customer object first.")


def test_charging_a_customer_uses_the_default_source_and_keeps_it(stripe_client):
    customer, source = _customer_with_card(stripe_client)
    for _ in range(2):
        charge = _charge(stripe_client, customer=customer.id)
        assert (charge.customer, charge.payment_method) == (customer.id, source.id)
    assert stripe_client.v1.sources.retrieve(source.id).status == "chargeable"


def test_charging_one_of_the_customers_sources(stripe_client):
    customer, _ = _customer_with_card(stripe_client)
    other = _card(stripe_client, token="tok_amex")
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": other.id})
    charge = _charge(stripe_client, customer=customer.id, source=other.id)
    assert charge.payment_method == other.id and charge.payment_method_details.card.brand == (
        "amex")


def test_a_customer_without_a_source_cannot_be_charged(stripe_client):
    customer = stripe_client.v1.customers.create()
    with pytest.raises(stripe.CardError) as info:
        _charge(stripe_client, customer=customer.id)
    err = info.value
    assert (err.http_status, err.code, err.param) == (402, "missing", "card")
    assert err.user_message == "Cannot charge a customer that has no active card"


def test_a_source_must_be_linked_to_the_customer(stripe_client):
    customer, _ = _customer_with_card(stripe_client)
    stranger = _card(stripe_client)
    err = _error(_charge, stripe_client, customer=customer.id, source=stranger.id)
    assert (err.http_status, err.code, err.param) == (404, "missing", "source")
    assert err.user_message == (
        f"Customer {customer.id} does not have a linked source with ID {stranger.id}.")


def test_an_attached_source_is_charged_through_its_customer(stripe_client):
    customer, source = _customer_with_card(stripe_client)
    err = _error(_charge, stripe_client, source=source.id)
    assert (err.param, err.user_message) == ("source", sources.ATTACHED_NEEDS_CUSTOMER.format(
        source=source.id, customer=customer.id))


def test_a_pending_source_is_not_chargeable_until_funded(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create()
    source = stripe_client.v1.sources.create(params={"type": "ach_credit_transfer"})
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    err = _error(_charge, stripe_client, customer=customer.id)
    assert (err.http_status, err.param) == (400, "source")
    assert err.user_message == "The source you provided is not in a chargeable state."
    receive_funds(stripe_fake.store, source.id, 2000)
    _charge(stripe_client, customer=customer.id)
    funded = stripe_client.v1.sources.retrieve(source.id)
    assert (funded.receiver.amount_received, funded.receiver.amount_charged) == (2000, 2000)


def test_required_params(stripe_client):
    source = _card(stripe_client)
    err = _error(stripe_client.v1.charges.create, params={"currency": "usd", "source": source.id})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "amount", "Missing required param: amount.")
    err = _error(stripe_client.v1.charges.create, params={"amount": 100, "source": source.id})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "currency", "Missing required param: currency.")
    err = _error(stripe_client.v1.charges.create, params={"amount": 100, "currency": "usd"})
    assert (err.http_status, err.param, err.user_message) == (
        400, None, "Must provide source or customer.")


def test_amount_bounds(stripe_client):
    source = _card(stripe_client)
    err = _error(_charge, stripe_client, source=source.id, amount=0)
    assert (err.param, err.user_message) == ("amount",
                                             "This value must be greater than or equal to 1.")
    err = _error(_charge, stripe_client, source=source.id, amount=49)
    assert (err.code, err.param, err.user_message) == (
        "amount_too_small", "amount", "Amount must be at least 50 cents")
    err = _error(_charge, stripe_client, source=source.id, amount=30, currency="gbp")
    assert err.code == "amount_too_small"
    assert err.user_message == "Amount must convert to at least 50 cents. £0.30 converts to " \
        "approximately $0.38."  # [V] format, [R] exchange rate
    err = _error(_charge, stripe_client, source=source.id, amount=charges.MAX_AMOUNT + 1)
    assert (err.code, err.param) == ("amount_too_large", "amount")
    assert stripe_client.v1.sources.retrieve(source.id).status == "chargeable"  # nothing charged
    assert _charge(stripe_client, source=source.id, amount=50).amount == 50


def test_minimums_follow_the_currency(stripe_client):
    assert _charge(stripe_client, source=_card(stripe_client).id, amount=75,
                   currency="jpy").currency == "jpy"  # ¥75 is about $0.50
    err = _error(_charge, stripe_client, source=_card(stripe_client).id, amount=74,
                 currency="jpy")
    assert err.code == "amount_too_small" and err.user_message.startswith(
        "Amount must convert to at least 50 cents. ¥74 converts to approximately $")


def test_missing_customer_and_source(stripe_client):
    err = _error(_charge, stripe_client, customer="cus_nope")
    assert (err.http_status, err.code, err.param, err.user_message) == (
        400, "resource_missing", "customer", "No such customer: 'cus_nope'")
    err = _error(_charge, stripe_client, source="src_nope")
    assert (err.http_status, err.code, err.param, err.user_message) == (
        400, "resource_missing", "source", "No such source: 'src_nope'")


def test_coupons_do_not_apply_to_charges(stripe_client):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 50})
    err = _error(_charge, stripe_client, source=_card(stripe_client).id, coupon=coupon.id)
    assert (err.http_status, err.code, err.param) == (400, "parameter_unknown", "coupon")
    assert err.user_message == "Received unknown parameter: coupon"


def test_uncaptured_charges(stripe_client):
    charge = _charge(stripe_client, source=_card(stripe_client).id, capture=False)
    assert (charge.captured, charge.amount_captured, charge.paid, charge.status) == (
        False, 0, True, "succeeded")
    assert charge.balance_transaction is None


def test_retrieve_and_update(stripe_client):
    customer = stripe_client.v1.customers.create()
    charge = _charge(stripe_client, source=_card(stripe_client).id, metadata={"a": "1"})
    assert stripe.Charge.retrieve(charge.id).id == charge.id
    updated = stripe_client.v1.charges.update(charge.id, params={
        "description": "Refined", "metadata": {"a": "", "b": "2"}, "customer": customer.id,
        "receipt_email": "jenny@example.com", "fraud_details": {"user_report": "safe"},
        "shipping": {"name": "Jenny", "address": {"line1": "1 Main St"}}})
    assert (updated.description, updated.customer, updated.receipt_email) == (
        "Refined", customer.id, "jenny@example.com")
    assert updated.metadata.to_dict() == {"b": "2"}
    assert updated.fraud_details.to_dict() == {"user_report": "safe"}
    assert updated.shipping.address.line1 == "1 Main St"
    other = stripe_client.v1.customers.create()
    err = _error(stripe_client.v1.charges.update, charge.id, params={"customer": other.id})
    assert (err.param, err.user_message) == ("customer", charges.CUSTOMER_ALREADY_SET.format(
        customer=customer.id))
    err = _error(stripe_client.v1.charges.retrieve, "ch_nope")
    assert (err.http_status, err.code, err.param, err.user_message) == (
        404, "resource_missing", "charge", "No such charge: 'ch_nope'")


def test_expansion(stripe_client):
    customer, _ = _customer_with_card(stripe_client)
    charge = _charge(stripe_client, customer=customer.id)
    full = stripe_client.v1.charges.retrieve(charge.id, params={
        "expand": ["customer", "balance_transaction", "refunds"]})
    assert full.customer.id == customer.id and full.customer.object == "customer"
    assert full.balance_transaction.id == charge.balance_transaction
    assert full.balance_transaction.object == "balance_transaction"
    assert full.refunds.to_dict() == {"object": "list", "data": [], "has_more": False,
                                      "url": f"/v1/charges/{charge.id}/refunds"}
    stripe_client.v1.customers.delete(customer.id)
    gone = stripe_client.v1.charges.retrieve(charge.id, params={"expand": ["customer"]})
    assert gone.customer.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}


def test_list_filters_by_customer(stripe_client):
    customer, _ = _customer_with_card(stripe_client)
    mine = _charge(stripe_client, customer=customer.id)
    _charge(stripe_client, source=_card(stripe_client).id)
    listed = stripe_client.v1.charges.list(params={"customer": customer.id})
    assert [c.id for c in listed.data] == [mine.id] and listed.url == "/v1/charges"
    assert len(stripe_client.v1.charges.list().data) == 2
    assert len(list(stripe.Charge.list(limit=1).auto_paging_iter())) == 2


def test_search_fields(stripe_client):
    customer, _ = _customer_with_card(stripe_client)
    big = _charge(stripe_client, customer=customer.id, amount=5000, metadata={"k": "v"})
    small = _charge(stripe_client, source=_card(stripe_client).id, amount=600, currency="eur")

    def ids(query: str) -> list[str]:
        result = stripe_client.v1.charges.search(params={"query": query})
        assert result.url == "/v1/charges/search"
        return [c.id for c in result.data]

    assert ids("amount>1000") == [big.id]
    assert ids('currency:"eur"') == [small.id]
    assert ids(f'customer:"{customer.id}"') == [big.id]
    assert ids('metadata["k"]:"v"') == [big.id]
    assert ids('status:"succeeded" AND -metadata["k"]:null') == [big.id]
    assert ids('payment_method_details.card.last4:"4242"') == [small.id, big.id]
    # refunded: "true" fully refunded, "false" partially, null not refunded [D]
    assert ids("refunded:null") == [small.id, big.id]
    assert ids('refunded:"false"') == [] and ids('refunded:"true"') == []
