"""Events (issue 12): a no-op stand-in with the agreed signature until the events work lands."""

from __future__ import annotations

from typing import Any


def emit(ctx: Any, type: str, obj: dict[str, Any],
         previous_attributes: dict[str, Any] | None = None) -> None:
    """Record that ``type`` happened to ``obj`` (the stored object, current shape)."""
