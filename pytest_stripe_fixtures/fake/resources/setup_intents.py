"""SetupIntents for cards: saving a card for later (STRIPE-API-RULES-PAYMENTS.md §5).

The same machine as PaymentIntents without money: :data:`MACHINE` (status, what happened) ->
new status; :data:`ALLOWED` says what each endpoint may start from.  Confirming verifies the
card through the test-card table: it succeeds (the PaymentMethod is attached to the customer
and set up for off-session payments [V]), asks for 3D Secure (``requires_action``, completed
with ``stripe_fake.payments.authenticate(seti_id)``), or declines (402, ``last_setup_error``,
back to ``requires_payment_method``) [V].  Each confirm that reaches the card is a SetupAttempt
(``latest_attempt``, ``GET /v1/setup_attempts``).
"""

from __future__ import annotations

from typing import Any

from .. import errors, events, lists, metadata, test_cards, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import cards, payment_intents, payment_methods

NAME = "setupintent"  # [C] "No such setupintent: 'seti_...'" (sic)

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
CONFIRM_NO_PM = (  # [C] (continues like the PaymentIntent text [R])
    "You cannot confirm this SetupIntent because it's missing a payment method. You can either "
    "update the SetupIntent with a payment method and then confirm it again, or confirm it "
    "again directly with a payment method.")
CONFIRM_SUCCEEDED = "You cannot confirm this SetupIntent because it has already succeeded."  # [C]
CONFIRM_STATE = (  # [R]
    "You cannot confirm this SetupIntent because it has a status of {status}.")
CANCEL_STATE = (  # [C] (2026 wording, with backticks)
    "You cannot cancel this SetupIntent because it has a status of {status}. Only a SetupIntent "
    "with one of the following statuses may be canceled: `requires_payment_method`, "
    "`requires_confirmation`, or `requires_action`.")
CANCEL_CANCELED = "You cannot cancel this SetupIntent because it is already canceled."  # [C]
UPDATE_SUCCEEDED = "You cannot update this SetupIntent because it has already succeeded."  # [C]
UPDATE_STATE = "You cannot update this SetupIntent because it has a status of {status}."  # [R]
AUTH_FAILED = (  # [V] stripe-node#1904
    "The latest attempt to set up the payment method has failed because authentication failed.")

RPM, RCONF, RACT = "requires_payment_method", "requires_confirmation", "requires_action"
SUCCEEDED, CANCELED = "succeeded", "canceled"
OPEN = (RPM, RCONF, RACT)

MACHINE: dict[tuple[str, str], str] = {  # [S]/[V]/[C] (§5.2)
    **{(s, "payment_method_set"): RCONF for s in (RPM, RCONF)},
    **{(s, "verified"): SUCCEEDED for s in OPEN},
    **{(s, "declined"): RPM for s in OPEN},
    **{(s, "needs_action"): RACT for s in OPEN},
    (RACT, "authentication_failed"): RPM,
    **{(s, "canceled"): CANCELED for s in OPEN},
}
ALLOWED: dict[str, tuple[str, ...]] = {"confirm": OPEN, "cancel": OPEN, "update": OPEN}

versions.register(
    versions.FieldAdded(
        "2023-10-16", "SetupIntents: `payment_method_configuration_details` [R] date (as "
        "PaymentIntents).", object="setup_intent", path="payment_method_configuration_details",
        schema={"type": ["object", "null"]}),
)


def _move(si: Obj, event: str) -> None:
    si["status"] = MACHINE[(si["status"], event)]


def unexpected_state(si: Obj, message: str) -> errors.StripeError:
    """400 ``setup_intent_unexpected_state``, the SetupIntent embedded [V] code."""
    return errors.StripeError(message, code="setup_intent_unexpected_state", saved=True,
                              extra={"setup_intent": si})


def _refuse_unless(si: Obj, action: str) -> None:
    status = si["status"]
    if status in ALLOWED[action]:
        return
    if action == "confirm":
        message = CONFIRM_SUCCEEDED if status == SUCCEEDED else CONFIRM_STATE.format(
            status=status)
    elif action == "cancel":
        message = CANCEL_CANCELED if status == CANCELED else CANCEL_STATE.format(status=status)
    else:
        message = UPDATE_SUCCEEDED if status == SUCCEEDED else UPDATE_STATE.format(status=status)
    raise unexpected_state(si, message)


def _card_options(p: dict[str, Any]) -> Obj:
    card = (p.get("payment_method_options") or {}).get("card") or {}
    return {"card": {"mandate_options": None, "network": card.get("network"),
                     "request_three_d_secure": card.get("request_three_d_secure", "automatic")}}


def new_intent(ctx: Context, p: dict[str, Any]) -> Obj:
    if not p.get("confirm"):
        for name in ("return_url", "mandate_data"):
            if name in p:
                raise errors.invalid(payment_intents.NEEDS_CONFIRM.format(param=name), name)
    types, auto = payment_intents.payment_method_types(p)
    customer = payment_intents.customer_id(ctx, p.get("customer"))
    sid = ctx.new_id("setup_intent")
    si: Obj = {
        "id": sid,
        "object": "setup_intent",
        "application": None,
        "attach_to_self": p.get("attach_to_self", False),
        "automatic_payment_methods": auto,
        "cancellation_reason": None,
        "client_secret": f"{sid}_secret_{ctx.account.ids.token(31)}",  # [V] one sample
        "created": ctx.now(),
        "customer": customer,
        "description": p.get("description"),
        "flow_directions": list(p["flow_directions"]) if p.get("flow_directions") else None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": metadata.apply({}, p.get("metadata")),
        "next_action": None,
        "on_behalf_of": p.get("on_behalf_of"),
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": _card_options(p),
        "payment_method_types": types,
        "single_use_mandate": None,
        "status": RPM,
        "usage": "on_session" if p.get("single_use") else p.get("usage", "off_session"),
    }
    if p.get("payment_method"):
        pm = payment_methods.resolve(ctx, p["payment_method"], "payment_method")
        payment_methods.check_usable(ctx.store, pm, customer, "payment_method")
        si["payment_method"] = pm["id"]
        _move(si, "payment_method_set")
    return ctx.store.add(si)


def _attempt(ctx: Context, si: Obj, pm: Obj, status: str, error: Obj | None,
             authenticated: bool) -> None:
    card = pm.get("card") or {}
    attempt = ctx.store.add({
        "id": ctx.new_id("setup_attempt"),
        "object": "setup_attempt",
        "application": None,
        "attach_to_self": si["attach_to_self"],
        "created": ctx.now(),
        "customer": si["customer"],
        "flow_directions": si["flow_directions"],
        "livemode": False,
        "on_behalf_of": si["on_behalf_of"],
        "payment_method": pm["id"],
        "payment_method_details": {"card": {
            "brand": card.get("brand"), "checks": card.get("checks"),
            "country": card.get("country"), "exp_month": card.get("exp_month"),
            "exp_year": card.get("exp_year"), "fingerprint": card.get("fingerprint"),
            "funding": card.get("funding"), "last4": card.get("last4"),
            "network": card.get("brand"),
            "three_d_secure": {"authentication_flow": "challenge", "result": "authenticated",
                               "result_reason": None, "version": "2.2.0"}
            if authenticated else None, "wallet": None}, "type": "card"},
        "setup_error": error,
        "setup_intent": si["id"],
        "status": status,
        "usage": si["usage"],
    })
    si["latest_attempt"] = attempt["id"]


def _verify(ctx: Context, si: Obj, pm: Obj, authenticated: bool) -> errors.StripeError | None:
    """The card's verification: attach and set up, or the decline (returned, not raised)."""
    decline = cards.attach_decline(payment_methods.row_of(pm))
    si["next_action"] = None
    if decline is not None:
        error = {**test_cards.error_hash(decline, ctx.version), "payment_method": dict(pm)}
        si["last_setup_error"] = error
        si["payment_method"] = None
        _attempt(ctx, si, pm, "failed", error, authenticated)
        _move(si, "declined")
        events.emit(ctx, "setup_intent.setup_failed", si)
        return test_cards.card_error(decline, ctx.version, setup_intent=si, payment_method=pm)
    si["last_setup_error"] = None
    _attempt(ctx, si, pm, "succeeded", None, authenticated)
    customer = ctx.store.get("customer", si["customer"]) if si["customer"] else None
    if pm["object"] == "payment_method":
        if customer is not None:
            payment_methods.attach(ctx, pm, customer, verify=False)
        if si["usage"] == "off_session":
            payment_methods.mark_set_up(ctx.store, pm)
    _move(si, "verified")
    events.emit(ctx, "setup_intent.succeeded", si)
    return None


def confirm_intent(ctx: Context, si: Obj, p: dict[str, Any]) -> Obj:
    _refuse_unless(si, "confirm")
    if p.get("payment_method"):
        pm = payment_methods.resolve(ctx, p["payment_method"], "payment_method")
        payment_methods.check_usable(ctx.store, pm, si["customer"], "payment_method")
        si["payment_method"] = pm["id"]
    elif si["payment_method"] is not None:
        pm = payment_intents.pm_obj(ctx, si["payment_method"])
    else:
        raise unexpected_state(si, CONFIRM_NO_PM)
    auto = si["automatic_payment_methods"]
    if auto and auto["enabled"] and auto["allow_redirects"] != "never" and not p.get(
            "return_url"):
        raise errors.invalid(payment_intents.RETURN_URL_NEEDED, "return_url")  # [D] same rule
    row = payment_methods.row_of(pm)
    if row is not None and row.three_d_secure in (test_cards.ALWAYS, test_cards.ON_SETUP,
                                                  test_cards.OFF_SESSION_OK):
        si["next_action"] = payment_intents.next_action(si, p.get("return_url"),
                                                        bool(p.get("use_stripe_sdk")))
        si["last_setup_error"] = None
        _move(si, "needs_action")
        events.emit(ctx, "setup_intent.requires_action", si)
        return si
    failure = _verify(ctx, si, pm, authenticated=False)
    if failure is not None:
        raise failure
    return si


def authenticate(ctx: Context, si: Obj, succeed: bool = True) -> Obj:
    """The customer completes (or fails) 3D Secure for a SetupIntent in ``requires_action``."""
    if si["status"] != RACT:
        raise ValueError(f"SetupIntent {si['id']} is {si['status']}, not requires_action: "
                         "there is nothing to authenticate")
    pm = payment_intents.pm_obj(ctx, si["payment_method"])
    if succeed:
        _verify(ctx, si, pm, authenticated=True)
        return si
    error = {"code": "setup_intent_authentication_failure",
             "doc_url": errors.DOCS + "setup-intent-authentication-failure",
             "message": AUTH_FAILED, "payment_method": dict(pm),
             "type": "invalid_request_error"}
    si["next_action"] = None
    si["payment_method"] = None
    si["last_setup_error"] = error
    _attempt(ctx, si, pm, "failed", error, False)
    _move(si, "authentication_failed")
    events.emit(ctx, "setup_intent.setup_failed", si)
    return si


def create_and_confirm(ctx: Context, *, customer: str | None, payment_method: str,
                       usage: str = "off_session", description: str | None = None,
                       metadata: Obj | None = None) -> Obj:
    """Create and confirm a card SetupIntent (checkout's setup mode): ``succeeded`` (the card
    attached to ``customer``), ``requires_action`` or ``requires_payment_method`` with
    ``last_setup_error`` (nothing is raised)."""
    p: dict[str, Any] = {"payment_method_types": ["card"], "usage": usage, "confirm": True,
                         "payment_method": payment_method}
    if customer is not None:
        p["customer"] = customer
    if description is not None:
        p["description"] = description
    if metadata:
        p["metadata"] = metadata
    si = new_intent(ctx, p)
    try:
        confirm_intent(ctx, si, {})
    except errors.StripeError as exc:
        if exc.status != 402:
            raise
    return si


# --- endpoints ----------------------------------------------------------------------------------


def _in_path(ctx: Context, intent: str) -> Obj:
    return ctx.store.require("setup_intent", intent, param="intent", in_path=True, name=NAME)


@route("POST", "/v1/setup_intents")
def create(ctx: Context) -> Obj:
    si = new_intent(ctx, ctx.params)
    if ctx.params.get("confirm"):
        confirm_intent(ctx, si, {k: v for k, v in ctx.params.items()
                                 if k in ("return_url", "use_stripe_sdk", "mandate_data")})
    return si


@route("GET", "/v1/setup_intents/{intent}")
def retrieve(ctx: Context, intent: str) -> Obj:
    return _in_path(ctx, intent)


@route("POST", "/v1/setup_intents/{intent}")
def update(ctx: Context, intent: str) -> Obj:
    si = _in_path(ctx, intent)
    p = ctx.params
    if any(k not in ("metadata", "expand") for k in p):
        _refuse_unless(si, "update")
    if "payment_method_types" in p:
        si["payment_method_types"], si["automatic_payment_methods"] = \
            payment_intents.payment_method_types(p)
    if "customer" in p:
        si["customer"] = payment_intents.customer_id(ctx, p["customer"])
    if p.get("payment_method"):
        pm = payment_methods.resolve(ctx, p["payment_method"], "payment_method")
        payment_methods.check_usable(ctx.store, pm, si["customer"], "payment_method")
        si["payment_method"] = pm["id"]
        if si["status"] in (RPM, RCONF):
            _move(si, "payment_method_set")
    for key in ("description", "attach_to_self"):
        if key in p:
            si[key] = p[key] if p[key] != "" else None
    if "flow_directions" in p:
        si["flow_directions"] = list(p["flow_directions"]) or None
    if "payment_method_options" in p:
        si["payment_method_options"] = _card_options(p)
    if "metadata" in p:
        si["metadata"] = metadata.apply(si["metadata"] or {}, p["metadata"])
    return si


@route("POST", "/v1/setup_intents/{intent}/confirm")
def confirm(ctx: Context, intent: str) -> Obj:
    return confirm_intent(ctx, _in_path(ctx, intent), ctx.params)


@route("POST", "/v1/setup_intents/{intent}/cancel")
def cancel(ctx: Context, intent: str) -> Obj:
    si = _in_path(ctx, intent)
    _refuse_unless(si, "cancel")
    si["cancellation_reason"] = ctx.params.get("cancellation_reason")
    si["next_action"] = None
    _move(si, "canceled")
    events.emit(ctx, "setup_intent.canceled", si)
    return si


@route("GET", "/v1/setup_intents")
def list_intents(ctx: Context) -> Obj:
    p = ctx.params
    filters = {k: p[k] for k in ("customer", "payment_method", "attach_to_self") if k in p}

    def matches(si: Obj) -> bool:
        return all(si.get(k) == v for k, v in filters.items())

    return lists.page(ctx.store.table("setup_intent"), p, "/v1/setup_intents",
                      matches if filters else None)


@route("GET", "/v1/setup_attempts")
def list_attempts(ctx: Context) -> Obj:
    p = ctx.params
    si = ctx.store.require("setup_intent", p["setup_intent"], param="setup_intent",
                           in_path=False, name=NAME)
    return lists.page(ctx.store.table("setup_attempt"), p, "/v1/setup_attempts",
                      lambda attempt: attempt["setup_intent"] == si["id"])
