"""Rendering a result: a fresh copy with includable fields dropped and ``expand[]`` applied.

Which fields are expandable (id -> object) and which are includable (absent unless expanded)
comes from the schemas (``x-expandable``, ``x-includable``), not from code.  A dotted name
(``promotion.coupon``, ``restrictions.currency_options``) reaches into a nested hash that has
no ``object`` of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import errors

MAX_DEPTH = 4
Tree = dict[str, "Tree"]
Lookup = Callable[[str, str], dict[str, Any] | None]


def parse(paths: list[str]) -> Tree:
    """``["data.product", "data.product.default_price"]`` -> a tree of fields."""
    tree: Tree = {}
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise errors.invalid(errors.EXPAND_TOO_DEEP)
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
    return tree


class Facts:
    """What the schemas say about one object type (or a nested hash reached by dotted names):
    includable names to drop, expandable id fields, and the facts of nested hashes."""

    __slots__ = ("skip", "expandable", "nested")

    def __init__(self, skip: frozenset[str], expandable: dict[str, list[str]]) -> None:
        self.skip = skip
        self.expandable = expandable
        self.nested: dict[str, Facts] = {}
        for top in {name.split(".", 1)[0] for name in (*skip, *expandable) if "." in name}:
            prefix = top + "."
            self.nested[top] = Facts(
                frozenset(n[len(prefix):] for n in skip if n.startswith(prefix)),
                {n[len(prefix):]: t for n, t in expandable.items() if n.startswith(prefix)})


NO_FACTS = Facts(frozenset(), {})


class Renderer:
    """Copies a result for the wire.  ``facts`` (object type -> :class:`Facts`, from
    ``schemas.shape_facts()``) says what to drop and what may expand; ``lookup(object_type,
    id)`` finds stored objects (deleted stubs included) for expansion."""

    def __init__(self, facts: dict[str, Facts], lookup: Lookup) -> None:
        self.facts = facts
        self.lookup = lookup

    def render(self, node: Any, tree: Tree | None = None) -> Any:
        if isinstance(node, dict):
            return self._object(node, tree or {})
        if isinstance(node, list):
            return [self.render(item, tree) for item in node]
        return node

    def _object(self, node: dict[str, Any], tree: Tree, facts: Facts | None = None
                ) -> dict[str, Any]:
        otype = node.get("object")
        if isinstance(otype, str):
            facts = self.facts.get(otype, NO_FACTS)
        elif facts is None:  # a nested hash: its parent's dotted names say what it holds
            facts = NO_FACTS
        skip, nested = facts.skip, facts.nested
        if otype in ("list", "search_result"):
            for key in tree:
                if key != "data" and key not in skip:
                    raise errors.invalid(errors.CANNOT_EXPAND_LIST.format(field=key))
        out: dict[str, Any] = {}
        for key, value in node.items():  # the hot loop of every response: keep it lean
            sub = tree.get(key) if tree else None
            kind = type(value)
            if kind is dict and nested:
                inner = nested.get(key)
                if inner is not None and "object" not in value:
                    out[key] = self._object(value, sub or {}, inner)
                    continue
            if sub is None:
                if key in skip:
                    continue
                if kind is dict:
                    out[key] = self._object(value, {})
                elif kind is list:
                    out[key] = [self.render(item) for item in value]
                else:
                    out[key] = value
            else:
                out[key] = self._expand(key, value, sub, facts.expandable, key in skip)
        for key in tree:  # an includable field the object does not carry is simply absent
            if key not in node and key not in skip:
                raise errors.invalid(errors.CANNOT_EXPAND.format(field=key))
        return out

    def _expand(self, key: str, value: Any, sub: Tree, expandable: dict[str, list[str]],
                includable: bool) -> Any:
        if key in expandable:
            if isinstance(value, str):
                for target in expandable[key]:
                    found = self.lookup(target, value)
                    if found is not None:
                        return self._object(found, sub)
                return value
            return self.render(value, sub)
        if includable or (sub and isinstance(value, (dict, list))):
            return self.render(value, sub)
        if sub and value is None:  # a path through a null hash (`discount.customer`, no discount)
            return None
        raise errors.invalid(errors.CANNOT_EXPAND.format(field=key))
