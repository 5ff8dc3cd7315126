"""Faults on demand: ``stripe_fake.faults.add(...)`` and ``@pytest.mark.stripe_fault(...)``
make chosen requests fail as Stripe (or the network) fails, and the SDK's own retry loop
answers them as it would against Stripe: retries with one Idempotency-Key, obeying
``Stripe-Should-Retry``, instant backoff under the fixture."""

from __future__ import annotations

import asyncio
import time

import pytest
import stripe
from helpers import KEY

pytest_plugins = ["pytester"]


def client(retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, max_network_retries=retries)


def attempts(fake, path: str = "/v1/products") -> list:
    return [r for r in fake.requests if r.path == path]


# --- the SDK's retry loop runs as against Stripe ------------------------------------------


def test_two_injected_500s_then_success_with_two_retries_creates_one_object(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="api_error", times=2)
    product = client(retries=2).v1.products.create(params={"name": "Mug"})
    tries = attempts(stripe_fake)
    assert [r.status for r in tries] == [500, 500, 200]
    assert [r.injected is not None for r in tries] == [True, True, False]
    assert len({r.idempotency_key for r in tries}) == 1  # one key for every attempt
    assert [p["id"] for p in stripe_fake.objects("product")] == [product.id]


def test_without_retries_the_injected_500_is_raised_as_api_error(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="api_error")
    with pytest.raises(stripe.APIError) as info:
        client().v1.products.create(params={"name": "Mug"})
    assert info.value.http_status == 500
    assert info.value.request_id.startswith("req_")
    assert stripe_fake.objects("product") == []


def test_rate_limit_is_not_retried_without_stripe_should_retry(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="rate_limit", times=2)
    with pytest.raises(stripe.RateLimitError) as info:
        client(retries=2).v1.products.create(params={"name": "Mug"})
    assert (info.value.http_status, info.value.error.code) == (429, "rate_limit")
    assert len(attempts(stripe_fake)) == 1


def test_lock_timeouts_are_retried_until_the_retries_run_out(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="lock_timeout", times=3)
    with pytest.raises(stripe.RateLimitError) as info:
        client(retries=2).v1.products.create(params={"name": "Mug"})
    assert info.value.error.code == "lock_timeout"
    assert info.value.headers["Stripe-Should-Retry"] == "true"
    assert len(attempts(stripe_fake)) == 3
    assert stripe_fake.objects("product") == []


def test_idempotency_conflicts_are_409s_the_sdk_retries(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="idempotency", times=1)
    product = client(retries=1).v1.products.create(params={"name": "Mug"})
    assert [r.status for r in attempts(stripe_fake)] == [409, 200]
    stripe_fake.faults.add("POST /v1/products", error="idempotency")
    with pytest.raises(stripe.APIError) as info:
        client().v1.products.create(params={"name": "Cup"},
                                    options={"idempotency_key": "order-7"})
    assert info.value.http_status == 409
    assert info.value.error.code == "idempotency_key_in_use"
    assert "order-7" in info.value.user_message
    assert product.name == "Mug"


def test_card_errors_with_any_decline_code_are_never_retried(stripe_fake):
    stripe_fake.faults.add("POST /v1/customers", error="card_declined",
                           decline_code="insufficient_funds", message="Your card has "
                           "insufficient funds.")
    with pytest.raises(stripe.CardError) as info:
        client(retries=2).v1.customers.create(params={"email": "a@example.com"})
    assert (info.value.code, info.value.error.decline_code) == ("card_declined",
                                                                "insufficient_funds")
    assert info.value.headers["Stripe-Should-Retry"] == "false"
    assert len(attempts(stripe_fake, "/v1/customers")) == 1


def test_any_stripe_error_body(stripe_fake):
    stripe_fake.faults.add("GET /v1/products/*", status=404, body={"error": {
        "type": "invalid_request_error", "code": "resource_missing", "param": "id",
        "message": "No such product: 'prod_gone'"}})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client().v1.products.retrieve("prod_gone")
    assert (info.value.http_status, info.value.code, info.value.param) == (
        404, "resource_missing", "id")


@pytest.mark.parametrize("kind", ["connection", "timeout"])
def test_connection_errors_and_timeouts_raise_api_connection_error(stripe_fake, kind):
    stripe_fake.faults.add("POST /v1/products", error=kind)
    with pytest.raises(stripe.APIConnectionError) as info:
        client().v1.products.create(params={"name": "Mug"})
    assert info.value.should_retry
    stripe_fake.faults.add("POST /v1/products", error=kind, times=1)
    assert client(retries=1).v1.products.create(params={"name": "Mug"}).name == "Mug"
    assert len(stripe_fake.objects("product")) == 1


def test_added_latency_answers_as_usual_later(stripe_fake):
    stripe_fake.faults.add("GET /v1/products", error=None, latency=0.05)
    began = time.perf_counter()
    assert client().v1.products.list().data == []
    assert time.perf_counter() - began >= 0.05
    assert stripe_fake.last_request.injected.latency == 0.05


def test_injected_answers_carry_stripes_headers_and_are_logged(stripe_fake):
    stripe_fake.faults.add("POST /v1/products", error="lock_timeout")
    with pytest.raises(stripe.RateLimitError) as info:
        client().v1.products.create(params={"name": "Mug"}, options={"idempotency_key": "k1"})
    headers = info.value.headers
    assert headers["Request-Id"].startswith("req_")
    assert headers["Idempotency-Key"] == "k1"
    assert headers["Stripe-Should-Retry"] == "true"
    record = stripe_fake.last_request
    assert (record.status, record.idempotency_key, str(record.injected)) == (
        429, "k1", "lock_timeout on POST /v1/products")
    assert info.value.error.request_log_url.endswith(record.request_id + "?t=" + str(
        stripe_fake.clock.now()))


def test_faults_match_by_endpoint_template_params_and_api_key(stripe_fake):
    stripe_fake.faults.add("POST /v1/products/{id}", error="api_error", times=None,
                           params={"metadata": {"tier": "gold"}})
    stripe_fake.faults.add("GET /v1/customers", error="api_error", api_key="sk_test_other")
    product = client().v1.products.create(params={"name": "Mug"})
    client().v1.products.update(product.id, params={"metadata": {"tier": "silver"}})
    with pytest.raises(stripe.APIError):
        client().v1.products.update(product.id, params={"metadata": {"tier": "gold"}})
    assert client().v1.customers.list().data == []  # another key's fault
    with pytest.raises(stripe.APIError):
        stripe.StripeClient("sk_test_other").v1.customers.list()


def test_a_seeded_fraction_fails_the_same_requests_every_run(stripe_fake):
    def run() -> list[int]:
        stripe_fake.faults.clear()
        stripe_fake.faults.add("GET /v1/products", error="api_error", fraction=0.5, seed=7)
        outcome = []
        for _ in range(20):
            try:
                client().v1.products.list()
                outcome.append(200)
            except stripe.APIError:
                outcome.append(500)
        return outcome

    first = run()
    assert first == run()
    assert 200 in first and 500 in first


def test_bad_faults_are_refused(stripe_fake):
    from pytest_stripe_fixtures.fake.faults import FaultError

    for args, kwargs in [(("POST /v1/x",), {"error": "meteor"}),
                         (("v1/x",), {}), (("POST /v1/x",), {"times": 0}),
                         (("POST /v1/x",), {"fraction": 2}), (("POST /v1/x",), {"nope": 1})]:
        with pytest.raises(FaultError):
            stripe_fake.faults.add(*args, **kwargs)


@pytest.mark.stripe_fault("POST /v1/products", error="api_error", times=2)
@pytest.mark.stripe_fault("GET /v1/products", error="rate_limit")
def test_the_marker_adds_faults(stripe_fake):
    assert [f.pattern for f in stripe_fake.faults] == ["POST /v1/products", "GET /v1/products"]
    assert client(retries=2).v1.products.create(params={"name": "Mug"}).name == "Mug"
    with pytest.raises(stripe.RateLimitError):
        client().v1.products.list()


# --- backoff sleeps ----------------------------------------------------------------------


def _sleeps(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def test_backoff_sleeps_are_instant_under_the_fixture(stripe_fake, monkeypatch):
    slept = _sleeps(monkeypatch)
    stripe_fake.faults.add("POST /v1/products", error="api_error", times=2)
    client(retries=2).v1.products.create(params={"name": "Mug"})
    assert slept == [0.0, 0.0]


@pytest.mark.stripe_fake(instant_retries=False)
def test_the_sdks_own_backoff_can_be_kept(stripe_fake, monkeypatch):
    slept = _sleeps(monkeypatch)
    stripe_fake.faults.add("POST /v1/products", error="api_error", times=2)
    client(retries=2).v1.products.create(params={"name": "Mug"})
    assert len(slept) == 2 and all(s >= 0.5 for s in slept)  # the SDK's INITIAL_DELAY


# --- async -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, raised", [
    ("api_error", stripe.APIError), ("rate_limit", stripe.RateLimitError),
    ("lock_timeout", stripe.RateLimitError), ("idempotency", stripe.APIError),
    ("card_declined", stripe.CardError), ("connection", stripe.APIConnectionError),
    ("timeout", stripe.APIConnectionError)])
def test_every_fault_kind_through_the_async_sdk(stripe_fake, kind, raised):
    stripe_fake.faults.add("POST /v1/products", error=kind)
    with pytest.raises(raised):
        asyncio.run(client().v1.products.create_async(params={"name": "Mug"}))
    stripe_fake.faults.add("POST /v1/products", error="api_error", times=2)
    product = asyncio.run(client(retries=2).v1.products.create_async(params={"name": "Mug"}))
    assert [p["id"] for p in stripe_fake.objects("product")] == [product.id]


def test_async_latency_does_not_block_the_event_loop(stripe_fake):
    stripe_fake.faults.add("GET /v1/products", error=None, latency=0.05, times=None)

    async def both() -> list[int]:
        lists = [client().v1.products.list_async() for _ in range(4)]
        return [len(page.data) for page in await asyncio.gather(*lists)]

    began = time.perf_counter()
    assert asyncio.run(both()) == [0, 0, 0, 0]
    assert len(stripe_fake.requests) == 4
    assert time.perf_counter() - began >= 0.05


WITHOUT_ASYNC_LIBRARIES = '''
import sys
sys.modules["httpx"] = None  # as if neither httpx nor aiohttp were installed
sys.modules["aiohttp"] = None
sys.modules["anyio"] = None
'''

ASYNC_CALL = '''
import asyncio
import pytest
import stripe


def test_async_calls_fail_as_the_real_sdk_does(stripe_fake):
    from stripe import _http_client
    assert _http_client._default_async_client.__name__ == "NoImportFoundAsyncClient"
    client = stripe.StripeClient("sk_test_x")
    assert client.v1.products.create(params={"name": "Mug"}).name == "Mug"  # sync works
    with pytest.raises(ImportError, match="httpx"):
        asyncio.run(client.v1.products.create_async(params={"name": "Mug"}))
'''


def test_without_httpx_or_aiohttp_async_calls_raise_import_error(pytester):
    pytester.makeconftest(WITHOUT_ASYNC_LIBRARIES)
    pytester.makepyfile(ASYNC_CALL)
    result = pytester.runpytest_subprocess("-p", "stripe_fixtures", "-p", "no:httpx",
                                           "-p", "no:respx", "-p", "no:anyio")
    result.assert_outcomes(passed=1)
