"""The operation catalog: every operation of Stripe's spec answers, hand-written routes win,
and nothing the router, the id factory or the schemas need is missing from it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from pytest_stripe_fixtures.conformance import problems
from pytest_stripe_fixtures.fake import Request, StripeFake, catalog, schemas, versions
from pytest_stripe_fixtures.fake.formcodec import encode
from pytest_stripe_fixtures.fake.ids import PREFIXES
from pytest_stripe_fixtures.fake.resources import load_all, module_names
from pytest_stripe_fixtures.fake.routing import ROUTER

load_all()
OPERATIONS = catalog.operations()
ORDER = {"create": 0, "nested_create": 1, "singleton_update": 2, "update": 3, "action": 4,
         "retrieve": 5, "singleton": 5, "download": 5, "list": 6, "search": 6, "delete": 9}


def valid(node: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible valid value for a param schema node (required fields only)."""
    if "anyOf" in node:
        variants = [v for v in node["anyOf"] if v.get("enum") != [""]]
        return valid(variants[0], name, depth)
    if "enum" in node:
        return next(e for e in node["enum"] if e != "")
    kind = node.get("type")
    if kind == "object":
        props = node.get("properties")
        if props is None:
            return {"k": "v"}
        return {k: valid(props[k], k, depth + 1) for k in node.get("required", ()) if k in props}
    if kind == "array":
        return [valid(node.get("items") or {"type": "string"}, name, depth + 1)]
    if kind in ("integer", "number"):
        return "1"
    if kind == "boolean":
        return "false"
    if name == "currency" or name.endswith("_currency"):
        return "usd"
    if name == "country":
        return "US"
    if "email" in name:
        return "jenny@example.com"
    if name.endswith("url"):
        return "https://example.com/x"
    if node.get("format") == "decimal":
        return "1"
    return "x"


def drive(version: str) -> list[tuple[str, int, list[str]]]:
    """Every operation once, creates first, deletes last; path params name objects made
    earlier.  Returns (endpoint, status, schema problems) per request."""
    fake = StripeFake(seed=7, default_version=version)
    made: dict[str, str] = {}
    results = []
    endpoints = schemas.endpoints(version)
    for endpoint in sorted(OPERATIONS, key=lambda e: (ORDER[OPERATIONS[e]["kind"]], e)):
        op = catalog.operation(endpoint)
        assert op is not None
        path = op.template
        for param in op.path_params:
            kind = op.item if param in (op.path_params[-1], op.target) else op.parent_object
            oid = next((made[m] for m in catalog.members(kind or "") if m in made), "x_missing")
            if param == op.parent_param and op.parent_object:
                oid = next((made[m] for m in catalog.members(op.parent_object) if m in made),
                           oid)
            path = path.replace("{" + param + "}", oid)
        params = valid(endpoints[endpoint]["params"])
        if op.kind == "search":
            params["query"] = 'metadata["k"]:"v"'
        body = urlencode(encode(params))
        headers = {"Authorization": "Bearer sk_test_catalog", "Stripe-Version": version}
        if op.method == "POST":
            request = Request("POST", path, body=body, headers=headers)
        else:
            request = Request(op.method, path, query=body, headers=headers)
        response = fake.handle(request)
        body_json = json.loads(response.text)
        if response.status == 200 and isinstance(body_json, dict) and "id" in body_json \
                and isinstance(body_json.get("object"), str) and not body_json.get("deleted"):
            made.setdefault(body_json["object"], body_json["id"])
        record = fake.requests[-1]
        results.append((endpoint, response.status,
                        problems(version, record.endpoint, response.status, body_json)))
        assert not fake.internal_errors, fake.internal_errors[-1]
        del fake.requests[:]
    return results


@pytest.mark.parametrize("version", versions.SUPPORTED)
def test_every_operation_answers_with_its_schema(version: str) -> None:
    results = drive(version)
    assert len(results) == len(OPERATIONS)
    broken = [(e, s, p[:2]) for e, s, p in results if p or s >= 500]
    assert broken == []
    answered = sum(1 for _, status, _ in results if status == 200)
    # hand-written rules refuse random params (a refund of an unknown charge), the generic layer rarely
    assert answered > 0.6 * len(OPERATIONS), "most operations succeed with valid params"


def test_every_hand_written_route_is_an_operation_of_the_catalog() -> None:
    missing = [r.endpoint for r in ROUTER.routes() if r.endpoint not in OPERATIONS]
    assert missing == [], "spell the template exactly as Stripe's spec does"


def test_every_object_with_an_id_has_a_prefix_and_a_schema() -> None:
    for name, info in catalog.objects().items():
        assert name in schemas.object_names(versions.CURRENT)
        doc = schemas.object_schema(versions.CURRENT, name)
        if "id" in doc.get("properties", {}) and name not in ("tax.settings",):
            assert "prefix" in info, name
            assert PREFIXES[name][0].startswith(info["prefix"]), name


def test_every_operation_has_params_and_a_response_schema() -> None:
    for version in versions.SUPPORTED:
        names = set(schemas.object_names(version))
        for endpoint, entry in OPERATIONS.items():
            assert "params" in schemas.endpoints(version)[endpoint]
            assert entry["object"] in names or entry["object"] == "", endpoint


def test_resource_modules_are_discovered() -> None:
    assert {"products", "prices", "customers", "charges"} <= set(module_names())


def test_literal_segments_win_over_ids() -> None:
    assert catalog.match("GET", "/v1/customers/search") == ("/v1/customers/search", [])
    assert catalog.match("GET", "/v1/customers/cus_1") == ("/v1/customers/{customer}", ["cus_1"])
    assert catalog.match("GET", "/v1/invoices/upcoming") == ("/v1/invoices/upcoming", [])
    assert catalog.match("GET", "/v1/nothing") is None


def test_kinds_are_read_from_the_spec() -> None:
    kinds = {e: OPERATIONS[e]["kind"] for e in (
        "POST /v1/tax_rates", "GET /v1/tax_rates/{tax_rate}", "POST /v1/tax_rates/{tax_rate}",
        "GET /v1/tax_rates", "GET /v1/invoices/search", "GET /v1/balance",
        "POST /v1/customers/{customer}/tax_ids", "POST /v1/payment_intents/{intent}/cancel",
        "DELETE /v1/webhook_endpoints/{webhook_endpoint}")}
    assert kinds == {
        "POST /v1/tax_rates": "create", "GET /v1/tax_rates/{tax_rate}": "retrieve",
        "POST /v1/tax_rates/{tax_rate}": "update", "GET /v1/tax_rates": "list",
        "GET /v1/invoices/search": "search", "GET /v1/balance": "singleton",
        "POST /v1/customers/{customer}/tax_ids": "nested_create",
        "POST /v1/payment_intents/{intent}/cancel": "action",
        "DELETE /v1/webhook_endpoints/{webhook_endpoint}": "delete"}
