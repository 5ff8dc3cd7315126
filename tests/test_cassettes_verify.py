"""``--stripe-verify-fake``: recordings replayed on the fake, differences in shape reported,
ids mapped from the recording to the fake's as the replay goes."""

from __future__ import annotations

import json
from pathlib import Path

import stripe
from cassette_standin import StandIn

from pytest_stripe_fixtures.cassettes import use_cassette, yamlio
from pytest_stripe_fixtures.cassettes.verify import compare, format_reports, verify

KEY = "sk_test_fake"


def test_a_flow_recorded_from_the_fake_has_the_fakes_shape_ids_mapped(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    with StandIn(seed=99) as standin, use_cassette(path, "once", upstream=standin.url):
        client = stripe.StripeClient(KEY, stripe_version="2023-08-16")
        customer = client.v1.customers.create(params={"email": "jenny.rosen@example.com"})
        source = client.v1.sources.create(params={"type": "ach_credit_transfer",
                                                  "currency": "usd"})
        client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
        client.v1.customers.retrieve(customer.id, params={"expand": ["default_source"]})
        client.v1.customers.payment_sources.delete(customer.id, source.id)
    report = verify(path)  # a fresh fake, other ids: every later request is rewritten to them
    assert [e.differences for e in report.exchanges] == [[]] * 5
    assert format_reports([report]).endswith(
        "fake vs recordings: 1 cassette(s), 5 interaction(s) replayed, 5 same shape, 0 differ")


def test_differences_in_status_error_keys_types_and_shape_values() -> None:
    error = {"error": {"type": "invalid_request_error", "code": "resource_missing",
                       "param": "id", "message": "No such product: 'prod_rec'"}}
    ids = {"prod_rec": "prod_fake"}
    fake_error = {"error": {**error["error"], "message": "No such product: 'prod_fake'"}}
    assert compare(404, error, 404, fake_error, ids) == []  # the id in the message is mapped
    found = compare(404, error, 400, {"error": {"type": "invalid_request_error",
                                                "message": "Missing required param: id."}})
    assert [str(d) for d in found] == [
        "(status): recording HTTP 404, fake HTTP 400 (type='invalid_request_error', "
        "message='Missing required param: id.')"]

    recorded = {"id": "cus_rec", "object": "customer", "created": 1, "email": "a@example.com",
                "address": {"city": "Paris"}, "sources": {"data": [{"id": "src_1"}]},
                "delinquent": False, "status": "active"}
    produced = {"id": "cus_fake", "object": "customer", "created": 2, "email": "b@example.com",
                "address": None, "sources": {"data": []}, "delinquent": True,
                "status": "inactive", "phone": None}
    learned: dict[str, str] = {}
    assert [str(d) for d in compare(200, recorded, 200, produced, learned)] == [
        "address: recording object, fake null",
        "sources.data: recording 1 item(s), fake 0 item(s)",
        "delinquent: recording false, fake true",
        'status: recording "active", fake "inactive"',
        "phone: recording lacks it, fake has it (null)",
    ]
    assert learned == {"cus_rec": "cus_fake"}


def test_answers_about_the_key_are_skipped_not_compared(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(yamlio.dumps([yamlio.Interaction(
        "GET", "https://api.stripe.com/v1/products", {}, None, 401, "Unauthorized", {},
        json.dumps({"error": {"type": "invalid_request_error",
                              "message": "Invalid API Key provided: sk_test_REDACTED"}}))], {}))
    report = verify(path)
    assert report.exchanges == []
    assert report.skipped == ["#0 GET /v1/products: HTTP 401 (keys are not recorded)"]


def test_every_stripe_host_is_replayed_not_only_api_and_files(tmp_path: Path) -> None:
    path = tmp_path / "upload.yaml"
    path.write_text(yamlio.dumps([yamlio.Interaction(
        method, uri, {}, None, 200, "OK", {}, json.dumps({"object": "list", "data": []}))
        for method, uri in (("GET", "https://upload.stripe.com/v1/products"),
                            ("GET", "https://example.com/v1/products"))], {}))
    report = verify(path)
    assert [e.request for e in report.exchanges] == ["GET /v1/products"]
    assert report.skipped == ["#1 GET /v1/products: not a Stripe host"]
