"""pytest glue: options, markers and the fixtures ``stripe_fake``, ``stripe_cassette`` and
``stripe_server``.  Thin on purpose: the fake is ``pytest_stripe_fixtures.fake``, the
interception ``pytest_stripe_fixtures.transports``, cassettes ``pytest_stripe_fixtures.cassettes``.

Imports of the engine happen inside the fixture, so a suite that never touches Stripe pays
(almost) nothing for having the plugin installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fake import StripeFake

FAKE_KEY = "sk_test_pytest_stripe_fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stripe_fixtures", "Stripe fake (pytest-stripe-fixtures)")
    group.addoption("--stripe-seed", dest="stripe_seed", type=int, default=None,
                    help="seed for the fake's ids (stable snapshots); overrides the ini key")
    group.addoption("--stripe-validate-responses", dest="stripe_validate_responses",
                    action="store_true", default=None,
                    help="check every fake response against schemas/ and fail the test if not")
    parser.addini("stripe_fake_seed", "seed for the fake's ids (stable snapshots)", default="")
    parser.addini("stripe_api_version",
                  "API version for requests that send no Stripe-Version header", default="")
    parser.addini("stripe_validate_responses", "check every fake response against schemas/",
                  type="bool", default=False)
    group.addoption("--stripe-live", dest="stripe_live", action="store_true", default=None,
                    help="let tests without stripe_fake/stripe_cassette reach Stripe (test mode) "
                    "for real; by default such requests are blocked and fail the test")
    parser.addini("stripe_live", "let tests without stripe_fake/stripe_cassette reach Stripe",
                  type="bool", default=False)
    from .cassettes.pytest_support import add_options  # cheap: pytest and stdlib only

    add_options(parser)


_GUARD = pytest.StashKey[Any]()
_BLOCKED = pytest.StashKey[list[str]]()
_CURRENT = pytest.StashKey[list[Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stripe_fake(seed=None, now=None, api_version=None, isolate_keys=False, "
        "instant_retries=True, raw_card_data=False): configure the stripe_fake fixture for "
        "this test")
    config.addinivalue_line(
        "markers",
        "stripe_fault(pattern, error='api_error', times=1, ...): make matching requests to "
        "stripe_fake fail, as stripe_fake.faults.add(pattern, error, ...) would")
    from .cassettes.pytest_support import MARKER

    config.addinivalue_line("markers", MARKER)
    config.addinivalue_line(
        "markers", "stripe_live: this test may send requests to Stripe (test mode) for real; "
        "without it, a Stripe request no fixture answers is blocked and fails the test")
    _start_guard(config)


def _start_guard(config: pytest.Config) -> None:
    """Nothing reaches Stripe by accident while the plugin is active (see ``TestRunGuard``)."""
    from .transports.http_libs import TestRunGuard

    suite_allowed = bool(config.getoption("stripe_live") or config.getini("stripe_live"))
    current: list[Any] = [None]  # the running item
    blocked: list[str] = []

    def who() -> str | None:
        return current[0].nodeid if current[0] is not None else None

    def allowed() -> bool:
        item = current[0]
        return suite_allowed or (item is not None
                                 and item.get_closest_marker("stripe_live") is not None)

    def report(message: str) -> None:
        item = current[0]
        if item is None:
            blocked.append(message)
        else:
            item.stash.setdefault(_BLOCKED, []).append(message)

    config.stash[_GUARD] = TestRunGuard(who, allowed, report).start()
    config.stash[_CURRENT] = current
    config.stash[_BLOCKED] = blocked


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    current = item.config.stash.get(_CURRENT, None)
    if current is None:
        return (yield)
    current[0] = item
    try:
        return (yield)
    finally:
        current[0] = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "call" and call.excinfo is not None:
        from .cassettes.pytest_support import CALL_EXCEPTION

        item.stash[CALL_EXCEPTION] = call.excinfo.value
    blocked = item.stash.get(_BLOCKED, None)
    if blocked:
        message = blocked[0]
        del blocked[:]
        original = "" if report.passed else f"\n\n{report.longreprtext}"
        report.outcome = "failed"
        report.longrepr = message + original
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    blocked = session.config.stash.get(_BLOCKED, None)
    if blocked and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    blocked = config.stash.get(_BLOCKED, None)
    if blocked:
        terminalreporter.write_sep("=", "Stripe requests blocked outside tests")
        for message in dict.fromkeys(blocked):
            terminalreporter.write_line(message)
    from .cassettes.pytest_support import terminal_summary

    terminal_summary(terminalreporter, config)


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    config = request.config
    settings: dict[str, Any] = {}
    seed = config.getoption("stripe_seed")
    if seed is None and config.getini("stripe_fake_seed"):
        seed = int(config.getini("stripe_fake_seed"))
    if seed is not None:
        settings["seed"] = seed
    if config.getini("stripe_api_version"):
        settings["default_version"] = config.getini("stripe_api_version")
    marker = request.node.get_closest_marker("stripe_fake")
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(
                f"{request.node.nodeid}: @pytest.mark.stripe_fake takes keyword arguments only "
                "(seed=, now=, api_version=, isolate_keys=, instant_retries=, raw_card_data=)")
        for key, value in marker.kwargs.items():
            if key not in ("seed", "now", "api_version", "isolate_keys", "instant_retries",
                           "raw_card_data"):
                raise pytest.UsageError(
                    f"{request.node.nodeid}: unknown stripe_fake marker argument {key!r}")
            settings["default_version" if key == "api_version" else key] = value
    return settings


@pytest.fixture
def stripe_fake(request: pytest.FixtureRequest) -> Iterator[StripeFake]:
    """A fresh in-memory Stripe for this test; every ``stripe`` SDK call to api.stripe.com is
    answered by it, and so are plain ``requests``, ``httpx`` and ``urllib.request`` calls.  Any
    other route to a Stripe host is blocked and fails the test.  Yields the
    :class:`~pytest_stripe_fixtures.fake.StripeFake`: its ``requests``, ``objects(type)``,
    ``store`` and ``clock``, and ``checkout`` (the customer's side of Checkout and Payment
    Links: ``checkout.complete(session_id)``, see ``hosted_pages.py``)."""
    import stripe

    from .fake import StripeFake
    from .transports import webhooks  # noqa: F401 - WSGI/ASGI apps as webhook targets
    from .transports.http_libs import LibraryInterceptor, NetworkGuard
    from .transports.sdk import SDKInterceptor

    settings = _settings(request)
    instant_retries = bool(settings.pop("instant_retries", True))
    try:
        fake = StripeFake(**settings)
    except ValueError as exc:
        raise pytest.UsageError(f"{request.node.nodeid}: stripe_fake: {exc}") from exc
    _add_marked_faults(request, fake)
    had_key = stripe.api_key
    if had_key is None:
        stripe.api_key = FAKE_KEY
    from .hosted_pages import CheckoutHelper

    fake.checkout = CheckoutHelper(fake)  # type: ignore[attr-defined]
    validate = request.config.getoption("stripe_validate_responses") or request.config.getini(
        "stripe_validate_responses")
    blocked: list[str] = []
    with SDKInterceptor(fake.handle, instant_retries=instant_retries), \
            LibraryInterceptor(fake.handle), \
            NetworkGuard(request.node.nodeid, blocked.append):
        yield fake
    if had_key is None and stripe.api_key == FAKE_KEY:
        stripe.api_key = None
    if blocked:
        pytest.fail(blocked[0], pytrace=False)
    _report(request, fake, bool(validate))


def _add_marked_faults(request: pytest.FixtureRequest, fake: StripeFake) -> None:
    """``@pytest.mark.stripe_fault(...)`` markers, in the order they are written."""
    from .fake.faults import FaultError

    for marker in reversed(list(request.node.iter_markers("stripe_fault"))):
        try:
            fake.faults.add(*marker.args, **marker.kwargs)
        except (FaultError, TypeError) as exc:
            raise pytest.UsageError(f"{request.node.nodeid}: stripe_fault: {exc}") from exc


def _report(request: pytest.FixtureRequest, fake: StripeFake, validate: bool) -> None:
    """Fail the test (at teardown) on a bug in the fake or a response off its schema."""
    where = f"{request.node.nodeid} ({request.node.path})"
    if fake.internal_errors:
        pytest.fail(f"{where}: the Stripe fake failed internally while answering "
                    f"{fake.internal_errors[0]}", pytrace=False)
    if fake.webhooks.failures:
        pytest.fail(f"{where}: a webhook handler failed every delivery attempt (pass "
                    "check=False to deliver_to, or clear webhooks.failures, when that is the "
                    "point):\n  " + "\n  ".join(str(f) for f in fake.webhooks.failures[:5]),
                    pytrace=False)
    if not validate:
        return
    from .conformance import first_nonconforming

    off_schema = first_nonconforming(fake.requests)
    if off_schema is not None:
        record, found = off_schema
        pytest.fail(f"{where}: response to {record} ({record.resolved_version}) does not "
                    "match schemas/:\n  " + "\n  ".join(found[:10]), pytrace=False)


@pytest.fixture(scope="session")
def stripe_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The fake Stripe served over HTTP on a free loopback port for the whole session, for code
    that runs in other processes (Node, Go, ``curl``, a subprocess).  Yields a
    :class:`~pytest_stripe_fixtures.transports.server.StripeServer`: ``.url`` is the base URL
    (``http://127.0.0.1:<port>``), each secret key is its own account, ``.reset(key=None)``."""
    from .transports.server import serve_in_background

    settings = _settings(request)
    settings.pop("instant_retries", None)  # the server's clients retry on their own
    with serve_in_background(**settings) as server:
        yield server


@pytest.fixture
def stripe_cassette_config() -> dict[str, Any]:
    """Cassette settings for the tests in its scope, like pytest-recording's ``vcr_config``:
    override it in a ``conftest.py``, a module or a class.  Keys: ``record_mode``,
    ``cassette_dir`` (relative to the test file), ``name``, ``filter_headers``,
    ``filter_params``, ``filter_json``.  The command line beats the marker, which beats this
    fixture, which beats the ini keys; filters from all of them add up."""
    return {}


@pytest.fixture
def stripe_cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """This test's Stripe traffic replayed from (or recorded to) a cassette, default
    ``cassettes/<test module>/<test name>.yaml``; ``@pytest.mark.stripe_cassette("name")``
    picks another.  Yields the :class:`~pytest_stripe_fixtures.cassettes.Cassette` (or the
    ``stripe_fake`` when a missing cassette falls back to the fake)."""
    from .cassettes.pytest_support import cassette_fixture

    yield from cassette_fixture(request)
