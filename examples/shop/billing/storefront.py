"""The shop's web storefront (Flask): take orders through Stripe Checkout, fulfil them from
webhooks.

The way Stripe recommends (docs "Fulfill orders"): the order is created as ``pending`` and a
Checkout Session is opened for it (``client_reference_id`` = the order id); the customer pays
on Stripe's page; the order is fulfilled only when Stripe says so, on the signed webhook
``checkout.session.completed`` (if ``payment_status`` is not ``unpaid``) or, for delayed
payment methods, ``checkout.session.async_payment_succeeded``.  Webhooks may arrive twice:
fulfilling is idempotent.  An expired session cancels its order.

    app = create_app(stripe.StripeClient(key), webhook_secret="whsec_...")
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import Flask, abort, jsonify, request

SUCCESS_URL = "https://coffee.shop.test/thanks?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://coffee.shop.test/cart"


@dataclass
class Order:
    id: str
    price_id: str
    quantity: int
    status: str = "pending"  # -> paid (fulfilled) | awaiting_payment | failed | canceled
    session_id: str | None = None
    customer_id: str | None = None
    email: str | None = None
    amount_paid: int | None = None
    fulfilled: int = 0  # how many times fulfilment ran (must stay 1)


@dataclass
class Orders:
    """The shop's order book (a database in a real shop)."""

    by_id: dict[str, Order] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def new(self, price_id: str, quantity: int) -> Order:
        order = Order(f"order-{next(self._ids)}", price_id, quantity)
        self.by_id[order.id] = order
        return order


def create_app(client: stripe.StripeClient, webhook_secret: str,
               orders: Orders | None = None) -> Flask:
    app = Flask(__name__)
    book = orders if orders is not None else Orders()
    app.config["ORDERS"] = book

    @app.post("/checkout")
    def checkout() -> Any:
        """Open a Checkout Session for one item; the browser is sent to its ``url``."""
        body = request.get_json(force=True)
        order = book.new(body["price"], int(body.get("quantity", 1)))
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{"price": order.price_id, "quantity": order.quantity}],
            "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
            "client_reference_id": order.id, "metadata": {"order_id": order.id},
            "allow_promotion_codes": True, "customer_creation": "always",
        }
        if body.get("email"):
            params["customer_email"] = body["email"]
        session = client.v1.checkout.sessions.create(params=params)
        order.session_id = session.id
        return jsonify({"order": order.id, "checkout_url": session.url}), 201

    @app.post("/webhooks/stripe")
    def webhook() -> Any:
        try:
            event = stripe.Webhook.construct_event(
                request.get_data(), request.headers.get("Stripe-Signature", ""), webhook_secret)
        except (ValueError, stripe.SignatureVerificationError):
            abort(400)
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            session = event.data.object
            order = book.by_id.get(session.client_reference_id or "")
            if order is not None:
                handler(order, session)
        return "", 200

    return app


def _fulfil(order: Order, session: Any) -> None:
    if order.status == "paid":
        return  # a webhook delivered twice
    order.status = "paid"
    order.customer_id = session.customer
    order.email = session.customer_details.email if session.customer_details else None
    order.amount_paid = session.amount_total
    order.fulfilled += 1


def _completed(order: Order, session: Any) -> None:
    if session.payment_status == "unpaid":
        order.status = "awaiting_payment"  # a delayed method: wait for async_payment_*
    else:  # paid, or no_payment_required (e.g. a 100% promotion code)
        _fulfil(order, session)


def _failed(order: Order, session: Any) -> None:
    order.status = "failed"


def _expired(order: Order, session: Any) -> None:
    if order.status == "pending":
        order.status = "canceled"


_HANDLERS = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _fulfil,
    "checkout.session.async_payment_failed": _failed,
    "checkout.session.expired": _expired,
}
