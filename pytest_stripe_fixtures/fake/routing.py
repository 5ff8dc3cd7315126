"""Method + path -> handler.

Resource modules register their endpoints with ``@route(METHOD, template)`` (the template as
in Stripe's spec, e.g. ``"/v1/products/{id}"``).  A path is matched against the operation
catalog first (``catalog.match``: literal segments win over params); the hand-written handler
of that operation answers when there is one, else the generic layer (``generic.answer``).
Hand-written routes outside the catalog are matched last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from . import catalog

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "/v1/products/{id}", as in Stripe's spec
    handler: Handler
    modelled: bool = True  # False: the generic layer answers (no hand-written rules)

    @cached_property
    def endpoint(self) -> str:
        """The key of the endpoint in the catalog and ``schemas/<version>/endpoints/``."""
        return f"{self.method} {self.template}"


def _shape(template: str) -> str:
    return re.sub(r"\{\w+\}", "{}", template)


class Router:
    def __init__(self) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: dict[str, list[tuple[re.Pattern[str], Route]]] = {}  # by method
        self._by_shape: dict[tuple[str, str], Route] = {}
        self._generic: dict[tuple[str, str], Route] = {}

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            entry = Route(method, template, handler)
            self._by_shape[(method, _shape(template))] = entry
            if "{" in template:
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
                self._dynamic.setdefault(method, []).append((re.compile(pattern + r"\Z"), entry))
            else:
                self._static[(method, template)] = entry
            return handler

        return register

    def routes(self) -> list[Route]:
        """Every hand-written route."""
        return list(self._by_shape.values())

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        found = catalog.match(method, path)
        if found is not None:
            template, values = found
            hand = self._by_shape.get((method, _shape(template)))
            if hand is not None:
                return hand, dict(zip(catalog.param_names(hand.template), values, strict=True))
            return self._generic_route(method, template), dict(
                zip(catalog.param_names(template), values, strict=True))
        return self._match_hand(method, path)

    def _generic_route(self, method: str, template: str) -> Route:
        route = self._generic.get((method, template))
        if route is None:
            from .generic import answer

            route = self._generic[(method, template)] = Route(method, template, answer, False)
        return route

    def _match_hand(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        found = self._static.get((method, path))
        if found is not None:
            return found, {}
        for pattern, entry in self._dynamic.get(method, ()):
            m = pattern.match(path)
            if m:
                return entry, {k: unquote(v) for k, v in m.groupdict().items()}
        return None


ROUTER = Router()
route = ROUTER.route
