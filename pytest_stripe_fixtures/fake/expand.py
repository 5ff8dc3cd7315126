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


class Renderer:
    """Copies a result for the wire.  ``lookup(object_type, id)`` finds stored objects
    (deleted stubs included) for expansion."""

    def __init__(self, includable: dict[str, frozenset[str]],
                 expandable: dict[str, dict[str, list[str]]], lookup: Lookup) -> None:
        self.includable = includable
        self.expandable = expandable
        self.lookup = lookup

    def render(self, node: Any, tree: Tree | None = None) -> Any:
        if isinstance(node, dict):
            return self._object(node, tree or {})
        if isinstance(node, list):
            return [self.render(item, tree) for item in node]
        return node

    def _object(self, node: dict[str, Any], tree: Tree,
                facts: tuple[frozenset[str], dict[str, list[str]]] | None = None
                ) -> dict[str, Any]:
        otype = node.get("object")
        if otype in ("list", "search_result"):
            for key in tree:
                if key not in ("data", "total_count"):
                    raise errors.invalid(errors.CANNOT_EXPAND_LIST.format(field=key))
        if isinstance(otype, str):
            skip = self.includable.get(otype, frozenset())
            expandable = self.expandable.get(otype, {})
        else:  # a nested hash: what its parent's dotted names say about it
            skip, expandable = facts or (frozenset(), {})
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = tree.get(key)
            nested = _nested(skip, expandable, key) if isinstance(value, dict) else None
            if nested is not None and "object" not in value:
                out[key] = self._object(value, sub or {}, nested)
            elif sub is None:
                if key in skip:
                    continue
                out[key] = self.render(value) if isinstance(value, (dict, list)) else value
            else:
                out[key] = self._expand(key, value, sub, expandable, key in skip)
        for key in tree:  # an includable field the object does not carry is simply absent
            if key not in node and key != "total_count" and key not in skip:
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
        raise errors.invalid(errors.CANNOT_EXPAND.format(field=key))


def _nested(skip: frozenset[str], expandable: dict[str, list[str]], key: str
            ) -> tuple[frozenset[str], dict[str, list[str]]] | None:
    """The includable/expandable names under ``key`` (from dotted names), or None."""
    if not any("." in name for name in skip) and not any("." in name for name in expandable):
        return None
    prefix = key + "."
    inner_skip = frozenset(n[len(prefix):] for n in skip if n.startswith(prefix))
    inner_exp = {n[len(prefix):]: t for n, t in expandable.items() if n.startswith(prefix)}
    return (inner_skip, inner_exp) if inner_skip or inner_exp else None
