"""Method + path -> handler.  Resource modules register their endpoints with ``@route``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "/v1/products/{id}", as in Stripe's spec
    handler: Handler

    @cached_property
    def endpoint(self) -> str:
        """The key of the endpoint in ``schemas/<version>/endpoints.json``."""
        return f"{self.method} {self.template}"


class Router:
    def __init__(self) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: dict[str, list[tuple[re.Pattern[str], Route]]] = {}  # by method

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            entry = Route(method, template, handler)
            if "{" in template:
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
                self._dynamic.setdefault(method, []).append((re.compile(pattern + r"\Z"), entry))
            else:
                self._static[(method, template)] = entry
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
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
