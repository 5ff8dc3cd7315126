"""The engine's transport-neutral request and response."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping
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
    """Status, headers and the JSON body as text (what goes on the wire)."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content(self) -> bytes:
        return self.text.encode()


class Headers(MutableMapping[str, str]):
    """Case-insensitive headers, as HTTP libraries hand them to the SDK."""

    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        if data:
            for key, value in data.items():
                self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._store[key.lower()][1]

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"
