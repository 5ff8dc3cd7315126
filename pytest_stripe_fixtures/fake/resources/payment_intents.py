"""PaymentIntents for cards (STRIPE-API-RULES-PAYMENTS.md §4).

The status machine is :data:`MACHINE`: (status, what happened) -> new status.  What each
action may start from is :data:`ALLOWED`; anything else is refused with Stripe's
``payment_intent_unexpected_state`` (the PaymentIntent embedded in the error [V]).

Confirming charges the PaymentMethod through the test-card table (``test_cards``): a success
makes a real Charge (``latest_charge``), captured at once or authorized for a manual capture; a
decline leaves a failed Charge, ``last_payment_error`` and ``requires_payment_method`` (402
``card_error``) [V]; a card that needs 3D Secure moves to ``requires_action`` with a
``next_action`` [V], which the customer completes or fails in the browser: in tests,
``stripe_fake.payments.authenticate(pi_id, succeed=True)`` (see :func:`authenticate`).

:func:`create_and_confirm` is the entry point billing (invoices) and checkout use.
"""

from __future__ import annotations

from typing import Any

from .. import currencies, errors, events, lists, metadata, test_cards, versions
from ..engine import Context
from ..routing import route
from ..store import Obj
from . import charges, payment_methods, sources

NAME = "payment_intent"  # [V pattern] "No such payment_intent: 'pi_...'"

# --- messages: [V]/[C] as tagged, the rest [R]; correct them here ---------------------------
CONFIRM_NO_PM = (  # [V]
    "You cannot confirm this PaymentIntent because it's missing a payment method. You can "
    "either update the PaymentIntent with a payment method and then confirm it again, or confirm "
    "it again directly with a payment method.")
CONFIRM_SUCCEEDED = (  # [V]
    "You cannot confirm this PaymentIntent because it has already succeeded after being "
    "previously confirmed.")
CONFIRM_STATE = (  # [R] (the canceled case: "...because it has a status of canceled." [V] prefix)
    "You cannot confirm this PaymentIntent because it has a status of {status}. Only a "
    "PaymentIntent with one of the following statuses may be confirmed: requires_payment_method, "
    "requires_confirmation, requires_action.")
CAPTURE_STATE = (  # [V] / [V pattern]
    "This PaymentIntent could not be captured because it has a status of {status}. Only a "
    "PaymentIntent with one of the following statuses may be captured: requires_capture.")
CAPTURED_ALREADY = (  # [V] prefix, tail [R]
    "This PaymentIntent could not be captured because it has already been captured.")
CANCEL_STATE = (  # [V] / [V pattern]
    "You cannot cancel this PaymentIntent because it has a status of {status}. Only a "
    "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
    "requires_capture, requires_confirmation, requires_action, processing.")
AMOUNT_STATE = (  # [V] / [V pattern]
    "This PaymentIntent's amount could not be updated because it has a status of {status}. You "
    "may only update the amount of a PaymentIntent with one of the following statuses: "
    "requires_payment_method, requires_confirmation, requires_action.")
UPDATE_STATE = (  # [R]
    "You cannot update this PaymentIntent because it has a status of {status}.")
CAPTURE_TOO_LARGE = (  # [V] 202-ecommerce/stripe_official#98
    "The payment could not be captured because the requested capture amount is greater than the "
    "authorized amount.")
RETURN_URL_NEEDED = (  # [V] woocommerce-gateway-stripe#2982
    "A `return_url` must be specified because this Payment Intent is configured to automatically "
    "accept the payment methods enabled in the Dashboard, some of which may require a full page "
    "redirect to succeed. If you do not want to accept redirect-based payment methods, set "
    "`automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods"
    "[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.")
NEEDS_CONFIRM = "You may only specify {param} when confirm=true."  # [R]
TYPES_AND_AUTOMATIC = (  # [R]
    "You may only specify one of these parameters: automatic_payment_methods, "
    "payment_method_types.")
PM_TYPE_NOT_FAKED = (  # [R] the fake's limit
    "pytest-stripe-fixtures fakes card payments only (payment_method_types: {types}).")
AMOUNT_TOO_SMALL_USD = "Amount must be at least $0.50 usd"  # [V] woocommerce-gateway-stripe#1769
AUTH_FAILED = (  # [R] (code payment_intent_authentication_failure [S]/[R])
    "The latest payment attempt of this PaymentIntent has failed or been canceled, and the "
    "attached payment method has been removed. You can try confirming again with a new payment "
    "method.")
NOT_HANDLED = (  # [R] message; code/decline_code [V] (aat)
    "Your card was declined. This transaction requires authentication.")

SEARCH_FIELDS = {"amount": "numeric", "created": "numeric", "currency": "token",
                 "customer": "token", "metadata": "token", "status": "token"}

# --- the status machine [S]/[V]/[C] (§4.3) ------------------------------------------------------
RPM, RCONF, RACT = "requires_payment_method", "requires_confirmation", "requires_action"
PROCESSING, RCAP, SUCCEEDED, CANCELED = "processing", "requires_capture", "succeeded", "canceled"
OPEN = (RPM, RCONF, RACT)

MACHINE: dict[tuple[str, str], str] = {
    **{(s, "payment_method_set"): RCONF for s in (RPM, RCONF)},
    **{(s, "charged"): SUCCEEDED for s in (*OPEN,)},
    **{(s, "authorized"): RCAP for s in (*OPEN,)},
    **{(s, "declined"): RPM for s in (*OPEN,)},
    **{(s, "needs_action"): RACT for s in (RPM, RCONF, RACT)},
    (RACT, "authenticated_manual_confirmation"): RCONF,
    (RACT, "authentication_failed"): RPM,
    (RCAP, "captured"): SUCCEEDED,
    **{(s, "canceled"): CANCELED for s in (RPM, RCAP, RCONF, RACT, PROCESSING)},
}
# What each endpoint may start from (the rest is refused with the messages above).
ALLOWED: dict[str, tuple[str, ...]] = {
    "confirm": OPEN,
    "capture": (RCAP,),
    "cancel": (RPM, RCAP, RCONF, RACT, PROCESSING),
    "update_amount": OPEN,
}

versions.register(
    versions.FieldRemoved(
        "2025-03-31.basil", "PaymentIntents: `invoice` removed (invoice payments) [D] changelog.",
        object="payment_intent", path="invoice"),
    versions.FieldAdded(
        "2023-10-16", "PaymentIntents: `payment_method_configuration_details` (in real 2023-10 "
        "bodies [V]; the 2023-08-16 spec lacks it).", object="payment_intent",
        path="payment_method_configuration_details", schema={"type": ["object", "null"]}),
)


def _move(pi: Obj, event: str) -> None:
    pi["status"] = MACHINE[(pi["status"], event)]


def unexpected_state(ctx: Context, pi: Obj, message: str) -> errors.StripeError:
    """400 ``payment_intent_unexpected_state``, the PaymentIntent embedded [V]."""
    return errors.StripeError(message, code="payment_intent_unexpected_state", saved=True,
                              extra={"payment_intent": pi})


def _refuse_unless(ctx: Context, pi: Obj, action: str) -> None:
    if pi["status"] in ALLOWED[action]:
        return
    status = pi["status"]
    if action == "confirm":
        message = CONFIRM_SUCCEEDED if status == SUCCEEDED else CONFIRM_STATE.format(
            status=status)
    elif action == "capture":
        message = CAPTURED_ALREADY if status == SUCCEEDED and pi["capture_method"] == "manual" \
            else CAPTURE_STATE.format(status=status)
    elif action == "cancel":
        message = CANCEL_STATE.format(status=status)
    else:
        message = AMOUNT_STATE.format(status=status)
    raise unexpected_state(ctx, pi, message)


# --- private state beside a PaymentIntent --------------------------------------------------------


def _state(ctx: Context, pi: Obj) -> Obj:
    """What the fake remembers about the current attempt (never rendered)."""
    found = ctx.store.get("intent_attempt", pi["id"])
    if found is None:
        found = ctx.store.add({"id": pi["id"], "object": "intent_attempt", "off_session": False,
                               "authenticated": None, "params": {}})
    return found


# --- building blocks ------------------------------------------------------------------------------


def _payment_method_types(p: dict[str, Any]) -> tuple[list[str], Obj | None]:
    types, auto = p.get("payment_method_types"), p.get("automatic_payment_methods")
    if types and auto:
        raise errors.invalid(TYPES_AND_AUTOMATIC, "payment_method_types")
    if types:
        if any(t != "card" for t in types):
            raise errors.invalid(PM_TYPE_NOT_FAKED.format(types=", ".join(types)),
                                 "payment_method_types")
        return list(types), None
    # [D] changelog 2023-08-16: automatic payment methods by default; the Dashboard's methods
    # are account-dependent, here cards only [R]
    auto = auto or {"enabled": True}
    enabled = auto["enabled"]
    return ["card"], {"allow_redirects": auto.get("allow_redirects", "always"),
                      "enabled": enabled} if enabled else None


def _card_options(p: dict[str, Any]) -> Obj:
    card = (p.get("payment_method_options") or {}).get("card") or {}
    return {"card": {"installments": None, "mandate_options": None,
                     "network": card.get("network"),
                     "request_three_d_secure": card.get("request_three_d_secure", "automatic")}}


def _check_amount(amount: int, currency: str) -> None:
    try:
        charges.check_amount(amount, currency)
    except errors.StripeError as exc:
        if exc.code == "amount_too_small" and currency == "usd":
            exc.message = AMOUNT_TOO_SMALL_USD
        raise


def _customer_id(ctx: Context, value: str | None) -> str | None:
    if not value:
        return None
    return ctx.store.require("customer", value, param="customer", in_path=False)["id"]


def _set_payment_method(ctx: Context, pi: Obj, value: str, param: str = "payment_method") -> Obj:
    pm = payment_methods.resolve(ctx, value, param)
    payment_methods.check_usable(ctx.store, pm, pi["customer"], param)
    pi["payment_method"] = pm["id"]
    return pm


def new_intent(ctx: Context, p: dict[str, Any]) -> Obj:
    """A new PaymentIntent from create params (stored; not confirmed)."""
    for name in ("amount", "currency"):
        if name not in p:
            raise errors.missing_param(name)
    currency = currencies.check(p["currency"])
    _check_amount(p["amount"], currency)
    if not p.get("confirm"):
        for name in ("return_url", "off_session", "error_on_requires_action", "mandate_data"):
            if name in p:
                raise errors.invalid(NEEDS_CONFIRM.format(param=name), name)
    types, auto = _payment_method_types(p)
    customer = _customer_id(ctx, p.get("customer"))
    pid = ctx.new_id("payment_intent")
    pi: Obj = {
        "id": pid,
        "object": "payment_intent",
        "amount": p["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": p.get("application_fee_amount"),
        "automatic_payment_methods": auto,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": p.get("capture_method", "automatic"),
        "client_secret": f"{pid}_secret_{ctx.account.ids.token(25)}",  # [V] shape
        "confirmation_method": p.get("confirmation_method", "automatic"),
        "created": ctx.now(),
        "currency": currency,
        "customer": customer,
        "description": p.get("description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata.apply({}, p.get("metadata")),
        "next_action": None,
        "on_behalf_of": p.get("on_behalf_of"),
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": _card_options(p),
        "payment_method_types": types,
        "processing": None,
        "receipt_email": p.get("receipt_email"),
        "review": None,
        "setup_future_usage": p.get("setup_future_usage") or None,
        "shipping": sources.shipping(p.get("shipping")),
        "statement_descriptor": p.get("statement_descriptor"),
        "statement_descriptor_suffix": p.get("statement_descriptor_suffix"),
        "status": RPM,
        "transfer_data": None if "transfer_data" not in p else {
            "amount": p["transfer_data"].get("amount"),
            "destination": p["transfer_data"]["destination"]},
        "transfer_group": p.get("transfer_group"),
    }
    if "payment_method" in p:
        _set_payment_method(ctx, pi, p["payment_method"])
        _move(pi, "payment_method_set")
    return ctx.store.add(pi)


def _next_action(pi: Obj, return_url: str | None, use_stripe_sdk: bool) -> Obj:
    """What the customer must do: a 3D Secure redirect [V] shapes (§4.7)."""
    attempt = pi["id"].replace("pi_", "payatt_", 1)
    if return_url and not use_stripe_sdk:
        return {"redirect_to_url": {
            "return_url": return_url,
            "url": ("https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_fake&payment_intent="
                    f"{pi['id']}&payment_intent_client_secret={pi['client_secret']}"
                    f"&publishable_key=pk_test_fake&source={attempt}")},
            "type": "redirect_to_url"}
    return {"type": "use_stripe_sdk",
            "use_stripe_sdk": {"source": attempt, "stripe_js":
                               f"https://hooks.stripe.com/redirect/authenticate/{attempt}",
                               "type": "three_d_secure_redirect"}}


def _pm_details(pm: Obj, authenticated: bool) -> Obj:
    """A charge's ``payment_method_details`` for a PaymentMethod (or legacy Card)."""
    if pm["object"] == "card":
        from . import cards

        return cards.charge_details(pm)
    card = pm["card"]
    return {"card": {
        "brand": card["brand"], "checks": {**card["checks"], "cvc_check": "pass"
                                           if card["checks"]["cvc_check"] == "unchecked"
                                           else card["checks"]["cvc_check"]},
        "country": card["country"], "exp_month": card["exp_month"],
        "exp_year": card["exp_year"], "fingerprint": card["fingerprint"],
        "funding": card["funding"], "installments": None, "last4": card["last4"],
        "mandate": None, "network": card["brand"], "network_token": {"used": False},
        "three_d_secure": None if not authenticated else {
            "authentication_flow": "challenge", "result": "authenticated",
            "result_reason": None, "version": "2.2.0"},
        "wallet": None}, "type": "card"}


def _pm_billing(pm: Obj) -> Obj:
    if pm["object"] == "card":
        from . import cards

        return cards.billing_details(pm)
    return pm["billing_details"]


def _pm_obj(ctx: Context, pm_id: str) -> Obj:
    return ctx.store.get("payment_method", pm_id) or ctx.store.require(
        "card", pm_id, param="payment_method", in_path=False)


def _charge(ctx: Context, pi: Obj, pm: Obj, state: Obj) -> errors.StripeError | None:
    """The payment attempt: a Charge, and the PaymentIntent moved; the card error on a decline
    (the caller raises it inside a request; the test helper only records it)."""
    row = payment_methods.row_of(pm)
    authenticated = state["authenticated"] == pm["id"]
    decline = row.decline if row is not None else None
    if (decline is None and row is not None and state["off_session"]
            and row.needs_authentication(off_session=True,
                                         set_up=payment_methods.is_set_up(ctx.store, pm))
            and not authenticated):
        decline = test_cards.NEEDS_AUTHENTICATION
    manual = pi["capture_method"] == "manual"
    params = {**state["params"], "description": pi["description"],
              "metadata": dict(pi["metadata"]), "receipt_email": pi["receipt_email"],
              "statement_descriptor": pi["statement_descriptor"],
              "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
              "transfer_group": pi["transfer_group"],
              "application_fee_amount": pi["application_fee_amount"]}
    params = {k: v for k, v in params.items() if v is not None}
    charge = charges.new_charge(
        ctx, amount=pi["amount"], currency=pi["currency"], customer=pi["customer"],
        payment_method=pm["id"], details=_pm_details(pm, authenticated),
        billing=_pm_billing(pm), captured=not manual and decline is None, p=params,
        payment_intent=pi["id"], row=row)
    charge["source"] = None
    if pi["shipping"] is not None:
        charge["shipping"] = pi["shipping"]
    pi["latest_charge"] = charge["id"]
    pi["next_action"] = None
    state["authenticated"] = None
    if decline is not None:
        charges.fail(charge, decline, row)
        ctx.store.add(charge)
        pi["last_payment_error"] = {**test_cards.error_hash(decline, ctx.version),
                                    "charge": charge["id"], "payment_method": dict(pm)}
        pi["payment_method"] = None
        _move(pi, "declined")
        events.emit(ctx, "charge.failed", charge)
        events.emit(ctx, "payment_intent.payment_failed", pi)
        return test_cards.card_error(decline, ctx.version, charge=charge["id"],
                                     payment_intent=pi, payment_method=pm)
    ctx.store.add(charge)
    if pm["object"] == "payment_method" and pm["card"]["checks"]["cvc_check"] == "unchecked":
        pm["card"]["checks"]["cvc_check"] = "pass"  # [V]
    pi["last_payment_error"] = None
    if manual:
        pi["amount_capturable"] = pi["amount"]
        _move(pi, "authorized")
    else:
        pi["amount_received"] = pi["amount"]
        _move(pi, "charged")
    _after_success(ctx, pi, pm)
    events.emit(ctx, "charge.succeeded", charge)
    events.emit(ctx, "payment_intent.amount_capturable_updated" if manual
                else "payment_intent.succeeded", pi)
    return None


def _after_success(ctx: Context, pi: Obj, pm: Obj) -> None:
    """``setup_future_usage`` with a customer attaches and sets up the PaymentMethod [D]; used
    without a customer, a PaymentMethod may not be attached later [V]."""
    customer = ctx.store.get("customer", pi["customer"]) if pi["customer"] else None
    if pm["object"] != "payment_method":
        return
    if pi["setup_future_usage"] and customer is not None:
        payment_methods.attach(ctx, pm, customer, verify=False)
        payment_methods.mark_set_up(ctx.store, pm)
    elif customer is None:
        payment_methods.mark_used_without_customer(ctx.store, pm)


def confirm_intent(ctx: Context, pi: Obj, p: dict[str, Any]) -> Obj:
    """Confirm with ``p`` (confirm params): charge, ask for authentication, or decline."""
    _refuse_unless(ctx, pi, "confirm")
    state = _state(ctx, pi)
    if "payment_method" in p:
        pm = _set_payment_method(ctx, pi, p["payment_method"])
    elif pi["payment_method"] is not None:
        pm = _pm_obj(ctx, pi["payment_method"])
    else:
        raise unexpected_state(ctx, pi, CONFIRM_NO_PM)
    off_session = bool(p.get("off_session"))
    auto = pi["automatic_payment_methods"]
    if (auto and auto["enabled"] and auto["allow_redirects"] != "never"
            and not p.get("return_url") and not off_session):
        raise errors.invalid(RETURN_URL_NEEDED, "return_url")
    for name in ("capture_method", "receipt_email"):
        if name in p:
            pi[name] = p[name]
    if "setup_future_usage" in p:
        pi["setup_future_usage"] = p["setup_future_usage"] or None
    if "shipping" in p:
        pi["shipping"] = sources.shipping(p["shipping"])
    state["off_session"] = off_session
    row = payment_methods.row_of(pm)
    needs_auth = (row is not None and not off_session and state["authenticated"] != pm["id"]
                  and row.needs_authentication(off_session=False, set_up=False))
    if needs_auth and p.get("error_on_requires_action"):
        pi["payment_method"] = None
        pi["last_payment_error"] = {
            "code": "authentication_required", "decline_code": "authentication_not_handled",
            "doc_url": errors.DOCS + "authentication-required", "message": NOT_HANDLED,
            "payment_method": dict(pm), "type": "card_error"}
        if pi["status"] != RPM:
            _move(pi, "declined")
        events.emit(ctx, "payment_intent.payment_failed", pi)
        raise errors.StripeError(NOT_HANDLED, status=402, type="card_error",
                                 code="authentication_required", saved=True,
                                 extra={"decline_code": "authentication_not_handled",
                                        "payment_intent": pi, "payment_method": pm})
    if needs_auth:
        pi["next_action"] = _next_action(pi, p.get("return_url"), bool(p.get("use_stripe_sdk")))
        pi["last_payment_error"] = None
        _move(pi, "needs_action")
        events.emit(ctx, "payment_intent.requires_action", pi)
        return pi
    failure = _charge(ctx, pi, pm, state)
    if failure is not None:
        raise failure
    return pi


def authenticate(ctx: Context, pi: Obj, succeed: bool = True) -> Obj:
    """What the customer does on the 3D Secure page: complete it (the payment proceeds, or with
    ``confirmation_method=manual`` waits for another confirm [S]) or fail it (back to
    ``requires_payment_method`` with ``payment_intent_authentication_failure`` [R])."""
    if pi["status"] != RACT:
        raise ValueError(f"PaymentIntent {pi['id']} is {pi['status']}, not requires_action: "
                         "there is nothing to authenticate")
    state = _state(ctx, pi)
    pm = _pm_obj(ctx, pi["payment_method"])
    if not succeed:
        pi["next_action"] = None
        pi["payment_method"] = None
        pi["last_payment_error"] = {
            "code": "payment_intent_authentication_failure",
            "doc_url": errors.DOCS + "payment-intent-authentication-failure",
            "message": AUTH_FAILED, "payment_method": dict(pm),
            "type": "invalid_request_error"}
        _move(pi, "authentication_failed")
        events.emit(ctx, "payment_intent.payment_failed", pi)
        return pi
    state["authenticated"] = pm["id"]
    if pi["confirmation_method"] == "manual":
        pi["next_action"] = None
        _move(pi, "authenticated_manual_confirmation")
        return pi
    _charge(ctx, pi, pm, state)
    return pi


def capture_intent(ctx: Context, pi: Obj, p: dict[str, Any]) -> Obj:
    _refuse_unless(ctx, pi, "capture")
    amount = p.get("amount_to_capture", pi["amount_capturable"])
    if amount > pi["amount_capturable"]:
        raise errors.conflict(CAPTURE_TOO_LARGE, "amount_to_capture", "amount_too_large")
    if amount < 1:
        raise errors.too_small("amount_to_capture", 1)
    charge = ctx.store.get("charge", pi["latest_charge"])
    assert charge is not None
    charges.capture_charge(ctx, charge, amount, p)
    if "metadata" in p:
        pi["metadata"] = metadata.apply(pi["metadata"], p["metadata"])
    for name in ("application_fee_amount", "statement_descriptor",
                 "statement_descriptor_suffix"):
        if name in p:
            pi[name] = p[name]
    pi["amount_received"] = amount
    pi["amount_capturable"] = 0
    _move(pi, "captured")
    events.emit(ctx, "payment_intent.succeeded", pi)
    return pi


def cancel_intent(ctx: Context, pi: Obj, reason: str | None) -> Obj:
    _refuse_unless(ctx, pi, "cancel")
    if pi["status"] == RCAP:  # the authorization is released [S]
        charge = ctx.store.get("charge", pi["latest_charge"])
        if charge is not None:
            charges.release(ctx, charge)
        pi["amount_capturable"] = 0
    pi["next_action"] = None
    pi["canceled_at"] = ctx.now()
    pi["cancellation_reason"] = reason
    _move(pi, "canceled")
    events.emit(ctx, "payment_intent.canceled", pi)
    return pi


def create_and_confirm(ctx: Context, *, amount: int, currency: str, customer: str | None,
                       payment_method: str | None, off_session: bool = False,
                       description: str | None = None, metadata: Obj | None = None,
                       extra: dict[str, Any] | None = None) -> Obj:
    """Create a card PaymentIntent and confirm it with ``payment_method`` (billing pays
    invoices, checkout completes sessions with it).

    Returns the stored PaymentIntent: ``succeeded`` (or ``requires_capture`` with
    ``extra={"capture_method": "manual"}``), ``requires_action`` (3D Secure on session), or
    ``requires_payment_method`` with ``last_payment_error`` (a decline; nothing is raised).
    ``extra`` holds any other create params (``setup_future_usage``, ``receipt_email``, ...);
    ``payment_method_types`` defaults to ``["card"]`` so no ``return_url`` is needed."""
    p: dict[str, Any] = {"amount": amount, "currency": currency, "confirm": True,
                         "payment_method_types": ["card"], **(extra or {})}
    if customer is not None:
        p["customer"] = customer
    if payment_method is not None:
        p["payment_method"] = payment_method
    if off_session:
        p["off_session"] = True
    if description is not None:
        p["description"] = description
    if metadata:
        p["metadata"] = metadata
    pi = new_intent(ctx, p)
    if pi["payment_method"] is None:
        return pi
    try:
        confirm_intent(ctx, pi, _confirm_params(p))
    except errors.StripeError as exc:
        if exc.status != 402:
            raise
    return pi


_CONFIRM_KEYS = ("payment_method", "return_url", "off_session", "error_on_requires_action",
                 "setup_future_usage", "use_stripe_sdk", "mandate_data", "receipt_email")


def _confirm_params(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in _CONFIRM_KEYS if k in p and k != "payment_method"}


# --- endpoints ----------------------------------------------------------------------------------


def _intent_in_path(ctx: Context, intent: str) -> Obj:
    return ctx.store.require("payment_intent", intent, param="intent", in_path=True, name=NAME)


@route("POST", "/v1/payment_intents")
def create(ctx: Context) -> Obj:
    p = ctx.params
    pi = new_intent(ctx, p)
    if p.get("confirm"):
        confirm_intent(ctx, pi, _confirm_params(p))
    return pi


@route("GET", "/v1/payment_intents/{intent}")
def retrieve(ctx: Context, intent: str) -> Obj:
    return _intent_in_path(ctx, intent)


@route("POST", "/v1/payment_intents/{intent}")
def update(ctx: Context, intent: str) -> Obj:
    pi = _intent_in_path(ctx, intent)
    p = ctx.params
    status = pi["status"]
    if ("amount" in p or "currency" in p) and status not in ALLOWED["update_amount"]:
        raise unexpected_state(ctx, pi, AMOUNT_STATE.format(status=status))
    if status in (SUCCEEDED, CANCELED) and any(k not in ("metadata", "description", "expand")
                                                for k in p):
        raise unexpected_state(ctx, pi, UPDATE_STATE.format(status=status))
    currency = currencies.check(p["currency"]) if "currency" in p else pi["currency"]
    if "amount" in p or "currency" in p:
        _check_amount(p.get("amount", pi["amount"]), currency)
    if "payment_method_types" in p:
        pi["payment_method_types"], pi["automatic_payment_methods"] = _payment_method_types(p)
    if "customer" in p:
        pi["customer"] = _customer_id(ctx, p["customer"])
    if p.get("payment_method"):
        _set_payment_method(ctx, pi, p["payment_method"])
        if pi["status"] in (RPM, RCONF):
            _move(pi, "payment_method_set")
    pi["currency"] = currency
    for key in ("amount", "application_fee_amount", "capture_method", "description",
                "receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                "transfer_group"):
        if key in p:
            pi[key] = p[key] if p[key] != "" else None
    if "setup_future_usage" in p:
        pi["setup_future_usage"] = p["setup_future_usage"] or None
    if "shipping" in p:
        pi["shipping"] = sources.shipping(p["shipping"])
    if "payment_method_options" in p:
        pi["payment_method_options"] = _card_options(p)
    if "metadata" in p:
        pi["metadata"] = metadata.apply(pi["metadata"], p["metadata"])
    return pi


@route("POST", "/v1/payment_intents/{intent}/confirm")
def confirm(ctx: Context, intent: str) -> Obj:
    return confirm_intent(ctx, _intent_in_path(ctx, intent), ctx.params)


@route("POST", "/v1/payment_intents/{intent}/capture")
def capture(ctx: Context, intent: str) -> Obj:
    return capture_intent(ctx, _intent_in_path(ctx, intent), ctx.params)


@route("POST", "/v1/payment_intents/{intent}/cancel")
def cancel(ctx: Context, intent: str) -> Obj:
    return cancel_intent(ctx, _intent_in_path(ctx, intent), ctx.params.get("cancellation_reason"))


@route("GET", "/v1/payment_intents")
def list_intents(ctx: Context) -> Obj:
    p = ctx.params
    customer = p.get("customer")
    return lists.page(ctx.store.table("payment_intent"), p, "/v1/payment_intents",
                      None if customer is None else lambda pi: pi["customer"] == customer)


@route("GET", "/v1/payment_intents/search")
def search(ctx: Context) -> Obj:
    return lists.search(ctx.store.table("payment_intent"), ctx.params,
                        "/v1/payment_intents/search", SEARCH_FIELDS)


# --- test helpers: what the customer does outside the API ----------------------------------------


class Payments:
    """``stripe_fake.payments``: complete or fail the 3D Secure step a PaymentIntent or
    SetupIntent waits for (``requires_action``), as the customer would on Stripe's page."""

    def __init__(self, fake: Any) -> None:
        self._fake = fake

    def authenticate(self, intent_id: str, succeed: bool = True, *,
                     api_key: str | None = None) -> Obj:
        """Complete (``succeed=True``) or fail the pending authentication of ``intent_id``
        (``pi_...`` or ``seti_...``); returns the stored intent (current shape).  Raises
        ``ValueError`` when the intent does not wait for authentication."""
        with self._fake._lock:
            ctx = self._fake.context(api_key)
            ctx.store.touch()
            if intent_id.startswith("seti_"):
                from . import setup_intents

                si = ctx.store.get("setup_intent", intent_id)
                if si is None:
                    raise ValueError(f"no SetupIntent {intent_id!r} in this fake")
                return setup_intents.authenticate(ctx, si, succeed)
            pi = ctx.store.get("payment_intent", intent_id)
            if pi is None:
                raise ValueError(f"no PaymentIntent {intent_id!r} in this fake")
            return authenticate(ctx, pi, succeed)
