"""What customers do on Stripe's hosted pages, for tests: no API request stands for it.

:class:`Checkout` pays a Checkout Session (or opens and pays a Payment Link) the way the
customer would on ``checkout.stripe.com`` / ``buy.stripe.com``.  Each action runs like a request
of its own: under the account's lock, after the clock-following hooks, its writes and events
recorded in order (``request`` null on the events, as for Stripe's own actions) and its webhooks
delivered once it is done.  Answers are the stored objects rendered in the fake's default API
version, as a retrieve would answer them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import errors, events, versions
from .engine import _BEFORE_HANDLER, Context, _lookup, _View
from .expand import Renderer
from .store import Obj

if TYPE_CHECKING:
    from .engine import StripeFake


@contextmanager
def acting(fake: StripeFake, api_key: str | None = None) -> Iterator[Context]:
    """A context for an action outside the API (current shape, no params), run like a write
    request: clock hooks first, events recorded, webhooks delivered after."""
    account = fake._account(api_key)
    with account.lock:
        account.store.touch()
        ctx = Context(fake, account, {}, versions.CURRENT, None, "")  # type: ignore[arg-type]
        for hook in _BEFORE_HANDLER:
            hook(ctx)
        recorder = events.begin(account.store, "", {}, events.NO_REQUEST)
        try:
            yield ctx
        except errors.StripeError:
            events.finish(ctx, recorder)
            raise
        except BaseException:
            events.finish(ctx, recorder, keep=False)
            raise
        events.finish(ctx, recorder)
    if fake.webhooks.queue:
        fake.webhooks.drain()


def render(fake: StripeFake, ctx: Context, obj: Obj, version: str | None = None) -> Obj:
    """``obj`` as the API answers it in ``version`` (default: the fake's default version)."""
    store = ctx.store
    renderer = Renderer(fake._facts, lambda t, i: _lookup(store, t, i))
    body = renderer.render(obj)
    resolved = versions.resolve(version or fake.default_version)
    if versions.needs_downgrade(resolved):
        body = versions.downgrade(resolved, body, _View(renderer))
    return body


class Checkout:
    """``stripe_fake.checkout``: the customer's side of Checkout and Payment Links."""

    def __init__(self, fake: StripeFake) -> None:
        self._fake = fake

    def complete(self, session_id: str, payment_method: str = "pm_card_visa",
                 promotion_code: str | None = None, email: str | None = None,
                 name: str | None = None, *, api_key: str | None = None) -> dict[str, Any]:
        """Pay (or, in setup mode, save the card for) ``session_id``; see
        :func:`~.resources.checkout_sessions.complete`.  Returns ``{"session": ..., "completed":
        bool, "intent": ... | None}`` rendered; a decline answers ``completed: False`` with the
        failed intent and leaves the session open.  Raises
        :class:`~.resources.checkout_sessions.HostedPageError` for what the page would refuse
        (a session no longer open, an invalid promotion code)."""
        from .resources import checkout_sessions

        with acting(self._fake, api_key) as ctx:
            session = self._session(ctx, session_id)
            attempt = checkout_sessions.complete(ctx, session, payment_method=payment_method,
                                                 promotion_code=promotion_code, email=email,
                                                 name=name)
            return {"session": render(self._fake, ctx, attempt.session),
                    "completed": attempt.completed,
                    "intent": (None if attempt.intent is None
                               else render(self._fake, ctx, attempt.intent))}

    def open_payment_link(self, link_id: str, *, api_key: str | None = None) -> dict[str, Any]:
        """A customer opens the link: the open Checkout Session Stripe creates for the visit."""
        from .resources import payment_links

        with acting(self._fake, api_key) as ctx:
            link = ctx.store.get("payment_link", link_id)
            if link is None:
                raise ValueError(f"no payment link {link_id!r} in this fake")
            try:
                session = payment_links.open_session(ctx, link)
            except errors.StripeError as exc:
                from .resources.checkout_sessions import HostedPageError

                raise HostedPageError(exc.message) from None
            return render(self._fake, ctx, session)

    def settle(self, session_id: str, succeeded: bool = True, *,
               api_key: str | None = None) -> dict[str, Any]:
        """The asynchronous payment of a completed, still ``unpaid`` session succeeds or fails
        (``checkout.session.async_payment_succeeded|failed``)."""
        from .resources import checkout_sessions

        with acting(self._fake, api_key) as ctx:
            session = self._session(ctx, session_id)
            return render(self._fake, ctx, checkout_sessions.settle(ctx, session, succeeded))

    @staticmethod
    def _session(ctx: Context, session_id: str) -> Obj:
        session = ctx.store.get("checkout.session", session_id)
        if session is None:
            raise ValueError(f"no Checkout Session {session_id!r} in this fake")
        return session
