"""The ``stripe_cassette`` fixture as a user meets it: record once against a stand-in, replay
offline; the marker, options and ini keys; falling back to the fake; the fake-vs-recording
report; parallel recording with pytest-xdist."""

from __future__ import annotations

import json

import pytest
from cassette_standin import StandIn

from pytest_stripe_fixtures.cassettes import yamlio
from pytest_stripe_fixtures.cassettes.scrub import find_secrets

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "stripe_fixtures", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def no_global_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process runs below set ``stripe.api_key``: start each test without, restore after."""
    import stripe

    monkeypatch.setattr(stripe, "api_key", None)

SHOP = """
import pytest
import stripe

stripe.api_key = "sk_test_fake"


def test_create_product(stripe_cassette):
    product = stripe.Product.create(name="Mug", metadata={"sku": "M-1"})
    assert product.name == "Mug" and product.id.startswith("prod_")
    assert stripe.Product.retrieve(product.id).metadata["sku"] == "M-1"


@pytest.mark.stripe_cassette("shared/catalog")
def test_list_products(stripe_cassette):
    stripe.Product.create(name="Cup")
    assert [p.name for p in stripe.Product.list(limit=1).data] == ["Cup"]


def test_missing_product(stripe_cassette):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Product.retrieve("prod_missing")
    assert error.value.code == "resource_missing"
"""

BLOCK_SOCKETS = """
import socket

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real = socket.socket

    class Refused(real):
        def __init__(self, family=-1, *args, **kwargs):
            if family != socket.AF_UNIX:
                raise OSError("network blocked in this test run")
            super().__init__(family, *args, **kwargs)

    monkeypatch.setattr(socket, "socket", Refused)
"""


def test_record_once_against_a_stand_in_then_replay_without_network(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=SHOP)
    with StandIn() as standin:
        pytester.runpytest(*PLUGIN, "--stripe-record-mode=once",
                           f"--stripe-upstream={standin.url}").assert_outcomes(passed=3)
        assert len(standin.requests) == 5
    cassettes = pytester.path / "cassettes"
    recorded = sorted(str(p.relative_to(cassettes)) for p in cassettes.rglob("*.yaml"))
    assert recorded == ["shared/catalog.yaml", "test_shop/test_create_product.yaml",
                        "test_shop/test_missing_product.yaml"]
    for path in cassettes.rglob("*.yaml"):
        assert "sk_test_fake" not in path.read_text() and find_secrets(path.read_text()) == []

    pytester.makeconftest(BLOCK_SOCKETS)  # the stand-in is gone and sockets are refused
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=3)


def test_options_have_ini_twins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=SHOP)
    with StandIn() as standin:
        pytester.makeini(f"""
            [pytest]
            asyncio_default_fixture_loop_scope = function
            stripe_record_mode = new_episodes
            stripe_upstream = {standin.url}
            stripe_cassette_dir = recordings
            stripe_filter_json = metadata.sku
        """)
        pytester.runpytest(*PLUGIN).assert_outcomes(passed=3)
    text = (pytester.path / "recordings" / "test_shop" / "test_create_product.yaml").read_text()
    assert '"sku": "FILTERED"' in text


def test_a_missing_cassette_can_fall_back_to_the_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=SHOP)
    pytester.runpytest(*PLUGIN).assert_outcomes(errors=3)
    pytester.runpytest(*PLUGIN, "--stripe-fallback-to-fake").assert_outcomes(passed=3)
    assert not (pytester.path / "cassettes").exists()


def test_recording_takes_the_key_from_STRIPE_API_KEY_and_refuses_live_keys(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_env="""
        import stripe

        def test_uses_the_environment_key(stripe_cassette):
            assert stripe.Product.create(name="Mug").name == "Mug"
    """)
    with StandIn() as standin:
        options = (*PLUGIN, "--stripe-record-mode=once", f"--stripe-upstream={standin.url}")
        monkeypatch.setenv("STRIPE_API_KEY", "sk_live_fake")
        result = pytester.runpytest(*options)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*refusing to record cassettes/test_env/"
                                     "test_uses_the_environment_key.yaml with a live-mode key*"])
        assert standin.requests == []
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_fake")
        pytester.runpytest(*options).assert_outcomes(passed=1)
        assert standin.requests[0][2]["Authorization"] == "Bearer sk_test_fake"


def test_verify_fake_reports_shape_differences_per_cassette(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "cassettes" / "test_drift"
    folder.mkdir(parents=True)
    body = {"id": "prod_Mug0000000000", "object": "product", "active": True, "name": "Mug",
            "created": 1, "brand_new_field": {"x": 1}}
    (folder / "test_it.yaml").write_text(yamlio.dumps([yamlio.Interaction(
        "POST", "https://api.stripe.com/v1/products", {
            "Content-Type": ["application/x-www-form-urlencoded"],
            "Stripe-Version": ["2026-10-28.endive"]},
        "name=Mug", 200, "OK", {"Content-Type": ["application/json"]}, json.dumps(body))], {}))
    pytester.makepyfile(test_drift="""
        import stripe

        def test_it(stripe_cassette):
            stripe.Product.create(name="Mug")
    """)
    result = pytester.runpytest(*PLUGIN, "--stripe-verify-fake")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*= stripe fake vs recordings =*",
        "cassettes/test_drift/test_it.yaml: 1 of 1 interaction(s) differ",
        "  #0 line 3 POST /v1/products",
        "      brand_new_field: recording has it (object), fake lacks it",
        "      description: recording lacks it, fake has it (null)",
        "fake vs recordings: 1 cassette(s), 1 interaction(s) replayed, 0 same shape, 1 differ",
    ])


PARALLEL = """
import pytest
import stripe

stripe.api_key = "sk_test_fake"


@pytest.mark.parametrize("n", range(8))
def test_own_cassette(stripe_cassette, n):
    product = stripe.Product.create(name=f"Product {n}", metadata={"n": str(n)})
    stripe.Product.modify(product.id, description="x" * 2000)
    assert stripe.Product.retrieve(product.id).metadata["n"] == str(n)


@pytest.mark.parametrize("n", range(8))
@pytest.mark.stripe_cassette("shared", record_mode="new_episodes")
def test_shared_cassette(stripe_cassette, n):
    stripe.Product.create(name=f"Shared {n}", description="y" * 2000)
"""


def test_parallel_recording_with_xdist_leaves_every_cassette_valid(
        pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(test_parallel=PARALLEL)
    with StandIn() as standin:
        result = pytester.runpytest_subprocess(
            *PLUGIN, "-n", "2", "--stripe-record-mode=once", f"--stripe-upstream={standin.url}")
        result.assert_outcomes(passed=16)
    cassettes = pytester.path / "cassettes"
    files = sorted(cassettes.rglob("*"))
    assert [p.name for p in files if p.name.startswith(".")] == []  # no temp or lock files
    own = sorted(cassettes.glob("test_parallel/*.yaml"))
    assert len(own) == 8
    for path in [*own, cassettes / "shared.yaml"]:
        document = yamlio.load(path, use_cache=False)  # parses: nothing half-written
        assert find_secrets(path.read_text()) == []
        assert all(i.status == 200 for i in document.interactions)
    shared = yamlio.load(cassettes / "shared.yaml", use_cache=False).interactions
    assert sorted(i.request_body or "" for i in shared) == sorted(
        f"name=Shared+{n}&description={'y' * 2000}" for n in range(8))  # no episode lost


def test_cassette_and_fake_in_one_test_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_both="""
        def test_both(stripe_fake, stripe_cassette):
            pass
    """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_both.py::test_both*use either stripe_cassette or "
                                 "stripe_fake in a test, not both*"])
