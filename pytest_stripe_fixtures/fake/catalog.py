"""The operation catalog: every operation and object of Stripe's spec, generated.

``tools/gen_schemas.py`` derives ``schemas/catalog/operations.json`` (every operation: method,
path, path params, response object, kind, parent, action, documented defaults) and
``schemas/catalog/objects.json`` (every object: id prefix, deleted stub, list and search URLs,
search fields, includable and expandable fields) from Stripe's OpenAPI spec, so that what
exists is written down once.  The router, the id factory, the renderer, the generic layer
(``generic.py``), conformance and the generator itself read it; it is loaded on first use
(the plugin's import never touches it).

Two layers answer a request:

* **modelled**: a hand-written handler in ``fake/resources/<name>.py`` registered with
  ``@route(METHOD, "/v1/...")`` (the template spelled exactly as in the spec).  It always wins.
* **generic**: every other operation of the catalog, answered statefully from the schemas
  (``generic.py``): create stores an object built from the params, retrieve/update/delete/list/
  search/actions work on the store.  ``RequestRecord.modelled`` tells which layer answered.

Adding a hand-written resource (one module plus its tests):

1. create ``pytest_stripe_fixtures/fake/resources/<name>.py`` (modules there are discovered:
   no list to update); decorate handlers with ``@route("POST", "/v1/<path as in the spec>")``,
   signature ``handler(ctx, **path_params)``, using ``ctx.params`` (validated, current shape),
   ``ctx.store``, ``ctx.now()``, ``ctx.new_id("<object>")``;
2. declare only what differs from the generic behaviour; for the rest, call the generic
   layer: ``generic.create(ctx, "tax_rate", overrides)`` builds and stores an object from its
   schema, ``generic.build(ctx, "tax_rate", params)`` builds without storing;
3. register version changes next to the resource (``versions.register``) and run
   ``python tools/gen_schemas.py``; ``tests/test_catalog.py`` fails if a route, an object or an
   id prefix is missing from the catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

from .schemas import schema_dir


@cache
def operations() -> dict[str, dict[str, Any]]:
    """``{"POST /v1/tax_rates": {"kind": "create", "object": "tax_rate", ...}}``."""
    return json.loads((schema_dir() / "catalog" / "operations.json").read_text())


@cache
def objects() -> dict[str, dict[str, Any]]:
    """``{"tax_rate": {"prefix": "txr_", "id_length": 24, "list_url": ..., ...}}``."""
    return json.loads((schema_dir() / "catalog" / "objects.json").read_text())


@dataclass(frozen=True)
class Operation:
    """One operation of the catalog."""

    method: str
    template: str
    kind: str  # create retrieve update delete list search singleton singleton_update
    # nested_create action
    object: str  # the response schema (``tax_rate``, ``tax_rate_list``, ``deleted_tax_id``)
    item: str  # the object type it is about (``tax_rate``, also for lists and deletes)
    path_params: tuple[str, ...]
    parent_param: str | None = None
    parent_object: str | None = None
    action: str | None = None
    target: str | None = None  # the path param naming the object an action acts on
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"



@cache
def operation(endpoint: str) -> Operation | None:
    entry = operations().get(endpoint)
    if entry is None:
        return None
    method, template = endpoint.split(" ", 1)
    parent = entry.get("parent") or {}
    return Operation(method, template, entry["kind"], entry["object"], entry["item"],
                     tuple(entry["path_params"]), parent.get("param"), parent.get("object"),
                     entry.get("action"), entry.get("target"), entry.get("defaults", {}))


def members(name: str) -> tuple[str, ...]:
    """The stored types an object name stands for (``payment_source``: card, source, ...)."""
    info = objects().get(name, {})
    return tuple(info.get("one_of", (name,)))


# --- routing: path -> template ---------------------------------------------------------------


class _Node:
    __slots__ = ("literal", "param", "ends")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.ends: dict[str, str] = {}  # method -> template


@cache
def _trie() -> _Node:
    root = _Node()
    for endpoint in operations():
        method, template = endpoint.split(" ", 1)
        node = root
        for segment in template.strip("/").split("/"):
            if segment.startswith("{"):
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.literal.setdefault(segment, _Node())
        node.ends[method] = template
    return root


def match(method: str, path: str) -> tuple[str, list[str]] | None:
    """The catalog template answering ``method path`` and the path params' values in order.
    Literal segments win over params (``/v1/customers/search`` is no customer id)."""
    segments = path.strip("/").split("/") if path.startswith("/") else None
    if not segments or path.endswith("/"):
        return None
    values: list[str] = []
    found = _walk(_trie(), segments, 0, method, values)
    if found is None:
        return None
    return found, [unquote(v) for v in values]


def _walk(node: _Node, segments: list[str], index: int, method: str,
          values: list[str]) -> str | None:
    if index == len(segments):
        return node.ends.get(method)
    segment = segments[index]
    child = node.literal.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1, method, values)
        if found is not None:
            return found
    if node.param is not None and segment:
        values.append(segment)
        found = _walk(node.param, segments, index + 1, method, values)
        if found is not None:
            return found
        values.pop()
    return None


def param_names(template: str) -> list[str]:
    return [s[1:-1] for s in template.split("/") if s.startswith("{")]
