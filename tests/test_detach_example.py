"""The API reference's "Detach a source" example, reproduced (STRIPE-API-RULES.md §17.6).

``DELETE /v1/customers/{customer}/sources/{id}`` returns the Source itself, now ``consumed``
(not a deleted stub, not the customer).  The fake's answer must have the same keys and nesting
as the documented example object (values differ: ids, times) and match schemas/ in both API
versions.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_stripe_fixtures.conformance import problems
from pytest_stripe_fixtures.fake import versions
from pytest_stripe_fixtures.fake.resources.sources import receive_funds

ENDPOINT = "DELETE /v1/customers/{customer}/sources/{id}"

# The key structure of the example response at docs.stripe.com/api/sources/detach (2023-09
# snapshot): a dict per hash, None per leaf.  Values are left out on purpose.
#
# Left out of the example: `redaction` (null there), which is in neither the 2023-08-16 spec
# nor the current SDK's Source class, so no schema admits it.
DOCUMENTED: dict[str, Any] = {
    "id": None,
    "object": None,
    "ach_credit_transfer": {"account_number": None, "routing_number": None,
                            "fingerprint": None, "bank_name": None, "swift_code": None},
    "amount": None,
    "client_secret": None,
    "created": None,
    "currency": None,
    "flow": None,
    "livemode": None,
    "metadata": {},
    "owner": {"address": None, "email": None, "name": None, "phone": None,
              "verified_address": None, "verified_email": None, "verified_name": None,
              "verified_phone": None},
    "receiver": {"address": None, "amount_received": None, "amount_charged": None,
                 "amount_returned": None, "refund_attributes_status": None,
                 "refund_attributes_method": None},
    "statement_descriptor": None,
    "status": None,
    "type": None,
    "usage": None,
    "customer": None,
}
# Newer than the example: fields the current version adds (registered version changes).
ADDED_SINCE = {versions.CURRENT: {"allow_redisplay": None}, versions.OLDEST: {}}


def shape(value: Any) -> Any:
    """The key structure of a JSON value: dicts keep their keys, everything else is None."""
    if isinstance(value, dict):
        return {key: shape(inner) for key, inner in value.items()}
    return None


@pytest.mark.parametrize("version", [versions.OLDEST, versions.CURRENT])
def test_the_documented_detach_example(version, stripe_fake):
    import stripe

    client = stripe.StripeClient("sk_test_fake", stripe_version=version)
    customer = client.v1.customers.create()
    source = client.v1.sources.create(params={
        "type": "ach_credit_transfer", "currency": "usd",
        "owner": {"email": "jenny.rosen@example.com"}})
    client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
    receive_funds(stripe_fake.store, source.id, 1000)  # the customer sends the money
    client.v1.charges.create(params={"amount": 1000, "currency": "usd",
                                     "customer": customer.id})

    detached = client.v1.customers.payment_sources.delete(customer.id, source.id)

    body = stripe_fake.last_request.json()
    assert stripe_fake.last_request.status == 200
    assert shape(body) == {**DOCUMENTED, **ADDED_SINCE[version]}
    assert problems(version, ENDPOINT, 200, body) == []
    assert (body["object"], body["id"], body["status"], body["customer"]) == (
        "source", source.id, "consumed", customer.id)
    assert (body["type"], body["flow"], body["usage"]) == (
        "ach_credit_transfer", "receiver", "reusable")
    assert body["receiver"]["amount_received"] == body["receiver"]["amount_charged"] == 1000
    assert isinstance(detached, stripe.Source) and detached.status == "consumed"
