"""Benchmark the served fake (``stripe-fixtures serve``) through the Python SDK.

1. Latency: the standard scenario (13 requests: create product, create price, retrieve the
   product, list its prices, create coupon, create promotion code, update product metadata,
   create customer, create card source, attach it, retrieve the customer, detach the source,
   list the customer's sources) over one keep-alive connection, per request; beside it the
   same scenario answered in-process (the SDK's own cost, no HTTP).
2. Load: 8 concurrent clients x 500 requests each (the scenario on repeat), then every list is
   walked and compared with what the clients created: no error, nothing lost or duplicated.

The server runs as its own process, as stripe-mock would.  Usage::

    python benchmarks/bench_server.py [--rounds 200] [--clients 8] [--requests 500]

Reference from the issue: stripe-mock answers the standard scenario in about 1.4 ms per
request through the Python SDK on the same kind of machine.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import stripe

from pytest_stripe_fixtures.fake import StripeFake
from pytest_stripe_fixtures.transports.sdk import SDKInterceptor

KEY = "sk_test_bench"
STRIPE_MOCK_MS = 1.4


class Budget(Exception):
    """The client has sent its share of requests."""


class Scenario:
    """The standard scenario; ``timer(step, call)`` runs and times each request."""

    def __init__(self, client: stripe.StripeClient, timer: Callable[[str, Callable[[], Any]], Any]):
        self.v1 = client.v1
        self.t = timer
        self.created: dict[str, list[str]] = defaultdict(list)

    def _new(self, kind: str, step: str, call: Callable[[], Any]) -> Any:
        obj = self.t(step, call)
        self.created[kind].append(obj.id)
        return obj

    def run(self) -> None:
        v1, t = self.v1, self.t
        product = self._new("product", "create product",
                            lambda: v1.products.create(params={"name": "Gold plan"}))
        self._new("price", "create price", lambda: v1.prices.create(params={
            "product": product.id, "unit_amount": 2000, "currency": "usd",
            "recurring": {"interval": "month"}}))
        t("retrieve product", lambda: v1.products.retrieve(product.id))
        t("list prices", lambda: v1.prices.list(params={"product": product.id}))
        coupon = self._new("coupon", "create coupon", lambda: v1.coupons.create(
            params={"percent_off": 25, "duration": "once"}))
        self._new("promotion_code", "create promotion code", lambda: v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}}))
        t("update product", lambda: v1.products.update(
            product.id, params={"metadata": {"tier": "gold"}}))
        customer = self._new("customer", "create customer", lambda: v1.customers.create(
            params={"email": "jenny@example.com"}))
        source = self._new("source", "create source", lambda: v1.sources.create(
            params={"type": "card", "token": "tok_visa"}))
        t("attach source", lambda: v1.customers.payment_sources.create(
            customer.id, params={"source": source.id}))
        t("retrieve customer", lambda: v1.customers.retrieve(customer.id))
        t("detach source", lambda: v1.customers.payment_sources.delete(customer.id, source.id))
        t("list sources", lambda: v1.customers.payment_sources.list(customer.id))


def timed(samples: dict[str, list[float]], limit: int | None = None
          ) -> Callable[[str, Callable[[], Any]], Any]:
    count = 0

    def timer(step: str, call: Callable[[], Any]) -> Any:
        nonlocal count
        if limit is not None and count >= limit:
            raise Budget
        count += 1
        started = time.perf_counter()
        result = call()
        samples[step].append(time.perf_counter() - started)
        return result

    return timer


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(title: str, samples: dict[str, list[float]], by_step: bool = False) -> float:
    every = [s for values in samples.values() for s in values]
    mean = statistics.fmean(every) * 1000
    print(f"{title}: {len(every)} requests, mean {mean:.3f} ms, p50 "
          f"{percentile(every, 0.5) * 1000:.3f} ms, p95 {percentile(every, 0.95) * 1000:.3f} ms, "
          f"p99 {percentile(every, 0.99) * 1000:.3f} ms")
    if by_step:
        for step, values in samples.items():
            print(f"    {step:<22} {statistics.fmean(values) * 1000:7.3f} ms")
    return mean


# --- the server process -----------------------------------------------------------------------


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "pytest_stripe_fixtures", "serve",
                                "--port", str(port), "--quiet"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/_stripe_fixtures/health", timeout=1).close()
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)


def client_for(url: str | None) -> stripe.StripeClient:
    addresses = {"api": url} if url else None
    return stripe.StripeClient(KEY, base_addresses=addresses,
                               max_network_retries=0)


# --- the measurements -------------------------------------------------------------------------


def latency(url: str, rounds: int) -> float:
    client = client_for(url)
    Scenario(client, timed(defaultdict(list))).run()  # warm-up: connection, imports
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        Scenario(client, timed(samples)).run()
    return report("served, one keep-alive client", samples, by_step=True)


def in_process(rounds: int) -> float:
    samples: dict[str, list[float]] = defaultdict(list)
    with SDKInterceptor(StripeFake(isolate_keys=True, keep_log=False).handle):
        client = client_for(None)
        Scenario(client, timed(defaultdict(list))).run()
        for _ in range(rounds):
            Scenario(client, timed(samples)).run()
    return report("in-process (no HTTP), same SDK calls", samples)


def load(url: str, clients: int, requests: int) -> None:
    urllib.request.urlopen(urllib.request.Request(
        url + "/_stripe_fixtures/reset", data=b"", method="POST"), timeout=10).close()
    samples: dict[str, list[float]] = defaultdict(list)
    created: dict[str, list[str]] = defaultdict(list)
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def one_client() -> None:
        mine: dict[str, list[float]] = defaultdict(list)
        timer = timed(mine, limit=requests)
        client = client_for(url)
        barrier.wait()
        try:
            while True:
                scenario = Scenario(client, timer)
                try:
                    scenario.run()
                finally:
                    with lock:
                        for kind, ids in scenario.created.items():
                            created[kind].extend(ids)
        except Budget:
            pass
        except BaseException as exc:
            errors.append(exc)
        with lock:
            for step, values in mine.items():
                samples[step].extend(values)

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    total = sum(len(v) for v in samples.values())
    print(f"load: {clients} clients x {requests} requests = {total} in {wall:.2f} s "
          f"({total / wall:.0f} requests/s), errors: {len(errors)}")
    for exc in errors[:3]:
        print(f"    error: {exc!r}")
    report("    per request under load", samples)
    check(url, created)


def check(url: str, created: dict[str, list[str]]) -> None:
    """Every list holds exactly what the clients created, each object once."""
    v1 = client_for(url).v1
    lists = {
        "product": lambda: v1.products.list(params={"limit": 100}),
        "price": lambda: v1.prices.list(params={"limit": 100}),
        "coupon": lambda: v1.coupons.list(params={"limit": 100}),
        "promotion_code": lambda: v1.promotion_codes.list(params={"limit": 100}),
        "customer": lambda: v1.customers.list(params={"limit": 100}),
    }
    problems = []
    for kind, listing in lists.items():
        ids = [obj.id for obj in listing().auto_paging_iter()]
        want = created.get(kind, [])
        ok = len(ids) == len(set(ids)) and sorted(ids) == sorted(want)
        problems += [] if ok else [kind]
        print(f"    {kind:<15} created {len(want):5d}, listed {len(ids):5d}, "
              f"{'consistent' if ok else 'INCONSISTENT'}")
    sources = created.get("source", [])
    unreadable = [s for s in sources if v1.sources.retrieve(s).status not in ("chargeable",
                                                                             "consumed")]
    problems += [f"source {s}" for s in unreadable]
    print(f"    {'source':<15} created {len(sources):5d}, retrieved {len(sources):5d}, "
          f"{'consistent' if not unreadable else 'INCONSISTENT'}")
    if problems:
        raise SystemExit(f"inconsistent: {problems}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="scenarios for the latency")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500, help="requests per client")
    args = parser.parse_args()
    process, url = start_server()
    try:
        served = latency(url, args.rounds)
        local = in_process(args.rounds)
        print(f"HTTP + server cost per request: {served - local:.3f} ms; "
              f"stripe-mock reference (issue): {STRIPE_MOCK_MS} ms per request")
        load(url, args.clients, args.requests)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
