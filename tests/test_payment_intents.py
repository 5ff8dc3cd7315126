"""PaymentIntents for cards, through the stripe SDK: Stripe's status machine, one transition at a
time, each refusal with Stripe's error, the Charge a payment makes, 3D Secure completed or failed
with ``stripe_fake.payments.authenticate``, manual and partial capture, and both API shapes."""

from __future__ import annotations

import pytest
import stripe
from helpers import request_error

from pytest_stripe_fixtures.fake import test_cards
from pytest_stripe_fixtures.fake.resources import payment_intents as pis

CARD = {"payment_method_types": ["card"]}


def _pi(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", **CARD,
                                                    **params})


def _customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create(params={"email": "jenny@example.com"})


# --- the happy path ---------------------------------------------------------------------------


def test_a_new_intent_waits_for_a_payment_method(stripe_client):
    pi = _pi(stripe_client)
    assert pi.id.startswith("pi_") and pi.object == "payment_intent"
    assert (pi.status, pi.amount, pi.amount_capturable, pi.amount_received) == (
        "requires_payment_method", 2000, 0, 0)
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert len(pi.client_secret) == len(pi.id) + len("_secret_") + 25
    assert (pi.capture_method, pi.confirmation_method, pi.latest_charge, pi.next_action,
            pi.last_payment_error) == ("automatic", "automatic", None, None, None)
    assert pi.payment_method_options.card.request_three_d_secure == "automatic"
    assert stripe_client.v1.payment_intents.retrieve(pi.id).id == pi.id


def test_create_then_confirm_charges_the_card(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa", description="Coffee")
    assert pi.status == "requires_confirmation" and pi.payment_method.startswith("pm_")
    done = stripe_client.v1.payment_intents.confirm(pi.id, params={
        "expand": ["latest_charge.balance_transaction"]})
    assert (done.status, done.amount_received, done.amount_capturable) == ("succeeded", 2000, 0)
    charge = done.latest_charge
    assert charge.object == "charge" and charge.id.startswith("ch_")
    assert (charge.payment_intent, charge.payment_method, charge.amount, charge.captured,
            charge.paid, charge.status, charge.description) == (
        pi.id, pi.payment_method, 2000, True, True, "succeeded", "Coffee")
    card = charge.payment_method_details.card
    assert (charge.payment_method_details.type, card.brand, card.last4, card.checks.cvc_check,
            card.network, card.three_d_secure) == ("card", "visa", "4242", "pass", "visa", None)
    assert (charge.outcome.type, charge.outcome.network_status, charge.outcome.risk_level) == (
        "authorized", "approved_by_network", "normal")
    txn = charge.balance_transaction
    assert (txn.object, txn.amount, txn.fee, txn.net, txn.type, txn.status, txn.source) == (
        "balance_transaction", 2000, 88, 1912, "charge", "pending", charge.id)  # 2.9% + 30 [C]
    assert txn.fee_details[0].type == "stripe_fee"
    assert stripe_client.v1.balance_transactions.retrieve(txn.id).id == txn.id
    pm = stripe_client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.card.checks.cvc_check == "pass"  # [V] after a successful charge
    listed = stripe_client.v1.charges.list(params={"payment_intent": pi.id})
    assert [c.id for c in listed.data] == [charge.id]


def test_confirm_true_on_create(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_mastercard", confirm=True)
    assert pi.status == "succeeded" and pi.latest_charge.startswith("ch_")


def test_automatic_payment_methods_need_a_return_url(stripe_client):
    pi = stripe_client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    assert pi.automatic_payment_methods.enabled is True  # [D] the 2023-08-16 default
    err = request_error(stripe_client.v1.payment_intents.confirm, pi.id,
                        params={"payment_method": "pm_card_visa"})
    assert (err.http_status, err.param, err.user_message) == (
        400, "return_url", pis.RETURN_URL_NEEDED)
    ok = stripe_client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": "pm_card_visa", "return_url": "https://shop.example/back"})
    assert ok.status == "succeeded"
    never = stripe_client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa",
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert never.status == "succeeded"


def test_confirm_only_params_need_confirm(stripe_client):
    err = request_error(stripe_client.v1.payment_intents.create, params={
        "amount": 2000, "currency": "usd", "return_url": "https://x.example"})
    assert err.param == "return_url"


def test_update_then_confirm(stripe_client):
    pi = _pi(stripe_client)
    updated = stripe_client.v1.payment_intents.update(pi.id, params={
        "payment_method": "pm_card_visa", "amount": 2500, "metadata": {"order": "7"}})
    assert (updated.status, updated.amount, updated.metadata.to_dict()) == (
        "requires_confirmation", 2500, {"order": "7"})
    done = stripe_client.v1.payment_intents.confirm(pi.id)
    assert (done.status, done.amount_received) == ("succeeded", 2500)
    assert stripe_client.v1.payment_intents.update(
        pi.id, params={"metadata": {"shipped": "yes"}}).metadata.shipped == "yes"
    err = request_error(stripe_client.v1.payment_intents.update, pi.id, params={"amount": 100})
    assert (err.code, err.user_message) == (
        "payment_intent_unexpected_state", pis.AMOUNT_STATE.format(status="succeeded"))
    assert err.json_body["error"]["payment_intent"]["id"] == pi.id  # embedded [V]


# --- refusals -----------------------------------------------------------------------------------


def test_confirm_without_a_payment_method(stripe_client):
    pi = _pi(stripe_client)
    err = request_error(stripe_client.v1.payment_intents.confirm, pi.id)
    assert (err.http_status, err.code, err.user_message) == (
        400, "payment_intent_unexpected_state", pis.CONFIRM_NO_PM)


def test_confirming_a_succeeded_or_canceled_intent(stripe_client):
    done = _pi(stripe_client, payment_method="pm_card_visa", confirm=True)
    err = request_error(stripe_client.v1.payment_intents.confirm, done.id)
    assert (err.code, err.user_message) == ("payment_intent_unexpected_state",
                                            pis.CONFIRM_SUCCEEDED)
    canceled = stripe_client.v1.payment_intents.cancel(_pi(stripe_client).id)
    err = request_error(stripe_client.v1.payment_intents.confirm, canceled.id,
                        params={"payment_method": "pm_card_visa"})
    assert err.code == "payment_intent_unexpected_state"
    assert "status of canceled" in err.user_message  # [V] prefix


def test_unknown_intent(stripe_client):
    err = request_error(stripe_client.v1.payment_intents.retrieve, "pi_nope")
    assert (err.http_status, err.code, err.param, err.user_message) == (
        404, "resource_missing", "intent", "No such payment_intent: 'pi_nope'")


def test_amount_rules_are_the_charges_rules(stripe_client):
    err = request_error(stripe_client.v1.payment_intents.create, params={
        "amount": 20, "currency": "usd"})
    assert (err.code, err.param, err.user_message) == (
        "amount_too_small", "amount", pis.AMOUNT_TOO_SMALL_USD)
    err = request_error(stripe_client.v1.payment_intents.create, params={
        "amount": 100_000_000, "currency": "usd"})
    assert err.code == "amount_too_large"
    err = request_error(stripe_client.v1.payment_intents.create, params={"currency": "usd"})
    assert err.code == "parameter_missing"


# --- cancel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["requires_payment_method", "requires_confirmation",
                                   "requires_action", "requires_capture"])
def test_cancel_from_every_open_status(stripe_client, setup):
    params = {"requires_payment_method": {},
              "requires_confirmation": {"payment_method": "pm_card_visa"},
              "requires_action": {"payment_method": "pm_card_threeDSecure2Required",
                                  "confirm": True, "return_url": "https://x.example"},
              "requires_capture": {"payment_method": "pm_card_visa", "confirm": True,
                                   "capture_method": "manual"}}[setup]
    pi = _pi(stripe_client, **params)
    assert pi.status == setup
    canceled = stripe_client.v1.payment_intents.cancel(pi.id, params={
        "cancellation_reason": "requested_by_customer"})
    assert (canceled.status, canceled.cancellation_reason, canceled.amount_capturable) == (
        "canceled", "requested_by_customer", 0)
    assert canceled.canceled_at is not None and canceled.next_action is None
    if setup == "requires_capture":  # the authorization is released [S]
        charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
        assert (charge.captured, charge.amount_refunded, charge.refunded) == (False, 2000, True)
    err = request_error(stripe_client.v1.payment_intents.cancel, pi.id)
    assert err.user_message == pis.CANCEL_STATE.format(status="canceled")


def test_a_succeeded_intent_cannot_be_canceled(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa", confirm=True)
    err = request_error(stripe_client.v1.payment_intents.cancel, pi.id)
    assert (err.code, err.user_message) == ("payment_intent_unexpected_state",
                                            pis.CANCEL_STATE.format(status="succeeded"))


# --- capture ------------------------------------------------------------------------------------


def test_manual_capture_in_full(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    assert (pi.status, pi.amount_capturable, pi.amount_received) == ("requires_capture", 2000, 0)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.amount_captured, charge.paid, charge.status,
            charge.balance_transaction) == (False, 0, True, "succeeded", None)  # [C]
    done = stripe_client.v1.payment_intents.capture(pi.id)
    assert (done.status, done.amount_received, done.amount_capturable) == ("succeeded", 2000, 0)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.amount_captured) == (True, 2000)
    assert charge.balance_transaction.startswith("txn_")
    err = request_error(stripe_client.v1.payment_intents.capture, pi.id)  # a second capture
    assert (err.code, err.user_message) == ("payment_intent_unexpected_state",
                                            pis.CAPTURED_ALREADY)


def test_partial_capture(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    err = request_error(stripe_client.v1.payment_intents.capture, pi.id,
                        params={"amount_to_capture": 2001})
    assert (err.code, err.param, err.user_message) == (
        "amount_too_large", "amount_to_capture", pis.CAPTURE_TOO_LARGE)
    done = stripe_client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1500})
    assert (done.status, done.amount, done.amount_received, done.amount_capturable) == (
        "succeeded", 2000, 1500, 0)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge,
                                               params={"expand": ["balance_transaction"]})
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (1500, 500, False)
    assert charge.balance_transaction.amount == 1500


def test_capture_from_other_statuses(stripe_client):
    for pi in (_pi(stripe_client), _pi(stripe_client, payment_method="pm_card_visa"),
               _pi(stripe_client, payment_method="pm_card_visa", confirm=True)):
        err = request_error(stripe_client.v1.payment_intents.capture, pi.id)
        assert err.code == "payment_intent_unexpected_state"
        assert err.user_message == pis.CAPTURE_STATE.format(status=pi.status)


def test_capture_method_set_at_confirm(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa")
    held = stripe_client.v1.payment_intents.confirm(pi.id, params={"capture_method": "manual"})
    assert held.status == "requires_capture"


# --- declines -----------------------------------------------------------------------------------

DECLINING = sorted(name for name, row in test_cards.BY_NAME.items()
                   if name.startswith("pm_card_") and row.decline is not None
                   and row.three_d_secure in (None, test_cards.OPTIONAL))


@pytest.mark.parametrize("magic", DECLINING)
def test_every_declining_card(stripe_client, magic):
    row = test_cards.by_name(magic)
    pi = _pi(stripe_client, payment_method=magic)
    with pytest.raises(stripe.CardError) as info:
        stripe_client.v1.payment_intents.confirm(pi.id)
    err = info.value
    assert (err.http_status, err.code, err.param) == (402, row.decline.code, row.decline.param)
    assert err.user_message == row.decline.message
    assert err.error.decline_code == row.decline.decline_code  # current version: always set
    body = err.json_body["error"]
    assert body["payment_intent"]["status"] == "requires_payment_method"
    assert body["payment_method"]["card"]["last4"] == row.last4
    after = stripe_client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert (after.status, after.payment_method) == ("requires_payment_method", None)
    assert (after.last_payment_error.code, after.last_payment_error.charge) == (
        row.decline.code, after.latest_charge.id)
    charge = after.latest_charge
    assert (charge.status, charge.paid, charge.captured, charge.failure_code,
            charge.balance_transaction) == ("failed", False, False, row.decline.code, None)
    assert charge.outcome.type == ("blocked" if row.blocked else "issuer_declined")
    retried = stripe_client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": "pm_card_visa"})  # [V] the intent stays open; another card pays
    assert (retried.status, retried.last_payment_error) == ("succeeded", None)


def test_2023_declines_omit_the_repeated_decline_code(stripe_client_2023):
    pi = stripe_client_2023.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", **CARD, "payment_method": "pm_card_chargeDeclinedExpiredCard"})
    with pytest.raises(stripe.CardError) as info:
        stripe_client_2023.v1.payment_intents.confirm(pi.id)
    assert info.value.code == "expired_card" and info.value.param == "exp_month"
    assert "decline_code" not in info.value.json_body["error"]  # [V] 2023 capture
    after = stripe_client_2023.v1.payment_intents.retrieve(pi.id)
    assert "decline_code" not in after.last_payment_error
    assert "invoice" in after and after.invoice is None  # the 2023 shape
    with pytest.raises(stripe.CardError) as generic:
        stripe_client_2023.v1.payment_intents.confirm(pi.id, params={
            "payment_method": "pm_card_chargeDeclined"})
    assert generic.value.error.decline_code == "generic_decline"


def test_current_intents_have_the_current_shape(stripe_client):
    pi = _pi(stripe_client)
    assert "invoice" not in pi and pi.payment_method_configuration_details is None


def test_a_charge_customer_fail_card_attaches_then_fails(stripe_client):
    customer = _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                 params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as info:
        _pi(stripe_client, customer=customer.id, payment_method=pm.id, confirm=True)
    assert (info.value.code, info.value.error.decline_code) == ("card_declined", "generic_decline")


# --- 3D Secure ----------------------------------------------------------------------------------

THREE_DS = sorted(name for name, row in test_cards.BY_NAME.items()
                  if name.startswith("pm_card_") and row.three_d_secure in (
                      test_cards.ALWAYS, test_cards.ON_SETUP, test_cards.OFF_SESSION_OK))


@pytest.mark.parametrize("magic", THREE_DS)
def test_every_3ds_card_asks_for_authentication_then_proceeds(stripe_client, stripe_fake, magic):
    row = test_cards.by_name(magic)
    pi = _pi(stripe_client, payment_method=magic, confirm=True,
             return_url="https://shop.example/back")
    assert (pi.status, pi.next_action.type, pi.amount_capturable, pi.latest_charge) == (
        "requires_action", "redirect_to_url", 0, None)
    assert pi.next_action.redirect_to_url.return_url == "https://shop.example/back"
    assert pi.next_action.redirect_to_url.url.startswith("https://hooks.stripe.com/3d_secure_2/")
    err = request_error(stripe_client.v1.payment_intents.capture, pi.id)  # [V]
    assert err.code == "payment_intent_unexpected_state"
    stripe_fake.payments.authenticate(pi.id)
    after = stripe_client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    if row.decline is None:
        assert (after.status, after.next_action) == ("succeeded", None)
        card = after.latest_charge.payment_method_details.card
        assert card.three_d_secure.result == "authenticated"
    else:  # authenticated, then declined as the card says
        assert after.status == "requires_payment_method"
        assert after.last_payment_error.code == row.decline.code


def test_failed_authentication(stripe_client, stripe_fake):
    pi = _pi(stripe_client, payment_method="pm_card_authenticationRequired", confirm=True,
             use_stripe_sdk=True)
    assert pi.next_action.type == "use_stripe_sdk"
    stripe_fake.payments.authenticate(pi.id, succeed=False)
    after = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert (after.status, after.payment_method, after.next_action) == (
        "requires_payment_method", None, None)
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    with pytest.raises(ValueError):  # nothing left to authenticate
        stripe_fake.payments.authenticate(pi.id)
    retried = stripe_client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": "pm_card_visa"})
    assert retried.status == "succeeded"


def test_manual_confirmation_after_authentication(stripe_client, stripe_fake):
    pi = _pi(stripe_client, payment_method="pm_card_threeDSecure2Required", confirm=True,
             confirmation_method="manual", return_url="https://x.example")
    stripe_fake.payments.authenticate(pi.id)
    waiting = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert waiting.status == "requires_confirmation"  # [S] the server confirms again
    assert stripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"


def test_error_on_requires_action(stripe_client):
    with pytest.raises(stripe.CardError) as info:
        _pi(stripe_client, payment_method="pm_card_threeDSecure2Required", confirm=True,
            error_on_requires_action=True)
    assert (info.value.code, info.value.error.decline_code) == (
        "authentication_required", "authentication_not_handled")  # [V] (aat)
    assert info.value.json_body["error"]["payment_intent"]["status"] == "requires_payment_method"


def test_off_session_payments_of_cards_that_need_authentication(stripe_client, stripe_fake):
    customer = _customer(stripe_client)
    pm = stripe_client.v1.payment_methods.attach("pm_card_authenticationRequired",
                                                 params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as info:
        _pi(stripe_client, customer=customer.id, payment_method=pm.id, confirm=True,
            off_session=True)
    assert (info.value.code, info.value.error.decline_code) == (
        "authentication_required", "authentication_required")  # [V]
    charge = stripe_client.v1.charges.retrieve(info.value.error.charge)
    assert charge.failure_code == "authentication_required"
    assert charge.failure_message == test_cards.AUTHENTICATION_REQUIRED

    ok = stripe_client.v1.payment_methods.attach("pm_card_authenticationRequiredSetupForOffSession",
                                                 params={"customer": customer.id})
    assert _pi(stripe_client, customer=customer.id, payment_method=ok.id, confirm=True,
               off_session=True).status == "succeeded"


def test_a_card_set_up_on_session_pays_off_session(stripe_client, stripe_fake):
    customer = _customer(stripe_client)
    first = _pi(stripe_client, customer=customer.id, confirm=True, setup_future_usage="off_session",
                payment_method="pm_card_authenticationRequiredOnSetup",
                return_url="https://x.example")
    assert first.status == "requires_action"
    stripe_fake.payments.authenticate(first.id)
    pm_id = stripe_client.v1.payment_intents.retrieve(first.id).payment_method
    assert stripe_client.v1.payment_methods.retrieve(pm_id).customer == customer.id  # attached
    later = _pi(stripe_client, customer=customer.id, payment_method=pm_id, confirm=True,
                off_session=True)
    assert later.status == "succeeded"


def test_a_payment_method_used_without_a_customer_cannot_be_attached(stripe_client):
    pi = _pi(stripe_client, payment_method="pm_card_visa", confirm=True)
    customer = _customer(stripe_client)
    err = request_error(stripe_client.v1.payment_methods.attach, pi.payment_method,
                        params={"customer": customer.id})
    assert err.user_message == "The provided PaymentMethod was previously used with a " \
        "PaymentIntent without Customer attachment, shared with a connected account without " \
        "Customer attachment, or was detached from a Customer. It may not be used again. To use " \
        "a PaymentMethod multiple times, you must attach it to a Customer first."


# --- lists and search ------------------------------------------------------------------------


def test_list_by_customer_and_search(stripe_client):
    customer = _customer(stripe_client)
    mine = _pi(stripe_client, customer=customer.id, metadata={"order": "42"})
    other = _pi(stripe_client, payment_method="pm_card_visa", confirm=True)
    assert [p.id for p in stripe_client.v1.payment_intents.list(
        params={"customer": customer.id}).data] == [mine.id]
    assert [p.id for p in stripe_client.v1.payment_intents.list().data] == [other.id, mine.id]
    found = stripe_client.v1.payment_intents.search(params={"query": "status:'succeeded'"})
    assert [p.id for p in found.data] == [other.id]
    found = stripe_client.v1.payment_intents.search(params={"query": "metadata['order']:'42'"})
    assert [p.id for p in found.data] == [mine.id]


# --- the contract billing and checkout use ---------------------------------------------------


def test_create_and_confirm(stripe_fake):
    from pytest_stripe_fixtures.fake.resources.payment_intents import create_and_confirm

    ctx = stripe_fake.context()
    customer = stripe_fake.account().store.add({"id": "cus_x", "object": "customer"})
    paid = create_and_confirm(ctx, amount=1500, currency="usd", customer=customer["id"],
                              payment_method="pm_card_visa", description="Invoice 1")
    assert (paid["status"], paid["amount_received"], paid["description"]) == (
        "succeeded", 1500, "Invoice 1")
    declined = create_and_confirm(ctx, amount=1500, currency="usd", customer=None,
                                  payment_method="pm_card_chargeDeclined")
    assert declined["status"] == "requires_payment_method"
    assert declined["last_payment_error"]["decline_code"] == "generic_decline"
    action = create_and_confirm(ctx, amount=1500, currency="usd", customer=None,
                                payment_method="pm_card_threeDSecure2Required")
    assert action["status"] == "requires_action"
    off = create_and_confirm(ctx, amount=1500, currency="usd", customer=None,
                             payment_method="pm_card_authenticationRequired", off_session=True)
    assert off["last_payment_error"]["code"] == "authentication_required"


@pytest.mark.asyncio
async def test_payment_intents_async(stripe_fake):
    client = stripe.StripeClient("sk_test_fake", http_client=stripe.HTTPXClient())
    pi = await client.v1.payment_intents.create_async(params={
        "amount": 2000, "currency": "usd", **CARD, "payment_method": "pm_card_visa",
        "capture_method": "manual", "confirm": True})
    done = await client.v1.payment_intents.capture_async(pi.id, params={"amount_to_capture": 900})
    assert (done.status, done.amount_received) == ("succeeded", 900)
    with pytest.raises(stripe.CardError):
        await client.v1.payment_intents.create_async(params={
            "amount": 2000, "currency": "usd", **CARD, "confirm": True,
            "payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
