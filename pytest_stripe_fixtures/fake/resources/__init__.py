"""One module per Stripe resource: its endpoints, rules and version changes.

Every module of this package is discovered and imported by :func:`load_all` (no list to keep
in sync); see ``fake/catalog.py`` for how a hand-written resource plugs in.
"""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def module_names() -> tuple[str, ...]:
    """The resource modules of this package, sorted."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


MODULES = module_names()


def load_all() -> None:
    """Import every resource module once (registers routes and version changes)."""
    global _loaded
    if not _loaded:
        for name in module_names():
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True
