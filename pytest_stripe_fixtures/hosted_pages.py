"""``stripe_fake.checkout``: the customer's side of Checkout and Payment Links, for tests.

A thin layer over :class:`pytest_stripe_fixtures.fake.hosted.Checkout` (where the state
changes live) that answers with stripe SDK objects, as the rest of a test sees Stripe::

    session = client.v1.checkout.sessions.create(params={...})
    paid = stripe_fake.checkout.complete(session.id, payment_method="pm_card_visa")
    assert paid.status == "complete" and paid.payment_status == "paid"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import stripe

    from .fake import StripeFake


class CheckoutHelper:
    """Play the customer on a hosted page; every method returns a ``stripe.checkout.Session``."""

    def __init__(self, fake: StripeFake) -> None:
        from .fake.hosted import Checkout

        self._checkout = Checkout(fake)
        self._fake = fake

    def complete(self, session_id: str, payment_method: str = "pm_card_visa",
                 promotion_code: str | None = None, email: str | None = None,
                 name: str | None = None, *, api_key: str | None = None
                 ) -> stripe.checkout.Session:
        """Pay ``session_id`` with ``payment_method`` (a test PaymentMethod such as
        ``pm_card_visa`` or ``pm_card_chargeDeclined``), entering ``promotion_code`` (the code
        the customer types, or a ``promo_`` id) and ``email``/``name``.  Completes the session
        (``status="complete"``, ``checkout.session.completed``), or, for a declined card,
        leaves it ``open`` with ``payment_intent`` naming the failed PaymentIntent.  Raises
        ``HostedPageError`` (a ``ValueError``) for what the page would refuse."""
        answer = self._checkout.complete(session_id, payment_method, promotion_code, email, name,
                                         api_key=api_key)
        return self._session(answer["session"])

    def open_payment_link(self, link_id: str, *, api_key: str | None = None
                          ) -> stripe.checkout.Session:
        """The Checkout Session a customer gets by visiting the payment link ``link_id``."""
        return self._session(self._checkout.open_payment_link(link_id, api_key=api_key))

    def complete_payment_link(self, link_id: str, payment_method: str = "pm_card_visa",
                              promotion_code: str | None = None, email: str | None = None,
                              name: str | None = None, *, api_key: str | None = None
                              ) -> stripe.checkout.Session:
        """Visit the payment link and pay: :meth:`open_payment_link`, then :meth:`complete`."""
        session = self.open_payment_link(link_id, api_key=api_key)
        return self.complete(session.id, payment_method, promotion_code, email, name,
                             api_key=api_key)

    def settle(self, session_id: str, succeeded: bool = True, *, api_key: str | None = None
               ) -> stripe.checkout.Session:
        """The delayed payment of a completed ``unpaid`` session succeeds or fails."""
        return self._session(self._checkout.settle(session_id, succeeded, api_key=api_key))

    def _session(self, values: dict[str, Any]) -> stripe.checkout.Session:
        import stripe

        return stripe.checkout.Session.construct_from(values, stripe.api_key)
