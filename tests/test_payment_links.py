"""Payment Links (STRIPE-API-RULES-BILLING.md section 7.6), through the stripe SDK: create,
retrieve, update (deactivate, quantities by line item id), list by ``active``, line items."""

from __future__ import annotations

import re

import pytest
from helpers import request_error


@pytest.fixture
def mug(stripe_client):
    return stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 1500, "product_data": {"name": "Mug"}})


def _link(client, price, **params):
    return client.v1.payment_links.create(params={
        "line_items": [{"price": price.id, "quantity": 1}], **params})


def test_a_link_is_a_shareable_url_with_line_items(stripe_client, mug):
    link = _link(stripe_client, mug, metadata={"campaign": "spring"})
    assert re.fullmatch(r"plink_\d\w{23}", link.id)
    assert link.url.startswith("https://buy.stripe.com/test_")
    assert (link.active, link.currency, link.customer_creation) == (True, "usd", "if_required")
    assert link.after_completion.to_dict() == {"hosted_confirmation": {"custom_message": None},
                                               "type": "hosted_confirmation"}
    assert "line_items" not in link  # includable
    items = stripe_client.v1.payment_links.line_items.list(link.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [("Mug", 1, 1500)]
    again = stripe_client.v1.payment_links.retrieve(link.id, params={"expand": ["line_items"]})
    assert again.line_items.data[0].price.id == mug.id


def test_update_deactivates_and_changes_quantities(stripe_client, mug):
    link = _link(stripe_client, mug, after_completion={
        "type": "redirect", "redirect": {"url": "https://shop.test/thanks"}})
    assert link.after_completion.redirect.url == "https://shop.test/thanks"
    item = stripe_client.v1.payment_links.line_items.list(link.id).data[0]
    updated = stripe_client.v1.payment_links.update(link.id, params={
        "active": False, "metadata": {"k": "v"},
        "line_items": [{"id": item.id, "quantity": 3,
                        "adjustable_quantity": {"enabled": True, "maximum": 5}}]})
    assert (updated.active, updated.metadata.to_dict()) == (False, {"k": "v"})
    line = stripe_client.v1.payment_links.line_items.list(link.id).data[0]
    assert (line.quantity, line.amount_total) == (3, 4500)
    assert line.adjustable_quantity.to_dict() == {"enabled": True, "maximum": 5, "minimum": 0}
    err = request_error(stripe_client.v1.payment_links.update, link.id,
                        params={"line_items": [{"id": "li_nope", "quantity": 1}]})
    assert err.param == "line_items[0][id]"


def test_list_by_active(stripe_client, mug):
    first, second = _link(stripe_client, mug), _link(stripe_client, mug)
    stripe_client.v1.payment_links.update(first.id, params={"active": False})
    links = stripe_client.v1.payment_links
    assert [x.id for x in links.list().data] == [second.id, first.id]
    assert [x.id for x in links.list(params={"active": False}).data] == [first.id]
    missing = request_error(links.retrieve, "plink_nope")
    assert missing.http_status == 404


def test_a_recurring_link_carries_subscription_data(stripe_client):
    plan = stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"},
        "product_data": {"name": "Pro"}})
    link = _link(stripe_client, plan, subscription_data={"trial_period_days": 7})
    assert link.subscription_data.trial_period_days == 7
    assert (link.payment_intent_data, link.invoice_creation) == (None, None)


def test_the_2023_shape(stripe_client_2023, mug):
    link = _link(stripe_client_2023, mug)
    assert "inactive_message" not in link and "restrictions" not in link
    assert stripe_client_2023.v1.payment_links.line_items.list(link.id).data[0].quantity == 1
