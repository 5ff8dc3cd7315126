"""The project's own cassettes (``cassettes/``), replayed offline by the ``stripe_cassette``
fixture.

* ``cassettes/docs/detach_a_source.yaml`` is built by hand from Stripe's API reference example
  "Detach a source" (STRIPE-API-RULES.md 17.6); it is never re-recorded.
* the others were recorded by these tests against a stand-in on 127.0.0.1 (the fake served
  over HTTP, ``tests/cassette_standin.py``).  To re-record them::

      python tests/cassette_standin.py 12111 &
      python -m pytest tests/test_cassettes_project.py -p no:cacheprovider \\
          --stripe-record-mode=rewrite --stripe-upstream=http://127.0.0.1:12111

``--stripe-verify-fake`` replays every one of them on the fake and reports the drift.
"""

from __future__ import annotations

import pytest
import stripe

KEY = "sk_test_fake"


@pytest.mark.stripe_cassette("docs/detach_a_source", record_mode="none")
def test_detach_a_source_as_documented(stripe_cassette: object) -> None:
    """Detaching returns the Source, now ``consumed``; the documented example still shows the
    customer it was attached to."""
    client = stripe.StripeClient(KEY, stripe_version="2025-04-30.basil")
    customer = client.v1.customers.create(params={"name": "Jenny Rosen",
                                                  "email": "jennyrosen@example.com"})
    source = client.v1.sources.create(params={"type": "ach_credit_transfer", "currency": "usd",
                                              "owner": {"email": "jenny.rosen@example.com"}})
    assert source.status == "pending" and source.flow == "receiver"
    attached = client.v1.customers.payment_sources.create(customer.id,
                                                          params={"source": source.id})
    assert attached.customer == customer.id == "cus_9s6XKzkNRiz8i3"
    detached = client.v1.customers.payment_sources.delete(customer.id, source.id)
    assert detached.id == source.id == "src_1Nlghd2eZvKYlo2C6RFLJcv4"
    assert detached.status == "consumed"
    assert detached.customer == "cus_9s6XKzkNRiz8i3"
    assert detached.last_response.request_id == "req_T5hN8wQz2mFa6G"


def test_detach_a_source_on_2023_08_16(stripe_cassette: object) -> None:
    """The same flow, global SDK style, pinned to 2023-08-16 like stripe-python 6."""
    stripe.api_key = KEY
    stripe.api_version = "2023-08-16"
    try:
        customer = stripe.Customer.create(name="Jenny Rosen", email="jennyrosen@example.com")
        source = stripe.Source.create(type="ach_credit_transfer", currency="usd",
                                      owner={"email": "jenny.rosen@example.com"})
        stripe.Customer.create_source(customer.id, source=source.id)
        assert stripe.Customer.retrieve(customer.id).default_source == source.id
        detached = stripe.Customer.delete_source(customer.id, source.id)
        assert detached.status == "consumed"
        assert stripe.Customer.list_sources(customer.id).data == []
    finally:
        stripe.api_key = None
        stripe.api_version = stripe._api_version._ApiVersion.CURRENT


def test_catalog(stripe_cassette: object) -> None:
    client = stripe.StripeClient(KEY)
    product = client.v1.products.create(params={"name": "Mug", "metadata": {"sku": "M-1"}})
    monthly = client.v1.prices.create(params={
        "product": product.id, "unit_amount": 500, "currency": "usd",
        "recurring": {"interval": "month"}, "lookup_key": "mug_monthly"})
    client.v1.prices.create(params={"product": product.id, "unit_amount": 4000,
                                    "currency": "usd"})
    prices = client.v1.prices.list(params={"product": product.id, "expand": ["data.product"]})
    assert [p.unit_amount for p in prices.data] == [4000, 500]
    assert prices.data[0].product.name == "Mug"
    updated = client.v1.products.update(product.id, params={
        "default_price": monthly.id, "metadata": {"sku": "", "colour": "blue"}})
    assert updated.default_price == monthly.id and updated.metadata.to_dict() == {"colour": "blue"}


def test_errors_keep_their_exception_class_code_and_param(stripe_cassette: object) -> None:
    client = stripe.StripeClient(KEY)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.retrieve("prod_missing")
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (
        404, "resource_missing", "id")
    assert missing.value.user_message == "No such product: 'prod_missing'"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.products.create(params={"name": "Mug", "colour": "blue"})
    assert (unknown.value.http_status, unknown.value.param) == (400, "colour")
    assert unknown.value.user_message == "Received unknown parameter: colour"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_").v1.products.list()
