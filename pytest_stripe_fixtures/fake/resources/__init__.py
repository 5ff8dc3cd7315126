"""One module per Stripe resource: its endpoints, rules and version changes."""

from __future__ import annotations

import importlib

MODULES = ("products", "prices", "coupons", "promotion_codes", "discounts", "customers",
           "cards", "sources", "balance_transactions", "charges", "payment_methods",
           "payment_intents", "event_log", "webhook_endpoints", "checkout_sessions",
           "payment_links",
           "test_clocks", "invoices", "subscriptions")
_loaded = False


def load_all() -> None:
    """Import every resource module once (registers routes and version changes)."""
    global _loaded
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True
