"""Bad input never breaks the fake: random methods, paths, params and bodies always get a
well-formed Stripe success or error (no 500, no traceback), and successes match schemas/."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_stripe_fixtures.conformance import problems
from pytest_stripe_fixtures.fake import Request, StripeFake, schemas, versions
from pytest_stripe_fixtures.fake.formcodec import encode
from pytest_stripe_fixtures.fake.resources import load_all

load_all()
ENDPOINTS = schemas.endpoints(versions.CURRENT)
TEMPLATES = sorted(ENDPOINTS)


def _seeded() -> tuple[StripeFake, dict[str, list[str]]]:
    """A fake with a few objects of each kind, so random ids sometimes hit real ones."""
    fake = StripeFake(seed=1)
    ids: dict[str, list[str]] = {}

    def post(path: str, params: dict[str, Any]) -> dict[str, Any]:
        body = urlencode(encode(params))
        return fake.handle(Request("POST", path, body=body,
                                   headers={"Authorization": "Bearer sk_test_fake"})).json()

    product = post("/v1/products", {"name": "Mug", "default_price_data": {
        "currency": "usd", "unit_amount": 5}})
    ids["product"] = [product["id"]]
    ids["price"] = [product["default_price"]]
    for path, kind, params in [
        ("/v1/coupons", "coupon", {"percent_off": 10, "duration": "once"}),
        ("/v1/customers", "customer", {"email": "a@example.com"}),
        ("/v1/sources", "source", {"type": "ach_credit_transfer", "currency": "usd",
                                   "owner": {"email": "a@example.com"}}),
    ]:
        made = post(path, params)
        if "id" in made:
            ids[kind] = [made["id"]]
    return fake, ids


FAKE, IDS = _seeded()

# Hostile numbers: beyond 64 bits, beyond Python's 4,300-digit int() limit, non-ASCII digits.
huge_numbers = st.one_of(
    st.integers(19, 30).map(lambda n: "9" * n), st.just("1" * 4301), st.just("-" + "7" * 5000),
    st.just("1" * 5000 + ".5"), st.sampled_from(["１２", "٣", "12٣", "१००", "²", "1_000"]))
scalars = st.one_of(st.text(max_size=12), st.integers(-10**6, 10**12).map(str), huge_numbers,
                    st.sampled_from(["", "true", "false", "inf", "null", "usd", "month",
                                     "0", "-1", "1e9", "once", "repeating", "tiered"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def from_schema(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly-valid values for a param schema node, so requests get past validation and into
    the resources' own rules; sometimes anything at all."""
    if depth > 3:
        return scalars
    if "anyOf" in node:
        return st.one_of([from_schema(v, depth + 1) for v in node["anyOf"]])
    kind = node.get("type")
    if "enum" in node:
        plausible: st.SearchStrategy[Any] = st.sampled_from(node["enum"])
    elif kind == "object":
        props = node.get("properties") or {}
        if props:
            required = {k: from_schema(props[k], depth + 1) for k in node.get("required", ())
                        if k in props}
            optional = {k: from_schema(v, depth + 1) for k, v in props.items()
                        if k not in required}
            plausible = st.fixed_dictionaries(required, optional=optional)
        else:
            plausible = st.dictionaries(st.sampled_from(["usd", "eur", "k", "EUR"]),
                                        from_schema(node.get("additionalProperties") or {},
                                                    depth + 1), max_size=2)
    elif kind == "array":
        plausible = st.lists(from_schema(node.get("items") or {}, depth + 1), max_size=3)
    elif kind == "integer":
        plausible = st.one_of(st.integers(-5, 10**10).map(str), huge_numbers)
    elif kind == "number":
        plausible = st.floats(-5, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}")
    elif kind == "boolean":
        plausible = st.sampled_from(["true", "false"])
    else:
        known = [i for ids in IDS.values() for i in ids]
        plausible = st.sampled_from(known + ["usd", "eur", "once", "forever", "month", "x"])
    return st.one_of(plausible, plausible, plausible, values)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    template = draw(st.sampled_from(TEMPLATES))
    method, path = template.split(" ", 1)
    method = draw(st.sampled_from([method] * 20 + ["PUT", "PATCH", "GET", "POST", "DELETE"]))
    for name in ENDPOINTS[template]["path_params"]:
        known = [i for ids in IDS.values() for i in ids]
        path = path.replace("{" + name + "}", draw(st.sampled_from(known * 5) | st.text(
            st.characters(blacklist_characters="/?#%", blacklist_categories=("Cs",)),
            min_size=1, max_size=10)), 1)
    schema = ENDPOINTS[template]["params"]
    params = draw(from_schema(schema) if draw(st.integers(0, 4)) else
                  st.dictionaries(st.text(max_size=8), values, max_size=4))
    if not isinstance(params, dict):
        params = {"x": params}
    body: Any = urlencode(encode(params))
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.binary(max_size=40))
    elif draw(st.integers(0, 14)) == 0:  # long and deep bracketed keys
        depth = draw(st.sampled_from([3, 25, 2000, 20000]))
        body = "metadata" + draw(st.sampled_from(["[a]", "[", "[]", "]["])) * depth + "=1"
    version = draw(st.sampled_from([None, versions.OLDEST, versions.CURRENT] * 4
                                   + ["2024-01-01", "garbage", "2023-08-16.zzz", "1970-01-01",
                                      "2023-08-16\r\n x", "２０２３-08-16"]))
    headers = {"Authorization": draw(st.sampled_from(
        ["Bearer sk_test_fake"] * 30 + ["", "Bearer pk_test_x", "Basic !!", "Bearer sk_live_x"]))}
    if version:
        headers["Stripe-Version"] = version
    if method == "POST" and draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.sampled_from(["k1", "k2", "x" * 300, "", " ",
                                                           "k\r\n 3"]))
    if method in ("GET", "DELETE"):
        return Request(method, path, query=body if isinstance(body, str) else "", headers=headers)
    return Request(method, path, body=body, headers=headers)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(requests())
def test_every_answer_is_a_well_formed_stripe_response(request: Request) -> None:
    response = FAKE.handle(request)
    assert not FAKE.internal_errors, FAKE.internal_errors[-1]
    assert response.status != 500
    body = json.loads(response.text)
    assert response.headers["Request-Id"].startswith("req_")
    assert not any("\r" in v or "\n" in v for v in response.headers.values())
    if response.status >= 400:
        assert set(body) == {"error"}
        assert body["error"]["type"] in ("invalid_request_error", "idempotency_error", "card_error")
        assert body["error"]["message"]
    record = FAKE.requests[-1]
    if record.resolved_version is not None:
        assert problems(record.resolved_version, record.endpoint, response.status, body) == []
    del FAKE.requests[:]
