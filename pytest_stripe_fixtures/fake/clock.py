"""The fake's clock: Unix seconds, frozen unless the test moves it (only forwards)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """``created``, ``updated``, expiry checks and ``redeem_by`` all read this clock."""

    def __init__(self, now: int | None = None) -> None:
        self._now = int(time.time()) if now is None else int(now)
        # called with the new time after every move (the fake moves billing objects with it)
        self.listeners: list[Callable[[int], None]] = []

    def now(self) -> int:
        return self._now

    def advance(self, seconds: int = 1) -> int:
        """Move forward ``seconds`` (e.g. past a coupon's ``redeem_by``); returns the new time."""
        if seconds < 0:
            raise ValueError("the Stripe fake's clock only moves forward")
        self._now += int(seconds)
        if seconds:
            for listener in self.listeners:
                listener(self._now)
        return self._now

    def set(self, timestamp: int) -> int:
        """Jump to ``timestamp`` (not earlier than now: list order relies on it)."""
        return self.advance(int(timestamp) - self._now)

    def __repr__(self) -> str:
        return f"Clock(now={self._now})"
