"""``stripe_fake.trigger("charge.succeeded")``: the API calls that produce an event, like
``stripe trigger`` (whose fixtures, stripe-cli ``pkg/fixtures/triggers``, these follow).

Each flow is a list of requests made through the fake itself (so the events are exactly what
the API does); a flow's ``{name}`` placeholders refer to ids of earlier steps.  Resources that
add event types register their flows with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .http import Request

if TYPE_CHECKING:
    from .engine import StripeFake

KEY = "sk_test_pytest_stripe_fixtures"
Step = tuple[str, str, dict[str, Any], str | None]  # method, path, params, name of the result
Flow = list[Step] | Callable[["StripeFake", str], None]

_PRODUCT: Step = ("POST", "/v1/products", {"name": "myproduct"}, "product")
_PRICE: Step = ("POST", "/v1/prices", {"product": "{product}", "unit_amount": 1500,
                                       "currency": "usd"}, "price")
_COUPON: Step = ("POST", "/v1/coupons", {"percent_off": 10, "duration": "once"}, "coupon")
_CUSTOMER: Step = ("POST", "/v1/customers", {"description": "(created by trigger)"}, "customer")
_OLD = {"Stripe-Version": "2023-08-16"}  # customer discounts by `coupon` need the old API

FLOWS: dict[str, Flow] = {
    "product.created": [_PRODUCT],
    "product.updated": [_PRODUCT, ("POST", "/v1/products/{product}",
                                   {"metadata[foo]": "bar"}, None)],
    "product.deleted": [_PRODUCT, ("DELETE", "/v1/products/{product}", {}, None)],
    "price.created": [_PRODUCT, _PRICE],
    "price.updated": [_PRODUCT, _PRICE, ("POST", "/v1/prices/{price}",
                                         {"metadata[foo]": "bar"}, None)],
    "coupon.created": [_COUPON],
    "coupon.updated": [_COUPON, ("POST", "/v1/coupons/{coupon}", {"metadata[foo]": "bar"},
                                 None)],
    "coupon.deleted": [_COUPON, ("DELETE", "/v1/coupons/{coupon}", {}, None)],
    "promotion_code.created": [_COUPON, ("POST", "/v1/promotion_codes",
                                         {"coupon": "{coupon}", **_OLD}, "promotion_code")],
    "promotion_code.updated": [_COUPON, ("POST", "/v1/promotion_codes",
                                         {"coupon": "{coupon}", **_OLD}, "promotion_code"),
                               ("POST", "/v1/promotion_codes/{promotion_code}",
                                {"metadata[foo]": "bar"}, None)],
    "customer.created": [_CUSTOMER],
    "customer.updated": [_CUSTOMER, ("POST", "/v1/customers/{customer}",
                                     {"metadata[foo]": "bar"}, None)],
    "customer.deleted": [_CUSTOMER, ("DELETE", "/v1/customers/{customer}", {}, None)],
    "customer.discount.created": [_COUPON, _CUSTOMER, ("POST", "/v1/customers/{customer}",
                                                       {"coupon": "{coupon}", **_OLD}, None)],
    "customer.discount.updated": [
        _COUPON, _CUSTOMER, ("POST", "/v1/customers/{customer}", {"coupon": "{coupon}", **_OLD},
                             None),
        ("POST", "/v1/coupons", {"percent_off": 20, "duration": "once"}, "other"),
        ("POST", "/v1/customers/{customer}", {"coupon": "{other}", **_OLD}, None)],
    "customer.discount.deleted": [
        _COUPON, _CUSTOMER, ("POST", "/v1/customers/{customer}", {"coupon": "{coupon}", **_OLD},
                             None),
        ("DELETE", "/v1/customers/{customer}/discount", {}, None)],
    "customer.source.created": [_CUSTOMER, ("POST", "/v1/customers/{customer}/sources",
                                            {"source": "tok_visa"}, "card")],
    "customer.source.updated": [_CUSTOMER, ("POST", "/v1/customers/{customer}/sources",
                                            {"source": "tok_visa"}, "card"),
                                ("POST", "/v1/customers/{customer}/sources/{card}",
                                 {"metadata[foo]": "bar"}, None)],
    "customer.source.deleted": [_CUSTOMER, ("POST", "/v1/customers/{customer}/sources",
                                            {"source": "tok_visa"}, "card"),
                                ("DELETE", "/v1/customers/{customer}/sources/{card}", {}, None)],
    "charge.succeeded": [("POST", "/v1/charges", {"amount": 100, "currency": "usd",
                                                  "source": "tok_visa"}, "charge")],
    "charge.failed": [("POST", "/v1/charges", {"amount": 100, "currency": "usd",
                                               "source": "tok_chargeDeclined"}, None)],
    "charge.updated": [("POST", "/v1/charges", {"amount": 100, "currency": "usd",
                                                "source": "tok_visa"}, "charge"),
                       ("POST", "/v1/charges/{charge}", {"description": "updated"}, None)],
}

_SOURCE: Step = ("POST", "/v1/sources", {"type": "ach_credit_transfer", "currency": "usd",
                                         "owner[email]": "jenny.rosen@example.com"}, "source")


def _source_moved(status: str) -> Callable[[StripeFake, str], None]:
    def flow(fake: StripeFake, api_key: str) -> None:
        from .resources.sources import set_status

        ids = _run_steps(fake, api_key, [_SOURCE])
        set_status(fake._account(api_key).store, ids["source"], status)
    return flow


FLOWS["source.chargeable"] = _source_moved("chargeable")
FLOWS["source.canceled"] = _source_moved("canceled")
FLOWS["source.failed"] = _source_moved("failed")


def register(event_type: str, flow: Flow) -> None:
    """Add (or replace) the flow that produces ``event_type``."""
    FLOWS[event_type] = flow


def run(fake: StripeFake, event_type: str, api_key: str | None = None) -> list[Any]:
    """Run the flow for ``event_type``; the events it produced, oldest first."""
    flow = FLOWS.get(event_type)
    if flow is None:
        raise ValueError(f"the fake cannot trigger {event_type!r}; it can trigger: "
                         + ", ".join(sorted(FLOWS)))
    key = api_key or KEY
    before = {e["id"] for e in fake.events_of(key)}
    if callable(flow):
        flow(fake, key)
    else:
        _run_steps(fake, key, flow)
    return [e for e in fake.events_of(key) if e["id"] not in before]


def _run_steps(fake: StripeFake, api_key: str, steps: list[Step]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for method, path, params, name in steps:
        headers = {"Authorization": f"Bearer {api_key}"}
        fields = {}
        for key, value in params.items():
            if key == "Stripe-Version":
                headers[key] = value
            else:
                fields[key] = value.format(**ids) if isinstance(value, str) else value
        body = urlencode(fields)
        response = fake.handle(Request(method, path.format(**ids), body=body if method == "POST"
                                       else None, query="" if method == "POST" else body,
                                       headers=headers))
        if response.status >= 400 and name is not None:
            raise RuntimeError(f"trigger step {method} {path} failed: {response.text}")
        if name is not None:
            ids[name] = response.json()["id"]
    return ids
