"""Concurrent clients against one served fake: no error, no lost or duplicated object, and
every list agrees with what the clients created.  (``benchmarks/bench_server.py`` runs the
full 8 clients x 500 requests; the suite runs 8 x 100 to stay fast.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from pytest_stripe_fixtures.transports.server import StripeServer

CLIENTS, REQUESTS = 8, 100
KEYS = ("sk_test_fake", "sk_test_other")  # two accounts, four clients on each


@pytest.fixture
def server() -> Iterator[StripeServer]:
    with StripeServer() as running:
        yield running


def work(url: str, key: str, index: int, requests: int) -> dict[str, Any]:
    """One client's share: a repeating mix of create product, create price, retrieve, update,
    list.  Returns what it created and what it expects to find."""
    client = stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=0)
    v1 = client.v1
    products: dict[str, str] = {}  # id -> last "step" metadata written
    prices: dict[str, list[str]] = {}
    current = ""
    for n in range(requests):
        step = n % 5
        if step == 0:
            current = v1.products.create(params={"name": f"c{index}-{n}",
                                                 "metadata": {"client": str(index)}}).id
            products[current], prices[current] = "", []
        elif step == 1:
            price = v1.prices.create(params={"product": current, "unit_amount": 100 + n,
                                             "currency": "usd"})
            prices[current].append(price.id)
        elif step == 2:
            assert v1.products.retrieve(current).name.startswith(f"c{index}-")
        elif step == 3:
            v1.products.update(current, params={"metadata": {"step": str(n)}})
            products[current] = str(n)
        else:
            listed = v1.prices.list(params={"product": current, "limit": 100})
            assert [p.id for p in listed.data] == prices[current][::-1]
    return {"products": products, "prices": prices}


def run_clients(url: str, clients: int, requests: int) -> list[dict[str, Any]]:
    results: list[Any] = [None] * clients
    errors: list[BaseException] = []
    start = threading.Barrier(clients)

    def client_thread(index: int) -> None:
        start.wait()
        try:
            results[index] = work(url, KEYS[index % len(KEYS)], index, requests)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    return results


def check_consistent(url: str, results: list[dict[str, Any]]) -> None:
    """Every list, walked page by page in both directions, holds exactly what was created."""
    for offset, key in enumerate(KEYS):
        mine = results[offset::len(KEYS)]
        want_products = {pid: step for r in mine for pid, step in r["products"].items()}
        want_prices = {price for r in mine for ids in r["prices"].values() for price in ids}
        client = stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=0)
        forward = [p for p in client.v1.products.list(params={"limit": 7}).auto_paging_iter()]
        ids = [p.id for p in forward]
        assert len(ids) == len(set(ids)) == len(want_products)
        assert set(ids) == set(want_products)
        assert [p.created for p in forward] == sorted((p.created for p in forward), reverse=True)
        for product in forward:
            assert product.metadata.to_dict().get("step", "") == want_products[product.id]
        backward = client.v1.products.list(params={"limit": 7, "ending_before": ids[-1]})
        walked = [p.id for p in backward.auto_paging_iter()]
        assert walked == ids[:-1][::-1]
        price_ids = [p.id for p in client.v1.prices.list(params={"limit": 100}).auto_paging_iter()]
        assert len(price_ids) == len(set(price_ids)) == len(want_prices)
        assert set(price_ids) == want_prices


def test_eight_concurrent_clients_lose_and_duplicate_nothing(server):
    results = run_clients(server.url, CLIENTS, REQUESTS)
    check_consistent(server.url, results)
    total = sum(len(r["products"]) for r in results)
    assert total == CLIENTS * REQUESTS // 5
    assert sum(len(server.fake.objects("product", key)) for key in KEYS) == total
