"""``GET /v1/events`` and ``GET /v1/events/{id}`` (STRIPE-API-RULES-PAYMENTS.md §8.3).

Events are made by ``fake/events.py``; here they are read back: newest first, rendered at the
event's ``api_version`` (the account default) whatever version the request pinned [V], gone
after 30 days on the fake clock [D].
"""

from __future__ import annotations

from typing import Any

from .. import errors, events, lists
from ..engine import Context
from ..routing import route
from ..store import Obj

MAX_TYPES = 20  # [S] `types` takes at most 20 event types


def _type_matcher(p: dict[str, Any]) -> lists.Predicate | None:
    if "type" in p and "types" in p:
        raise errors.one_of("type", "types")
    if "types" in p:
        wanted = set(p["types"])
        if len(wanted) > MAX_TYPES:
            raise errors.too_large("types", MAX_TYPES, len(wanted))
        return lambda event: event["type"] in wanted
    pattern = p.get("type")
    if pattern is None:
        return None
    if "*" in pattern:  # `payment_intent.*` [S]
        prefix = pattern.split("*", 1)[0]
        return lambda event: event["type"].startswith(prefix)
    return lambda event: event["type"] == pattern


@route("GET", "/v1/events")
def list_events(ctx: Context) -> Obj:
    p = ctx.params
    now = ctx.now()
    checks = [lambda event: events.alive(event, now), _type_matcher(p)]
    if "delivery_success" in p:
        wanted = p["delivery_success"]
        checks.append(lambda event: events.delivered(event) is wanted)
    page = lists.page(ctx.store.table("event"), p, "/v1/events", lists.combine(*checks))
    page["data"] = [events.render(ctx.fake, ctx.store, event) for event in page["data"]]
    return page


@route("GET", "/v1/events/{id}")
def retrieve(ctx: Context, id: str) -> Obj:
    event = ctx.store.get("event", id)
    if event is None or not events.alive(event, ctx.now()):
        raise errors.no_such("event", id, "id", in_path=True)
    return events.render(ctx.fake, ctx.store, event)
