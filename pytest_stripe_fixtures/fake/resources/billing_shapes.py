"""Version changes of the billing objects (STRIPE-API-RULES-BILLING.md §8.1, §1.2, §2.9).

Billing objects are stored in the current shape (2026-10-28.endive); one :class:`Reshape` per
object and breaking version turns it back into the older shape: fields the newer version added
are dropped, fields it removed are computed again from the current object (the basil
``parent`` of an invoice gives back its ``subscription``, its ``payments`` give back the
``payment_intent``), and the schemas follow from the same description.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import versions
from ..store import Obj

BASIL = "2025-03-31.basil"
DISCOUNTS_ADDED = "2024-04-10"  # [S py8.10.0] ``discounts`` on subscriptions and items [R] date
BILLING_MODE_ADDED = "2025-06-30.basil"  # [D] billing_mode hash

OMIT = object()  # a computed field that older versions leave out
Compute = Callable[[Obj, versions.View], Any]

# ``expand[]=latest_invoice.payment_intent`` (a 2023 habit) names a field the current shape
# does not have: the request's wish is kept here (per thread) and honoured while downgrading.
LEGACY_EXPAND: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "legacy_expand", default=frozenset())


def reorder(obj: Obj) -> None:
    """``id`` and ``object`` first, then the fields alphabetically (as Stripe prints them)."""
    items = sorted(obj.items(), key=lambda kv: (kv[0] not in ("id", "object"),
                                                kv[0] != "id", kv[0]))
    obj.clear()
    obj.update(items)


@dataclass
class Reshape(versions.Change):
    """One object's breaking change in ``version``: ``added`` fields (name -> JSON schema) exist
    only from ``version`` on; ``removed`` fields (name -> (schema, compute)) only before it."""

    object: str = ""
    added: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, tuple[dict[str, Any], Compute]] = field(default_factory=dict)
    includable: tuple[str, ...] = ()  # added fields absent unless expanded
    also: tuple[str, ...] = ()  # other schema names of the object (``deleted_invoice``)
    params_added: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    params_removed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lift: Callable[[str, Obj], None] | None = None  # older request params -> current

    def __post_init__(self) -> None:
        self.objects = (self.object,)

    def downgrade(self, obj: Obj, view: versions.View) -> None:
        values = {name: compute(obj, view) for name, (_, compute) in self.removed.items()}
        for name in self.added:
            obj.pop(name, None)
        for name, value in values.items():
            if value is OMIT:
                continue
            if isinstance(value, dict):  # an object looked up in the current shape
                value = versions.downgrade(versions.OLDEST, value, view)
            obj[name] = value
        reorder(obj)

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        if self.lift is not None:
            self.lift(endpoint, params)

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        for name in (self.object, *self.also):
            for _, node in versions._schema_nodes(schemas, name):
                props = node["properties"]
                for removed in self.removed:
                    props.pop(removed, None)
                required = set(node.get("required", ())) - set(self.removed)
                for added, schema in self.added.items():
                    props[added] = dict(schema)
                    if added in self.includable:
                        node["x-includable"] = sorted({*node.get("x-includable", ()), added})
                    elif name == self.object:
                        required.add(added)
                node["required"] = sorted(required)
                expandable = node.get("x-expandable")
                if expandable:
                    for removed in self.removed:
                        expandable.pop(removed, None)
        for endpoint, names in self.params_removed.items():
            entry = schemas["endpoints"].get(endpoint)
            if entry is None:
                continue
            props = entry["params"]["properties"]
            for name in names:
                props.pop(name, None)
        for endpoint, added in self.params_added.items():
            entry = schemas["endpoints"].get(endpoint)
            if entry is None:
                continue
            for name, schema in added.items():
                entry["params"]["properties"][name] = dict(schema)


@dataclass
class EndpointAdded(versions.Change):
    """An endpoint only newer versions have (older ones answer 404)."""

    endpoint: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    path_params: tuple[str, ...] = ()
    response: str = ""

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        schemas["endpoints"][self.endpoint] = {
            "params": {"type": "object", "properties": dict(self.params), "required": [],
                       "additionalProperties": False},
            "path_params": list(self.path_params), "response": self.response}


@dataclass
class EndpointRemoved(versions.Change):
    """An endpoint only older versions have (newer ones answer 404)."""

    endpoint: str = ""

    def upgrade_schemas(self, schemas: versions.Schemas) -> None:
        schemas["endpoints"].pop(self.endpoint, None)


def nullable(kind: str | list[str]) -> dict[str, Any]:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {"type": [*kinds, "null"]}


OBJECT = {"type": "object"}
NULLABLE_OBJECT = nullable("object")
ID_LIST = {"type": "array", "items": {"type": "string"}}
EXPAND_PARAM = {"type": "array", "items": {"type": "string", "maxLength": 5000}}
