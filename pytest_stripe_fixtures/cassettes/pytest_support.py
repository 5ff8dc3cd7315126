"""The pytest side of cassettes: options, the ``stripe_cassette`` fixture, the verify report.

``plugin.py`` delegates here.  Importing this module costs nothing beyond pytest: the
cassette machinery (YAML, vcrpy, the fake) is imported when a test asks for a cassette.

Options (each also an ini key, ``stripe_`` + the option name with underscores):

``--stripe-record-mode``     none (default) | once | new_episodes | all | rewrite
``--stripe-upstream``        where recordings of api.stripe.com requests go (default Stripe)
``--stripe-cassette-dir``    default ``cassettes`` (the option: from the current directory;
                             the ini key: from the rootdir)
``--stripe-fallback-to-fake`` a missing cassette that may not be recorded uses the fake
``--stripe-verify-fake``     replay each test's cassette on the fake, report shape differences
ini only: ``stripe_filter_headers``, ``stripe_filter_params``, ``stripe_filter_json`` (one per
line) - extra values never written to cassettes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MODES = ("none", "once", "new_episodes", "all", "rewrite")
REPLAY_KEY = "sk_test_pytest_stripe_fixtures"
VERIFY_PROPERTY = "stripe_verify_fake"
MARKER = ("stripe_cassette(name=None, *, record_mode=None, cassette_dir=None, filter_headers=(), "
          "filter_params=(), filter_json=()): replay/record this test's Stripe traffic from cassette `name` "
          "(default cassettes/<module>/<test>.yaml)")
_MARKER_KWARGS = frozenset({"record_mode", "cassette_dir", "filter_headers", "filter_params",
                            "filter_json"})
CONFIG_KEYS = _MARKER_KWARGS | {"name"}
_RUN_KEY = pytest.StashKey[str]()
CALL_EXCEPTION = pytest.StashKey[BaseException]()  # what the test's call phase raised


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("stripe_fixtures")
    group.addoption("--stripe-record-mode", dest="stripe_record_mode", choices=MODES,
                    default=None, help="cassettes: none (replay only, default), once, "
                    "new_episodes, all or rewrite (vcrpy's meanings)")
    group.addoption("--stripe-upstream", dest="stripe_upstream", default=None, metavar="URL",
                    help="cassettes: send requests for api.stripe.com here while recording "
                    "(default https://api.stripe.com)")
    group.addoption("--stripe-cassette-dir", dest="stripe_cassette_dir", default=None,
                    metavar="DIR", help="cassettes: directory of cassettes (default cassettes/)")
    group.addoption("--stripe-fallback-to-fake", dest="stripe_fallback_to_fake",
                    action="store_true", default=None,
                    help="cassettes: a missing cassette that may not be recorded uses the fake")
    group.addoption("--stripe-verify-fake", dest="stripe_verify_fake", action="store_true",
                    default=None, help="cassettes: replay each cassette on the fake and report "
                    "every difference in shape")
    parser.addini("stripe_record_mode", "cassette record mode (none, once, new_episodes, all, "
                  "rewrite)", default="none")
    parser.addini("stripe_upstream", "where cassette recordings of api.stripe.com go",
                  default="https://api.stripe.com")
    parser.addini("stripe_cassette_dir", "cassette directory, from the rootdir",
                  default="cassettes")
    parser.addini("stripe_fallback_to_fake", "missing cassettes fall back to the fake",
                  type="bool", default=False)
    parser.addini("stripe_verify_fake", "replay cassettes on the fake, report differences",
                  type="bool", default=False)
    parser.addini("stripe_filter_headers", "headers never written to cassettes",
                  type="linelist", default=[])
    parser.addini("stripe_filter_params", "form params (e.g. card[number]) stored as FILTERED",
                  type="linelist", default=[])
    parser.addini("stripe_filter_json", "response JSON paths (e.g. data.*.email) stored as "
                  "FILTERED", type="linelist", default=[])


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return config.getini(name) if value is None else value


def _flag(config: pytest.Config, name: str) -> bool:
    return bool(_option(config, name))


def cassette_dir(config: pytest.Config) -> Path:
    value = config.getoption("stripe_cassette_dir")
    if value is not None:
        return Path(config.invocation_params.dir, value).resolve()
    return Path(config.rootpath, config.getini("stripe_cassette_dir")).resolve()


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "-", name).strip("-") or "cassette"


def cassette_path(request: pytest.FixtureRequest, name: str | None = None,
                  directory: Path | None = None) -> Path:
    """``<dir>/<test module>/<Class.test name>.yaml``, or ``name`` (relative to the dir)."""
    base = directory or cassette_dir(request.config)
    if name:
        path = Path(name)
        if path.suffix not in (".yaml", ".yml"):
            path = path.with_name(path.name + ".yaml")
        return path if path.is_absolute() else base / path
    node = request.node
    test = node.name if node.cls is None else f"{node.cls.__name__}.{node.name}"
    return base / _safe(node.path.stem) / f"{_safe(test)}.yaml"


def _marker(request: pytest.FixtureRequest) -> tuple[str | None, dict[str, Any]]:
    marker = request.node.get_closest_marker("stripe_cassette")
    if marker is None:
        return None, {}
    unknown = set(marker.kwargs) - _MARKER_KWARGS
    if unknown or len(marker.args) > 1 or not all(isinstance(a, str) and a for a in marker.args):
        raise pytest.UsageError(
            f"{request.node.nodeid}: @pytest.mark.stripe_cassette takes one cassette name and "
            f"the keywords {', '.join(sorted(_MARKER_KWARGS))}; got {marker.args!r}, "
            f"{sorted(unknown)!r}")
    return (marker.args[0] if marker.args else None), dict(marker.kwargs)


def _relative(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


def run_id(config: pytest.Config) -> str:
    """One id per ``pytest`` invocation, the same in every pytest-xdist worker."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get("testrunuid"):
        return str(workerinput["testrunuid"])
    if _RUN_KEY not in config.stash:
        import uuid

        config.stash[_RUN_KEY] = uuid.uuid4().hex
    return config.stash[_RUN_KEY]


def _fixture_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    value = request.getfixturevalue("stripe_cassette_config")
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - CONFIG_KEYS:
        unknown = sorted(set(value) - CONFIG_KEYS) if isinstance(value, dict) else value
        raise pytest.UsageError(
            f"{request.node.nodeid}: the stripe_cassette_config fixture must return a dict with "
            f"the keys {', '.join(sorted(CONFIG_KEYS))}; got {unknown!r}")
    return value


def settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The cassette settings of a test: command line, then marker, then the
    ``stripe_cassette_config`` fixture, then ini (filters from all of them add up)."""
    from .cassette import RecordMode

    config = request.config
    name, marker = _marker(request)
    fixture = _fixture_config(request)
    try:
        mode = RecordMode.parse(config.getoption("stripe_record_mode") or marker.get("record_mode")
                                or fixture.get("record_mode")
                                or config.getini("stripe_record_mode") or "none")
    except ValueError as exc:
        raise pytest.UsageError(f"{request.node.nodeid}: stripe {exc}") from None
    directory = None
    if config.getoption("stripe_cassette_dir") is None:
        chosen = marker.get("cassette_dir") or fixture.get("cassette_dir")
        if chosen:
            directory = Path(request.node.path.parent, chosen).resolve()
    name = name or fixture.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise pytest.UsageError(f"{request.node.nodeid}: a cassette name must be a non-empty "
                                f"string, not {name!r}")

    def filters(key: str) -> list[str]:
        values = [*config.getini(f"stripe_{key}")]
        for source in (fixture, marker):
            extra = source.get(key) or ()
            values.extend([extra] if isinstance(extra, str) else extra)
        return values

    return {"mode": mode, "path": cassette_path(request, name, directory),
            "filters": (filters("filter_headers"), filters("filter_params"),
                        filters("filter_json"))}


def cassette_fixture(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Yields the :class:`~pytest_stripe_fixtures.cassettes.Cassette` answering this test's
    Stripe requests (or the ``stripe_fake`` when it falls back to the fake)."""
    config = request.config
    if "stripe_fake" in request.fixturenames:
        raise pytest.UsageError(
            f"{request.node.nodeid} ({request.node.path}): use either stripe_cassette or "
            "stripe_fake in a test, not both: they answer the same requests. A cassette falls "
            "back to the fake with --stripe-fallback-to-fake.")
    chosen = settings(request)
    mode, path = chosen["mode"], chosen["path"]
    from .cassette import RecordMode

    upstream = _option(config, "stripe_upstream")
    if not str(upstream).startswith(("http://", "https://")):
        raise pytest.UsageError(f"--stripe-upstream must be an http(s) URL, not {upstream!r}")
    if mode is RecordMode.NONE and not path.exists() and _flag(config, "stripe_fallback_to_fake"):
        yield request.getfixturevalue("stripe_fake")
        return

    import stripe

    from ..transports.vcr import CassetteInterceptor
    from .cassette import Cassette
    from .errors import CassetteError
    from .scrub import Filters
    from .secrets import LIVE_PREFIXES

    filters = Filters.build(*chosen["filters"])
    label = _relative(path, config)
    problem = None
    try:
        cassette = Cassette(path, mode, upstream_url=upstream, filters=filters, label=label,
                            episode=request.node.nodeid, run=run_id(config))
    except (CassetteError, ValueError) as exc:
        problem = f"{request.node.nodeid}: {exc}"
    if problem is not None:  # outside the except block: reported once, without a chain
        pytest.fail(problem, pytrace=False)
    had_key = stripe.api_key
    if had_key is None:
        stripe.api_key = os.environ.get("STRIPE_API_KEY") if cassette.records else REPLAY_KEY
    if cassette.records and str(stripe.api_key or "").startswith(LIVE_PREFIXES):
        stripe.api_key = had_key
        pytest.fail(f"{request.node.nodeid}: refusing to record {label} with a live-mode key; "
                    "cassettes are recorded against Stripe test mode (sk_test_/rk_test_)",
                    pytrace=False)
    try:
        with CassetteInterceptor(cassette):
            yield cassette
    finally:
        stripe.api_key = had_key
    try:
        cassette.save()
    except CassetteError as exc:
        problem = f"{request.node.nodeid}: {exc}"
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    raised = request.node.stash.get(CALL_EXCEPTION, None)
    failures = [f for f in cassette.failures if not _already_reported(f, raised)]
    if failures:
        pytest.fail(str(failures[0]), pytrace=False)
    misses = [m for m in cassette.misses if not _already_reported(m, raised)]
    if misses and len(misses) == len(cassette.misses):
        count = len(misses)
        pytest.fail(f"{request.node.nodeid}: {count} Stripe request(s) had no recording in "
                    f"{label}:\n" + "\n".join(str(m) for m in misses), pytrace=False)
    if _flag(config, "stripe_verify_fake") and path.exists():
        _verify(request, path, label)


def _already_reported(problem: BaseException, raised: BaseException | None) -> bool:
    """Whether the test already failed with ``problem`` (itself, or wrapped by the SDK or an
    HTTP library): then it is not reported a second time at teardown."""
    seen = 0
    while raised is not None and seen < 10:
        if raised is problem or str(problem) in str(raised):
            return True
        raised = raised.__cause__ or raised.__context__
        seen += 1
    return False


def _verify(request: pytest.FixtureRequest, path: Path, label: str) -> None:
    from .verify import format_reports, verify

    report = verify(path, label)
    block = format_reports([report]).rsplit("\n", 1)[0]
    request.node.user_properties.append((VERIFY_PROPERTY, json.dumps({
        "path": label, "total": len(report.exchanges), "differ": len(report.differing),
        "error": report.error, "text": block})))


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The ``--stripe-verify-fake`` report, once per cassette (also under pytest-xdist)."""
    if not _flag(config, "stripe_verify_fake"):
        return
    seen: dict[str, dict[str, Any]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == VERIFY_PROPERTY:
                    entry = json.loads(value)
                    seen.setdefault(entry["path"], entry)
    terminalreporter.write_sep("=", "stripe fake vs recordings")
    if not seen:
        terminalreporter.write_line("no test replayed a cassette")
        return
    total = differ = 0
    for path in sorted(seen):
        entry = seen[path]
        total += entry["total"]
        differ += entry["differ"]
        terminalreporter.write_line(entry["text"])
    terminalreporter.write_line(
        f"fake vs recordings: {len(seen)} cassette(s), {total} interaction(s) replayed, "
        f"{total - differ} same shape, {differ} differ")
