"""A request the cassette does not hold never reaches the network: it fails, naming the
cassette, the request (method, path, params) and the closest recordings with how they differ,
and the plugin reports it again at teardown (the SDK or the app may swallow the error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import stripe

from pytest_stripe_fixtures.cassettes import UnmatchedRequest, use_cassette, yamlio

pytest_plugins = ["pytester"]

KEY = "sk_test_fake"


def product_body(pid: str, name: str) -> str:
    return json.dumps({"id": pid, "object": "product", "name": name, "active": True})


def write_cassette(path: Path) -> Path:
    """Three recorded requests, as a recording stores them."""
    def item(method: str, uri: str, body: str | None, response: str) -> yamlio.Interaction:
        headers = {"Stripe-Version": ["2026-10-28.endive"]}
        if body is not None:
            headers["Content-Type"] = ["application/x-www-form-urlencoded"]
        return yamlio.Interaction(method, uri, headers, body, 200, "OK",
                                  {"Content-Type": ["application/json"],
                                   "Request-Id": ["req_abcdefghijklmn"]}, response)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlio.dumps([
        item("POST", "https://api.stripe.com/v1/products", "name=Mug&metadata[sku]=M-1",
             product_body("prod_Mug0000000000", "Mug")),
        item("GET", "https://api.stripe.com/v1/products/prod_Mug0000000000", None,
             product_body("prod_Mug0000000000", "Mug")),
        item("GET", "https://api.stripe.com/v1/products?limit=3", None,
             json.dumps({"object": "list", "data": [], "has_more": False, "url": "/v1/products"})),
    ], {}))
    return path


def test_an_unmatched_request_names_cassette_request_and_closest_recordings(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "shop.yaml")
    with use_cassette(path) as cassette:
        with pytest.raises(UnmatchedRequest) as raised:
            stripe.StripeClient(KEY).v1.products.create(
                params={"name": "Cup", "metadata": {"sku": "M-1"}})
    message = str(raised.value)
    assert message.startswith(f"POST /v1/products has no recorded response in cassette {path} "
                              "(record mode 'none')")
    assert "  params: name='Cup', metadata[sku]='M-1'" in message
    assert "  closest recorded requests:\n    #0 (line 3): POST /v1/products  params: " \
           "name='Mug', metadata[sku]='M-1'\n      differs: name is 'Mug' in the recording" in message
    assert "--stripe-record-mode=new_episodes" in message
    assert cassette.misses == [raised.value]


def test_closest_recordings_explain_a_different_path_and_extra_params(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "shop.yaml")
    with use_cassette(path), pytest.raises(UnmatchedRequest) as raised:
        stripe.StripeClient(KEY).v1.products.list(params={"limit": 3, "active": True})
    assert "GET /v1/products has no recorded response" in str(raised.value)
    assert "params: limit='3', active='true'" in str(raised.value)
    assert "#2 (line 41): GET /v1/products  params: limit='3'\n" \
           "      differs: active not in the recording" in str(raised.value)

    with use_cassette(path), pytest.raises(UnmatchedRequest) as raised:
        requests.get("https://api.stripe.com/v1/products/prod_Other000000000")
    assert "differs: path /v1/products/prod_Mug0000000000 in the recording" in str(raised.value)


def test_the_error_is_not_retried_as_a_network_error(tmp_path: Path) -> None:
    """Through vcrpy's layer the SDK wraps it (APIConnectionError) but does not retry."""
    path = write_cassette(tmp_path / "shop.yaml")
    client = stripe.StripeClient(KEY, max_network_retries=2)
    with use_cassette(path, sdk=False) as cassette, pytest.raises(stripe.APIConnectionError):
        client.v1.products.retrieve("prod_Other000000000")
    assert len(cassette.misses) == 1


SWALLOWS = """
import stripe

def test_app_swallows_the_error(stripe_cassette):
    try:
        stripe.Product.create(name="Cup", metadata={"sku": "M-1"})
    except Exception:
        pass  # an app that hides errors
"""


def test_the_plugin_reports_unmatched_requests_at_teardown(pytester: pytest.Pytester) -> None:
    write_cassette(pytester.path / "cassettes" / "test_swallow" / "test_app_swallows_the_error.yaml")
    pytester.makepyfile(test_swallow=SWALLOWS)
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_app_swallows_the_error*",
        "*test_swallow.py::test_app_swallows_the_error: 1 Stripe request(s) had no recording in "
        "cassettes/test_swallow/test_app_swallows_the_error.yaml:",
        "POST /v1/products has no recorded response in cassette "
        "cassettes/test_swallow/test_app_swallows_the_error.yaml (record mode 'none')",
        "  params: name='Cup', metadata[sku]='M-1'",
        "  closest recorded requests:",
        "    #0 (line 3): POST /v1/products  params: name='Mug', metadata[sku]='M-1'",
        "      differs: name is 'Mug' in the recording",
    ])


def test_a_missing_cassette_in_replay_mode_says_how_to_record_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_missing=SWALLOWS)
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*cassette cassettes/test_missing/test_app_swallows_the_error.yaml does not exist and "
        "record mode 'none' does not record. Record it with --stripe-record-mode=once*"])
