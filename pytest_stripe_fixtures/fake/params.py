"""Schema-driven parameter validation: decoded form values -> typed params, or Stripe's 400.

The schema of each endpoint comes from ``schemas/<version>/endpoints.json`` (generated from
Stripe's OpenAPI spec by ``tools/gen_schemas.py``): JSON-Schema-like nodes with ``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``anyOf``, ``enum``,
``maxLength`` and ``format``.  ``anyOf [X, {"enum": [""]}]`` marks a param that ``""`` unsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import errors

_INT = re.compile(r"-?\d+\Z")
_DECIMAL = re.compile(r"-?(\d+(\.\d*)?|\.\d+)\Z")
_MAX_SHOWN = 30  # characters of a too-long value echoed in the message


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
            raise errors.invalid(message.format(value=value), path, code)
        return parsed
    if not isinstance(value, str):
        raise errors.invalid(errors.INVALID_STRING.format(param=path), path)
    # string
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        choices = _oxford([c for c in enum if c != ""])  # "" (unset) is no choice to list
        raise errors.invalid(errors.INVALID_ENUM.format(param=path, choices=choices), path)
    if schema.get("format") == "decimal" and not _DECIMAL.match(value):
        raise errors.invalid(errors.INVALID_DECIMAL.format(value=value), path)
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
    "integer": (errors.INVALID_INTEGER, "parameter_invalid_integer",
                lambda v: int(v) if _INT.match(v) else None),
    "number": (errors.INVALID_NUMBER, None, lambda v: float(v) if _DECIMAL.match(v) else None),
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


def _coerce_array(schema: dict[str, Any], value: Any, path: str) -> list[Any]:
    if isinstance(value, dict):
        if not all(_INT.match(k) for k in value):
            raise errors.invalid(errors.INVALID_ARRAY, path)
        value = [value[k] for k in sorted(value, key=int)]
    elif not isinstance(value, list):
        raise errors.invalid(errors.INVALID_ARRAY, path)
    items = schema.get("items", {"type": "string"})
    return [_coerce(items, sub, _name(path, str(i))) for i, sub in enumerate(value)]
