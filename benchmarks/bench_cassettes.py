"""Benchmark cassette replay: cost per request as cassettes grow, and load time.

Scenario: a cassette of N recorded ``GET /v1/products/{id}`` (bodies rendered by the fake, as
a recording stores them); the test retrieves a spread of those products through the stripe
SDK (``StripeClient.v1.products.retrieve``).  Measured in one process, per request:

* SDK floor  - the same calls through the SDK with a stub HTTP client returning canned JSON
               (no matching at all: what any replay must cost at least);
* ours       - ``use_cassette``: the SDK's HTTP-client layer answered from the indexed cassette;
* ours/http  - ours through vcrpy's patches instead (the SDK's requests client, urllib3 and
               vcrpy's stubs; the path plain ``requests``/``httpx`` code takes);
* vcrpy      - vcrpy 9 replaying the very same file (its default matchers).

Then the load time of a 1,000-interaction cassette (parse + index; cold, no cache).
Usage::

    python benchmarks/bench_cassettes.py [--sizes 10,100,1000,5000] [--sample 200]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import stripe

from pytest_stripe_fixtures.cassettes import Cassette, scrub, use_cassette, yamlio
from pytest_stripe_fixtures.fake import Request, StripeFake
from pytest_stripe_fixtures.fake.http import Headers

KEY = "sk_test_bench"
BASE = "https://api.stripe.com"
VCRPY_ISSUE_MS = {10: 1.2, 5000: 52.0}  # the issue's measurements of vcrpy on this machine


def build_cassette(path: Path, n: int) -> list[str]:
    """N product retrievals, stored exactly as a recording would store them."""
    fake = StripeFake(seed=n, now=1_700_000_000)
    auth = {"Authorization": f"Bearer {KEY}"}
    items, ids = [], []
    for i in range(n):
        created = fake.handle(Request("POST", "/v1/products", body=f"name=Product+{i}",
                                      headers=auth)).json()
        ids.append(created["id"])
        response = fake.handle(Request("GET", f"/v1/products/{created['id']}", headers=auth))
        filters = scrub.Filters()
        items.append(yamlio.Interaction(
            "GET", f"{BASE}/v1/products/{created['id']}",
            scrub.request_headers({"Stripe-Version": stripe.api_version, **auth,
                                   "User-Agent": "Stripe/v1 PythonBindings"}, filters),
            None, response.status, "OK",
            scrub.response_headers(response.headers.items(), filters),
            json.dumps(response.json(), indent=2), "2026-01-01T00:00:00+00:00"))
    path.write_text(yamlio.dumps(items, {"recorded_with": "bench"}))
    return ids


class CannedClient(stripe.HTTPClient):
    """The SDK floor: answers every request from a dict, no matching, no I/O."""

    name = "canned"

    def __init__(self, bodies: dict[str, tuple[str, dict[str, str]]]) -> None:
        super().__init__()
        self.bodies = bodies

    def request(self, method: str, url: str, headers: Any, post_data: Any = None,
                **kwargs: Any) -> tuple[str, int, Any]:
        body, headers = self.bodies[url]
        return body, 200, headers

    def close(self) -> None:
        pass


def sample(ids: list[str], count: int) -> list[str]:
    step = max(len(ids) // count, 1)
    return ids[::step][:count]


def per_request(run: Callable[[list[str]], None], ids: list[str], repeats: int) -> float:
    """Median seconds per request over ``repeats`` passes of ``ids``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(ids)
        times.append((time.perf_counter() - start) / len(ids))
    return statistics.median(times)


@contextlib.contextmanager
def quiet_sdk() -> Iterator[None]:
    telemetry, stripe.enable_telemetry = stripe.enable_telemetry, False
    try:
        yield
    finally:
        stripe.enable_telemetry = telemetry


def measure(path: Path, ids: list[str], sample_size: int, repeats: int) -> dict[str, float]:
    document = yamlio.load(path)
    bodies = {i.uri: (i.response_body, Headers([(k, v[0]) for k, v in i.response_headers.items()]))
              for i in document.interactions}
    picked = sample(ids, sample_size)
    out: dict[str, float] = {}

    floor_client = stripe.StripeClient(KEY, http_client=CannedClient(bodies))
    out["floor"] = per_request(lambda xs: [floor_client.v1.products.retrieve(x) for x in xs],
                               picked, repeats)

    client = stripe.StripeClient(KEY)

    def timed(opener: Callable[[], Any], xs: list[str]) -> float:
        """Seconds per request, cassette opening and closing left out."""
        with opener():
            start = time.perf_counter()
            for x in xs:
                client.v1.products.retrieve(x)
            return (time.perf_counter() - start) / len(xs)

    def median_of(opener: Callable[[], Any], xs: list[str], passes: int) -> float:
        return statistics.median(timed(opener, xs) for _ in range(passes))

    timed(lambda: use_cassette(path, "none"), picked[:1])  # warm the parse cache, as a session
    out["ours"] = median_of(lambda: use_cassette(path, "none"), picked, repeats)
    out["ours_http"] = median_of(lambda: use_cassette(path, "none", sdk=False), picked, repeats)
    setup = []
    for _ in range(repeats):
        start = time.perf_counter()
        with use_cassette(path, "none"):
            pass
        setup.append(time.perf_counter() - start)
    out["setup"] = statistics.median(setup)

    import vcr

    recorder = vcr.VCR(record_mode="none")
    vcr_picked = picked if len(ids) <= 1000 else sample(ids, 40)  # spread over the file
    out["vcrpy"] = median_of(lambda: recorder.use_cassette(str(path)), vcr_picked,
                             max(1, repeats // 3))
    return out


def load_time(path: Path, runs: int = 7) -> tuple[float, float, float]:
    """(best, median) seconds to parse and index ``path`` cold; vcrpy's load for comparison."""
    ours = []
    for _ in range(runs):
        yamlio._cache.clear()
        start = time.perf_counter()
        Cassette(path)
        ours.append(time.perf_counter() - start)
    import vcr

    theirs = []
    for _ in range(3):
        start = time.perf_counter()
        with vcr.VCR(record_mode="none").use_cassette(str(path)):
            pass
        theirs.append(time.perf_counter() - start)
    return min(ours), statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--sample", type=int, default=200, help="requests per pass")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, quiet_sdk():
        rows = []
        for n in sizes:
            path = Path(tmp) / f"products_{n}.yaml"
            ids = build_cassette(path, n)
            rows.append((n, measure(path, ids, args.sample, args.repeats)))
        print(f"\nReplay cost per request (stripe {stripe.VERSION}, median of passes; "
              "vcrpy at 5,000: 40 requests)")
        header = (f"{'interactions':>12} | {'SDK floor':>10} | {'ours':>10} | {'ours/floor':>10} "
                  f"| {'ours/http':>10} | {'vcrpy':>10} | {'vcrpy/ours':>10}")
        print(header)
        print("-" * len(header))
        for n, r in rows:
            print(f"{n:>12} | {r['floor'] * 1e6:>8.0f}us | {r['ours'] * 1e6:>8.0f}us | "
                  f"{r['ours'] / r['floor']:>9.2f}x | {r['ours_http'] * 1e6:>8.0f}us | "
                  f"{r['vcrpy'] * 1e3:>8.2f}ms | {r['vcrpy'] / r['ours']:>9.0f}x")
        setups = ", ".join(f"{r['setup'] * 1e3:.2f} ms" for _, r in rows)
        print(f"\nopening + closing a cassette (parsed and indexed once per session): {setups}")
        first, last = rows[0][1]["ours"], rows[-1][1]["ours"]
        print(f"ours at {rows[-1][0]:,} vs {rows[0][0]:,} interactions: {last / first:.2f}x "
              f"(flat = 1.0); issue's vcrpy figures: {VCRPY_ISSUE_MS}")
        path = Path(tmp) / "products_1000.yaml"
        if not path.exists():
            build_cassette(path, 1000)
        best, median, theirs = load_time(path)
        size = path.stat().st_size / 1e6
        print(f"\nLoad a 1,000-interaction cassette ({size:.1f} MB, libyaml "
              f"{'yes' if yamlio._Loader is not None and 'C' in yamlio._Loader.__name__ else 'no'}):"
              f" parse + index {best * 1e3:.1f} ms best, {median * 1e3:.1f} ms median "
              f"(vcrpy's load: {theirs * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
