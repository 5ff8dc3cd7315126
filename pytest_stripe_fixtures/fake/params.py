"""Schema-driven parameter validation: decoded form values -> typed params, or Stripe's 400.

The schema of each endpoint comes from ``schemas/<version>/endpoints.json`` (generated from
Stripe's OpenAPI spec by ``tools/gen_schemas.py``): JSON-Schema-like nodes with ``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``anyOf``, ``enum``,
``maxLength`` and ``format``.  ``anyOf [X, {"enum": [""]}]`` marks a param that ``""`` unsets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import errors

# ASCII digits only: ``\d`` would take "１２" or "٣" as numbers, which Stripe refuses.
_INT = re.compile(r"-?[0-9]+\Z")
_DECIMAL = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
_MAX_SHOWN = 30  # characters of a too-long value echoed in the message
# Stripe's integers are 64-bit: a longer one is "Invalid integer" (never a 4,300-digit int()).
INT64_MAX = 2**63 - 1
_INT64_DIGITS = len(str(INT64_MAX))
# Amounts in the smallest currency unit take at most eight digits ("The amount value supports
# up to eight digits (e.g., a value of 99999999 for a USD charge of $999,999.99)", Stripe's
# currencies docs) [D]; these params are amounts wherever they appear.
MAX_AMOUNT = 99_999_999
AMOUNT_PARAMS = frozenset({"unit_amount", "flat_amount", "amount_off"})


def parse_int(value: str) -> int | None:
    """A 64-bit integer in ASCII digits, or None; bounded work whatever the length."""
    if len(value) > _INT64_DIGITS + 1 or not _INT.match(value):
        return None
    number = int(value)
    return number if -INT64_MAX - 1 <= number <= INT64_MAX else None


def parse_number(value: str) -> float | None:
    """A finite decimal number in ASCII digits, or None."""
    if not _DECIMAL.match(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _name(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def _oxford(choices: list[str]) -> str:
    if len(choices) <= 1:
        return "".join(choices)
    if len(choices) == 2:
        return f"{choices[0]} or {choices[1]}"
    return ", ".join(choices[:-1]) + f", or {choices[-1]}"


def _allows_empty(schema: dict[str, Any]) -> bool:
    return any(v.get("enum") == [""] for v in schema.get("anyOf", ()))


def validate(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole request's decoded params against its endpoint schema."""
    if "id" in params and params["id"] == "" and "id" in schema.get("properties", {}):
        raise errors.invalid(errors.EMPTY_ID.format(param="id"), "id")
    _check_unknown(schema, params, "")
    return _coerce(schema, params, "")


def _check_unknown(schema: dict[str, Any], value: Any, path: str) -> None:
    """Unknown parameters are reported before any other problem."""
    if "anyOf" in schema:  # the variant the value's shape selects (a hash, an array, ...)
        ranked = sorted(schema["anyOf"], key=lambda v: _kind_rank(v, value))
        best = _kind_rank(ranked[0], value)
        first: errors.StripeError | None = None
        for variant in ranked:  # several hash variants (card[number] or card[token]): any fits
            if _kind_rank(variant, value) != best:
                break
            try:
                _check_unknown(variant, value, path)
                return
            except errors.StripeError as exc:
                first = first or exc
        assert first is not None
        raise first
    if schema.get("type") == "object" and isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if props is not None and key in props:
                if isinstance(sub, (dict, list)):  # a scalar holds no unknown names
                    _check_unknown(props[key], sub, _name(path, key))
            elif isinstance(extra, dict):
                if isinstance(sub, (dict, list)):
                    _check_unknown(extra, sub, _name(path, key))
            elif props is not None or extra is False:
                raise errors.unknown_param(_name(path, key))
    elif schema.get("type") == "array" and isinstance(value, (list, dict)):
        items = schema.get("items", {})
        seq = value.values() if isinstance(value, dict) else value
        for index, sub in enumerate(seq):
            _check_unknown(items, sub, _name(path, str(index)))


def _coerce(schema: dict[str, Any], value: Any, path: str) -> Any:
    if "anyOf" in schema:
        return _coerce_any_of(schema, value, path)
    if value == "":
        if "" in schema.get("enum", ()):  # the spec lists "" itself (e.g. `tax_exempt`)
            return ""
        raise errors.empty_param(path)
    kind = schema.get("type")
    if kind == "object":
        return _coerce_object(schema, value, path)
    if kind == "array":
        return _coerce_array(schema, value, path)
    if kind in _SCALARS:
        message, code, parse = _SCALARS[kind]
        parsed = parse(value) if isinstance(value, str) else None
        if parsed is None:
            shown = value if not isinstance(value, str) or len(value) <= _MAX_SHOWN else (
                value[:_MAX_SHOWN] + "...")
            raise errors.invalid(message.format(value=shown), path, code)
        if kind == "integer" and parsed > MAX_AMOUNT and _leaf(path) in AMOUNT_PARAMS:
            raise errors.too_large(path, MAX_AMOUNT, parsed)
        return parsed
    if not isinstance(value, str):
        raise errors.invalid(errors.INVALID_STRING.format(param=path), path)
    # string
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        choices = _oxford([c for c in enum if c != ""])  # "" (unset) is no choice to list
        raise errors.invalid(errors.INVALID_ENUM.format(param=path, choices=choices), path)
    if schema.get("format") == "decimal" and not _DECIMAL.match(value):
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
        raise errors.invalid(errors.INVALID_DECIMAL.format(value=shown), path)
    if (schema.get("format") == "decimal" and _leaf(path).endswith("amount_decimal")
            and Decimal(value) >= MAX_AMOUNT + 1):  # eight digits before the point
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
        raise errors.too_large(path, MAX_AMOUNT, shown)
    limit = schema.get("maxLength")
    if limit is not None and len(value) > limit:
        special = errors.TOO_LONG_BY_PARAM.get(path.rsplit("[", 1)[-1].rstrip("]"))
        if special is not None:
            raise errors.invalid(special.format(limit=limit, value=value, length=len(value)),
                                 path)
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
        raise errors.invalid(errors.INVALID_STRING_LENGTH.format(value=shown, limit=limit), path)
    return value


# Scalar types: (message, code, parser returning None for a value it refuses).
_SCALARS: dict[str, tuple[str, str | None, Callable[[str], Any]]] = {
    "integer": (errors.INVALID_INTEGER, "parameter_invalid_integer", parse_int),
    "number": (errors.INVALID_NUMBER, None, parse_number),
    "boolean": (errors.INVALID_BOOLEAN, "parameter_invalid_boolean",
                {"true": True, "false": False}.get),
}


def _coerce_any_of(schema: dict[str, Any], value: Any, path: str) -> Any:
    variants = schema["anyOf"]
    if value == "":
        if _allows_empty(schema):
            return ""
        raise errors.empty_param(path)
    first_error: errors.StripeError | None = None
    # Try the variant whose container kind matches the value first (object vs scalar).
    ordered = sorted(variants, key=lambda v: _kind_rank(v, value))
    for variant in ordered:
        if variant.get("enum") == [""]:
            continue
        try:
            return _coerce(variant, value, path)
        except errors.StripeError as exc:
            if first_error is None:
                first_error = exc
    assert first_error is not None
    raise first_error


def _kind_rank(variant: dict[str, Any], value: Any) -> int:
    kind = variant.get("type")
    if isinstance(value, dict):
        return 0 if kind in ("object", "array") else 1
    if isinstance(value, list):
        return 0 if kind == "array" else 1
    return 1 if kind in ("object", "array") else 0


def _coerce_object(schema: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.invalid(errors.INVALID_HASH, path or None)
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key in schema.get("required", ()):
        if key not in value:
            raise errors.missing_param(_name(path, key))
    out: dict[str, Any] = {}
    for key, sub in value.items():
        sub_schema = props.get(key)
        if sub_schema is None:
            if extra is False:
                raise errors.unknown_param(_name(path, key))
            sub_schema = extra if isinstance(extra, dict) else {"type": "string"}
            if sub == "" and sub_schema.get("type") == "string":
                out[key] = ""  # a map entry set to "" unsets that key (metadata[k]="")
                continue
        out[key] = _coerce(sub_schema, sub, _name(path, key))
    return out


def _leaf(path: str) -> str:
    """``tiers[0][unit_amount]`` -> ``unit_amount``."""
    return path.rsplit("[", 1)[-1].rstrip("]")


def _coerce_array(schema: dict[str, Any], value: Any, path: str) -> list[Any]:
    if isinstance(value, dict):
        if not all(parse_int(k) is not None for k in value):
            raise errors.invalid(errors.INVALID_ARRAY, path)
        value = [value[k] for k in sorted(value, key=int)]
    elif not isinstance(value, list):
        raise errors.invalid(errors.INVALID_ARRAY, path)
    items = schema.get("items", {"type": "string"})
    return [_coerce(items, sub, _name(path, str(i))) for i, sub in enumerate(value)]
