"""Cassettes: record Stripe test-mode traffic once, replay it offline.

* :class:`Cassette` (``cassette.py``): indexed replay, recording, record modes, safe saving;
* ``matching.py``: the request key (method, path, decoded params) and "closest request" hints;
* ``scrub.py``: secrets and user filters kept off disk;
* ``yamlio.py``: the YAML file format, fast cached reads, locked atomic writes;
* ``verify.py``: replays recordings against the fake and reports shape differences;
* ``check.py``: ``python -m pytest_stripe_fixtures check cassettes/``;
* ``pytest_support.py``: options and the ``stripe_cassette`` fixture (``plugin.py`` delegates).

Interception lives in ``transports/vcr.py``.  Outside pytest::

    with use_cassette("cassettes/checkout.yaml", mode="once"):
        stripe.Customer.create(email="jenny@example.com")

Names are imported lazily, so ``pytest_support`` stays cheap for the plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cassette import Cassette, RecordMode
    from .scrub import Filters

_EXPORTS = {
    "Cassette": "cassette", "RecordMode": "cassette", "Filters": "scrub",
    "DEFAULT_UPSTREAM": "upstream", "CassetteError": "errors", "CassetteFormatError": "errors",
    "CassetteNotFound": "errors", "LiveKeyRefused": "errors", "SecretInCassette": "errors",
    "UnmatchedRequest": "errors",
}
__all__ = [*_EXPORTS, "use_cassette"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


@contextlib.contextmanager
def use_cassette(path: Path | str, mode: RecordMode | str = "none", *,
                 upstream: str = "https://api.stripe.com", filters: Filters | None = None,
                 sdk: bool = True) -> Iterator[Cassette]:
    """Answer Stripe requests from ``path`` for the duration of the block; save on exit
    (what was recorded, if anything)."""
    from ..transports.vcr import CassetteInterceptor
    from .cassette import Cassette

    cassette = Cassette(path, mode, upstream_url=upstream, filters=filters)
    try:
        with CassetteInterceptor(cassette, sdk=sdk):
            yield cassette
    finally:
        cassette.save()
