"""Benchmark the in-process fake against the floor and its peers, through the Python SDK.

The standard scenario (7 requests): create product, create price, retrieve the product, list
the product's prices, create coupon, create promotion code, update the product's metadata.

1. Per request, through ``stripe.StripeClient``, min and median over repeats, each repeat
   running every contender in turn (so drift hits them alike):

   * floor       the SDK with a stub HTTP client returning canned JSON (the SDK's own cost);
   * fake        ``stripe_fake`` as the fixture sets it up (fresh fake per repeat);
   * cassette    the project's ``use_cassette`` replay (recorded from the served fake);
   * responses   ``responses`` with canned bodies, through the SDK's default RequestsClient;
   * vcrpy       vcrpy replaying a cassette, through the default RequestsClient;
   * localstripe over HTTP on 127.0.0.1 (own venv; skipped when it is not installed).

2. Scaling: the cost of one operation when the account already holds N objects.
3. Startup: the plugin loaded into a suite that never touches Stripe; per-test cost.
4. ``stripe_fake`` fixture setup + teardown.

Usage (never run as a test; numbers depend on the machine)::

    python benchmarks/bench_fake.py                 # everything (~2 minutes)
    python benchmarks/bench_fake.py --quick         # fewer rounds
    python benchmarks/bench_fake.py --only requests # one section: requests|scaling|startup|fixture

localstripe: ``python -m venv /tmp/localstripe-venv && /tmp/localstripe-venv/bin/pip install
localstripe`` (or pass ``--localstripe-python``); it is started bound to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import stripe

from pytest_stripe_fixtures.fake import Request, StripeFake
from pytest_stripe_fixtures.transports.http_libs import LibraryInterceptor, NetworkGuard
from pytest_stripe_fixtures.transports.sdk import SDKInterceptor

KEY = "sk_test_bench"
STEPS = 7
HEADERS = {"Authorization": f"Bearer {KEY}", "Stripe-Version": stripe.api_version,
           "Content-Type": "application/x-www-form-urlencoded"}

# --- the scenario ---------------------------------------------------------------------------


def scenario(client: stripe.StripeClient, failures: list[str] | None = None) -> None:
    """The standard scenario.  With ``failures``, a failing step is recorded and the scenario
    goes on (for peers that do not implement every endpoint)."""
    v1 = client.v1

    def step(name: str, call: Callable[[], Any]) -> Any:
        if failures is None:
            return call()
        try:
            return call()
        except stripe.StripeError as exc:
            failures.append(f"{name}: {type(exc).__name__} {exc.http_status}: "
                            f"{(exc.user_message or '')[:90]}")
            return None

    product = step("create product", lambda: v1.products.create(params={"name": "T-shirt"}))
    pid = product.id if product is not None else "prod_missing"
    step("create price", lambda: v1.prices.create(
        params={"product": pid, "unit_amount": 2000, "currency": "usd"}))
    step("retrieve product", lambda: v1.products.retrieve(pid))
    step("list prices", lambda: v1.prices.list(params={"product": pid}))
    coupon = step("create coupon", lambda: v1.coupons.create(
        params={"percent_off": 10, "duration": "once"}))
    cid = coupon.id if coupon is not None else "missing"
    step("create promotion code", lambda: v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": cid}}))
    step("update product", lambda: v1.products.update(pid, params={"metadata": {"k": "v"}}))


# --- contenders -----------------------------------------------------------------------------

Contender = Callable[[], contextlib.AbstractContextManager[stripe.StripeClient]]


@contextlib.contextmanager
def as_the_fixture(fake: StripeFake) -> Iterator[None]:
    """What ``stripe_fake`` installs around a test."""
    with SDKInterceptor(fake.handle), LibraryInterceptor(fake.handle), NetworkGuard("bench"):
        yield


def record_canned() -> list[tuple[str, str, int, str, dict[str, str]]]:
    """(method, url, status, body, headers) of one scenario answered by the fake."""
    fake = StripeFake(seed=1)
    answered: list[tuple[str, str, int, str, dict[str, str]]] = []

    def handler(request: Request) -> Any:
        response = fake.handle(request)
        url = "https://api.stripe.com" + request.path + (f"?{request.query}" if request.query
                                                         else "")
        answered.append((request.method, url, response.status, response.text,
                         dict(response.headers)))
        return response

    with SDKInterceptor(handler):
        scenario(stripe.StripeClient(KEY))
    return answered


class StubClient(stripe.HTTPClient):
    """The floor: canned JSON, no HTTP library, no fake."""

    name = "stub"

    def __init__(self, canned: list[tuple[str, str, int, str, dict[str, str]]]) -> None:
        super().__init__()
        self._replies = [(body, status, headers) for _, _, status, body, headers in canned]
        self._next = 0

    def request(self, method: str, url: str, headers: Any, post_data: Any = None,
                *, _usage: Any = None) -> tuple[str, int, dict[str, str]]:
        reply = self._replies[self._next]
        self._next = (self._next + 1) % len(self._replies)
        return reply

    def close(self) -> None:
        pass


def floor(canned: Any) -> Contender:
    @contextlib.contextmanager
    def run() -> Iterator[stripe.StripeClient]:
        yield stripe.StripeClient(KEY, http_client=StubClient(canned))
    return run


@contextlib.contextmanager
def fake_contender() -> Iterator[stripe.StripeClient]:
    fake = StripeFake()  # keep_log on, as in the fixture
    with as_the_fixture(fake):
        yield stripe.StripeClient(KEY)


@contextlib.contextmanager
def fake_without_events() -> Iterator[stripe.StripeClient]:
    fake = StripeFake(emit_events=False)  # what event emission costs: compare with the above
    with as_the_fixture(fake):
        yield stripe.StripeClient(KEY)


@contextlib.contextmanager
def fake_with_webhook() -> Iterator[stripe.StripeClient]:
    fake = StripeFake()
    fake.webhooks.deliver_to(lambda payload, headers: 200, secret="whsec_bench")
    with as_the_fixture(fake):
        yield stripe.StripeClient(KEY)


def responses_contender(canned: Any) -> Contender:
    import responses

    @contextlib.contextmanager
    def run() -> Iterator[stripe.StripeClient]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method, url, status, body, headers in canned:
                mock.add(method, url, body=body, status=status,
                         headers={k: v for k, v in headers.items() if k != "Content-Type"},
                         content_type="application/json",
                         match=[responses.matchers.query_string_matcher(url.partition("?")[2])])
            yield stripe.StripeClient(KEY)
    return run


def vcrpy_contender(canned: Any, folder: Path) -> Contender:
    import vcr

    path = folder / "vcrpy.yaml"
    interactions = [{
        "request": {"method": method, "uri": url, "body": None, "headers": {}},
        "response": {"status": {"code": status, "message": "OK"},
                     "headers": {k: [v] for k, v in headers.items()},
                     "body": {"string": body}},
    } for method, url, status, body, headers in canned]
    path.write_text(json.dumps({"version": 1, "interactions": interactions}))

    @contextlib.contextmanager
    def run() -> Iterator[stripe.StripeClient]:
        with vcr.use_cassette(str(path), record_mode="none", allow_playback_repeats=True):
            yield stripe.StripeClient(KEY)
    return run


def cassette_contender(folder: Path, rounds: int) -> Contender | None:
    """The project's own cassette replay, recorded from the served fake.  A cassette replays
    each recorded request once, in order, so ``rounds`` scenarios are recorded."""
    try:
        from pytest_stripe_fixtures.cassettes import use_cassette
        from pytest_stripe_fixtures.transports.server import serve_in_background
    except ImportError:
        return None
    path = folder / "cassette.yaml"
    try:
        with serve_in_background(seed=1) as server, \
                use_cassette(path, "once", upstream=server.url):
            client = stripe.StripeClient(KEY)
            for _ in range(rounds):
                scenario(client)
    except Exception as exc:  # the bench must still run when a sibling feature is in flux
        print(f"  (cassette replay skipped: {type(exc).__name__}: {exc})", file=sys.stderr)
        return None

    @contextlib.contextmanager
    def run() -> Iterator[stripe.StripeClient]:
        with use_cassette(path, "none"):
            yield stripe.StripeClient(KEY)
    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOCALSTRIPE_LAUNCHER = textwrap.dedent("""
    import sys
    from aiohttp import web
    from localstripe.server import app
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
""")


@contextlib.contextmanager
def localstripe_server(python: str) -> Iterator[str | None]:
    """localstripe bound to 127.0.0.1 (its own CLI listens on every interface)."""
    if not Path(python).exists():
        yield None
        return
    port = _free_port()
    process = subprocess.Popen([python, "-c", LOCALSTRIPE_LAUNCHER, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None:
                break
            time.sleep(0.1)
        else:
            yield None
            return
        yield None if process.poll() is not None else f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        process.kill()


def localstripe_contender(url: str) -> Contender:
    @contextlib.contextmanager
    def run() -> Iterator[stripe.StripeClient]:
        yield stripe.StripeClient("sk_test_12345", base_addresses={"api": url},
                                  max_network_retries=0)
    return run


# --- 1. per request -------------------------------------------------------------------------


def measure(contenders: dict[str, Contender], rounds: dict[str, int], repeats: int,
            tolerant: set[str]) -> dict[str, list[float]]:
    """µs per request for each contender and repeat (interleaved)."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for name, make in contenders.items():  # warm-up: imports, caches, connections
        with make() as client:
            scenario(client, [] if name in tolerant else None)
    for _ in range(repeats):
        for name, make in contenders.items():
            with make() as client:
                failures: list[str] | None = [] if name in tolerant else None
                gc.collect()
                start = time.perf_counter()
                for _ in range(rounds[name]):
                    scenario(client, failures)
                elapsed = time.perf_counter() - start
            samples[name].append(elapsed / (rounds[name] * STEPS) * 1e6)
    return samples


def requests_section(args: argparse.Namespace) -> None:
    print("## 1. Per request, standard scenario through stripe.StripeClient\n")
    canned = record_canned()
    folder = Path(tempfile.mkdtemp(prefix="bench-fake-"))
    contenders: dict[str, Contender] = {"floor (SDK + stub client)": floor(canned),
                                        "fake (stripe_fake)": fake_contender,
                                        "fake, events off (emit_events=False)":
                                            fake_without_events,
                                        "fake + a webhook target (signed delivery)":
                                            fake_with_webhook}
    cassette = cassette_contender(folder, args.rounds)
    if cassette is not None:
        contenders["cassette replay (use_cassette)"] = cassette
    contenders["responses (canned)"] = responses_contender(canned)
    contenders["vcrpy replay"] = vcrpy_contender(canned, folder)
    rounds = {name: args.rounds for name in contenders}
    failures: list[str] = []
    with localstripe_server(args.localstripe_python) as url:
        tolerant: set[str] = set()
        if url is not None:
            name = "localstripe (HTTP, 127.0.0.1)"
            contenders[name] = localstripe_contender(url)
            rounds[name] = max(5, args.rounds // 20)
            tolerant.add(name)
            with contenders[name]() as client:
                scenario(client, failures)
        else:
            print("(localstripe: not installed or did not start; skipped)\n")
        samples = measure(contenders, rounds, args.repeats, tolerant)
    base_min = min(samples["floor (SDK + stub client)"])
    base_med = statistics.median(samples["floor (SDK + stub client)"])
    print(f"{args.repeats} repeats x {args.rounds} scenarios ({STEPS} requests each); "
          f"Python {sys.version.split()[0]}, stripe {stripe.VERSION}\n")
    print("| contender | min µs/req | median µs/req | × floor (min) | × floor (median) |")
    print("|---|---:|---:|---:|---:|")
    for name, values in samples.items():
        low, mid = min(values), statistics.median(values)
        print(f"| {name} | {low:.1f} | {mid:.1f} | {low / base_min:.2f} | {mid / base_med:.2f} |")
    on, off = samples["fake (stripe_fake)"], samples["fake, events off (emit_events=False)"]
    print(f"\nevent emission: fake / fake without events = {min(on) / min(off):.3f} (min), "
          f"{statistics.median(on) / statistics.median(off):.3f} (median)")
    if failures:
        print(f"\nlocalstripe failed {len(failures)} of {STEPS} steps:")
        for failure in failures:
            print(f"  - {failure}")
    print()


# --- 2. scaling -----------------------------------------------------------------------------


def fill(fake: StripeFake, count: int) -> tuple[str, str]:
    """``count`` products, each with a price, a coupon and a promotion code (straight into the
    engine); returns one product id and one coupon id from the middle."""
    def post(path: str, body: str) -> dict[str, Any]:
        return fake.handle(Request("POST", path, body=body, headers=HEADERS)).json()

    middle = ("", "")
    for i in range(count):
        product = post("/v1/products", f"name=p{i}&metadata[n]={i}")
        post("/v1/prices", f"product={product['id']}&unit_amount=100&currency=usd")
        coupon = post("/v1/coupons", "percent_off=10&duration=once")
        post("/v1/promotion_codes", f"promotion[type]=coupon&promotion[coupon]={coupon['id']}")
        if i == count // 2:
            middle = (product["id"], coupon["id"])
    fake.requests.clear()
    return middle


def scaling_section(args: argparse.Namespace) -> None:
    sizes = [10, 100, 1000, 10000] if not args.quick else [10, 1000]
    print("## 2. Scaling: µs per operation through the SDK, with N of each object stored\n")
    current: dict[str, StripeFake] = {}
    ops: dict[str, Callable[[stripe.StripeClient, str, str], Any]] = {
        "create product": lambda c, p, k: c.v1.products.create(params={"name": "x"}),
        "retrieve product": lambda c, p, k: c.v1.products.retrieve(p),
        "update product": lambda c, p, k: c.v1.products.update(p, params={"metadata": {"a": "b"}}),
        "create price": lambda c, p, k: c.v1.prices.create(
            params={"product": p, "unit_amount": 5, "currency": "usd"}),
        "list prices of a product": lambda c, p, k: c.v1.prices.list(params={"product": p}),
        "list products (page of 10)": lambda c, p, k: c.v1.products.list(),
        "create promotion code": lambda c, p, k: c.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": k}}),
        "search products by metadata": lambda c, p, k: c.v1.products.search(
            params={"query": "metadata['n']:'5'"}),
        "same search, first after a write": lambda c, p, k: (
            current["fake"].store.touch(),  # as any write request does: matches are recomputed
            c.v1.products.search(params={"query": "metadata['n']:'5'"})),
    }
    results: dict[str, dict[int, float]] = {name: {} for name in ops}
    for size in sizes:
        fake = current["fake"] = StripeFake(keep_log=False)
        product, coupon = fill(fake, size)
        with as_the_fixture(fake):
            client = stripe.StripeClient(KEY)
            for name, op in ops.items():
                times = []
                for _ in range(args.scale_ops):
                    start = time.perf_counter()
                    op(client, product, coupon)
                    times.append(time.perf_counter() - start)
                results[name][size] = statistics.median(times) * 1e6
    print("| operation | " + " | ".join(f"N={n:,}" for n in sizes) + " | last / first |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for name, by_size in results.items():
        row = " | ".join(f"{by_size[n]:.0f}" for n in sizes)
        print(f"| {name} | {row} | {by_size[sizes[-1]] / by_size[sizes[0]]:.2f} |")
    print("\n(median of", args.scale_ops, "operations at each size; the list of a product's "
          "prices walks a per-product index; a search reuses the matches found by the previous "
          "search until a write, then walks the store until it has a page)\n")


# --- 3. startup -----------------------------------------------------------------------------


def _pytest_run(target: Path, plugin: bool) -> float:
    """Wall time of a whole pytest process (other plugins' autoload off, for a clean delta)."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)]
    if plugin:
        args[3:3] = ["-p", "stripe_fixtures"]
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=target.parent, check=True, capture_output=True)
    return time.perf_counter() - start


def startup_section(args: argparse.Namespace) -> None:
    print("## 3. A suite that never touches Stripe\n")
    folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    (folder / "test_one.py").write_text("def test_one():\n    pass\n")
    many = folder / "many"
    many.mkdir()
    count = 2000
    (many / "test_many.py").write_text(
        f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\n"
        "def test_n(n):\n    pass\n")
    runs = 5 if args.quick else 9
    one = {flag: statistics.median(_pytest_run(folder / "test_one.py", flag) for _ in range(runs))
           for flag in (False, True)}
    lots = {flag: statistics.median(_pytest_run(many / "test_many.py", flag)
                                    for _ in range(runs))
            for flag in (False, True)}
    imp = statistics.median(_import_cost() for _ in range(runs))
    print("| measure | without plugin | with plugin | difference |")
    print("|---|---:|---:|---:|")
    print(f"| pytest, 1 test (ms) | {one[False] * 1e3:.0f} | {one[True] * 1e3:.0f} | "
          f"{(one[True] - one[False]) * 1e3:+.1f} ms |")
    print(f"| pytest, {count} tests (ms) | {lots[False] * 1e3:.0f} | {lots[True] * 1e3:.0f} | "
          f"{(lots[True] - lots[False]) / count * 1e6:+.1f} µs/test |")
    print(f"| `import pytest_stripe_fixtures.plugin` (ms, after pytest) | | {imp * 1e3:.2f} | |")
    print("\n(median wall time of whole pytest processes; differences of a few ms are noise)\n")


def _import_cost() -> float:
    code = ("import time, pytest; t = time.perf_counter(); import pytest_stripe_fixtures.plugin; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return float(out)


# --- 4. fixture -----------------------------------------------------------------------------


class _Node:
    nodeid = "bench.py::test_x"
    path = Path("bench.py")

    def get_closest_marker(self, name: str) -> None:
        return None


class _Config:
    def getoption(self, name: str) -> Any:
        return None

    def getini(self, name: str) -> Any:
        return "" if name != "stripe_validate_responses" else False


class _FixtureRequest:
    node = _Node()
    config = _Config()


def fixture_section(args: argparse.Namespace) -> None:
    from pytest_stripe_fixtures import plugin

    fixture: Any = plugin.stripe_fake
    body = (fixture._get_wrapped_function() if hasattr(fixture, "_get_wrapped_function")
            else fixture.__pytest_wrapped__.obj)  # the fixture function itself (pytest 8 / 9)
    request = _FixtureRequest()
    for _ in range(50):  # warm-up: first use imports the engine and loads schemas
        generator = body(request)
        next(generator)
        next(generator, None)
    times = []
    for _ in range(2000):
        start = time.perf_counter()
        generator = body(request)
        next(generator)
        next(generator, None)
        times.append(time.perf_counter() - start)
    print("## 4. `stripe_fake` setup + teardown\n")
    print(f"The fixture's own code (no request): median {statistics.median(times) * 1e6:.0f} µs,"
          f" min {min(times) * 1e6:.0f} µs over {len(times)} runs.\n")
    folder = Path(tempfile.mkdtemp(prefix="bench-fixture-"))
    sizes = (1000, 3000)
    for count in sizes:
        for name, arg in (("plain", "n"), ("fake", "n, stripe_fake")):
            (folder / f"test_{name}_{count}.py").write_text(
                f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\n"
                f"def test_n({arg}):\n    pass\n")
    runs = 5 if args.quick else 7
    wall = {(name, count): statistics.median(
        _pytest_run(folder / f"test_{name}_{count}.py", True) for _ in range(runs))
        for name in ("plain", "fake") for count in sizes}
    extra = sizes[1] - sizes[0]
    per_test = {name: (wall[name, sizes[1]] - wall[name, sizes[0]]) / extra
                for name in ("plain", "fake")}
    once = (wall["fake", sizes[0]] - wall["plain", sizes[0]]) - sizes[0] * (
        per_test["fake"] - per_test["plain"])
    print("End to end in pytest (slope between suites of "
          f"{sizes[0]} and {sizes[1]} tests): a test costs {per_test['plain'] * 1e6:.0f} µs "
          f"without the fixture and {per_test['fake'] * 1e6:.0f} µs with it "
          f"({(per_test['fake'] - per_test['plain']) * 1e6:+.0f} µs, pytest's fixture "
          f"machinery included); the first test that uses it pays {once * 1e3:.0f} ms once "
          "(importing stripe and the engine, loading the schemas).\n")


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="scenarios per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--scale-ops", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes")
    parser.add_argument("--only", choices=["requests", "scaling", "startup", "fixture"])
    parser.add_argument("--localstripe-python", default="/tmp/localstripe-venv/bin/python")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats, args.scale_ops = 50, 5, 50
    sections = {"requests": requests_section, "scaling": scaling_section,
                "startup": startup_section, "fixture": fixture_section}
    for name, section in sections.items():
        if args.only in (None, name):
            section(args)


if __name__ == "__main__":
    sys.exit(main())
