"""Small helpers shared by the project's tests."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from pytest_stripe_fixtures.conformance import problems
from pytest_stripe_fixtures.fake import Request, Response, StripeFake
from pytest_stripe_fixtures.fake.formcodec import encode

KEY = "sk_test_fake"


def raw(fake: StripeFake, method: str, path: str, body: Any = None, *,
        key: str | None = KEY, version: str | None = None,
        headers: dict[str, str] | None = None) -> Response:
    """Send one request straight to the engine (no SDK), as any HTTP client would."""
    all_headers: dict[str, str] = dict(headers or {})
    if key is not None:
        all_headers.setdefault("Authorization", f"Bearer {key}")
    if version is not None:
        all_headers["Stripe-Version"] = version
    if isinstance(body, dict):
        body = urlencode(encode(body))
    if method == "GET" or method == "DELETE":
        path = f"{path}?{body}" if body else path
        body = None
    response = fake.handle(Request(method, path, body=body, headers=all_headers))
    record = fake.last_request
    if record is not None and record.resolved_version is not None:  # every response conforms
        assert problems(record.resolved_version, record.endpoint, response.status,
                        response.json()) == []
    return response


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def error_of(response: Response) -> dict[str, Any]:
    return response.json()["error"]


def request_error(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The ``stripe.InvalidRequestError`` that ``call(*args, **kwargs)`` must raise."""
    import pytest
    import stripe

    with pytest.raises(stripe.InvalidRequestError) as info:
        call(*args, **kwargs)
    return info.value
