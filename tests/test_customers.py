"""Customers (STRIPE-API-RULES.md section 15), through the stripe SDK.

Sources attached to customers are in test_sources.py; the customer-level discount mechanics
(coupon validity, promotion code rules) in the coupon helpers' tests.  Here: the customer
object, its lifecycle, its params in both API versions, and how it applies a discount.
"""

from __future__ import annotations

import pytest
import stripe
from helpers import request_error as _error

from pytest_stripe_fixtures.fake import errors
from pytest_stripe_fixtures.fake.resources import customers

INCLUDABLE = ("cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax",
              "tax_ids")
SDK_FIELDS = ("business_name", "individual_name", "customer_account")  # newer than 2023-08-16


def _source(client: stripe.StripeClient, **params) -> stripe.Source:
    return client.v1.sources.create(params={"type": "card", "token": "tok_visa", **params})


def test_create_defaults(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create()
    assert customer.id.startswith("cus_") and len(customer.id) == len("cus_") + 14
    assert customer.to_dict() | {"id": None, "invoice_prefix": None} == {
        "id": None, "object": "customer", "address": None, "balance": 0, "business_name": None,
        "created": stripe_fake.clock.now(), "currency": None, "customer_account": None,
        "default_source": None, "delinquent": False, "description": None, "discount": None,
        "email": None, "individual_name": None, "invoice_prefix": None,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": {}, "name": None, "next_invoice_sequence": 1,
        "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none",
        "test_clock": None}
    assert customer.invoice_prefix.isalnum() and customer.invoice_prefix.isupper()


def test_2023_customers_lack_the_newer_fields(stripe_client_2023):
    customer = stripe_client_2023.v1.customers.create(params={"name": "Jenny"})
    assert not any(name in customer for name in SDK_FIELDS)
    assert customer.name == "Jenny"


def test_create_echoes_its_params(stripe_client):
    address = {"city": "Berlin", "country": "DE", "line1": "Str. 1", "line2": None,
               "postal_code": "10115", "state": None}
    customer = stripe_client.v1.customers.create(params={
        "email": "jenny@example.com", "name": "Jenny Rosen", "description": "VIP",
        "phone": "+4930123456", "balance": -500, "preferred_locales": ["de", "en"],
        "address": {k: v for k, v in address.items() if v}, "invoice_prefix": "JENNY1",
        "next_invoice_sequence": 7, "tax_exempt": "reverse", "metadata": {"crm": "42"},
        "shipping": {"name": "Jenny", "address": {"line1": "Str. 1", "country": "DE"}},
        "invoice_settings": {"footer": "Thanks", "custom_fields": [{"name": "VAT",
                                                                      "value": "DE1"}],
                             "rendering_options": {"amount_tax_display": "exclude_tax"}},
        "business_name": "Rosen GmbH", "individual_name": "Jenny Rosen"})
    assert customer.address.to_dict() == address
    assert (customer.email, customer.name, customer.description, customer.phone) == (
        "jenny@example.com", "Jenny Rosen", "VIP", "+4930123456")
    assert (customer.balance, customer.invoice_prefix, customer.next_invoice_sequence) == (
        -500, "JENNY1", 7)
    assert customer.preferred_locales == ["de", "en"] and customer.tax_exempt == "reverse"
    assert customer.metadata.to_dict() == {"crm": "42"}
    assert customer.shipping.to_dict() == {
        "name": "Jenny", "phone": None, "carrier": None, "tracking_number": None,
        "address": {"city": None, "country": "DE", "line1": "Str. 1", "line2": None,
                    "postal_code": None, "state": None}}
    assert customer.invoice_settings.to_dict() == {
        "custom_fields": [{"name": "VAT", "value": "DE1"}], "default_payment_method": None,
        "footer": "Thanks",
        "rendering_options": {"amount_tax_display": "exclude_tax", "template": None}}
    assert (customer.business_name, customer.individual_name) == ("Rosen GmbH", "Jenny Rosen")


def test_business_and_individual_names_are_current_version_params(stripe_client,
                                                                   stripe_client_2023):
    customer = stripe_client.v1.customers.create(params={"business_name": "Rosen GmbH"})
    updated = stripe_client.v1.customers.update(customer.id, params={"business_name": ""})
    assert updated.business_name is None  # "" unsets it
    err = _error(stripe_client_2023.v1.customers.create, params={"business_name": "Rosen"})
    assert (err.http_status, err.code, err.param) == (400, "parameter_unknown", "business_name")
    assert err.user_message == "Received unknown parameter: business_name"


def test_field_rules(stripe_client):
    err = _error(stripe_client.v1.customers.create, params={"email": "not-an-email"})
    assert (err.param, err.user_message) == ("email", customers.INVALID_EMAIL.format(
        value="not-an-email"))
    err = _error(stripe_client.v1.customers.create, params={"invoice_prefix": "ab"})
    assert (err.param, err.user_message) == ("invoice_prefix",
                                             customers.INVALID_INVOICE_PREFIX.format(value="ab"))
    err = _error(stripe_client.v1.customers.create, params={"tax_exempt": "sometimes"})
    assert (err.param, err.code) == ("tax_exempt", None)
    assert err.user_message.startswith("Invalid tax_exempt: must be one of ")  # [C] wording
    assert ", ," not in err.user_message  # "" (unset) is accepted but not listed
    err = _error(stripe_client.v1.customers.create, params={"phone": "1" * 21})
    assert err.param == "phone"


def test_tax_exempt_empty_string_resets_to_none(stripe_client):
    customer = stripe_client.v1.customers.create(params={"tax_exempt": "exempt"})
    assert stripe_client.v1.customers.update(
        customer.id, params={"tax_exempt": ""}).tax_exempt == "none"


def test_unknown_payment_methods_and_test_clocks(stripe_client):
    err = _error(stripe_client.v1.customers.create, params={"payment_method": "pm_nope"})
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "payment_method")
    assert err.user_message == "No such PaymentMethod: 'pm_nope'"
    err = _error(stripe_client.v1.customers.create, params={"test_clock": "clock_123"})
    assert (err.code, err.param) == ("resource_missing", "test_clock")


def test_retrieve_a_missing_customer(stripe_client):
    err = _error(stripe_client.v1.customers.retrieve, "cus_nope")
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    assert err.user_message == "No such customer: 'cus_nope'"


def test_update_merges_metadata_and_unsets_with_empty_strings(stripe_client):
    customer = stripe_client.v1.customers.create(params={
        "metadata": {"a": "1", "b": "2"}, "address": {"city": "Paris"},
        "shipping": {"name": "J", "address": {"line1": "x"}}})
    updated = stripe_client.v1.customers.update(customer.id, params={
        "metadata": {"a": "", "c": "3"}, "address": "", "shipping": "", "name": "New"})
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    assert (updated.address, updated.shipping, updated.name) == (None, None, "New")


def test_deleted_customers_read_back_as_a_stub(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create(params={"email": "gone@example.com"})
    deleted = stripe_client.v1.customers.delete(customer.id)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    again = stripe.Customer.retrieve(customer.id)
    assert stripe_fake.last_request.status == 200
    assert again.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    err = _error(stripe_client.v1.customers.update, customer.id, params={"name": "x"})
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    assert err.user_message == f"No such customer: '{customer.id}'"
    err = _error(stripe_client.v1.customers.delete, customer.id)
    assert (err.http_status, err.code) == (404, "resource_missing")
    assert stripe_client.v1.customers.list().data == []
    assert stripe_client.v1.customers.search(
        params={"query": 'email:"gone@example.com"'}).data == []


@pytest.mark.parametrize("client", ["stripe_client", "stripe_client_2023"])
def test_includable_fields_are_absent_unless_expanded(client, request):
    client = request.getfixturevalue(client)
    customer = client.v1.customers.create(params={
        "address": {"country": "US", "state": "CA"},
        "tax_id_data": [{"type": "us_ein", "value": "12-3456789"}]})
    assert not any(name in customer for name in INCLUDABLE)
    full = client.v1.customers.retrieve(customer.id, params={"expand": list(INCLUDABLE)})
    assert full.sources.to_dict() == {"object": "list", "data": [], "has_more": False,
                                      "url": f"/v1/customers/{customer.id}/sources"}
    assert full.subscriptions.url == f"/v1/customers/{customer.id}/subscriptions"
    assert full.tax_ids.url == f"/v1/customers/{customer.id}/tax_ids"
    tax_id = full.tax_ids.data[0]
    assert (tax_id.object, tax_id.type, tax_id.value, tax_id.country, tax_id.customer) == (
        "tax_id", "us_ein", "12-3456789", "US", customer.id)
    assert full.cash_balance.settings.to_dict() == {"reconciliation_mode": "automatic",
                                                    "using_merchant_default": True}
    assert full.invoice_credit_balance.to_dict() == {}
    assert (full.tax.automatic_tax, full.tax.location.country) == ("supported", "US")
    newer = client is request.getfixturevalue("stripe_client")
    assert ("provider" in full.tax) is newer and ("owner" in tax_id) is newer


def test_expanded_sources_list_the_attached_sources(stripe_client):
    customer = stripe_client.v1.customers.create()
    source = _source(stripe_client)
    stripe_client.v1.customers.payment_sources.create(customer.id,
                                                      params={"source": source.id})
    full = stripe.Customer.retrieve(customer.id, expand=["sources", "default_source"])
    assert [s.id for s in full.sources.data] == [source.id]
    assert full.sources.url == f"/v1/customers/{customer.id}/sources"
    assert full.default_source.id == source.id and full.default_source.object == "source"


def test_source_on_create_is_attached_and_becomes_the_default(stripe_client):
    source = _source(stripe_client)
    customer = stripe_client.v1.customers.create(params={"source": source.id})
    assert customer.default_source == source.id
    assert stripe_client.v1.sources.retrieve(source.id).customer == customer.id


def test_source_on_update_becomes_the_default_and_the_old_one_stays(stripe_client):
    first, second = _source(stripe_client), _source(stripe_client)
    customer = stripe_client.v1.customers.create(params={"source": first.id})
    updated = stripe_client.v1.customers.update(customer.id, params={"source": second.id})
    assert updated.default_source == second.id
    listed = stripe_client.v1.customers.payment_sources.list(customer.id)
    assert [s.id for s in listed.data] == [second.id, first.id]


def test_default_source_must_be_one_of_the_customers_sources(stripe_client):
    mine, other = _source(stripe_client), _source(stripe_client)
    customer = stripe_client.v1.customers.create(params={"source": mine.id})
    second = _source(stripe_client)
    stripe_client.v1.customers.payment_sources.create(customer.id, params={"source": second.id})
    assert stripe_client.v1.customers.update(
        customer.id, params={"default_source": second.id}).default_source == second.id
    err = _error(stripe_client.v1.customers.update, customer.id,
                 params={"default_source": other.id})
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "default_source")
    assert err.user_message == f"No such source: '{other.id}'"
    err = _error(stripe_client.v1.customers.update, customer.id, params={"default_source": ""})
    assert (err.code, err.param) == ("parameter_invalid_empty", "default_source")
    assert err.user_message == errors.EMPTY_STRING.format(param="default_source")


def test_list_filters_by_exact_email_and_pages(stripe_client):
    for email in ("a@example.com", "A@example.com", "b@example.com"):
        stripe_client.v1.customers.create(params={"email": email})
    assert [c.email for c in stripe_client.v1.customers.list(
        params={"email": "a@example.com"}).data] == ["a@example.com"]  # case-sensitive [S]
    page = stripe_client.v1.customers.list(params={"limit": 2})
    assert page.has_more and [c.email for c in page.data] == ["b@example.com", "A@example.com"]
    assert page.url == "/v1/customers"
    assert len(list(stripe.Customer.list(limit=1).auto_paging_iter())) == 3


def test_search_fields(stripe_client, stripe_fake):
    stripe_client.v1.customers.create(params={"email": "amy@rocketrides.io", "name": "Amy Tan",
                                              "phone": "+19999999999",
                                              "metadata": {"tier": "gold"}})
    created = stripe_fake.clock.now()
    stripe_fake.clock.advance(10)
    stripe_client.v1.customers.create(params={"email": "bob@example.com", "name": "Bob"})

    def emails(query: str) -> list[str]:
        result = stripe_client.v1.customers.search(params={"query": query})
        assert result.url == "/v1/customers/search"
        return [c.email for c in result.data]

    assert emails('email~"amy"') == ["amy@rocketrides.io"]
    assert emails('name:"amy"') == ["amy@rocketrides.io"]
    assert emails('phone:"+19999999999"') == ["amy@rocketrides.io"]
    assert emails('metadata["tier"]:"gold"') == ["amy@rocketrides.io"]
    assert emails(f"created>{created}") == ["bob@example.com"]
    err = _error(stripe_client.v1.customers.search, params={"query": 'description:"x"'})
    assert err.param == "query"


def test_2023_coupon_param_applies_a_customer_discount(stripe_client_2023):
    coupon = stripe_client_2023.v1.coupons.create(params={"percent_off": 20,
                                                         "duration": "forever"})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": coupon.id})
    discount = customer.discount
    assert (discount.object, discount.customer, discount.promotion_code) == (
        "discount", customer.id, None)
    assert discount.coupon.id == coupon.id and discount.coupon.percent_off == 20  # embedded
    assert stripe_client_2023.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    removed = stripe_client_2023.v1.customers.update(customer.id, params={"coupon": ""})
    assert removed.discount is None


def test_2023_promotion_code_param_and_the_one_of_rule(stripe_client_2023, stripe_client):
    coupon = stripe_client_2023.v1.coupons.create(params={"amount_off": 500, "currency": "usd"})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "WELCOME"})
    customer = stripe_client_2023.v1.customers.create()
    updated = stripe_client_2023.v1.customers.update(customer.id,
                                                     params={"promotion_code": code.id})
    assert (updated.discount.promotion_code, updated.discount.coupon.id) == (code.id, coupon.id)
    err = _error(stripe_client_2023.v1.customers.create,
                 params={"coupon": coupon.id, "promotion_code": code.id})
    assert err.user_message == "You may only specify one of these parameters: coupon, promotion_code."
    err = _error(stripe_client_2023.v1.customers.create, params={"coupon": "nope"})
    assert (err.code, err.param, err.user_message) == ("resource_missing", "coupon",
                                                        "No such coupon: 'nope'")


def test_current_version_has_no_coupon_or_promotion_code_params(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create()
    for name in ("coupon", "promotion_code"):
        err = _error(stripe_client.v1.customers.update, customer.id, params={name: "x"})
        assert (err.http_status, err.code, err.param) == (400, "parameter_unknown", name)
        assert err.user_message == f"Received unknown parameter: {name}"
        err = _error(stripe_client.v1.customers.create, params={name: "x"})
        assert err.code == "parameter_unknown"
    assert len(stripe_fake.objects("customer")) == 1


def test_a_failed_discount_creates_no_customer(stripe_client_2023, stripe_fake):
    _error(stripe_client_2023.v1.customers.create, params={"coupon": "nope", "email": "x@y.io"})
    assert stripe_fake.objects("customer") == []


def test_discounts_show_in_each_versions_shape(stripe_client_2023, stripe_client):
    coupon = stripe_client_2023.v1.coupons.create(params={"percent_off": 10})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": coupon.id})
    current = stripe_client.v1.customers.retrieve(customer.id)
    assert current.discount.source.to_dict() == {"coupon": coupon.id, "type": "coupon"}
    assert "coupon" not in current.discount


def test_expanding_through_the_discount(stripe_client_2023):
    plain = stripe_client_2023.v1.customers.create()
    got = stripe_client_2023.v1.customers.retrieve(plain.id,
                                                   params={"expand": ["discount.customer"]})
    assert got.discount is None  # a path through a null hash expands to null
    coupon = stripe_client_2023.v1.coupons.create(params={"percent_off": 10})
    customer = stripe_client_2023.v1.customers.create(params={"coupon": coupon.id})
    got = stripe_client_2023.v1.customers.retrieve(customer.id,
                                                   params={"expand": ["discount.customer"]})
    assert got.discount.customer.id == customer.id and got.discount.customer.object == "customer"
