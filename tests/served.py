"""Fixtures for tests of the fake served over HTTP: import them into a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_stripe_fixtures.conformance import first_nonconforming
from pytest_stripe_fixtures.transports.server import StripeServer


@pytest.fixture(scope="module")
def server() -> Iterator[StripeServer]:
    with StripeServer(keep_log=True) as running:
        yield running


@pytest.fixture(autouse=True)
def conformant(server: StripeServer) -> Iterator[None]:
    """Start each test on empty accounts; afterwards every served response matches schemas/."""
    server.reset()
    yield
    assert server.fake.internal_errors == []
    assert first_nonconforming(server.fake.requests) is None
