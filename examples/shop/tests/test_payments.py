"""Bank-transfer accounts: an attached source, then detached and unusable."""

from __future__ import annotations

import pytest

from billing.payments import PaymentFailed, Payments


def test_opening_an_account_attaches_a_source_to_a_new_customer(payments: Payments, client):
    account = payments.open_bank_transfer_account("ada@example.com")

    source = client.v1.sources.retrieve(account.source_id)
    assert source.type == "ach_credit_transfer"
    assert source.customer == account.customer_id
    assert client.v1.customers.retrieve(account.customer_id).default_source == account.source_id


def test_a_closed_account_cannot_be_charged(payments: Payments, stripe_fake):
    account = payments.open_bank_transfer_account("ada@example.com")

    source = payments.close_bank_transfer_account(account)
    assert source.status == "consumed"

    with pytest.raises(PaymentFailed) as failed:
        payments.charge(account.source_id, 5000)

    assert "consumed" in failed.value.message
    assert stripe_fake.objects("charge") == []


def test_a_closed_account_cannot_be_charged_through_its_customer(payments: Payments):
    account = payments.open_bank_transfer_account("ada@example.com")
    payments.close_bank_transfer_account(account)

    with pytest.raises(PaymentFailed):
        payments.charge(account.source_id, 5000, customer_id=account.customer_id)

