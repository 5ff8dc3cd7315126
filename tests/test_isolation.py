"""Each test its own Stripe: parallel workers, threads inside a test, nothing left behind.

A suite runs under ``pytest -n 2`` (pytest-xdist) with no interference between workers; inside
one test, threads share one consistent store (nothing lost, ids unique); after a test the SDK,
the HTTP libraries and ``stripe.api_key`` are as they were.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

pytest_plugins = ["pytester"]

KEY = "sk_test_fake"

PARALLEL_SUITE = """
import os
from pathlib import Path
import pytest
import stripe

@pytest.mark.parametrize("n", range(24))
def test_each_test_sees_only_its_own_objects(stripe_fake, n):
    client = stripe.StripeClient("sk_test_fake")
    created = [client.v1.products.create(params={"name": f"t{n}-{i}"}).id for i in range(n % 5)]
    listed = [p.id for p in client.v1.products.list(params={"limit": 100}).data]
    assert listed == created[::-1]
    assert len(stripe_fake.requests) == len(created) + 1
    seen = Path(__file__).parent / "workers"
    seen.mkdir(exist_ok=True)
    (seen / os.environ.get("PYTEST_XDIST_WORKER", "none")).touch()

@pytest.mark.parametrize("n", range(8))
@pytest.mark.stripe_fake(seed=11, now=1_700_000_000)
def test_seeded_ids_do_not_depend_on_the_worker(stripe_fake, n):
    assert stripe.Product.create(name="Mug").id == "{seeded_id}"
"""


def _seeded_product_id() -> str:
    from pytest_stripe_fixtures.fake import StripeFake

    return StripeFake(seed=11).account().ids.new("product")


def test_a_suite_runs_under_xdist_with_two_workers(pytester):
    pytester.makepyfile(test_parallel=PARALLEL_SUITE.replace("{seeded_id}",
                                                             _seeded_product_id()))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "stripe_fixtures",
                                           "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=32)
    workers = {p.name for p in (pytester.path / "workers").iterdir()}
    assert workers == {"gw0", "gw1"}  # both workers really ran tests that use the fake


@pytest.mark.stripe_fake(seed=3)
def test_eight_threads_creating_at_once_lose_nothing(stripe_fake):
    per_thread = 25
    start = threading.Barrier(8)

    def work(n: int) -> list[str]:
        client = stripe.StripeClient(KEY)
        start.wait()
        ids = []
        for i in range(per_thread):
            if i % 2:
                ids.append(client.v1.products.create(params={"name": f"{n}-{i}"}).id)
            else:  # plain HTTP goes through the same store
                response = requests.post("https://api.stripe.com/v1/products",
                                         data={"name": f"{n}-{i}"},
                                         headers={"Authorization": f"Bearer {KEY}"})
                ids.append(response.json()["id"])
        return ids

    with ThreadPoolExecutor(8) as pool:
        made = [pid for ids in pool.map(work, range(8)) for pid in ids]

    assert len(made) == len(set(made)) == 8 * per_thread
    listed = [p.id for p in stripe.StripeClient(KEY).v1.products.list(
        params={"limit": 100}).auto_paging_iter()]
    assert sorted(listed) == sorted(made)
    assert sum(r.method == "POST" for r in stripe_fake.requests) == 8 * per_thread
    assert len({r.request_id for r in stripe_fake.requests}) == len(stripe_fake.requests)


def test_threads_updating_one_object_keep_every_key(stripe_fake):
    client = stripe.StripeClient(KEY)
    product = client.v1.products.create(params={"name": "Mug"})

    def tag(n: int) -> None:
        client.v1.products.update(product.id, params={"metadata": {f"k{n}": str(n)}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(tag, range(40)))
    metadata = client.v1.products.retrieve(product.id).metadata.to_dict()
    assert metadata == {f"k{n}": str(n) for n in range(40)}


SNAPSHOT = """
import socket, urllib.request
import httpx, requests, stripe
from stripe import _http_client


def snapshot():
    \"\"\"Everything the fixture touches.\"\"\"
    base = _http_client.HTTPClient
    return [stripe.api_key, base._request_with_retries_internal,
            base._request_with_retries_internal_async, requests.Session.get_adapter,
            httpx.Client._transport_for_url, httpx.AsyncClient._transport_for_url,
            urllib.request.HTTPSHandler.https_open, urllib.request.HTTPHandler.http_open,
            socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex]
"""


def test_everything_is_hooked_during_a_test_and_restored_after(pytester):
    pytester.makepyfile(snapshot=SNAPSHOT, test_inner="""
        import stripe
        from snapshot import snapshot

        BEFORE = snapshot()

        def test_during(stripe_fake):
            during = snapshot()
            assert during[0] is not None  # a key the fake accepts, for the global style
            assert all(a is not b for a, b in zip(BEFORE[1:], during[1:]))
            stripe.Product.create(name="Mug")

        def test_after():
            assert snapshot() == BEFORE

        def test_a_failing_test_restores_too(stripe_fake):
            raise AssertionError("the app's bug")

        def test_after_a_failure():
            assert snapshot() == BEFORE
    """)
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=3, failed=1)


def test_loading_the_plugin_imports_neither_stripe_nor_the_fake():
    """A suite that never uses the fixture pays for pytest glue only (see benchmarks/)."""
    code = ("import sys, pytest_stripe_fixtures.plugin\n"
            "heavy = [m for m in ('stripe', 'requests', 'httpx', 'jsonschema', "
            "'pytest_stripe_fixtures.fake', 'pytest_stripe_fixtures.transports') "
            "if m in sys.modules]\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
