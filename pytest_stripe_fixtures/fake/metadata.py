"""Metadata: limits, merge on update, ``""`` unsets (STRIPE-API-RULES.md section 8)."""

from __future__ import annotations

from typing import Any

from . import errors

MAX_KEYS, MAX_KEY_LENGTH, MAX_VALUE_LENGTH = 50, 40, 500


def apply(current: dict[str, str] | None, update: Any, param: str = "metadata") -> dict[str, str]:
    """The metadata after ``update``: merged key by key; ``""`` for a key deletes it,
    ``""`` for the whole map clears it."""
    merged = dict(current or {})
    if update is None:
        return merged
    if update == "":
        return {}
    for key, value in update.items():
        if len(key) > MAX_KEY_LENGTH:
            raise errors.invalid(errors.METADATA_KEY.format(key=key), param)
        if "[" in key or "]" in key:
            raise errors.invalid(errors.METADATA_KEY_BRACKETS.format(key=key), param)
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            raise errors.invalid(errors.METADATA_VALUE.format(value=value), param)
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_KEYS:
        raise errors.invalid(errors.METADATA_TOO_MANY_KEYS.format(count=len(merged)), param)
    return merged
