"""Operations without hand-written rules, answered by the generic layer, through the stripe
SDK in its current version: objects are built from their schema and the params, kept, listed,
updated and deleted where Stripe's spec allows it."""

from __future__ import annotations

import pytest
import stripe


def test_a_tax_rate_is_created_retrieved_updated_and_listed(stripe_client, stripe_fake):
    rate = stripe_client.v1.tax_rates.create(params={
        "display_name": "VAT", "percentage": 20.0, "inclusive": False, "country": "DE",
        "metadata": {"region": "eu"}})
    assert rate.id.startswith("txr_") and rate.object == "tax_rate"
    assert (rate.display_name, rate.percentage, rate.inclusive, rate.country) == (
        "VAT", 20.0, False, "DE")
    assert rate.active is True and rate.livemode is False and rate.description is None
    assert rate.created == stripe_fake.clock.now()

    updated = stripe_client.v1.tax_rates.update(rate.id, params={
        "active": False, "metadata": {"team": "tax"}})
    assert updated.active is False
    assert updated.metadata.to_dict() == {"region": "eu", "team": "tax"}  # merged
    assert stripe_client.v1.tax_rates.retrieve(rate.id).active is False

    other = stripe_client.v1.tax_rates.create(params={
        "display_name": "GST", "percentage": 5.0, "inclusive": True})
    assert [r.id for r in stripe_client.v1.tax_rates.list().data] == [other.id, rate.id]
    assert [r.id for r in stripe_client.v1.tax_rates.list(params={"active": True}).data] == [
        other.id]
    assert stripe_fake.requests[0].modelled is False  # the generic layer answered


def test_a_shipping_rate_keeps_its_fixed_amount(stripe_client):
    rate = stripe_client.v1.shipping_rates.create(params={
        "display_name": "Ground", "type": "fixed_amount",
        "fixed_amount": {"amount": 500, "currency": "usd"}})
    assert rate.id.startswith("shr_")
    assert rate.fixed_amount.amount == 500 and rate.fixed_amount.currency == "usd"
    assert rate.delivery_estimate is None and rate.active is True
    stripe_client.v1.shipping_rates.update(rate.id, params={"active": False})
    again = stripe_client.v1.shipping_rates.retrieve(rate.id)
    assert again.active is False and again.fixed_amount.amount == 500
    assert [r.id for r in stripe_client.v1.shipping_rates.list().data] == [rate.id]


def test_a_customer_tax_id_lives_under_its_customer(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "jenny@example.com"})
    other = stripe_client.v1.customers.create(params={"email": "other@example.com"})
    tax_id = stripe_client.v1.customers.tax_ids.create(
        customer.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert tax_id.id.startswith("txi_")
    assert (tax_id.customer, tax_id.type, tax_id.value) == (customer.id, "eu_vat", "DE123456789")
    assert stripe_client.v1.customers.tax_ids.retrieve(customer.id, tax_id.id).value == \
        "DE123456789"
    assert [t.id for t in stripe_client.v1.customers.tax_ids.list(customer.id).data] == [
        tax_id.id]
    assert stripe_client.v1.customers.tax_ids.list(other.id).data == []

    tax_id = stripe_client.v1.customers.tax_ids.retrieve(
        customer.id, tax_id.id, params={"expand": ["customer"]})
    assert tax_id.customer.email == "jenny@example.com"

    deleted = stripe_client.v1.customers.tax_ids.delete(customer.id, tax_id.id)
    assert deleted.deleted is True and deleted.id == tax_id.id
    assert stripe_client.v1.customers.tax_ids.list(customer.id).data == []
    with pytest.raises(stripe.InvalidRequestError) as err:
        stripe_client.v1.customers.tax_ids.create(
            "cus_missing", params={"type": "eu_vat", "value": "DE1"})
    assert err.value.http_status == 404


def test_a_payment_link_is_kept_and_updated(stripe_client):
    product = stripe_client.v1.products.create(params={
        "name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 1500}})
    link = stripe_client.v1.payment_links.create(params={
        "line_items": [{"price": product.default_price, "quantity": 2}],
        "metadata": {"campaign": "spring"}})
    assert link.id.startswith("plink_") and link.active is True
    assert link.metadata.to_dict() == {"campaign": "spring"}
    updated = stripe_client.v1.payment_links.update(link.id, params={"active": False})
    assert updated.active is False
    assert stripe_client.v1.payment_links.retrieve(link.id).active is False
    assert [p.id for p in stripe_client.v1.payment_links.list().data] == [link.id]


def test_a_webhook_endpoint_is_created_updated_listed_and_deleted(stripe_client):
    endpoint = stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hooks", "enabled_events": ["charge.succeeded"]})
    assert endpoint.id.startswith("we_")
    assert endpoint.url == "https://example.com/hooks"
    assert endpoint.enabled_events == ["charge.succeeded"]
    stripe_client.v1.webhook_endpoints.update(endpoint.id, params={
        "enabled_events": ["*"], "description": "all"})
    again = stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert again.enabled_events == ["*"] and again.description == "all"
    assert [e.id for e in stripe_client.v1.webhook_endpoints.list().data] == [endpoint.id]
    assert stripe_client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as err:
        stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def test_any_other_object_without_files_has_its_whole_life(stripe_client):
    """A Radar value list: an object nobody hand-wrote rules for."""
    values = stripe_client.v1.radar.value_lists.create(params={
        "alias": "blocked_emails", "name": "Blocked emails", "item_type": "email"})
    assert values.id.startswith("rsl_")
    assert (values.alias, values.name, values.item_type) == (
        "blocked_emails", "Blocked emails", "email")
    assert values.list_items.data == []
    renamed = stripe_client.v1.radar.value_lists.update(values.id, params={"name": "Blocked"})
    assert renamed.name == "Blocked"
    assert stripe_client.v1.radar.value_lists.retrieve(values.id).name == "Blocked"
    listed = stripe_client.v1.radar.value_lists.list(params={"alias": "blocked_emails"})
    assert [v.id for v in listed.data] == [values.id]
    assert stripe_client.v1.radar.value_lists.list(params={"alias": "other"}).data == []
    assert stripe_client.v1.radar.value_lists.delete(values.id).deleted is True
    assert stripe_client.v1.radar.value_lists.list().data == []


def test_an_action_sets_only_the_status_its_name_makes_obvious(stripe_client):
    clock = stripe_client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_700_000_000})
    assert clock.id.startswith("clock_") and clock.frozen_time == 1_700_000_000
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://example.com/ok",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 100,
                                       "product_data": {"name": "Pen"}}, "quantity": 1}]})
    assert stripe_client.v1.checkout.sessions.expire(session.id).status == "expired"


def test_singletons_are_built_once(stripe_client):
    balance = stripe_client.v1.balance.retrieve()
    assert balance.object == "balance" and balance.livemode is False
    settings = stripe_client.v1.tax.settings.update(params={"defaults": {
        "tax_behavior": "exclusive"}})
    assert stripe_client.v1.tax.settings.retrieve().defaults.tax_behavior == \
        settings.defaults.tax_behavior == "exclusive"


def test_an_unknown_url_is_still_stripes_404(stripe_fake):
    from tests.helpers import error_of, raw

    response = raw(stripe_fake, "GET", "/v1/tax_ratez")
    assert response.status == 404
    assert "Unrecognized request URL" in error_of(response)["message"]
