"""Sources and a customer's sources (STRIPE-API-RULES.md section 17), through the stripe SDK.

Sources are deprecated by Stripe but fully served by the API.  Moving a source along its
lifecycle the way a customer would (completing a redirect, pushing funds to a receiver) is
done with the fake's helpers ``set_status`` and ``receive_funds``.
"""

from __future__ import annotations

import re

import pytest
import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake.resources import sources
from pytest_stripe_fixtures.fake.resources.sources import receive_funds, set_status

REDIRECT = {"redirect": {"return_url": "https://example.com/back"}}
SINGLE_USE = {"amount": 1000, "currency": "eur", **REDIRECT}
# type -> params needed to create one, and (flow, usage, status) it starts with
TYPES = {
    "ach_credit_transfer": ({}, ("receiver", "reusable", "pending")),
    "ach_debit": ({}, ("none", "reusable", "chargeable")),
    "acss_debit": ({}, ("none", "reusable", "chargeable")),
    "alipay": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "au_becs_debit": ({}, ("none", "reusable", "chargeable")),
    "bancontact": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "card": ({"token": "tok_visa"}, ("none", "reusable", "chargeable")),
    "card_present": ({"amount": 1000, "currency": "usd"}, ("none", "single_use", "chargeable")),
    "eps": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "giropay": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "ideal": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "klarna": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "multibanco": ({}, ("receiver", "single_use", "pending")),
    "p24": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "sepa_debit": ({}, ("none", "reusable", "chargeable")),
    "sofort": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "three_d_secure": (SINGLE_USE, ("redirect", "single_use", "pending")),
    "wechat": ({"amount": 100, "currency": "cny"}, ("none", "single_use", "pending")),
}
FLOW_HASHES = ("redirect", "receiver", "code_verification")


def _ach(client: stripe.StripeClient, **params) -> stripe.Source:
    return client.v1.sources.create(params={
        "type": "ach_credit_transfer", "owner": {"email": "jenny.rosen@example.com"}, **params})


def _card(client: stripe.StripeClient, **params) -> stripe.Source:
    return client.v1.sources.create(params={"type": "card", "token": "tok_visa", **params})


def test_an_ach_credit_transfer_source_like_the_api_reference(stripe_client, stripe_fake):
    source = _ach(stripe_client)
    assert re.fullmatch(r"src_\w{24}", source.id)
    assert re.fullmatch(r"src_client_secret_\w{24}", source.client_secret)
    assert (source.type, source.flow, source.usage, source.status) == (
        "ach_credit_transfer", "receiver", "reusable", "pending")
    assert (source.amount, source.currency, source.livemode) == (None, "usd", False)
    details = source.ach_credit_transfer
    assert details.account_number.startswith("test_") and details.routing_number == "110000000"
    assert (details.bank_name, details.swift_code) == ("TEST BANK", "TSTEZ122")
    assert re.fullmatch(r"\w{16}", details.fingerprint)
    assert source.receiver.to_dict() == {
        "address": f"110000000-{details.account_number}", "amount_charged": 0,
        "amount_received": 0, "amount_returned": 0, "refund_attributes_method": "email",
        "refund_attributes_status": "missing"}
    assert source.owner.email == "jenny.rosen@example.com" and source.owner.address is None
    assert "customer" not in source  # absent (not null) until attached [S]
    assert source.allow_redisplay is None
    assert not any(name in source for name in ("card", "redirect", "code_verification"))


def test_2023_sources_have_no_allow_redisplay(stripe_client_2023):
    assert "allow_redisplay" not in _ach(stripe_client_2023)


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_every_source_type_starts_as_documented(stripe_client, kind):
    params, (flow, usage, status) = TYPES[kind]
    source = stripe_client.v1.sources.create(params={"type": kind, **params})
    assert (source.flow, source.usage, source.status) == (flow, usage, status)
    assert kind in source  # exactly one type hash, named after the type [S]
    assert not any(other in source for other in sources.TYPES if other != kind)
    assert [h for h in FLOW_HASHES if h in source] == ([flow] if flow != "none" else [])


def test_a_redirect_source_points_back_to_the_return_url(stripe_client):
    source = stripe_client.v1.sources.create(params={"type": "ideal", **SINGLE_USE})
    assert source.redirect.return_url == "https://example.com/back"
    assert source.redirect.status == "pending" and source.redirect.failure_reason is None
    assert source.redirect.url.endswith(f"{source.id}?client_secret={source.client_secret}")


def test_create_needs_what_the_type_needs(stripe_client):
    err = _error(stripe_client.v1.sources.create, params={})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "type", "Missing required param: type.")
    err = _error(stripe_client.v1.sources.create, params={"type": "ideal", **REDIRECT})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "amount", "Missing required param: amount.")
    err = _error(stripe_client.v1.sources.create,
                 params={"type": "ideal", "amount": 100, "currency": "eur"})
    assert (err.code, err.param) == ("parameter_missing", "redirect[return_url]")
    err = _error(stripe_client.v1.sources.create, params={"type": "bitcoin"})
    assert err.param == "type" and err.user_message.startswith("Invalid type: must be one of ")
    err = _error(stripe_client.v1.sources.create,
                 params={"type": "three_d_secure", "usage": "reusable", **SINGLE_USE})
    assert (err.param, err.user_message) == ("usage", sources.USAGE_UNSUPPORTED.format(
        usage="reusable", type="three_d_secure"))


def test_card_sources_come_from_test_tokens(stripe_client):
    card = _card(stripe_client, token="tok_mastercard").card
    assert (card.brand, card.last4, card.funding, card.country) == (
        "MasterCard", "4444", "credit", "US")
    err = _error(stripe_client.v1.sources.create, params={"type": "card"})
    assert err.param == "token"
    err = _error(stripe_client.v1.sources.create, params={"type": "card", "token": "tok_nope"})
    assert (err.code, err.param, err.user_message) == ("resource_missing", "token",
                                                        "No such token: 'tok_nope'")


def test_retrieve_and_update(stripe_client):
    source = _ach(stripe_client, metadata={"a": "1"})
    assert stripe.Source.retrieve(source.id).id == source.id
    updated = stripe_client.v1.sources.update(source.id, params={
        "metadata": {"a": "", "b": "2"}, "owner": {"name": "Jenny", "address": {"city": "Oslo"}}})
    assert updated.metadata.to_dict() == {"b": "2"}
    assert (updated.owner.name, updated.owner.email) == ("Jenny", "jenny.rosen@example.com")
    assert updated.owner.address.city == "Oslo" and updated.owner.address.line1 is None
    err = _error(stripe_client.v1.sources.retrieve, "src_nope")
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "source")
    assert err.user_message == "No such source: 'src_nope'"


def test_the_status_lifecycle(stripe_client, stripe_fake):
    store = stripe_fake.store
    redirect = stripe_client.v1.sources.create(params={"type": "ideal", **SINGLE_USE})
    set_status(store, redirect.id, "chargeable")
    done = stripe_client.v1.sources.retrieve(redirect.id)
    assert (done.status, done.redirect.status) == ("chargeable", "succeeded")
    failed = stripe_client.v1.sources.create(params={"type": "ideal", **SINGLE_USE})
    set_status(store, failed.id, "failed", failure_reason="declined")
    failed = stripe_client.v1.sources.retrieve(failed.id)
    assert (failed.status, failed.redirect.failure_reason) == ("failed", "declined")
    ach = _ach(stripe_client)
    receive_funds(store, ach.id, 1000)
    ach = stripe_client.v1.sources.retrieve(ach.id)
    assert (ach.status, ach.receiver.amount_received) == ("chargeable", 1000)
    set_status(store, ach.id, "canceled")
    for terminal in (failed.id, ach.id):  # consumed, canceled and failed are final
        with pytest.raises(ValueError):
            set_status(store, terminal, "chargeable")
    with pytest.raises(ValueError):
        set_status(store, done.id, "consumed")  # only charging or detaching consumes


def test_attach_makes_the_first_source_the_default(stripe_client):
    customer = stripe_client.v1.customers.create()
    first, second = _ach(stripe_client), _card(stripe_client)
    attached = stripe_client.v1.customers.payment_sources.create(
        customer.id, params={"source": first.id, "metadata": {"note": "x"}})
    assert (attached.id, attached.object, attached.customer) == (first.id, "source", customer.id)
    assert attached.metadata.to_dict() == {"note": "x"} and attached.status == "pending"
    stripe.Customer.create_source(customer.id, source=second.id)
    assert stripe_client.v1.customers.retrieve(customer.id).default_source == first.id
    listed = stripe_client.v1.customers.payment_sources.list(customer.id, params={"limit": 1})
    assert listed.url == f"/v1/customers/{customer.id}/sources"
    assert [s.id for s in listed.data] == [second.id] and listed.has_more
    assert stripe_client.v1.customers.payment_sources.list(
        customer.id, params={"object": "card"}).data == []
    got = stripe_client.v1.customers.payment_sources.retrieve(customer.id, first.id)
    assert got.id == first.id


def test_attach_refusals(stripe_client):
    customer, other = stripe_client.v1.customers.create(), stripe_client.v1.customers.create()
    err = _error(stripe_client.v1.customers.payment_sources.create, customer.id, params={})
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "source", "Missing required param: source.")
    err = _error(stripe_client.v1.customers.payment_sources.create, customer.id,
                 params={"source": "src_nope"})
    assert (err.http_status, err.code, err.param, err.user_message) == (
        400, "resource_missing", "source", "No such source: 'src_nope'")
    source = _card(stripe_client)
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    again = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                              params={"source": source.id})
    assert again.customer == customer.id  # attaching it again to the same customer is a no-op
    err = _error(stripe_client.v1.customers.payment_sources.create, other.id,
                 params={"source": source.id})
    assert (err.param, err.user_message) == ("source", sources.ALREADY_ATTACHED)
    err = _error(stripe_client.v1.customers.payment_sources.create, "cus_nope",
                 params={"source": source.id})
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    err = _error(stripe_client.v1.customers.payment_sources.create, customer.id,
                 params={"source": "btok_us_verified"})
    assert (err.param, err.user_message) == (  # bank accounts are not faked
        "source", sources.CARDS_NOT_FAKED.format(value="btok_us_verified"))


def test_update_through_the_customer(stripe_client):
    customer = stripe_client.v1.customers.create()
    source = _ach(stripe_client)
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    updated = stripe_client.v1.customers.payment_sources.update(
        customer.id, source.id, params={"metadata": {"k": "v"}, "owner": {"phone": "+1555"}})
    assert updated.metadata.to_dict() == {"k": "v"} and updated.owner.phone == "+1555"
    err = _error(stripe_client.v1.customers.payment_sources.update, customer.id, source.id,
                 params={"exp_month": "12"})  # a card field: a Source has none
    assert (err.code, err.param) == ("parameter_unknown", "exp_month")


@pytest.mark.parametrize("client", ["stripe_client", "stripe_client_2023"])
def test_detach_returns_the_consumed_source(client, request):
    client = request.getfixturevalue(client)
    customer = client.v1.customers.create()
    first, second = _card(client), _card(client)
    for source in (first, second):
        client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    detached = client.v1.customers.payment_sources.delete(customer.id, first.id)
    assert isinstance(detached, stripe.Source) and "deleted" not in detached
    assert (detached.id, detached.object, detached.status) == (first.id, "source", "consumed")
    assert detached.customer == customer.id  # kept, as the API reference's example shows
    assert [s.id for s in client.v1.customers.payment_sources.list(customer.id).data] == [
        second.id]
    assert client.v1.customers.retrieve(customer.id).default_source == second.id  # [R]


def test_a_detached_source_cannot_be_attached_or_charged_again(stripe_client):
    customer = stripe_client.v1.customers.create()
    source = _card(stripe_client)
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    stripe.Customer.delete_source(customer.id, source.id)
    err = _error(stripe_client.v1.customers.payment_sources.create, customer.id,
                 params={"source": source.id})
    assert (err.http_status, err.param) == (400, "source")
    assert err.user_message == sources.NOT_ATTACHABLE.format(source=source.id, status="consumed")
    err = _error(stripe_client.v1.charges.create,
                 params={"amount": 1000, "currency": "usd", "source": source.id})
    assert (err.http_status, err.param, err.user_message) == (400, "source",
                                                              sources.CONSUMED_REUSABLE)


def test_detaching_a_source_that_is_not_attached(stripe_client):
    customer = stripe_client.v1.customers.create()
    source = _card(stripe_client)
    err = _error(stripe_client.v1.customers.payment_sources.delete, customer.id, source.id)
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    assert err.user_message == f"No such source: '{source.id}'"
    err = _error(stripe_client.v1.customers.payment_sources.retrieve, customer.id, source.id)
    assert (err.http_status, err.code) == (404, "resource_missing")


def test_a_deleted_customers_sources_cannot_be_listed(stripe_client):
    customer = stripe_client.v1.customers.create(params={"source": _card(stripe_client).id})
    stripe_client.v1.customers.delete(customer.id)
    err = _error(stripe_client.v1.customers.payment_sources.list, customer.id)
    assert (err.http_status, err.code, err.user_message) == (
        404, "resource_missing", f"No such customer: '{customer.id}'")
