"""Cassettes end to end: record against a stand-in Stripe on 127.0.0.1, then replay with the
stand-in stopped and every socket refused.  The recording holds no key, and replay matches
on method, path and decoded params only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import stripe
from cassette_standin import StandIn

from pytest_stripe_fixtures.cassettes import (
    Filters,
    LiveKeyRefused,
    UnmatchedRequest,
    use_cassette,
)
from pytest_stripe_fixtures.cassettes.scrub import find_secrets

KEY = "sk_test_fake"
API = "https://api.stripe.com"


class SocketsBlocked(OSError):
    pass


@contextlib.contextmanager
def sockets_blocked() -> Iterator[None]:
    """No network socket can even be created (asyncio's local socketpair may): replay must not
    touch the network at all."""
    real = socket.socket

    class Refused(real):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, *args: object, **kwargs: object) -> None:
            if family != socket.AF_UNIX:
                raise SocketsBlocked("socket creation blocked during replay")
            super().__init__(family, *args, **kwargs)  # type: ignore[arg-type]

    socket.socket = Refused  # type: ignore[misc]
    try:
        yield
    finally:
        socket.socket = real  # type: ignore[misc]


def checkout_flow(client: stripe.StripeClient) -> dict[str, object]:
    """A small real-world flow; returns what a test would assert on."""
    product = client.v1.products.create(params={"name": "Mug", "metadata": {"sku": "M-1"}})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 1200,
                                            "currency": "usd"})
    prices = client.v1.prices.list(params={"product": product.id, "limit": 3})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.retrieve("prod_missing")
    return {"product": product.id, "price": price.id, "amount": price.unit_amount,
            "listed": [p.id for p in prices.data], "error": (missing.value.code,
                                                             missing.value.param,
                                                             missing.value.user_message,
                                                             missing.value.http_status)}


def test_record_against_a_stand_in_then_replay_offline(tmp_path: Path) -> None:
    path = tmp_path / "checkout.yaml"
    with StandIn() as standin:
        with use_cassette(path, "once", upstream=standin.url):
            recorded = checkout_flow(stripe.StripeClient(KEY))
        assert len(standin.requests) == 4  # every request really went to the stand-in
    assert recorded["error"] == ("resource_missing", "id", "No such product: 'prod_missing'", 404)

    with sockets_blocked(), use_cassette(path, "none") as cassette:
        replayed = checkout_flow(stripe.StripeClient(KEY))
    assert replayed == recorded
    assert cassette.played == [0, 1, 2, 3]
    assert cassette.misses == []


def test_global_style_sdk_calls_replay_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "global.yaml"
    monkeypatch.setattr(stripe, "api_key", KEY)
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        created = stripe.Customer.create(email="jenny.rosen@example.com", name="Jenny Rosen")
    with sockets_blocked(), use_cassette(path):
        replayed = stripe.Customer.create(email="jenny.rosen@example.com", name="Jenny Rosen")
    assert replayed.id == created.id and replayed.email == "jenny.rosen@example.com"


SYNC_CLIENTS = ["RequestsClient", "UrllibClient", "HTTPXClient", "PycurlClient"]
ASYNC_CLIENTS = ["HTTPXClient", "AIOHTTPClient"]


def sdk_client(name: str) -> stripe.StripeClient:
    module = {"HTTPXClient": "httpx", "AIOHTTPClient": "aiohttp", "PycurlClient": "pycurl",
              "RequestsClient": "requests"}.get(name)
    if module:
        pytest.importorskip(module)
    return stripe.StripeClient(KEY, http_client=getattr(stripe._http_client, name)())


@pytest.fixture(scope="module")
def recorded_flow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    path = tmp_path_factory.mktemp("clients") / "flow.yaml"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        client = stripe.StripeClient(KEY)
        product = client.v1.products.create(params={"name": "Mug"})
        name = client.v1.products.retrieve(product.id).name
    return path, (product.id, name)


@pytest.mark.parametrize("name", SYNC_CLIENTS)
def test_every_sdk_http_client_replays(recorded_flow: tuple[Path, tuple[str, str]],
                                       name: str) -> None:
    path, recorded = recorded_flow
    client = sdk_client(name)
    with sockets_blocked(), use_cassette(path):
        product = client.v1.products.create(params={"name": "Mug"})
        assert (product.id, client.v1.products.retrieve(product.id).name) == recorded


@pytest.mark.parametrize("name", ASYNC_CLIENTS)
def test_every_async_sdk_http_client_replays(recorded_flow: tuple[Path, tuple[str, str]],
                                             name: str) -> None:
    path, recorded = recorded_flow

    async def flow() -> tuple[str, str]:
        client = sdk_client(name)
        product = await client.v1.products.create_async(params={"name": "Mug"})
        return product.id, (await client.v1.products.retrieve_async(product.id)).name

    with sockets_blocked(), use_cassette(path):
        assert asyncio.run(flow()) == recorded


def test_async_sdk_calls_replay_too(tmp_path: Path) -> None:
    path = tmp_path / "async.yaml"

    async def flow() -> tuple[str, str]:
        client = stripe.StripeClient(KEY, http_client=stripe.HTTPXClient())
        product = await client.v1.products.create_async(params={"name": "Mug"})
        return product.id, (await client.v1.products.retrieve_async(product.id)).name

    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        recorded = asyncio.run(flow())
    with sockets_blocked(), use_cassette(path):
        assert asyncio.run(flow()) == recorded


def test_the_cassette_holds_no_key_no_cookie_and_no_telemetry(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        client = stripe.StripeClient(KEY)
        client.v1.products.create(params={"name": "Leaky", "metadata": {
            "hook": "whsec_abcdef123456", "other_key": "rk_test_abcdef123456"}})
        client.v1.products.list()  # the SDK adds X-Stripe-Client-Telemetry from now on
        requests.get(f"{API}/v1/products", auth=(KEY, ""))  # HTTP Basic auth, plain requests
        headers = standin.requests[-2][2]
    assert "X-Stripe-Client-User-Agent" in headers and "Authorization" in headers  # sent...
    text = path.read_text()
    for secret in (KEY, "whsec_abcdef123456", "rk_test_abcdef123456", "Basic ", "Bearer ",
                   "machine_identifier"):
        assert secret not in text  # ...but never written
    for header in ("Authorization", "X-Stripe-Client-User-Agent", "X-Stripe-Client-Telemetry",
                   "Set-Cookie", "Cookie", "Idempotency-Key: ["):
        assert f"{header}:" not in text
    assert find_secrets(text) == []
    assert "whsec_REDACTED" in text and "rk_test_REDACTED" in text
    assert "Stripe-Version:" in text and "stripe_python: 16." in text and "recorded_at:" in text

    with sockets_blocked(), use_cassette(path):  # a request holding a secret still matches
        product = stripe.StripeClient(KEY).v1.products.create(params={"name": "Leaky", "metadata": {
            "hook": "whsec_abcdef123456", "other_key": "rk_test_abcdef123456"}})
    assert product.metadata["hook"] == "whsec_REDACTED"


def test_reordered_params_other_array_spelling_and_new_idempotency_keys_still_match(
        tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        created = stripe.StripeClient(KEY).v1.products.create(
            params={"name": "Mug & cup", "images": ["https://example.com/a.png"],
                    "metadata": {"b": "2", "a": "1"}, "expand": ["default_price"]},
            options={"idempotency_key": "first-key"})

    body = ("metadata%5Ba%5D=1&expand[]=default_price&images%5B%5D=https%3A%2F%2Fexample.com"
            "%2Fa.png&metadata[b]=2&name=Mug+%26+cup")
    with sockets_blocked(), use_cassette(path) as cassette:
        response = requests.post(f"{API}/v1/products", data=body, auth=(KEY, ""), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "another-key",
            "User-Agent": "something/else", "X-Stripe-Client-Telemetry": "{}"})
    assert response.status_code == 200 and response.json()["id"] == created.id
    assert cassette.played == [0]


def test_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    path = tmp_path / "order.yaml"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        client = stripe.StripeClient(KEY)
        product = client.v1.products.create(params={"name": "Mug"})
        before = client.v1.products.retrieve(product.id).name
        client.v1.products.update(product.id, params={"name": "Big mug"})
        after = client.v1.products.retrieve(product.id).name
    assert (before, after) == ("Mug", "Big mug")

    with sockets_blocked(), use_cassette(path):
        client = stripe.StripeClient(KEY)
        client.v1.products.create(params={"name": "Mug"})
        assert client.v1.products.retrieve(product.id).name == "Mug"
        client.v1.products.update(product.id, params={"name": "Big mug"})
        assert client.v1.products.retrieve(product.id).name == "Big mug"
        with pytest.raises(UnmatchedRequest, match="all were already replayed"):
            client.v1.products.retrieve(product.id)


def test_plain_http_clients_are_covered_through_vcrpy(tmp_path: Path) -> None:
    httpx = pytest.importorskip("httpx")
    path = tmp_path / "clients.yaml"
    url = f"{API}/v1/products?limit=2"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug"})
        recorded = requests.get(url, auth=(KEY, "")).json()

    async def async_get() -> dict[str, object]:
        async with httpx.AsyncClient() as client:
            return (await client.get(url, auth=(KEY, ""))).json()

    def urllib_get() -> dict[str, object]:
        import json
        import urllib.request

        with urllib.request.urlopen(url) as response:
            return json.loads(response.read())

    for fetch in (lambda: requests.get(url).json(), lambda: httpx.get(url).json(),
                  lambda: asyncio.run(async_get()), urllib_get):
        with sockets_blocked(), use_cassette(path):
            stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug"})
            assert fetch() == recorded


def test_aiohttp_is_covered_through_vcrpy(tmp_path: Path) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    path = tmp_path / "aiohttp.yaml"
    url = f"{API}/v1/products?limit=1"

    async def fetch() -> tuple[int, dict[str, object]]:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.json()

    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        recorded = asyncio.run(fetch())
    with sockets_blocked(), use_cassette(path):
        assert asyncio.run(fetch()) == recorded


def test_other_hosts_are_left_alone_and_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "others.yaml"
    with StandIn() as standin, StandIn() as elsewhere:
        with use_cassette(path, "once", upstream=standin.url):
            stripe.StripeClient(KEY).v1.products.list()
            other = requests.get(f"{elsewhere.url}/v1/products", auth=(KEY, ""))
        assert other.status_code == 200 and len(elsewhere.requests) == 1
        with use_cassette(path, "none"):  # replay-only still lets other hosts through
            assert requests.get(f"{elsewhere.url}/v1/products", auth=(KEY, "")).ok
        assert len(elsewhere.requests) == 2
    assert "127.0.0.1" not in path.read_text()


@pytest.mark.parametrize("key", ["sk_live_fake", "rk_live_fake"])
def test_a_live_key_is_refused_before_any_request_leaves(tmp_path: Path, key: str) -> None:
    path = tmp_path / "live.yaml"
    with StandIn() as standin:
        with pytest.raises(LiveKeyRefused, match="live-mode key"), \
                use_cassette(path, "once", upstream=standin.url):
            stripe.StripeClient(key).v1.products.list()
        with pytest.raises(LiveKeyRefused), use_cassette(path, "once", upstream=standin.url):
            requests.get(f"{API}/v1/products", auth=(key, ""))
        assert standin.requests == []
    assert not path.exists()


def test_user_filters_keep_headers_params_and_json_paths_off_disk(tmp_path: Path) -> None:
    path = tmp_path / "filters.yaml"
    filters = Filters.build(headers=["Stripe-Account"], params=["metadata[email]"],
                            json_paths=["metadata.email", "data.*.metadata.email"])
    params = {"name": "Mug", "metadata": {"email": "jenny.rosen@example.com", "kept": "yes"}}
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url, filters=filters):
        client = stripe.StripeClient(KEY)
        live = client.v1.products.create(params=params)
        client.v1.products.list(options={"stripe_account": "acct_1Abc"})
    assert live.metadata["email"] == "jenny.rosen@example.com"  # the test saw the real answer
    text = path.read_text()
    assert "jenny.rosen" not in text and "acct_1Abc" not in text and "kept" in text
    assert "metadata[email]=FILTERED" in text and '"email": "FILTERED"' in text

    with sockets_blocked(), use_cassette(path, filters=filters):
        replayed = stripe.StripeClient(KEY).v1.products.create(params={
            "name": "Mug", "metadata": {"email": "someone.else@example.com", "kept": "yes"}})
    assert replayed.id == live.id and replayed.metadata["email"] == "FILTERED"


def _recorded_body(path: Path) -> str | None:
    from pytest_stripe_fixtures.cassettes import yamlio

    return yamlio.load(path).interactions[0].request_body


def test_user_param_filters_apply_to_json_bodies_too(tmp_path: Path) -> None:
    path = tmp_path / "json.yaml"
    filters = Filters.build(params=["metadata[email]"])
    sent = {"name": "Mug", "metadata": {"email": "jenny.rosen@example.com", "kept": "yes"}}
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url, filters=filters):
        requests.post(f"{API}/v1/products", json=sent, auth=(KEY, ""))
    stored = _recorded_body(path)
    assert stored is not None and "jenny.rosen" not in stored
    assert json.loads(stored) == {"name": "Mug", "metadata": {"email": "FILTERED", "kept": "yes"}}


def test_a_json_body_without_a_json_content_type_records_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "sniffed.yaml"
    filters = Filters.build(params=["metadata[email]"])
    body = json.dumps({"amount": 100, "metadata": {"email": "jenny.rosen@example.com"}})

    def post() -> requests.Response:  # no Content-Type: the body alone says it is JSON
        return requests.post(f"{API}/v1/products", data=body, auth=(KEY, ""))

    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url, filters=filters):
        recorded = post()
    assert "Content-Type" not in recorded.request.headers
    assert json.loads(_recorded_body(path) or "") == {
        "amount": 100, "metadata": {"email": "FILTERED"}}
    with sockets_blocked(), use_cassette(path, filters=filters):
        replayed = post()
    assert (replayed.status_code, replayed.json()) == (recorded.status_code, recorded.json())


def test_a_body_in_no_stripe_encoding_is_stored_unchanged_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "raw.yaml"
    filters = Filters.build(params=["metadata[email]"])
    body = "[odd]=1&name=Mug"  # not Stripe's form encoding: nothing to filter, nothing to mangle

    def post() -> requests.Response:
        return requests.post(f"{API}/v1/products", data=body, auth=(KEY, ""),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})

    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url, filters=filters):
        recorded = post()
    assert _recorded_body(path) == body
    with sockets_blocked(), use_cassette(path, filters=filters):
        replayed = post()
    assert (replayed.status_code, replayed.json()) == (recorded.status_code, recorded.json())
