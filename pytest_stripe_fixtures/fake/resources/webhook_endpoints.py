"""``/v1/webhook_endpoints`` (STRIPE-API-RULES-PAYMENTS.md §8.4): where events are POSTed.

``secret`` (``whsec_``) is in the create answer only [S]; ``api_version`` (null: the account
default) is the version the endpoint's events are rendered in; ``disabled`` -> ``status``.
Delivery is ``fake/webhooks.py``.
"""

from __future__ import annotations

from typing import Any

from .. import errors, events, lists, metadata, versions, webhooks
from ..engine import Context
from ..routing import route
from ..store import Obj

INVALID_EVENT = "Invalid enabled_events[{index}]: must be one of {value}"  # [R]
INVALID_URL = "Invalid URL: {url}"  # [R]
INVALID_VERSION = "Invalid api_version: {value}"  # [R]
NAME = "webhook endpoint"  # [R] "No such webhook endpoint: 'we_...'"


def _check_events(enabled: list[str]) -> list[str]:
    known = events.known_types()
    for index, name in enumerate(enabled):
        if name != "*" and name not in known:
            raise errors.invalid(INVALID_EVENT.format(index=index, value=name),
                                 f"enabled_events[{index}]")
    return list(dict.fromkeys(enabled))


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url.split("//", 1)[1]) == 0:
        raise errors.invalid(INVALID_URL.format(url=url), "url")
    return url


def _public(endpoint: Obj) -> Obj:
    return {k: v for k, v in endpoint.items() if not k.startswith("_")}


@route("POST", "/v1/webhook_endpoints")
def create(ctx: Context) -> Obj:
    p = ctx.params
    for name in ("url", "enabled_events"):
        if name not in p:
            raise errors.missing_param(name)
    version = p.get("api_version")
    if version is not None:
        try:
            versions.version_key(version)
        except versions.InvalidVersion:
            raise errors.invalid(INVALID_VERSION.format(value=version), "api_version") from None
    secret = webhooks.new_secret(ctx.account.ids.token)
    endpoint: Obj = {
        "id": ctx.new_id("webhook_endpoint"),
        "object": "webhook_endpoint",
        "api_version": version,
        "application": None,
        "created": ctx.now(),
        "description": p.get("description") or None,
        "enabled_events": _check_events(p["enabled_events"]),
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "status": "enabled",
        "url": _check_url(p["url"]),
        "_secret": secret,
    }
    ctx.store.add(endpoint)
    return {**_public(endpoint), "secret": secret}


def _get(ctx: Context, oid: str) -> Obj:
    return ctx.store.require("webhook_endpoint", oid, param="webhook_endpoint", in_path=True,
                             name=NAME)


@route("GET", "/v1/webhook_endpoints/{webhook_endpoint}")
def retrieve(ctx: Context, webhook_endpoint: str) -> Obj:
    return _public(_get(ctx, webhook_endpoint))


@route("POST", "/v1/webhook_endpoints/{webhook_endpoint}")
def update(ctx: Context, webhook_endpoint: str) -> Obj:
    endpoint = _get(ctx, webhook_endpoint)
    p: dict[str, Any] = ctx.params
    if "enabled_events" in p:
        endpoint["enabled_events"] = _check_events(p["enabled_events"])
    if "url" in p:
        endpoint["url"] = _check_url(p["url"])
    if "description" in p:
        endpoint["description"] = p["description"] or None
    if "disabled" in p:
        endpoint["status"] = "disabled" if p["disabled"] else "enabled"
    if "metadata" in p:
        endpoint["metadata"] = metadata.apply(endpoint["metadata"], p["metadata"])
    return _public(endpoint)


@route("DELETE", "/v1/webhook_endpoints/{webhook_endpoint}")
def delete(ctx: Context, webhook_endpoint: str) -> Obj:
    _get(ctx, webhook_endpoint)
    stub = {"id": webhook_endpoint, "object": "webhook_endpoint", "deleted": True}
    ctx.store.delete("webhook_endpoint", webhook_endpoint, stub)
    return stub


@route("GET", "/v1/webhook_endpoints")
def list_endpoints(ctx: Context) -> Obj:
    page = lists.page(ctx.store.table("webhook_endpoint"), ctx.params, "/v1/webhook_endpoints")
    page["data"] = [_public(e) for e in page["data"]]
    return page
