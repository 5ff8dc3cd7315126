"""Events (STRIPE-API-RULES-PAYMENTS.md §8): every state change the API makes is an Event, in
Stripe's order, with ``data.object`` as a retrieve in the event's version returns it and exact
``previous_attributes``; ``GET /v1/events`` lists and filters them.
"""

from __future__ import annotations

import pytest
import stripe
from helpers import raw
from helpers import request_error as _error

from pytest_stripe_fixtures.fake import StripeFake, events
from pytest_stripe_fixtures.fake.resources.sources import set_status

OLD = "2023-08-16"


def _types(fake: StripeFake) -> list[str]:
    return [e.type for e in fake.events]


def _get(fake: StripeFake, path: str, version: str | None = None) -> dict:
    response = raw(fake, "GET", path, version=version)
    assert response.status == 200, response.text
    return response.json()


def _last(fake: StripeFake, event_type: str):
    return next(e for e in reversed(fake.events) if e.type == event_type)


# --- what each call emits --------------------------------------------------------------------


def test_product_and_its_default_price_in_stripes_order(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params={
        "name": "Tee", "default_price_data": {"currency": "usd", "unit_amount": 1500}})
    assert _types(stripe_fake) == ["product.created", "price.created"]
    created, price = stripe_fake.events
    assert created.data.object == _get(stripe_fake, f"/v1/products/{product.id}")
    assert price.data.object == _get(stripe_fake, f"/v1/prices/{product.default_price}")
    assert "previous_attributes" not in created.data
    assert created.id.startswith("evt_") and created.object == "event"
    assert created.livemode is False and created.pending_webhooks == 0
    assert created.created == stripe_fake.clock.now()


def test_updated_carries_exactly_the_changed_keys_nested(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params={"name": "Tee",
                                                       "metadata": {"keep": "1", "drop": "2"}})
    stripe_fake.clock.advance(60)
    stripe_client.v1.products.update(product.id, params={
        "name": "Shirt", "metadata": {"drop": "", "new": "3"}})
    updated = _last(stripe_fake, "product.updated")
    assert updated.data.previous_attributes == {
        "name": "Tee", "updated": product.updated, "metadata": {"drop": "2", "new": None}}
    assert updated.data.object == _get(stripe_fake, f"/v1/products/{product.id}")


def test_an_update_that_changes_nothing_emits_nothing(stripe_client, stripe_fake):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 5, "duration": "once",
                                                     "metadata": {"a": "1"}})
    stripe_client.v1.coupons.update(coupon.id, params={"metadata": {"a": "1"}})
    assert _types(stripe_fake) == ["coupon.created"]


def test_price_and_promotion_code_lifecycle(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params={"name": "Tee"})
    price = stripe_client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                                   "unit_amount": 500})
    stripe_client.v1.prices.update(price.id, params={"active": False})
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 5, "duration": "once"})
    code = stripe_client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}})
    stripe_client.v1.promotion_codes.update(code.id, params={"active": False})
    assert _types(stripe_fake) == ["product.created", "price.created", "price.updated",
                                   "coupon.created", "promotion_code.created",
                                   "promotion_code.updated"]
    assert _last(stripe_fake, "price.updated").data.previous_attributes == {"active": True}
    assert _last(stripe_fake, "promotion_code.updated").data.previous_attributes == {
        "active": True}
    assert _last(stripe_fake, "promotion_code.updated").data.object == _get(
        stripe_fake, f"/v1/promotion_codes/{code.id}")


def test_deleted_events_carry_the_object_as_it_was(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params={"name": "Tee"})
    before = _get(stripe_fake, f"/v1/products/{product.id}")
    stripe_client.v1.products.delete(product.id)
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 5, "duration": "once"})
    stripe_client.v1.coupons.delete(coupon.id)
    customer = stripe_client.v1.customers.create(params={"email": "jenny@example.com"})
    as_it_was = _get(stripe_fake, f"/v1/customers/{customer.id}")
    stripe_client.v1.customers.delete(customer.id)
    assert _types(stripe_fake) == ["product.created", "product.deleted", "coupon.created",
                                   "coupon.deleted", "customer.created", "customer.deleted"]
    assert _last(stripe_fake, "product.deleted").data.object == before
    assert _last(stripe_fake, "customer.deleted").data.object == as_it_was  # full customer [C]
    assert _last(stripe_fake, "coupon.deleted").data.object["valid"] is False


def test_customer_update_and_its_previous_attributes(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create(params={"name": "Jenny"})
    stripe_client.v1.customers.update(customer.id, params={
        "name": "Jenny Rosen", "invoice_settings": {"footer": "Thanks"}})
    updated = _last(stripe_fake, "customer.updated")
    assert updated.data.previous_attributes == {"name": "Jenny",
                                                "invoice_settings": {"footer": None}}
    assert updated.data.object == _get(stripe_fake, f"/v1/customers/{customer.id}")


def test_attaching_a_card_emits_source_created_then_customer_updated(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create()
    card = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                             params={"source": "tok_visa"})
    assert _types(stripe_fake) == ["customer.created", "customer.source.created",
                                   "customer.updated"]
    assert _last(stripe_fake, "customer.source.created").data.object == _get(
        stripe_fake, f"/v1/customers/{customer.id}/sources/{card.id}")
    assert _last(stripe_fake, "customer.updated").data.previous_attributes == {
        "default_source": None}
    second = stripe_client.v1.customers.payment_sources.create(customer.id,
                                                               params={"source": "tok_visa"})
    assert _types(stripe_fake)[-1] == "customer.source.created"  # the default stayed
    stripe_client.v1.customers.payment_sources.update(customer.id, second.id,
                                                      params={"name": "Jenny Rosen"})
    assert _last(stripe_fake, "customer.source.updated").data.previous_attributes == {
        "name": None}


def test_customer_created_with_a_source_is_one_created_event_and_the_source(stripe_client,
                                                                             stripe_fake):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    assert _types(stripe_fake) == ["customer.created", "customer.source.created"]
    assert stripe_fake.events[0].data.object["default_source"] == customer.default_source


def test_detaching_the_default_card(stripe_client, stripe_fake):
    customer = stripe_client.v1.customers.create(params={"source": "tok_visa"})
    card_id = customer.default_source
    attached = _get(stripe_fake, f"/v1/customers/{customer.id}/sources/{card_id}")
    stripe_client.v1.customers.payment_sources.delete(customer.id, card_id)
    assert _types(stripe_fake)[-2:] == ["customer.source.deleted", "customer.updated"]
    assert _last(stripe_fake, "customer.source.deleted").data.object == attached
    assert _last(stripe_fake, "customer.updated").data.previous_attributes == {
        "default_source": card_id}


def test_customer_discount_events(stripe_fake):
    stripe.Coupon.create(id="TEN", percent_off=10, duration="forever")
    stripe.Coupon.create(id="TWENTY", percent_off=20, duration="forever")
    customer = stripe.Customer.create(coupon="TEN", stripe_version=OLD)
    assert _types(stripe_fake)[-2:] == ["customer.created", "customer.discount.created"]
    stripe.Customer.modify(customer.id, coupon="TWENTY", stripe_version=OLD)
    assert _types(stripe_fake)[-2:] == ["customer.discount.updated", "customer.updated"]
    discount_updated = _last(stripe_fake, "customer.discount.updated")
    assert discount_updated.data.object == _get(stripe_fake,
                                                f"/v1/customers/{customer.id}/discount")
    assert set(discount_updated.data.previous_attributes) >= {"id", "source"}
    stripe.Customer.delete_discount(customer.id)
    assert _types(stripe_fake)[-1] == "customer.discount.deleted"
    stripe.Customer.modify(customer.id, coupon="TEN", stripe_version=OLD)
    stripe.Customer.delete(customer.id)
    assert _types(stripe_fake)[-2:] == ["customer.deleted", "customer.discount.deleted"]


def test_charges(stripe_client, stripe_fake):
    charge = stripe_client.v1.charges.create(params={"amount": 500, "currency": "usd",
                                                     "source": "tok_visa"})
    assert _types(stripe_fake) == ["charge.succeeded"]
    assert stripe_fake.events[0].data.object == _get(stripe_fake, f"/v1/charges/{charge.id}")
    stripe_client.v1.charges.update(charge.id, params={"description": "Tee",
                                                       "metadata": {"order": "42"}})
    assert _last(stripe_fake, "charge.updated").data.previous_attributes == {
        "description": None, "metadata": {"order": None}}
    with pytest.raises(stripe.CardError):
        stripe_client.v1.charges.create(params={"amount": 500, "currency": "usd",
                                                "source": "tok_chargeDeclined"})
    failed = _last(stripe_fake, "charge.failed")
    assert failed.data.object["status"] == "failed"
    assert failed.data.object == _get(stripe_fake, f"/v1/charges/{failed.data.object['id']}")


def test_sources_moved_by_the_customer_have_no_request(stripe_client, stripe_fake):
    source = stripe_client.v1.sources.create(params={
        "type": "ach_credit_transfer", "currency": "usd",
        "owner": {"email": "jenny.rosen@example.com"}})
    set_status(stripe_fake.store, source.id, "chargeable")
    set_status(stripe_fake.store, source.id, "canceled")
    assert _types(stripe_fake) == ["source.chargeable", "source.canceled"]
    assert stripe_fake.events[0].request == {"id": None, "idempotency_key": None}
    assert stripe_fake.events[1].data.object == _get(stripe_fake, f"/v1/sources/{source.id}")


def test_request_names_the_call_and_its_idempotency_key(stripe_fake):
    stripe.Product.create(name="Tee", idempotency_key="key-1",
                          default_price_data={"currency": "usd", "unit_amount": 100})
    request_id = stripe_fake.last_request.request_id
    assert [e.request for e in stripe_fake.events] == [
        {"id": request_id, "idempotency_key": "key-1"}] * 2
    stripe.Product.create(name="Tee", idempotency_key="key-1",
                          default_price_data={"currency": "usd", "unit_amount": 100})
    assert len(stripe_fake.events) == 2  # a replay changes nothing


def test_a_refused_request_emits_nothing(stripe_client, stripe_fake):
    _error(lambda: stripe_client.v1.products.update("prod_missing", params={"name": "x"}))
    _error(lambda: stripe_client.v1.prices.create(params={"currency": "usd"}))
    assert stripe_fake.events == []


# --- versions ----------------------------------------------------------------------------------


@pytest.mark.stripe_fake(api_version=OLD)
def test_events_render_in_the_account_version_whatever_the_request_pinned(stripe_fake):
    stripe.Customer.create(coupon=stripe.Coupon.create(percent_off=5, duration="once").id,
                           stripe_version=OLD)
    customer_id = stripe_fake.objects("customer")[0]["id"]
    created = _last(stripe_fake, "customer.created")
    assert created.api_version == OLD
    assert created.data.object == _get(stripe_fake, f"/v1/customers/{customer_id}", OLD)
    listed = raw(stripe_fake, "GET", "/v1/events", {"type": "customer.created"},
                 version=stripe.api_version).json()
    assert listed["data"][0]["data"]["object"] == created.data.object  # [V] account default


def test_previous_attributes_follow_the_event_version(stripe_fake):
    """A renamed or removed field shows under the name the event's version uses."""
    coupon = stripe.Coupon.create(percent_off=5, duration="once")
    code = stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id})
    stripe.PromotionCode.modify(code.id, active=False)
    event = stripe_fake.store.get("event", _last(stripe_fake, "promotion_code.updated").id)
    for version in (OLD, stripe.api_version):
        rendered = events.render(stripe_fake, stripe_fake.store, event, version)
        assert rendered["data"]["previous_attributes"] == {"active": True}
        assert rendered["data"]["object"] == _get(stripe_fake,
                                                  f"/v1/promotion_codes/{code.id}", version)


# --- listing -----------------------------------------------------------------------------------


def test_list_newest_first_with_type_filters_and_cursors(stripe_client, stripe_fake):
    for name in ("a", "b", "c"):
        stripe_client.v1.products.create(params={"name": name})
        stripe_fake.clock.advance(10)
    customer = stripe_client.v1.customers.create()
    listed = stripe_client.v1.events.list()
    assert [e.type for e in listed.data] == ["customer.created"] + ["product.created"] * 3
    assert [e.id for e in listed.data] == [e.id for e in reversed(stripe_fake.events)]
    only = stripe_client.v1.events.list(params={"type": "product.*", "limit": 2})
    assert [e.data.object.name for e in only.data] == ["c", "b"] and only.has_more
    rest = stripe_client.v1.events.list(params={"type": "product.*",
                                                "starting_after": only.data[-1].id})
    assert [e.data.object.name for e in rest.data] == ["a"]
    both = stripe_client.v1.events.list(params={"types": ["customer.created", "nothing.else"]})
    assert [e.data.object.id for e in both.data] == [customer.id]
    first = stripe_fake.events[0].created
    since = stripe_client.v1.events.list(params={"created": {"gt": first}})
    assert len(since.data) == 3
    assert _error(lambda: stripe_client.v1.events.list(
        params={"type": "customer.created", "types": ["customer.created"]})).http_status == 400


def test_retrieve_and_thirty_day_retention(stripe_client, stripe_fake):
    stripe_client.v1.products.create(params={"name": "Tee"})
    event_id = stripe_fake.events[0].id
    assert stripe_client.v1.events.retrieve(event_id).type == "product.created"
    stripe_fake.clock.advance(30 * 24 * 3600)
    error = _error(lambda: stripe_client.v1.events.retrieve(event_id))
    assert error.http_status == 404 and error.code == "resource_missing"
    assert stripe_client.v1.events.list().data == [] and stripe_fake.events == []


def test_trigger_performs_the_calls_behind_each_type(stripe_fake):
    from pytest_stripe_fixtures.fake.triggers import FLOWS

    for event_type in sorted(FLOWS):
        produced = [e.type for e in stripe_fake.trigger(event_type)]
        assert event_type in produced, (event_type, produced)
    with pytest.raises(ValueError, match="cannot trigger"):
        stripe_fake.trigger("invoice.paid")


def test_every_type_the_fake_emits_is_a_stripe_event_type(stripe_fake):
    from pytest_stripe_fixtures.fake.triggers import FLOWS

    for event_type in FLOWS:
        stripe_fake.trigger(event_type)
    assert {e.type for e in stripe_fake.events} <= events.known_types()
