"""Bank-transfer payments with ACH credit transfer sources (Stripe's Sources API).

A customer gets a source (virtual bank account details to send money to), attached to their
customer record.  When they close it, the source is detached: Stripe marks it ``consumed``
and it can never be charged again, which the shop reports as :class:`PaymentFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import stripe


class PaymentFailed(Exception):
    """Stripe refused the charge; ``message`` is Stripe's explanation, safe to log."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class BankTransferAccount:
    customer_id: str
    source_id: str


class Payments:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def open_bank_transfer_account(self, email: str) -> BankTransferAccount:
        """A new customer with an ACH credit transfer source attached."""
        customer = self._client.v1.customers.create(params={"email": email})
        source = self._client.v1.sources.create(params={
            "type": "ach_credit_transfer", "currency": "usd", "owner": {"email": email}})
        self._client.v1.customers.payment_sources.create(customer.id, params={"source": source.id})
        return BankTransferAccount(customer.id, source.id)

    def close_bank_transfer_account(self, account: BankTransferAccount) -> stripe.Source:
        """Detach the source from the customer; Stripe returns it ``consumed``."""
        source = self._client.v1.sources.detach(account.customer_id, account.source_id)
        return cast(stripe.Source, source)  # a customer's sources can also be cards, bank accounts

    def charge(self, source_id: str, amount: int, currency: str = "usd",
               customer_id: str | None = None) -> stripe.Charge:
        """Charge a source; a refused charge raises :class:`PaymentFailed`."""
        params: dict[str, Any] = {"source": source_id, "amount": amount, "currency": currency}
        if customer_id is not None:
            params["customer"] = customer_id
        try:
            return self._client.v1.charges.create(params=params)
        except stripe.InvalidRequestError as exc:  # consumed, not chargeable, not the customer's
            raise PaymentFailed(exc.user_message or str(exc), exc.code) from exc
