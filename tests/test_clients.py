"""Every way an app reaches Stripe gets the same answers from the fake.

The same scenario (product, price, retrieve, list, coupon, promotion code, metadata update, and a
404) runs through each client and style; with a seeded fake every run must give exactly the
results the SDK's default client gets.  Routes the fake cannot answer (``http.client``, pycurl,
raw sockets) are blocked, never sent, and fail the test with a message that names it.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests
import stripe

from pytest_stripe_fixtures.fake.formcodec import encode
from pytest_stripe_fixtures.transports.http_libs import UninterceptedStripeCall

pytest_plugins = ["pytester"]

KEY = "sk_test_fake"
API = "https://api.stripe.com"
SEEDED = pytest.mark.stripe_fake(seed=5, now=1_700_000_000)

Result = list[Any]


# --- the scenario, once per style -----------------------------------------------------------


def _error(exc: stripe.StripeError) -> list[Any]:
    return ["error", exc.http_status, exc.error.type if exc.error else None, exc.code, exc.param]


def _plain(obj: Any) -> Any:
    """JSON-equivalent plain data (the SDK turns ``*_decimal`` strings into ``Decimal``)."""
    return json.loads(json.dumps(obj.to_dict(), default=str))


def sdk_scenario(client: stripe.StripeClient) -> Result:
    v1 = client.v1
    product = v1.products.create(params={"name": "Mug", "metadata": {"sku": "m-1"}})
    price = v1.prices.create(params={"product": product.id, "unit_amount": 1200,
                                     "currency": "usd"})
    fetched = v1.products.retrieve(product.id)
    prices = v1.prices.list(params={"product": product.id})
    coupon = v1.coupons.create(params={"percent_off": 25, "duration": "once"})
    promo = v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                              "code": "SPRING"})
    updated = v1.products.update(product.id, params={"metadata": {"sku": "m-2"}})
    results: Result = [_plain(o) for o in (product, price, fetched, prices, coupon, promo,
                                           updated)]
    try:
        v1.products.retrieve("prod_missing")
    except stripe.InvalidRequestError as exc:
        results.append(_error(exc))
    return results


async def sdk_scenario_async(client: stripe.StripeClient) -> Result:
    v1 = client.v1
    product = await v1.products.create_async(params={"name": "Mug", "metadata": {"sku": "m-1"}})
    price = await v1.prices.create_async(params={"product": product.id, "unit_amount": 1200,
                                                 "currency": "usd"})
    fetched = await v1.products.retrieve_async(product.id)
    prices = await v1.prices.list_async(params={"product": product.id})
    coupon = await v1.coupons.create_async(params={"percent_off": 25, "duration": "once"})
    promo = await v1.promotion_codes.create_async(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING"})
    updated = await v1.products.update_async(product.id, params={"metadata": {"sku": "m-2"}})
    results: Result = [_plain(o) for o in (product, price, fetched, prices, coupon, promo,
                                           updated)]
    try:
        await v1.products.retrieve_async("prod_missing")
    except stripe.InvalidRequestError as exc:
        results.append(_error(exc))
    return results


def global_scenario() -> Result:
    product = stripe.Product.create(name="Mug", metadata={"sku": "m-1"})
    price = stripe.Price.create(product=product.id, unit_amount=1200, currency="usd")
    fetched = stripe.Product.retrieve(product.id)
    prices = stripe.Price.list(product=product.id)
    coupon = stripe.Coupon.create(percent_off=25, duration="once")
    promo = stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id},
                                        code="SPRING")
    updated = stripe.Product.modify(product.id, metadata={"sku": "m-2"})
    results: Result = [_plain(o) for o in (product, price, fetched, prices, coupon, promo,
                                           updated)]
    try:
        stripe.Product.retrieve("prod_missing")
    except stripe.InvalidRequestError as exc:
        results.append(_error(exc))
    return results


def http_steps() -> Any:
    """The scenario as raw requests: yields ``(method, path, params)``, receives the JSON."""
    product = yield "POST", "/v1/products", {"name": "Mug", "metadata": {"sku": "m-1"}}
    yield "POST", "/v1/prices", {"product": product["id"], "unit_amount": 1200, "currency": "usd"}
    yield "GET", f"/v1/products/{product['id']}", {}
    yield "GET", "/v1/prices", {"product": product["id"]}
    coupon = yield "POST", "/v1/coupons", {"percent_off": 25, "duration": "once"}
    yield "POST", "/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]},
                                          "code": "SPRING"}
    yield "POST", f"/v1/products/{product['id']}", {"metadata": {"sku": "m-2"}}
    yield "GET", "/v1/products/prod_missing", {}


def _outcome(status: int, body: Any) -> Any:
    if status == 200:
        return body
    error = body["error"]
    return ["error", status, error["type"], error.get("code"), error.get("param")]


def http_scenario(send: Any) -> Result:
    """Drive :func:`http_steps` with ``send(method, path, params) -> (status, json)``."""
    steps, results = http_steps(), []
    try:
        request = next(steps)
        while True:
            status, body = send(*request)
            results.append(_outcome(status, body))
            request = steps.send(body)
    except StopIteration:
        return results


async def http_scenario_async(send: Any) -> Result:
    """The same, with ``await send(...)``."""
    steps, results = http_steps(), []
    try:
        request = next(steps)
        while True:
            status, body = await send(*request)
            results.append(_outcome(status, body))
            request = steps.send(body)
    except StopIteration:
        return results


def _form(params: dict[str, Any]) -> str:
    return urlencode(encode(params))


HEADERS = {"Authorization": f"Bearer {KEY}", "Stripe-Version": stripe.api_version}
FORM = {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def reference(stripe_fake: Any) -> Result:
    """What the SDK's default client (RequestsClient) gets, from a fresh account with the same
    seed; the account is reset again afterwards, so the test starts from the same ids."""
    results = sdk_scenario(stripe.StripeClient(KEY))
    stripe_fake.reset()
    return results


# --- the SDK, sync ------------------------------------------------------------------------


@SEEDED
@pytest.mark.parametrize("http_client", [
    stripe.RequestsClient, stripe.UrllibClient, stripe.HTTPXClient,
    pytest.param(stripe.PycurlClient, marks=pytest.mark.skipif(
        importlib.util.find_spec("pycurl") is None, reason="pycurl is not installed"))],
    ids=["requests", "urllib", "httpx", "pycurl"])
def test_every_sync_sdk_client_gets_the_same_answers(stripe_fake, reference, http_client):
    client = stripe.StripeClient(KEY, http_client=http_client())
    assert sdk_scenario(client) == reference
    assert [r.status for r in stripe_fake.requests][-8:] == [200] * 7 + [404]


@SEEDED
def test_the_default_client_is_requests_and_is_answered(stripe_fake, reference):
    client = stripe.StripeClient(KEY)
    assert isinstance(client._requestor._client, stripe.RequestsClient)
    assert sdk_scenario(client) == reference


@SEEDED
@pytest.mark.parametrize("http_client", [stripe.RequestsClient, stripe.UrllibClient],
                         ids=["requests", "urllib"])
def test_the_global_style_gets_the_same_answers(stripe_fake, reference, http_client,
                                                monkeypatch):
    monkeypatch.setattr(stripe, "default_http_client", http_client())
    assert global_scenario() == reference


@SEEDED
def test_a_stream_request_is_answered_too(stripe_fake):
    """``request_stream`` (file downloads) gets a file-like body; an error still raises."""
    client = stripe.StripeClient(KEY)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client._requestor.request_stream("get", "/v1/products/prod_missing",
                                         base_address="api", usage=None)
    assert info.value.http_status == 404


# --- the SDK, async -----------------------------------------------------------------------


@SEEDED
@pytest.mark.asyncio
@pytest.mark.parametrize("http_client", [stripe.HTTPXClient, stripe.AIOHTTPClient],
                         ids=["httpx", "aiohttp"])
async def test_async_sdk_clients_under_pytest_asyncio(stripe_fake, reference, http_client):
    client = stripe.StripeClient(KEY, http_client=http_client())
    assert await sdk_scenario_async(client) == reference


@SEEDED
@pytest.mark.anyio
@pytest.mark.parametrize("http_client", [stripe.HTTPXClient, stripe.AIOHTTPClient],
                         ids=["httpx", "aiohttp"])
async def test_async_sdk_clients_under_anyio(stripe_fake, reference, http_client):
    client = stripe.StripeClient(KEY, http_client=http_client())
    assert await sdk_scenario_async(client) == reference


@SEEDED
@pytest.mark.asyncio
async def test_the_async_methods_of_the_default_client_use_its_async_fallback(stripe_fake,
                                                                             reference):
    assert await sdk_scenario_async(stripe.StripeClient(KEY)) == reference


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- plain HTTP libraries -----------------------------------------------------------------


@SEEDED
def test_plain_requests_calls_are_answered(stripe_fake, reference):
    def send(method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET":
            response = requests.get(API + path, params=encode(params), headers=HEADERS)
        else:
            response = requests.post(API + path, data=_form(params), headers=FORM)
        assert response.headers["request-id"].startswith("req_")  # case-insensitive, as usual
        return response.status_code, response.json()

    assert http_scenario(send) == reference


@SEEDED
def test_a_requests_session_and_its_error_handling_work_as_usual(stripe_fake):
    with requests.Session() as session:
        session.headers.update(HEADERS)
        response = session.get(API + "/v1/products/prod_missing")
    assert response.status_code == 404
    assert response.reason == "Not Found"
    with pytest.raises(requests.HTTPError):
        response.raise_for_status()
    assert response.json()["error"]["code"] == "resource_missing"


@SEEDED
def test_plain_httpx_calls_are_answered(stripe_fake, reference):
    with httpx.Client(base_url=API, headers=HEADERS) as client:
        def send(method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
            if method == "GET":
                response = client.get(path, params=encode(params))
            else:
                response = client.post(path, content=_form(params), headers=FORM)
            return response.status_code, response.json()

        assert http_scenario(send) == reference


@SEEDED
@pytest.mark.asyncio
async def test_plain_httpx_async_calls_are_answered(stripe_fake, reference):
    async with httpx.AsyncClient(base_url=API, headers=HEADERS) as client:
        async def send(method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
            if method == "GET":
                response = await client.get(path, params=encode(params))
            else:
                response = await client.post(path, content=_form(params), headers=FORM)
            return response.status_code, response.json()

        assert await http_scenario_async(send) == reference


@SEEDED
def test_plain_urllib_calls_are_answered(stripe_fake, reference):
    def send(method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET":
            query = _form(params)
            request = urllib.request.Request(API + path + (f"?{query}" if query else ""),
                                             headers=HEADERS)
        else:
            request = urllib.request.Request(API + path, data=_form(params).encode(),
                                             headers=HEADERS, method=method)
        try:
            with urllib.request.urlopen(request) as response:
                assert response.getheader("Request-Id").startswith("req_")
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:  # 4xx arrive as HTTPError, as from the network
            return exc.code, json.loads(exc.read())

    assert http_scenario(send) == reference


# --- what the fake cannot answer is blocked, never sent -----------------------------------


@pytest.fixture
def guard() -> Any:
    """The fixture's network guard on its own (the fixture would also fail the test, which
    ``test_a_blocked_call_fails_the_test_and_names_it`` checks)."""
    from pytest_stripe_fixtures.transports.http_libs import NetworkGuard

    seen: list[str] = []
    with NetworkGuard("tests/test_app.py::test_checkout", seen.append):
        yield seen


def test_http_client_used_directly_is_blocked(guard):
    connection = http.client.HTTPSConnection("api.stripe.com", timeout=1)
    with pytest.raises(UninterceptedStripeCall, match="cannot answer"):
        connection.request("GET", "/v1/products", headers=HEADERS)
    assert len(guard) == 1
    assert guard[0].startswith("pytest-stripe-fixtures: tests/test_app.py::test_checkout tried to "
                               "reach api.stripe.com through a client that resolves it itself")


def test_a_raw_socket_is_blocked(guard):
    with socket.socket() as sock, pytest.raises(UninterceptedStripeCall, match="raw socket"):
        sock.connect(("api.stripe.com", 443))


@pytest.fixture
def pycurl() -> Any:
    return pytest.importorskip("pycurl")  # imported before the guard starts, as apps do


def test_pycurl_is_blocked(pycurl, guard):
    curl = pycurl.Curl()
    with pytest.raises(UninterceptedStripeCall, match="through pycurl"):
        curl.setopt(pycurl.URL, API + "/v1/products")
    curl.setopt(pycurl.URL, "http://127.0.0.1:9/")  # other hosts are untouched


def test_the_guard_leaves_no_trace(pycurl):
    from pytest_stripe_fixtures.transports.http_libs import NetworkGuard

    before = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex, pycurl.Curl)
    with NetworkGuard("t"):
        assert socket.getaddrinfo is not before[0]
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex,
            pycurl.Curl) == before


BLOCKED_TESTS = '''
import http.client, socket, pytest
pycurl = pytest.importorskip("pycurl")

def test_app_uses_http_client(stripe_fake):
    try:
        http.client.HTTPSConnection("api.stripe.com").request("GET", "/v1/products")
    except OSError:
        pass  # the app swallows the error: the test must still fail

def test_app_uses_pycurl(stripe_fake):
    c = pycurl.Curl()
    try:
        c.setopt(pycurl.URL, "https://api.stripe.com/v1/products")
        c.perform()
    except OSError:
        pass

def test_other_hosts_are_not_the_guards_business(stripe_fake):
    with pytest.raises(OSError) as info:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert "Stripe" not in str(info.value)
'''


def test_a_blocked_call_fails_the_test_and_names_it(pytester, pycurl):
    pytester.makepyfile(test_app=BLOCKED_TESTS)
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines([
        "*test_app.py::test_app_uses_http_client tried to reach api.stripe.com through a "
        "client that resolves it itself*",
        "*test_app.py::test_app_uses_pycurl tried to reach api.stripe.com through pycurl*",
    ])
