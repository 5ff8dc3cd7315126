"""Wiring for the tests: the app's objects, built on top of the plugin's ``stripe_fake``.

Requesting ``stripe_fake`` is what routes every ``stripe`` SDK call to the in-memory fake, so
every fixture that hands out a client depends on it: no test can reach the real Stripe.
"""

from __future__ import annotations

import pytest
import stripe

from billing.catalog import Catalog
from billing.discounts import Discounts, legacy_client
from billing.payments import Payments

API_KEY = "sk_test_fake"


@pytest.fixture
def client(stripe_fake) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY)


@pytest.fixture
def global_stripe(stripe_fake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's global configuration, as the app sets it at startup."""
    monkeypatch.setattr(stripe, "api_key", API_KEY)


@pytest.fixture
def catalog(client: stripe.StripeClient) -> Catalog:
    return Catalog(client)


@pytest.fixture
def discounts_client(stripe_fake) -> stripe.StripeClient:
    return legacy_client(API_KEY)


@pytest.fixture
def discounts(discounts_client: stripe.StripeClient) -> Discounts:
    return Discounts(discounts_client)


@pytest.fixture
def payments(client: stripe.StripeClient) -> Payments:
    return Payments(client)
