"""pytest-stripe-fixtures: an offline, stateful, in-process fake of Stripe's API for tests.

The engine (``pytest_stripe_fixtures.fake``) is a plain library: a :class:`Request` goes in,
a :class:`Response` comes out.  The pytest plugin (``plugin.py``) only wires it to the
``stripe`` SDK for the duration of a test.
"""

from __future__ import annotations

from typing import Any

__all__ = ["StripeFake", "Request", "Response"]


def __getattr__(name: str) -> Any:  # lazy: importing the plugin must stay cheap
    if name in __all__:
        from . import fake

        return getattr(fake, name)
    raise AttributeError(name)
