"""The fake takes Stripe's hosts and nothing else.

An app's tests often mock *other* services with ``responses``, ``respx``, ``pytest-httpx`` or
vcrpy / pytest-recording in the very test that uses ``stripe_fake``.  Each of those keeps
working, whichever of the two is set up first: the fake hooks each HTTP library above the layer
those tools patch, so a Stripe call never reaches them and their calls never reach the fake.
Real (loopback) HTTP to other hosts is untouched too.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import responses
import respx
import stripe
import vcr

KEY = "sk_test_fake"
STRIPE = "https://api.stripe.com"
INVENTORY = "http://inventory.test/items/m-1"  # another service the app talks to
ITEM = {"sku": "m-1", "stock": 3}
AUTH = {"Authorization": f"Bearer {KEY}"}


def _checkout_sync(http_client: Any = None) -> dict[str, Any]:
    """What an app does in one test: the SDK, plain calls to Stripe and to another service."""
    client = stripe.StripeClient(KEY, http_client=http_client)
    product = client.v1.products.create(params={"name": "Mug"})
    by_requests = requests.get(f"{STRIPE}/v1/products/{product.id}", headers=AUTH).json()
    with httpx.Client() as plain:
        by_httpx = plain.get(f"{STRIPE}/v1/products/{product.id}", headers=AUTH).json()
    assert by_requests == by_httpx and by_requests["id"] == product.id
    return {"product": product.id,
            "requests": requests.get(INVENTORY).json(),
            "httpx": httpx.get(INVENTORY).json()}


async def _checkout_async() -> dict[str, Any]:
    client = stripe.StripeClient(KEY, http_client=stripe.HTTPXClient())
    product = await client.v1.products.create_async(params={"name": "Mug"})
    async with httpx.AsyncClient() as plain:
        fetched = (await plain.get(f"{STRIPE}/v1/products/{product.id}", headers=AUTH)).json()
        item = (await plain.get(INVENTORY)).json()
    assert fetched["id"] == product.id
    return {"product": product.id, "httpx": item}


def _stripe_calls(stripe_fake: Any) -> list[str]:
    return [f"{r.method} {r.path}" for r in stripe_fake.requests]


# --- responses ------------------------------------------------------------------------------


def _mock_inventory(rsps: responses.RequestsMock) -> None:
    rsps.get(INVENTORY, json=ITEM)


@pytest.fixture
def responses_first() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:  # asserts that every mocked URL was called
        _mock_inventory(rsps)
        yield rsps


def _requests_only(stripe_fake: Any) -> dict[str, Any]:
    product = stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug"})
    fetched = requests.get(f"{STRIPE}/v1/products/{product.id}", headers=AUTH).json()
    assert fetched["id"] == product.id
    assert _stripe_calls(stripe_fake) == ["POST /v1/products", f"GET /v1/products/{product.id}"]
    return requests.get(INVENTORY).json()


def test_responses_set_up_before_the_fake(responses_first, stripe_fake):
    assert _requests_only(stripe_fake) == ITEM
    assert [c.request.url for c in responses_first.calls] == [INVENTORY]


def test_responses_started_inside_the_test(stripe_fake):
    with responses.RequestsMock() as rsps:
        _mock_inventory(rsps)
        assert _requests_only(stripe_fake) == ITEM
        assert [c.request.url for c in rsps.calls] == [INVENTORY]


@responses.activate
def test_responses_activate_decorator(stripe_fake):
    _mock_inventory(responses.mock)
    assert _requests_only(stripe_fake) == ITEM


# --- respx ----------------------------------------------------------------------------------


def _route_inventory(router: respx.MockRouter) -> respx.Route:
    return router.get(INVENTORY).respond(json=ITEM)


def _httpx_only(stripe_fake: Any) -> Any:
    client = stripe.StripeClient(KEY, http_client=stripe.HTTPXClient())
    product = client.v1.products.create(params={"name": "Mug"})
    fetched = httpx.get(f"{STRIPE}/v1/products/{product.id}", headers=AUTH).json()
    assert fetched["id"] == product.id
    assert len(stripe_fake.requests) == 2
    return httpx.get(INVENTORY).json()


def test_respx_set_up_before_the_fake(respx_mock, stripe_fake):
    route = _route_inventory(respx_mock)
    assert _httpx_only(stripe_fake) == ITEM
    assert route.call_count == 1


def test_respx_set_up_after_the_fake(stripe_fake, respx_mock):
    route = _route_inventory(respx_mock)
    assert _httpx_only(stripe_fake) == ITEM
    assert route.call_count == 1


def test_respx_started_inside_the_test(stripe_fake):
    with respx.mock(assert_all_called=True) as router:  # assert_all_mocked too, by default
        _route_inventory(router)
        assert _httpx_only(stripe_fake) == ITEM


def test_respx_using_httpx_started_after_the_fake_needs_a_pass_through_route(stripe_fake):
    """``respx.mock(using="httpx")`` answers every httpx request itself unless told to let
    Stripe's through; set up *before* the fake it needs nothing."""
    with respx.mock(using="httpx", assert_all_called=True) as router:
        router.route(host="api.stripe.com").pass_through()
        _route_inventory(router)
        assert _httpx_only(stripe_fake) == ITEM


@pytest.fixture
def respx_httpx_first() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", assert_all_called=True) as router:
        yield router


def test_respx_using_httpx_set_up_before_the_fake(respx_httpx_first, stripe_fake):
    _route_inventory(respx_httpx_first)
    assert _httpx_only(stripe_fake) == ITEM


@pytest.mark.asyncio
async def test_respx_with_async_clients(stripe_fake):
    with respx.mock(assert_all_called=True) as router:
        _route_inventory(router)
        assert (await _checkout_async())["httpx"] == ITEM


# --- pytest-httpx ---------------------------------------------------------------------------


def test_pytest_httpx_set_up_before_the_fake(httpx_mock, stripe_fake):
    httpx_mock.add_response(url=INVENTORY, json=ITEM)
    assert _httpx_only(stripe_fake) == ITEM
    assert [str(r.url) for r in httpx_mock.get_requests()] == [INVENTORY]


def test_pytest_httpx_set_up_after_the_fake(stripe_fake, httpx_mock):
    httpx_mock.add_response(url=INVENTORY, json=ITEM)
    assert _httpx_only(stripe_fake) == ITEM
    assert [str(r.url) for r in httpx_mock.get_requests()] == [INVENTORY]


@pytest.mark.asyncio
async def test_pytest_httpx_with_async_clients(stripe_fake, httpx_mock):
    httpx_mock.add_response(url=INVENTORY, json=ITEM)
    assert (await _checkout_async())["httpx"] == ITEM


# --- vcrpy and pytest-recording -------------------------------------------------------------

CASSETTE = {
    "version": 1,
    "interactions": [{
        "request": {"method": "GET", "uri": INVENTORY, "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"Content-Type": ["application/json"]},
                     "body": {"string": json.dumps(ITEM)}},
    }] * 2,  # one replay for requests, one for httpx
}


def _write_cassette(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(CASSETTE))  # JSON is valid YAML
    return path


@pytest.fixture
def cassette_first(tmp_path: Path) -> Iterator[Any]:
    path = _write_cassette(tmp_path / "inventory.yaml")
    with vcr.use_cassette(str(path), record_mode="none", allow_playback_repeats=False) as tape:
        yield tape


def test_vcrpy_set_up_before_the_fake(cassette_first, stripe_fake):
    result = _checkout_sync()
    assert result["requests"] == result["httpx"] == ITEM
    assert cassette_first.play_count == 2  # only the inventory calls went through vcrpy
    assert all(r.host == "inventory.test" for r in cassette_first.requests)


def test_vcrpy_started_inside_the_test(stripe_fake, tmp_path):
    path = _write_cassette(tmp_path / "inventory.yaml")
    with vcr.use_cassette(str(path), record_mode="none") as tape:
        result = _checkout_sync(stripe.HTTPXClient())
    assert result["requests"] == result["httpx"] == ITEM
    assert tape.play_count == 2


@pytest.fixture(scope="module")
def vcr_cassette_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """pytest-recording's cassettes for this module: written here, replayed (record mode none)."""
    folder = tmp_path_factory.mktemp("cassettes")
    _write_cassette(folder / "test_pytest_recording_replays_other_hosts.yaml")
    _write_cassette(folder / "test_pytest_recording_with_block_network.yaml")
    return str(folder)


@pytest.mark.vcr
def test_pytest_recording_replays_other_hosts(stripe_fake):
    result = _checkout_sync()
    assert result["requests"] == result["httpx"] == ITEM


@pytest.mark.vcr
@pytest.mark.block_network
def test_pytest_recording_with_block_network(stripe_fake):
    """Even with every socket blocked, Stripe calls are answered: they never open one."""
    result = _checkout_sync(stripe.UrllibClient())
    assert result["requests"] == ITEM


# --- real HTTP to other hosts ---------------------------------------------------------------


class _Inventory(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.dumps({**ITEM, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Inventory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.asyncio
async def test_other_hosts_go_over_the_network_as_usual(stripe_fake, local_service):
    url = f"{local_service}/v1/products/prod_1"
    assert requests.get(url).json()["path"] == "/v1/products/prod_1"
    assert httpx.get(url).json()["path"] == "/v1/products/prod_1"
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).json()["path"] == "/v1/products/prod_1"
    with urllib.request.urlopen(url) as response:
        assert json.loads(response.read())["path"] == "/v1/products/prod_1"
    assert stripe_fake.requests == []


def test_the_sdk_pointed_at_another_host_is_not_intercepted(stripe_fake, local_service):
    """An ``api_base`` that is not Stripe's (stripe-mock, a proxy) gets the real request."""
    client = stripe.StripeClient(KEY, base_addresses={"api": local_service})
    assert client.v1.products.retrieve("prod_1").path == "/v1/products/prod_1"
    assert stripe_fake.requests == []


def test_nothing_is_left_patched_after_the_fake(local_service):
    """Outside ``stripe_fake`` the libraries are exactly as they were."""
    from requests import Session

    assert Session.get_adapter.__module__ == "requests.sessions"
    assert httpx.Client._transport_for_url.__module__ == "httpx._client"
    assert urllib.request.HTTPSHandler.https_open.__module__ == "urllib.request"
