"""Checks a Stripe response against ``schemas/``: used by the plugin's response validation
(``stripe_validate_responses``), the tests, and the cassette checker."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from .fake import schemas as schema_store


@cache
def _registry(version: str) -> Any:
    """The schemas of one version, so ``{"$ref": "product.json"}`` resolves; each document
    is read when a reference first reaches it."""
    from referencing import Registry, Resource

    def retrieve(uri: str) -> Any:
        return Resource.from_contents(schema_store.object_schema(version, uri[:-len(".json")]))

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]


@cache
def _validator(version: str, name: str) -> Any:
    import jsonschema

    schema = schema_store.object_schema(version, name)
    return jsonschema.validators.validator_for(schema)(schema, registry=_registry(version))


def schema_name_for(version: str, endpoint: str | None, status: int, body: Any) -> str | None:
    """Which schema a response must match: ``error`` for errors, else the endpoint's object.

    Deleting a customer's discount returns ``deleted_discount``; a deleted customer read back
    is ``deleted_customer``; a source detached from a customer is a ``source`` (a
    ``payment_source``), a deleted card ``deleted_payment_source``."""
    if status >= 400:
        return "error"
    if endpoint is None:
        return None
    name = schema_store.endpoints(version)[endpoint]["response"]
    if isinstance(body, dict) and body.get("deleted") is True and not name.startswith("deleted"):
        name = f"deleted_{name}"
    return name


def problems(version: str, endpoint: str | None, status: int, body: Any) -> list[str]:
    """Human-readable schema violations (empty when the response conforms)."""
    name = schema_name_for(version, endpoint, status, body)
    if name is None:
        return []
    validator = _validator(version, name)
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(f"{name}.json at {where}: {error.message}")
    return found


def first_nonconforming(records: Iterable[Any]) -> tuple[Any, list[str]] | None:
    """The first answered request (a ``RequestRecord``) whose response is off its schema, with
    the violations; None when every response conforms."""
    for record in records:
        if record.resolved_version is None:
            continue
        found = problems(record.resolved_version, record.endpoint, record.status, record.json())
        if found:
            return record, found
    return None
