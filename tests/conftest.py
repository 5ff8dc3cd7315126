"""The project's tests never touch the internet: sockets to anything but loopback are refused
for the whole run (record-mode tests use stand-ins on 127.0.0.1)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "", None}


class NetworkBlocked(OSError):
    pass


def _check(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            if host == "localhost":
                return
        raise NetworkBlocked(f"the test suite may only connect to 127.0.0.1, not {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in LOCAL_NAMES:
        try:
            ipaddress.ip_address(name)  # a literal address needs no DNS; connect() decides
        except ValueError:  # a name: not even a DNS query leaves the machine
            raise NetworkBlocked(
                f"the test suite may only resolve local names, not {host!r}") from None
    return _real_getaddrinfo(host, *args, **kwargs)


def _install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


_install()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _install()  # again, in case a plugin run inside a test (pytester) restored the originals

TEST_KEY = "sk_test_fake"


@pytest.fixture
def stripe_client(stripe_fake: Any) -> Any:
    """A StripeClient on the SDK's pinned (current) API version."""
    import stripe

    return stripe.StripeClient(TEST_KEY)


@pytest.fixture
def stripe_client_2023(stripe_fake: Any) -> Any:
    """A StripeClient pinned to 2023-08-16, like stripe-python 6.x."""
    import stripe

    return stripe.StripeClient(TEST_KEY, stripe_version="2023-08-16")


INNER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(autouse=True)
def _quiet_inner_runs(request: pytest.FixtureRequest) -> None:
    """Inner pytest runs (pytester) get the same pytest-asyncio setting as this suite."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester").makeini(INNER_INI)
