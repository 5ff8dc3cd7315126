"""The served fake and stripe-mock side by side: same machine, same run, same SDK scenario.

Both servers answer the same load, in alternating rounds (so drift on a shared machine hits
both alike): ``--clients`` keep-alive stripe-python clients, spread over ``--processes``
client processes, each sending ``--requests`` requests of the scenario below, pinned to API
version 2023-08-16 (the version of the spec stripe-mock is built with).  Each client uses its
own secret key (on the served fake, its own account).  Reported per server and round:
requests/s, p50 and p95 latency; then the median ratio over the rounds.

Scenario (7 requests, the part of the standard scenario stripe-mock answers): create product,
create price, retrieve the product, list the product's prices, create coupon, create promotion
code (``coupon=``), update the product's metadata.

stripe-mock is not part of this project: build it from its public source
(``../shared/tools/BUILD-STRIPE-MOCK.md``), then pass its binary with ``--stripe-mock PATH`` or
``STRIPE_MOCK_BIN=PATH`` (its spec and fixtures with ``--stripe-mock-spec`` /
``--stripe-mock-fixtures`` or ``STRIPE_MOCK_SPEC`` / ``STRIPE_MOCK_FIXTURES``).  Without a
binary, only the served fake is measured.  Usage (never run as a test)::

    STRIPE_MOCK_BIN=/work/stripe-mock/stripe-mock python benchmarks/bench_side_by_side.py
    python benchmarks/bench_side_by_side.py --rounds 3 --clients 8 --requests 500
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERSION = "2023-08-16"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "stripe-openapi"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until the server answers an authenticated GET."""
    deadline = time.monotonic() + 60
    request = urllib.request.Request(url + "/v1/products",
                                     headers={"Authorization": "Bearer sk_test_ready"})
    while True:
        try:
            urllib.request.urlopen(request, timeout=2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server at {url} did not start") from None
            time.sleep(0.05)


def start_fake() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "pytest_stripe_fixtures", "serve",
                                "--port", str(port), "--quiet"])
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    return process, url


def start_stripe_mock(binary: str, spec: str, fixtures: str) -> tuple[subprocess.Popen[bytes], str]:
    port, https_port = _free_port(), _free_port()
    process = subprocess.Popen([binary, "-http-addr", f"127.0.0.1:{port}",
                                "-https-addr", f"127.0.0.1:{https_port}",
                                "-spec", spec, "-fixtures", fixtures],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    return process, url


# --- one client process -----------------------------------------------------------------------


def scenario(v1: Any, step: Callable[[Callable[[], Any]], Any]) -> None:
    product = step(lambda: v1.products.create(params={"name": "Gold plan"}))
    step(lambda: v1.prices.create(params={"product": product.id, "unit_amount": 2000,
                                          "currency": "usd",
                                          "recurring": {"interval": "month"}}))
    step(lambda: v1.products.retrieve(product.id))
    step(lambda: v1.prices.list(params={"product": product.id}))
    coupon = step(lambda: v1.coupons.create(params={"percent_off": 25, "duration": "once"}))
    step(lambda: v1.promotion_codes.create(params={"coupon": coupon.id}))
    step(lambda: v1.products.update(product.id, params={"metadata": {"tier": "gold"}}))


class _Done(Exception):
    pass


def client_process(url: str, keys: list[str], requests: int, start_at: float,
                   out: Any) -> None:
    """Run one thread per key; send back (latencies, errors, first start, last end)."""
    import stripe

    results: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(key: str) -> None:
        client = stripe.StripeClient(key, base_addresses={"api": url}, stripe_version=VERSION,
                                     max_network_retries=0)
        v1 = client.v1
        mine: list[float] = []
        count = 0

        def step(call: Callable[[], Any]) -> Any:
            nonlocal count
            if count >= requests:
                raise _Done
            count += 1
            began = time.perf_counter()
            result = call()
            mine.append(time.perf_counter() - began)
            return result

        try:
            v1.products.list()  # connection and imports warm, outside the timing
            while time.time() < start_at:
                time.sleep(0.001)
            while True:
                scenario(v1, step)
        except _Done:
            pass
        except Exception as exc:  # reported, not hidden
            errors.append(repr(exc))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((results, errors, time.time()))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or 0.0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def measure(url: str, clients: int, processes: int, requests: int, tag: str,
            pid: int = 0) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    keys = [f"sk_test_{tag}client{i}" for i in range(clients)]
    groups = [keys[i::processes] for i in range(processes)]
    start_at = time.time() + 3.0  # every process imported and connected by then
    workers = [ctx.Process(target=client_process, args=(url, group, requests, start_at, queue))
               for group in groups if group]
    for worker in workers:
        worker.start()
    cpu_before = cpu_seconds(pid)
    latencies: list[float] = []
    errors: list[str] = []
    ended = 0.0
    for _ in workers:
        got, errs, end = queue.get()
        latencies += got
        errors += errs
        ended = max(ended, end)
    cpu = cpu_seconds(pid) - cpu_before
    for worker in workers:
        worker.join()
    wall = ended - start_at
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {"requests": len(latencies), "rps": len(latencies) / wall, "p50": pct(0.5),
            "p95": pct(0.95), "p99": pct(0.99), "errors": len(errors),
            "cpu_us": cpu / max(1, len(latencies)) * 1e6,
            "first_error": errors[0] if errors else ""}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--requests", type=int, default=500, help="requests per client")
    parser.add_argument("--stripe-mock", default=os.environ.get("STRIPE_MOCK_BIN"),
                        help="stripe-mock binary (or STRIPE_MOCK_BIN); absent: skipped")
    parser.add_argument("--stripe-mock-spec", default=os.environ.get(
        "STRIPE_MOCK_SPEC", str(SHARED / "spec3.2023-08-16.json")))
    parser.add_argument("--stripe-mock-fixtures", default=os.environ.get(
        "STRIPE_MOCK_FIXTURES", str(SHARED / "fixtures3.json")))
    args = parser.parse_args()

    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {"fake": start_fake()}
    if args.stripe_mock and Path(args.stripe_mock).is_file():
        servers["stripe-mock"] = start_stripe_mock(args.stripe_mock, args.stripe_mock_spec,
                                                   args.stripe_mock_fixtures)
    else:
        print("stripe-mock: no binary (--stripe-mock / STRIPE_MOCK_BIN): measuring the fake only")
    print(f"{args.clients} keep-alive SDK clients in {args.processes} processes x "
          f"{args.requests} requests, {args.rounds} rounds, API version {VERSION}")
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    try:
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for name in order:
                got = measure(servers[name][1], args.clients, args.processes, args.requests,
                              f"r{round_}", servers[name][0].pid)
                figures[name].append(got)
                print(f"  round {round_ + 1} {name:<12} {got['rps']:7.0f} requests/s  "
                      f"p50 {got['p50']:6.2f} ms  p95 {got['p95']:6.2f} ms  "
                      f"p99 {got['p99']:6.2f} ms  server CPU {got['cpu_us']:5.0f} µs/req  "
                      f"errors {got['errors']:.0f} "
                      f"{got['first_error']}")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    print("median over rounds:")
    medians = {name: {k: statistics.median(r[k] for r in rows) for k in ("rps", "p50", "p95")}
               for name, rows in figures.items()}
    for name, m in medians.items():
        print(f"  {name:<12} {m['rps']:7.0f} requests/s  p50 {m['p50']:6.2f} ms  "
              f"p95 {m['p95']:6.2f} ms")
    if "stripe-mock" in medians:
        fake, mock = medians["fake"], medians["stripe-mock"]
        ratios = [f["rps"] / m["rps"] for f, m in zip(figures["fake"], figures["stripe-mock"], strict=True)]
        print(f"fake / stripe-mock throughput: {statistics.median(ratios):.2f}x "
              f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); p95 "
              f"{fake['p95']:.2f} vs {mock['p95']:.2f} ms")


if __name__ == "__main__":
    main()
