"""API versions, the way Stripe builds them: one current shape plus ordered changes.

Resources are written once, against the newest supported version (``CURRENT``).  Each
:class:`Change` knows how to turn a current response into the shape the previous version
had (``downgrade``), how to lift a request written for the previous version into the current
shape (``upgrade_params``), and how the schema moved (``upgrade_schemas``: used by
``tools/gen_schemas.py`` to derive the current schemas from the 2023-08-16 spec).

A request for version V gets every change newer than V applied, newest first.  Versions we
have no schemas for resolve to the nearest supported version below them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from typing import Any, Protocol

OLDEST = "2023-08-16"
CURRENT = "2026-10-28.endive"
SUPPORTED = (OLDEST, CURRENT)  # ascending; schemas/<version>/ exists for each
CLOVER = "2025-09-30.clover"  # named by several resources' changes (coupons moved, fields added)

_VERSION_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:\.([a-z]+))?\Z")
# Nothing before Stripe's first API version [R]; since 2024-09-30 a version carries the name
# of its release train (``2024-10-28.acacia``), and only that name [D] (changelog).  After the
# newest train we know of, a train we cannot know yet is accepted.
EARLIEST = (2011, 1, 1)
RELEASES = ((2024, 9, 30, "acacia"), (2025, 3, 31, "basil"), (2025, 9, 30, "clover"),
            (2026, 3, 25, "dahlia"), (2026, 9, 30, "endive"))

Obj = dict[str, Any]


class View(Protocol):
    """What a downgrade may read: other objects of the account, rendered."""

    def lookup(self, object_type: str, id: str) -> Obj | None: ...


Schemas = dict[str, Any]  # {"objects": {name: schema}, "endpoints": {"POST /v1/x": {...}}}


class InvalidVersion(ValueError):
    """The Stripe-Version header is not a well-formed API version."""


@lru_cache(maxsize=256)
def version_key(version: str) -> tuple[int, int, int]:
    match = _VERSION_RE.match(version)
    if not match:
        raise InvalidVersion(version)
    year, month, day = (int(g) for g in match.groups()[:3])
    try:
        date(year, month, day)
    except ValueError as exc:
        raise InvalidVersion(version) from exc
    if (year, month, day) < EARLIEST:
        raise InvalidVersion(version)
    suffix = match.group(4)
    if suffix is not None:
        train = [name for *start, name in RELEASES if tuple(start) <= (year, month, day)]
        known = {name for *_, name in RELEASES}
        if not train or (train[-1] != suffix and (suffix in known or train[-1] != RELEASES[-1][-1])):
            raise InvalidVersion(version)
    return (year, month, day)


@lru_cache(maxsize=256)
def resolve(requested: str) -> str:
    """The supported version that answers ``requested`` (nearest at or below it)."""
    key = version_key(requested)
    chosen = SUPPORTED[0]
    for version in SUPPORTED:
        if version_key(version) <= key:
            chosen = version
    return chosen


# --- the kinds of change ----------------------------------------------------------------


def _walk_to(obj: Obj, path: str) -> Obj | None:
    """The dict holding the last segment of a dotted ``path`` (None when a step is null)."""
    node: Any = obj
    for part in path.split(".")[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def _schema_nodes(schemas: Schemas, obj: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (document, node) describing ``obj``: its own document and its ``$defs`` copies."""
    found = []
    for doc in schemas["objects"].values():
        if doc.get("title") == obj and "properties" in doc:
            found.append((doc, doc))
        node = doc.get("$defs", {}).get(obj)
        if node is not None:
            found.append((doc, node))
    return found


def _schema_parents(schemas: Schemas, obj: str, path: str) -> list[dict[str, Any]]:
    return [_schema_parent(doc, node, path) for doc, node in _schema_nodes(schemas, obj)]


def _schema_parent(doc: dict[str, Any], node: dict[str, Any], path: str) -> dict[str, Any]:
    defs = doc.get("$defs", {})
    for part in path.split(".")[:-1]:
        node = node["properties"][part]
        while "$ref" in node or "anyOf" in node:
            if "$ref" in node:
                node = defs[node["$ref"].rsplit("/", 1)[1]]
            else:
                node = next(v for v in node["anyOf"] if v.get("type") != "null")
    return node


def _param_node(schemas: Schemas, endpoint: str, steps: list[str]) -> dict[str, Any]:
    """The object schema of the nested request param named by ``steps``."""
    node = schemas["endpoints"][endpoint]["params"]
    for step in steps:
        node = node["properties"][step]
        if "anyOf" in node:
            node = next(v for v in node["anyOf"] if v.get("type") == "object")
    return node


@dataclass
class Change:
    """Base: one backwards-incompatible change, introduced in ``version``."""

    version: str
    description: str

    def downgrade(self, obj: Obj, view: View) -> None:
        """Turn a current-shape object (of ``self.object``) into the previous shape, in place.

        ``view`` renders other stored objects, for changes that embed what is now an id.
        """

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        """Lift previous-version params of ``endpoint`` ("POST /v1/x") to the current shape."""

    def upgrade_schemas(self, schemas: Schemas) -> None:
        """Edit previous-version schemas into the current ones (generator only)."""

    objects: tuple[str, ...] = field(default=(), kw_only=True)


@dataclass
class FieldRenamed(Change):
    """``old`` (previous versions) is called ``new`` now, in responses and params."""

    object: str = ""
    old: str = ""
    new: str = ""
    endpoints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.objects = (self.object,)

    def downgrade(self, obj: Obj, view: View) -> None:
        if self.new in obj:
            obj[self.old] = obj.pop(self.new)

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        if endpoint in self.endpoints and self.old in params:
            params[self.new] = params.pop(self.old)

    def upgrade_schemas(self, schemas: Schemas) -> None:
        for _, node in _schema_nodes(schemas, self.object):
            node["properties"][self.new] = node["properties"].pop(self.old)
            _rename_in_list(node, "required", self.old, self.new)
        for endpoint in self.endpoints:
            params = schemas["endpoints"][endpoint]["params"]
            params["properties"][self.new] = params["properties"].pop(self.old)
            _rename_in_list(params, "required", self.old, self.new)


def _rename_in_list(node: dict[str, Any], key: str, old: str, new: str) -> None:
    if old in node.get(key, ()):
        node[key] = sorted(new if x == old else x for x in node[key])


@dataclass
class FieldAdded(Change):
    """A response field (dotted ``path``) and optionally params that older versions lack."""

    object: str = ""
    path: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # endpoint -> {name: schema}
    always: bool = True  # False: the field is present only when set
    also: tuple[str, ...] = ()  # other schemas of the object (e.g. ``deleted_discount``)

    def __post_init__(self) -> None:
        self.objects = (self.object,)

    def downgrade(self, obj: Obj, view: View) -> None:
        parent = _walk_to(obj, self.path)
        if parent is not None:
            parent.pop(self.path.rsplit(".", 1)[-1], None)

    def upgrade_schemas(self, schemas: Schemas) -> None:
        leaf = self.path.rsplit(".", 1)[-1]
        parents = [parent for name in (self.object, *self.also)
                   for parent in _schema_parents(schemas, name, self.path)]
        for parent in parents:
            parent.setdefault("properties", {})[leaf] = copy.deepcopy(self.schema)
            if self.always:
                parent["required"] = sorted(set(parent.get("required", ())) | {leaf})
        for endpoint, added in self.params.items():
            for dotted, param_schema in added.items():
                *steps, last = dotted.split(".")
                node = _param_node(schemas, endpoint, steps)
                node["properties"][last] = copy.deepcopy(param_schema)


@dataclass
class FieldRemoved(Change):
    """A response field (dotted ``path``) and params that only older versions have.

    ``value`` computes the field for older versions from the current object (its parent dict).
    """

    object: str = ""
    path: str = ""
    value: Callable[[Obj], Any] = lambda parent: None
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # endpoint -> dotted params

    def __post_init__(self) -> None:
        self.objects = (self.object,)

    def downgrade(self, obj: Obj, view: View) -> None:
        parent = _walk_to(obj, self.path)
        if parent is not None:
            parent[self.path.rsplit(".", 1)[-1]] = self.value(parent)

    def upgrade_params(self, endpoint: str, params: Obj) -> None:
        for dotted in self.params.get(endpoint, ()):
            parent = _walk_to(params, dotted)
            if parent is not None:
                parent.pop(dotted.rsplit(".", 1)[-1], None)

    def upgrade_schemas(self, schemas: Schemas) -> None:
        leaf = self.path.rsplit(".", 1)[-1]
        for parent in _schema_parents(schemas, self.object, self.path):
            parent["properties"].pop(leaf, None)
            parent["required"] = [r for r in parent.get("required", ()) if r != leaf]
        for endpoint, dotted_params in self.params.items():
            for dotted in dotted_params:
                *steps, last = dotted.split(".")
                _param_node(schemas, endpoint, steps)["properties"].pop(last, None)


@dataclass
class ParamsAdded(Change):
    """Request params (no response field) that only newer versions accept."""

    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # as FieldAdded

    def upgrade_schemas(self, schemas: Schemas) -> None:
        for endpoint, added in self.params.items():
            for dotted, param_schema in added.items():
                *steps, last = dotted.split(".")
                _param_node(schemas, endpoint, steps)["properties"][last] = copy.deepcopy(
                    param_schema)


# --- the changes, oldest first ----------------------------------------------------------
# Resource modules may append their own changes with ``register``; keep them ordered by
# version.  The dates are the versions Stripe's changelog names; [R] where unverified.

CHANGES: list[Change] = []


def register(*changes: Change) -> None:
    CHANGES.extend(changes)
    CHANGES.sort(key=lambda c: version_key(c.version))
    _plan.cache_clear()


@cache
def _plan(version: str) -> tuple[tuple[Change, ...], dict[str, tuple[Change, ...]]]:
    key = version_key(version)
    newer = tuple(c for c in CHANGES if version_key(c.version) > key)
    by_object: dict[str, list[Change]] = {}
    for change in reversed(newer):  # newest first when downgrading
        for name in change.objects:
            by_object.setdefault(name, []).append(change)
    return newer, {k: tuple(v) for k, v in by_object.items()}


def upgrade_params(version: str, endpoint: str, params: Obj) -> Obj:
    """Requests written for ``version`` lifted to the current shape (oldest change first)."""
    newer, _ = _plan(version)
    for change in newer:
        change.upgrade_params(endpoint, params)
    return params


def needs_downgrade(version: str) -> bool:
    return bool(_plan(version)[1])


def downgrade(version: str, body: Any, view: View) -> Any:
    """Rewrite every Stripe object inside ``body`` (in place) into ``version``'s shape."""
    _, by_object = _plan(version)
    if by_object:
        _downgrade_tree(body, by_object, view)
    return body


# Objects rendered in a version of their own (an event's ``api_version``): a request's version
# leaves what they hold as it is.
SELF_VERSIONED = frozenset({"event"})


def _downgrade_tree(node: Any, by_object: dict[str, tuple[Change, ...]], view: View) -> None:
    if isinstance(node, dict):
        if node.get("object") in SELF_VERSIONED:
            return
        for value in node.values():
            if isinstance(value, (dict, list)):
                _downgrade_tree(value, by_object, view)
        for change in by_object.get(node.get("object"), ()):  # type: ignore[arg-type]
            change.downgrade(node, view)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                _downgrade_tree(value, by_object, view)
