"""Discount campaigns: a coupon, the promotion code customers type in, and its redemption.

Why a pinned API version: the shop gives discounts to *customers* (``customer.discount``).
Stripe removed ``coupon``/``promotion_code`` from customer create/update in API version
2025-03-31.basil (newer versions discount subscriptions, invoices and Checkout sessions
instead), and the ``stripe`` SDK sends its own, newer version.  So this module talks to Stripe
through a client pinned to 2023-08-16 (:func:`legacy_client`).  The pin is per client: the rest
of the app keeps the SDK's version.  The params below are in the 2023-08-16 shape (e.g. a
promotion code's ``coupon``), not the newer shape the SDK's type hints describe.
"""

from __future__ import annotations

from typing import Any, Literal

import stripe

LEGACY_API_VERSION = "2023-08-16"

Duration = Literal["once", "repeating", "forever"]


class PromotionCodeInvalid(Exception):
    """The code does not exist, has expired, or cannot be redeemed (any more)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"promotion code {code!r}: {reason}")
        self.code = code
        self.reason = reason


def legacy_client(api_key: str) -> stripe.StripeClient:
    """A client speaking the API version that still has customer-level discounts."""
    return stripe.StripeClient(api_key, stripe_version=LEGACY_API_VERSION)


class Discounts:
    """Campaigns and their redemption; ``client`` must be a :func:`legacy_client`."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def create_campaign(self, code: str, *, percent_off: float, duration: Duration = "once",
                        max_redemptions: int | None = None, expires_at: int | None = None,
                        customer_id: str | None = None) -> stripe.PromotionCode:
        """A coupon worth ``percent_off`` and a promotion code ``code`` that redeems it
        (only for ``customer_id`` when given)."""
        coupon = self._client.v1.coupons.create(
            params={"percent_off": percent_off, "duration": duration, "name": code})
        params: dict[str, Any] = {"coupon": coupon.id, "code": code}
        if max_redemptions is not None:
            params["max_redemptions"] = max_redemptions
        if expires_at is not None:
            params["expires_at"] = expires_at
        if customer_id is not None:
            params["customer"] = customer_id
        return self._client.v1.promotion_codes.create(params=params)

    def redeem(self, customer_id: str, code: str) -> stripe.Customer:
        """Give the customer the discount behind ``code`` (codes are case-insensitive)."""
        found = self._client.v1.promotion_codes.list(params={"code": code, "active": True, "limit": 1})
        if not found.data:
            raise PromotionCodeInvalid(code, "no active promotion code with this code")
        try:
            return self._client.v1.customers.update(
                customer_id, params={"promotion_code": found.data[0].id})
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 400:  # e.g. 404, no such customer: a bug, not a bad code
                raise
            # e.g. a code restricted to another customer
            raise PromotionCodeInvalid(code, exc.user_message or "refused by Stripe") from exc

    def remove(self, customer_id: str) -> None:
        """End the customer's discount."""
        self._client.v1.customers.delete_discount(customer_id)
