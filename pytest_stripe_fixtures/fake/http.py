"""The engine's transport-neutral request and response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """One HTTP request as any transport hands it over.

    ``path`` may carry a query string; ``query`` is appended to it.  ``body`` is the raw
    ``application/x-www-form-urlencoded`` POST body (str or bytes).
    """

    method: str
    path: str
    query: str = ""
    body: str | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        value = self.headers.get(name)
        if value is not None:
            return value
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None


@dataclass
class Response:
    """Status, headers and the JSON body as text (what goes on the wire).

    An injected fault may ask the transport to ``delay`` the answer (seconds) or to ``drop``
    it: ``"connection"`` (the client sees the connection fail) or ``"timeout"`` (the client
    sees its request time out); a dropped response has no status worth reading."""

    status: int
    headers: dict[str, str]
    text: str
    delay: float = 0.0
    drop: str | None = None

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content(self) -> bytes:
        return self.text.encode()


class Headers(dict):  # type: ignore[type-arg]
    """Case-insensitive headers, as HTTP libraries hand them to the SDK (which reads
    ``request-id`` and ``idempotency-key`` in lower case).  A plain dict, so building one is a
    copy; a lookup in another case goes through a lower-cased index built on first need."""

    _lower: dict[str, str] | None = None

    def _index(self) -> dict[str, str]:
        index = self._lower
        if index is None or len(index) != len(self):
            index = self._lower = {name.lower(): name for name in self}
        return index

    def __missing__(self, key: str) -> Any:
        name = self._index().get(key.lower()) if isinstance(key, str) else None
        if name is None or not dict.__contains__(self, name):
            raise KeyError(key)
        return dict.__getitem__(self, name)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return isinstance(key, str) and key.lower() in self._index()
