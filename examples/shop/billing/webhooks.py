"""What the shop does when Stripe tells it something happened (webhooks).

The web layer (:mod:`billing.web_flask`, :mod:`billing.web_fastapi`) only verifies the
signature with ``stripe.Webhook.construct_event`` and hands the event here:

* ``charge.succeeded``: the order named in the charge's ``metadata["order"]`` is paid;
* ``customer.source.deleted``: the customer's saved payment method is forgotten.

Stripe may deliver an event twice: handling is idempotent (keyed by event id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import stripe


@dataclass
class Ledger:
    """The shop's own records, updated from webhooks."""

    paid_orders: dict[str, str] = field(default_factory=dict)  # order -> charge id
    removed_sources: list[tuple[str, str]] = field(default_factory=list)  # (customer, source)
    seen: set[str] = field(default_factory=set)

    def handle(self, event: stripe.Event) -> None:
        if event.id in self.seen:
            return
        self.seen.add(event.id)
        obj = event.data.object
        if event.type == "charge.succeeded":
            order = obj.metadata.to_dict().get("order")
            if order:
                self.paid_orders[order] = obj.id
        elif event.type == "customer.source.deleted":
            self.removed_sources.append((obj.customer, obj.id))


def verify(payload: bytes, signature: str | None, secret: str) -> stripe.Event | None:
    """The event, or None when the request is not signed by Stripe with ``secret``."""
    try:
        return stripe.Webhook.construct_event(payload, signature or "", secret)
    except (ValueError, stripe.SignatureVerificationError):
        return None
