"""SetupIntents (saving a card), refunds, legacy charge capture and source transactions,
through the stripe SDK."""

from __future__ import annotations

import pytest
import stripe
from helpers import request_error

from pytest_stripe_fixtures.fake.resources import refunds as rf
from pytest_stripe_fixtures.fake.resources import setup_intents as sis

CARD = {"payment_method_types": ["card"]}


def _customer(client):
    return client.v1.customers.create(params={"email": "jenny@example.com"})


# --- SetupIntents -----------------------------------------------------------------------------


def test_a_setup_intent_saves_the_card_for_the_customer(stripe_client):
    customer = _customer(stripe_client)
    si = stripe_client.v1.setup_intents.create(params={**CARD, "customer": customer.id})
    assert (si.status, si.usage, si.latest_attempt) == ("requires_payment_method", "off_session",
                                                        None)
    assert si.client_secret.startswith(f"{si.id}_secret_")
    done = stripe_client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa",
                                                                 "expand": ["latest_attempt"]})
    assert (done.status, done.latest_attempt.status) == ("succeeded", "succeeded")
    pm = stripe_client.v1.payment_methods.retrieve(done.payment_method)
    assert pm.customer == customer.id  # attached on success [V]
    attempts = stripe_client.v1.setup_attempts.list(params={"setup_intent": si.id})
    assert [a.id for a in attempts.data] == [done.latest_attempt.id]
    err = request_error(stripe_client.v1.setup_intents.confirm, si.id)
    assert (err.code, err.user_message) == ("setup_intent_unexpected_state",
                                            sis.CONFIRM_SUCCEEDED)
    err = request_error(stripe_client.v1.setup_intents.cancel, si.id)
    assert err.user_message == sis.CANCEL_STATE.format(status="succeeded")
    err = request_error(stripe_client.v1.setup_intents.update, si.id,
                        params={"description": "x"})
    assert err.user_message == sis.UPDATE_SUCCEEDED
    assert stripe_client.v1.setup_intents.list(params={"customer": customer.id}).data[0].id == si.id


def test_setup_intent_refusals_and_cancel(stripe_client):
    si = stripe_client.v1.setup_intents.create(params=CARD)
    err = request_error(stripe_client.v1.setup_intents.confirm, si.id)
    assert (err.code, err.user_message) == ("setup_intent_unexpected_state", sis.CONFIRM_NO_PM)
    with_pm = stripe_client.v1.setup_intents.update(si.id, params={"payment_method": "pm_card_visa"})
    assert with_pm.status == "requires_confirmation"
    canceled = stripe_client.v1.setup_intents.cancel(si.id, params={
        "cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    err = request_error(stripe_client.v1.setup_intents.cancel, si.id)
    assert err.user_message == sis.CANCEL_CANCELED
    err = request_error(stripe_client.v1.setup_intents.retrieve, "seti_nope")
    assert err.user_message == "No such setupintent: 'seti_nope'"


def test_a_declining_card_fails_setup(stripe_client):
    customer = _customer(stripe_client)
    with pytest.raises(stripe.CardError) as info:
        stripe_client.v1.setup_intents.create(params={
            **CARD, "customer": customer.id, "confirm": True,
            "payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert (info.value.code, info.value.error.decline_code) == ("card_declined",
                                                                "insufficient_funds")
    si = info.value.json_body["error"]["setup_intent"]
    assert si["status"] == "requires_payment_method"
    assert si["last_setup_error"]["decline_code"] == "insufficient_funds"
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data == []


def test_3ds_on_setup_then_off_session_payments_succeed(stripe_client, stripe_fake):
    customer = _customer(stripe_client)
    si = stripe_client.v1.setup_intents.create(params={
        **CARD, "customer": customer.id, "confirm": True, "return_url": "https://x.example",
        "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert (si.status, si.next_action.type) == ("requires_action", "redirect_to_url")
    stripe_fake.payments.authenticate(si.id)
    done = stripe_client.v1.setup_intents.retrieve(si.id)
    assert done.status == "succeeded"
    pi = stripe_client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", **CARD, "customer": customer.id, "confirm": True,
        "payment_method": done.payment_method, "off_session": True})
    assert pi.status == "succeeded"  # [D] set up: off-session needs no authentication


def test_failed_authentication_on_setup(stripe_client, stripe_fake):
    si = stripe_client.v1.setup_intents.create(params={
        **CARD, "confirm": True, "payment_method": "pm_card_authenticationRequired",
        "use_stripe_sdk": True})
    stripe_fake.payments.authenticate(si.id, succeed=False)
    after = stripe_client.v1.setup_intents.retrieve(si.id)
    assert after.status == "requires_payment_method"
    assert (after.last_setup_error.code, after.last_setup_error.message) == (
        "setup_intent_authentication_failure", sis.AUTH_FAILED)


@pytest.mark.asyncio
async def test_setup_intents_async(stripe_fake):
    client = stripe.StripeClient("sk_test_fake", http_client=stripe.HTTPXClient())
    si = await client.v1.setup_intents.create_async(params={
        **CARD, "confirm": True, "payment_method": "pm_card_mastercard"})
    assert si.status == "succeeded"


# --- refunds ------------------------------------------------------------------------------------


def _paid(client, magic="pm_card_visa", **params):
    return client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", **CARD, "confirm": True, "payment_method": magic,
        **params})


def test_partial_then_full_refunds(stripe_client):
    pi = _paid(stripe_client)
    first = stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500,
                                                    "reason": "requested_by_customer"})
    assert (first.object, first.amount, first.status, first.charge, first.payment_intent,
            first.reason) == ("refund", 500, "succeeded", pi.latest_charge, pi.id,
                              "requested_by_customer")
    txn = stripe_client.v1.balance_transactions.retrieve(first.balance_transaction)
    assert (txn.amount, txn.fee, txn.type) == (-500, 0, "refund")
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert [r.id for r in charge.refunds.data] == [first.id]
    assert "refunds" not in stripe_client.v1.charges.retrieve(pi.latest_charge)  # includable
    err = request_error(stripe_client.v1.refunds.create, params={"charge": pi.latest_charge,
                                                                 "amount": 2000})
    assert (err.param, err.user_message) == ("amount", rf.OVER_UNREFUNDED.format(
        amount="$20.00", left="$15.00"))
    rest = stripe_client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert rest.amount == 1500
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    err = request_error(stripe_client.v1.refunds.create, params={"charge": pi.latest_charge})
    assert (err.code, err.user_message) == (
        "charge_already_refunded", rf.ALREADY_REFUNDED.format(charge=pi.latest_charge))
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == "succeeded"  # untouched
    listed = stripe_client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    legacy = stripe_client.raw_request("get", f"/v1/charges/{pi.latest_charge}/refunds")
    assert [r.id for r in stripe_client.deserialize(legacy, api_mode="V1").data] == [
        rest.id, first.id]


def test_refund_refusals(stripe_client):
    err = request_error(stripe_client.v1.refunds.create, params={})
    assert err.user_message == rf.ONE_OF
    pi = _paid(stripe_client)
    err = request_error(stripe_client.v1.refunds.create, params={"charge": pi.latest_charge,
                                                                 "amount": 2500})
    assert err.user_message == rf.OVER_AMOUNT.format(amount="$25.00", charge="$20.00")
    held = _paid(stripe_client, capture_method="manual")
    err = request_error(stripe_client.v1.refunds.create, params={"charge": held.latest_charge})
    assert err.user_message == rf.UNCAPTURED_INTENT.format(intent=held.id)
    open_pi = stripe_client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd",
                                                              **CARD})
    err = request_error(stripe_client.v1.refunds.create, params={"payment_intent": open_pi.id})
    assert err.user_message == rf.NO_SUCCESSFUL_CHARGE.format(intent=open_pi.id)
    with pytest.raises(stripe.CardError) as declined:
        _paid(stripe_client, "pm_card_chargeDeclined")
    err = request_error(stripe_client.v1.refunds.create,
                        params={"charge": declined.value.error.charge})
    assert err.http_status == 400  # a failed charge has nothing to refund
    err = request_error(stripe_client.v1.refunds.retrieve, "re_nope")
    assert (err.http_status, err.code) == (404, "resource_missing")


def test_refund_update_and_cancel(stripe_client):
    refund = stripe_client.v1.refunds.create(params={
        "payment_intent": _paid(stripe_client).id})
    updated = stripe_client.v1.refunds.update(refund.id, params={"metadata": {"k": "v"}})
    assert updated.metadata.k == "v"
    err = request_error(stripe_client.v1.refunds.cancel, refund.id)
    assert (err.code, err.user_message) == (None, rf.CANCEL_UNSUPPORTED)


def test_refund_behaviour_cards(stripe_client, stripe_fake):
    pending = stripe_client.v1.refunds.create(params={
        "payment_intent": _paid(stripe_client, "pm_card_pendingRefund").id})
    assert pending.status == "pending"
    assert stripe_fake.payments.settle_refund(pending.id)["status"] == "succeeded"
    pi = _paid(stripe_client, "pm_card_refundFail")
    failing = stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert failing.status == "succeeded"  # at first [D]
    stripe_fake.payments.settle_refund(failing.id)
    later = stripe_client.v1.refunds.retrieve(failing.id)
    assert (later.status, later.failure_reason) == ("failed", "expired_or_canceled_card")
    assert stripe_client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0


def test_2023_refunds_have_the_2023_shape(stripe_client_2023):
    pi = stripe_client_2023.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", **CARD, "confirm": True,
        "payment_method": "pm_card_visa"})
    refund = stripe_client_2023.v1.refunds.create(params={"payment_intent": pi.id})
    assert "destination_details" not in refund
    current = stripe.StripeClient("sk_test_fake").v1.refunds.retrieve(refund.id)
    assert current.destination_details.type == "card"


# --- legacy charge capture ------------------------------------------------------------------


def test_legacy_capture(stripe_client):
    charge = stripe_client.v1.charges.create(params={"amount": 2000, "currency": "usd",
                                                     "source": "tok_visa", "capture": False})
    assert (charge.captured, charge.amount_captured, charge.balance_transaction) == (False, 0, None)
    err = request_error(stripe_client.v1.refunds.create, params={"charge": charge.id,
                                                                 "amount": 100})
    assert err.user_message == rf.PARTIAL_UNCAPTURED
    captured = stripe_client.v1.charges.capture(charge.id, params={"amount": 1500})
    assert (captured.captured, captured.amount_captured, captured.amount_refunded) == (
        True, 1500, 500)
    txn = stripe_client.v1.balance_transactions.retrieve(captured.balance_transaction)
    assert (txn.amount, txn.fee, txn.net) == (1500, 74, 1426)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.charges.capture(charge.id)
    assert info.value.code == "charge_already_captured"


def test_a_payment_intents_charge_is_captured_through_the_intent(stripe_client):
    held = _paid(stripe_client, capture_method="manual")
    err = request_error(stripe_client.v1.charges.capture, held.latest_charge)
    assert held.id in err.user_message


# --- source transactions ---------------------------------------------------------------------


def test_source_transactions(stripe_client, stripe_fake):
    from pytest_stripe_fixtures.fake.resources import sources

    source = stripe_client.v1.sources.create(params={
        "type": "ach_credit_transfer", "currency": "usd", "owner": {"email": "a@example.com"}})
    sources.receive_funds(stripe_fake.store, source.id, 1200)
    sources.receive_funds(stripe_fake.store, source.id, 300)
    listed = stripe.Source.list_source_transactions(source.id, api_key="sk_test_fake")
    assert [t.amount for t in listed.data] == [300, 1200]
    assert listed.data[0].type == "ach_credit_transfer" and listed.data[0].source == source.id
