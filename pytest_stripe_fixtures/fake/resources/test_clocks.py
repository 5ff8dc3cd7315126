"""Test clocks (STRIPE-API-RULES-BILLING.md §6): a frozen time for the billing objects of
the customers created on it.  ``advance`` moves those objects through time in one go
(``subscriptions.run_until``); the answer says ``advancing`` as Stripe's does, and the clock
reads ``ready`` from the next request on (the fake has finished by then)."""

from __future__ import annotations

from .. import errors, events, lists
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import subscriptions

# --- messages: [R] unless tagged; correct them here -------------------------------------------
NOT_AFTER = (  # [R] rule [S]
    "The frozen_time must be after the test clock's current frozen time ({frozen}).")
NO_SUBSCRIPTIONS_TOO_FAR = (  # [R] rule [S]
    "A test clock without subscriptions cannot be advanced more than two years at a time.")
DELETES_AFTER = 30 * 24 * 3600  # [V] stripe-python#789 (2022); the docs example shows 7 days
TWO_YEARS = 2 * 365 * 24 * 3600


def _clock_in_path(ctx: Context, test_clock: str) -> Obj:
    return ctx.store.require("test_helpers.test_clock", test_clock, param="test_clock",
                             in_path=True, name="test_helpers.test_clock")


@route("POST", "/v1/test_helpers/test_clocks")
def create(ctx: Context) -> Obj:
    p = ctx.params
    clock: Obj = {"id": ctx.new_id("test_helpers.test_clock"),
                  "object": "test_helpers.test_clock", "created": ctx.now(),
                  "deletes_after": ctx.now() + DELETES_AFTER, "frozen_time": p["frozen_time"],
                  "livemode": False, "name": p.get("name"), "status": "ready"}
    return ctx.store.add(clock)


@route("GET", "/v1/test_helpers/test_clocks/{test_clock}")
def retrieve(ctx: Context, test_clock: str) -> Obj:
    return _clock_in_path(ctx, test_clock)


@route("GET", "/v1/test_helpers/test_clocks")
def list_clocks(ctx: Context) -> Obj:
    return lists.page(ctx.store.table("test_helpers.test_clock"), ctx.params,
                      "/v1/test_helpers/test_clocks")


@route("POST", "/v1/test_helpers/test_clocks/{test_clock}/advance")
def advance(ctx: Context, test_clock: str) -> Obj:
    clock = _clock_in_path(ctx, test_clock)
    target = ctx.params["frozen_time"]
    frozen = clock["frozen_time"]
    if target <= frozen:
        raise errors.invalid(NOT_AFTER.format(frozen=frozen), "frozen_time")
    limit = subscriptions.shortest_interval_end(ctx.store, clock["id"], frozen)
    if limit is None and target - frozen > TWO_YEARS:
        raise errors.invalid(NO_SUBSCRIPTIONS_TOO_FAR, "frozen_time")
    if limit is not None and target > limit:
        raise errors.invalid(subscriptions.ADVANCE_TOO_FAR, "frozen_time")
    clock["status"] = "advancing"
    events.emit(ctx, "test_helpers.test_clock.advancing", clock)
    subscriptions.run_until(ctx, target, clock["id"])
    clock["frozen_time"] = target
    answer = dict(clock)  # the answer says `advancing`; the clock is ready right after
    clock["status"] = "ready"
    events.emit(ctx, "test_helpers.test_clock.ready", clock)
    return answer


@route("DELETE", "/v1/test_helpers/test_clocks/{test_clock}")
def delete(ctx: Context, test_clock: str) -> Obj:
    """The clock's customers and their billing objects go with it [C]."""
    clock = _clock_in_path(ctx, test_clock)
    store = ctx.store
    for kind in ("subscription", "invoice", "invoiceitem", "customer"):
        for obj in list(store.all(kind)):
            if obj.get("test_clock") == clock["id"]:
                store.delete(kind, obj["id"], None)
    stub = {"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True}
    store.delete("test_helpers.test_clock", clock["id"], stub)
    return stub
