"""The generic layer: every operation of the catalog without hand-written rules, answered
statefully from the schemas.

* **create** stores an object built from its schema: request params copied where name and
  type fit, a default the spec documents for a param ("Defaults to `true`") applied, the rest
  Stripe's neutral values (``null``, ``[]``, ``false``, ``{}``, ``livemode: false``), ``created``
  from the fake clock, a fresh id with the object's prefix, ``metadata`` with Stripe's merge
  rules.  A nested create (``POST /v1/customers/{customer}/tax_ids``) links the new object to
  its parent (the field naming the parent) after checking the parent exists.
* **retrieve / update / delete** work on the stored object; delete leaves the deleted stub
  ``{id, object, deleted: true}`` where the spec has one.
* **list** pages newest first with cursors, ``limit``, ``created`` and equality filters for
  params that name fields; nested lists keep to their parent.  **search** uses Stripe's query
  language over the object's scalar fields.
* **singletons** (``/v1/balance``, ``/v1/customers/{customer}/cash_balance``) are built once
  per account (and parent) and kept.
* **actions** (``/{id}/cancel``) return the object, setting ``status`` only when the action's
  name and the status enum make it unambiguous (``cancel`` -> ``canceled``), nothing else.

The store holds the current version's shape (``schemas/<current>/``); older versions get the
older schema's field set (:class:`OlderShape`).  Hand-written resources can reuse
:func:`build` and :func:`create`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from . import catalog, errors, lists, metadata, schemas, versions
from .store import Obj

Node = dict[str, Any]
Doc = dict[str, Any]
MAX_DEPTH = 8
LIST_MECHANICS = frozenset({"limit", "starting_after", "ending_before", "expand", "created",
                            "page", "query"})
# Neutral values that are not the type's zero: a new object is active (tax rates, shipping
# rates, payment links are created `active: true` [D]).
NEUTRAL_FIELDS: dict[str, Any] = {"active": True, "livemode": False}
IRREGULAR = {"pay": "paid", "deliver": "delivered"}


# --- schema access ---------------------------------------------------------------------------


@cache
def _doc(name: str) -> Doc:
    return schemas.object_schema(versions.CURRENT, name)


def _resolve(node: Node, doc: Doc) -> tuple[Node, Doc]:
    while "$ref" in node:
        ref = node["$ref"]
        if ref.startswith("#/$defs/"):
            node = doc["$defs"][ref[len("#/$defs/"):]]
        else:
            doc = _doc(ref[: -len(".json")])
            node = doc
    return node, doc


def _members(node: Node) -> list[Node]:
    """The branches of a polymorphic document (``payment_source``): if/then/else by object."""
    out = []
    while "if" in node:
        out.append(node["then"])
        node = node["else"]
    out.append({k: v for k, v in node.items() if k == "$ref"} or node)
    return out


def _non_null(node: Node) -> tuple[Node | None, bool]:
    """(the non-null variant of a nullable node, nullable?)."""
    if "anyOf" in node:
        variants = [v for v in node["anyOf"] if v.get("type") != "null"]
        nullable = len(variants) < len(node["anyOf"])
        return (variants[0] if len(variants) == 1 else {"anyOf": variants}), nullable
    kind = node.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        return {**node, "type": rest[0] if len(rest) == 1 else rest}, "null" in kind
    return node, False


def neutral(node: Node, doc: Doc, depth: int = 0) -> Any:
    """Stripe's neutral value for a schema node: null where nullable, else the type's zero."""
    node, doc = _resolve(node, doc)
    if "if" in node:
        return neutral(_members(node)[0], doc, depth)
    inner, nullable = _non_null(node)
    if nullable or inner is None or depth > MAX_DEPTH:
        return None
    if "anyOf" in inner:
        return neutral(inner["anyOf"][0], doc, depth + 1)
    kind = inner.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = inner.get("properties")
        if not props:
            return {}
        return {k: NEUTRAL_FIELDS[k] if k in NEUTRAL_FIELDS and _fits(props[k], doc,
                                                                       NEUTRAL_FIELDS[k])
                else neutral(props[k], doc, depth + 1)
                for k in inner.get("required", props)}  # inline hashes (lists): every field
    if kind == "array":
        return []
    if kind == "string":
        enum = [e for e in inner.get("enum", ()) if e != ""]
        return enum[0] if enum else ""
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return None


def _fits(node: Node, doc: Doc, value: Any) -> bool:
    """Whether ``value`` (a typed param) has the shape of ``node`` (shallow)."""
    node, doc = _resolve(node, doc)
    if "if" in node:
        return isinstance(value, dict)
    if "anyOf" in node:
        return any(_fits(v, doc, value) for v in node["anyOf"])
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is None:
        return value is not None
    if value is None:
        return "null" in kinds
    if isinstance(value, bool):
        return "boolean" in kinds
    if isinstance(value, int):
        return "integer" in kinds or "number" in kinds
    if isinstance(value, float):
        return "number" in kinds
    if isinstance(value, str):
        return "string" in kinds and ("enum" not in node or value in node["enum"])
    if isinstance(value, dict):
        return "object" in kinds
    if isinstance(value, list):
        return "array" in kinds
    return False


def build_value(node: Node, doc: Doc, value: Any, depth: int = 0) -> Any:
    """A response value for ``node`` from a request param: what fits is copied, the rest
    neutral."""
    if value is None or value == "" or depth > MAX_DEPTH:
        return neutral(node, doc, depth)
    node, doc = _resolve(node, doc)
    if "if" in node:
        return neutral(node, doc, depth)
    if "anyOf" in node:
        for variant in node["anyOf"]:
            if variant.get("type") != "null" and _fits(variant, doc, value):
                return build_value(variant, doc, value, depth + 1)
        return neutral(node, doc, depth)
    if not _fits(node, doc, value):
        return neutral(node, doc, depth)
    if isinstance(value, dict):
        props = node.get("properties")
        if props is None:
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                return {k: v for k, v in value.items() if _fits(extra, doc, v)}
            return dict(value)
        out = {k: build_value(props[k], doc, value.get(k), depth + 1)
               for k in node.get("required", props)}
        for key, sub in value.items():
            if key in props and key not in out:
                out[key] = build_value(props[key], doc, sub, depth + 1)
        return out
    if isinstance(value, list):
        items = node.get("items", {})
        return [build_value(items, doc, v, depth + 1) for v in value if _fits(items, doc, v)]
    if isinstance(value, float) and node.get("type") == "integer":
        return int(value)
    return value


def _root(name: str) -> tuple[Node, Doc]:
    doc = _doc(name)
    if "if" in doc:
        return _resolve(_members(doc)[0], doc)
    return doc, doc


def build(ctx: Any, name: str, params: dict[str, Any], *, with_id: bool = True) -> Obj:
    """An object of type ``name`` (current shape) built from ``params``, not stored."""
    node, doc = _root(name)
    props = node.get("properties", {})
    obj: Obj = {}
    for key in node.get("required", ()):
        sub = props[key]
        if key in params:
            obj[key] = build_value(sub, doc, params[key])
        elif key in NEUTRAL_FIELDS and _fits(sub, doc, NEUTRAL_FIELDS[key]):
            obj[key] = NEUTRAL_FIELDS[key]
        else:
            obj[key] = neutral(sub, doc)
    for key, value in params.items():  # present-when-set fields the params set
        if key in props and key not in obj and key != "metadata" and value != "":
            obj[key] = build_value(props[key], doc, value)
    name = obj.get("object", name) if isinstance(obj.get("object"), str) else name
    if "object" in props:
        obj["object"] = name
    if "id" in props and with_id:
        given = params.get("id")
        obj["id"] = given if isinstance(given, str) and given else ctx.new_id(name)
    if "created" in props:
        obj["created"] = ctx.now()
    if "livemode" in props:
        obj["livemode"] = False
    if "metadata" in props:
        obj["metadata"] = metadata.apply({}, params.get("metadata"))
    return obj


def create(ctx: Any, name: str, params: dict[str, Any]) -> Obj:
    """Build an object from ``params`` and store it (when it has an id)."""
    obj = build(ctx, name, params)
    if obj.get("id"):
        existing = ctx.store.get(obj["object"], obj["id"])
        if existing is not None:
            raise errors.conflict(ALREADY_EXISTS.format(object=name, id=obj["id"]), "id",
                                  "resource_already_exists")
        ctx.store.add(obj)
    return obj


ALREADY_EXISTS = "A {object} with id '{id}' already exists."  # [R]


def update(ctx: Any, obj: Obj, params: dict[str, Any]) -> Obj:
    """Apply ``params`` to a stored object: fields that fit are replaced, ``""`` clears a
    field, ``metadata`` merges."""
    node, doc = _root(obj.get("object", ""))
    props = node.get("properties", {})
    for key, value in params.items():
        if key in ("expand", "id", "object") or key not in props:
            continue
        if key == "metadata":
            obj["metadata"] = metadata.apply(obj.get("metadata"), value)
        elif value == "":
            obj[key] = neutral(props[key], doc)
        else:
            obj[key] = build_value(props[key], doc, value)
    if "updated" in props:
        obj["updated"] = ctx.now()
    return obj


# --- finding objects ---------------------------------------------------------------------------


def find(ctx: Any, name: str, oid: str, *, param: str | None = None, in_path: bool = True) -> Obj:
    for member in catalog.members(name):
        found = ctx.store.get(member, oid)
        if found is not None:
            return found
    raise errors.no_such(name, oid, param, in_path=in_path)


def _deleted(ctx: Any, name: str, oid: str) -> Obj | None:
    for member in catalog.members(name):
        found = ctx.store.get_deleted(member, oid)
        if found is not None:
            return found
    return None


@cache
def link_field(child: str, parent: str | None, param: str | None) -> str | None:
    """The field of ``child`` naming its parent (a tax id's ``customer``), if any."""
    if parent is None:
        return None
    node, _ = _root(child)
    props = node.get("properties", {})
    expandable = node.get("x-expandable", {})
    short = parent.rsplit(".", 1)[-1]
    for name in (param, short, parent):
        if name in props and name not in ("id", "object"):
            return name
    for name, targets in sorted(expandable.items()):
        if parent in targets:
            return name
    return None


def _parent(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> str | None:
    """The parent's id, checked to exist when the parent is a stored type."""
    if op.parent_param is None:
        return None
    pid = path_params[op.parent_param]
    parent = op.parent_object
    if parent is not None and catalog.objects().get(parent, {}).get("prefix") is not None:
        find(ctx, parent, pid, param=op.parent_param)
    return pid


# --- status from an action's name ----------------------------------------------------------------


@cache
def _status_enum(name: str) -> tuple[str, ...]:
    node, doc = _root(name)
    status = node.get("properties", {}).get("status")
    if status is None:
        return ()
    inner, _ = _non_null(_resolve(status, doc)[0])
    return tuple(inner.get("enum", ())) if inner else ()


def status_after(action: str, name: str) -> str | None:
    """The status an action's name makes unambiguous (``cancel`` -> ``canceled``), or None."""
    base = action.removeprefix("mark_")
    candidates = {base, base + "ed", base + "d", base[:-1] + "ied", IRREGULAR.get(base, base)}
    hits = [s for s in _status_enum(name) if s in candidates]
    return hits[0] if len(hits) == 1 else None


def _act(obj: Obj, action: str) -> Obj:
    status = status_after(action, obj.get("object", ""))
    if status is not None:
        obj["status"] = status
    return obj


# --- the handlers, by kind ---------------------------------------------------------------------


def answer(ctx: Any, **path_params: str) -> Any:
    """The generic handler of every catalog operation without a hand-written route."""
    op = catalog.operation(ctx.endpoint)
    assert op is not None, ctx.endpoint
    return _KINDS[op.kind](ctx, op, path_params)


def _with_defaults(op: catalog.Operation, params: dict[str, Any]) -> dict[str, Any]:
    return {**op.defaults, **params} if op.defaults else params


def _create(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    name = op.item
    params = _with_defaults(op, ctx.params)
    parent_id = _parent(ctx, op, path_params)
    if "one_of" in catalog.objects().get(name, {}):
        name = _member_for(name, op.template)
    if parent_id is not None:
        field = link_field(name, op.parent_object, op.parent_param)
        if field is not None:
            params = {**params, field: parent_id}
    return create(ctx, name, params)


def _member_for(name: str, template: str) -> str:
    """The member of a polymorphic object a path names (``/cards`` -> ``card``)."""
    options = catalog.members(name)
    last = template.rstrip("/").rsplit("/", 1)[-1]
    for member in options:
        if last in (member, member + "s"):
            return member
    return options[0]


def _retrieve(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    oid = path_params[op.path_params[-1]]
    _parent(ctx, op, path_params)
    try:
        return find(ctx, op.item, oid, param=op.path_params[-1])
    except errors.StripeError:
        stub = _deleted(ctx, op.item, oid)
        if stub is not None and catalog.operations()[op.endpoint].get("deleted_ok"):
            return stub
        raise


def _update(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    _parent(ctx, op, path_params)
    obj = find(ctx, op.item, path_params[op.path_params[-1]], param=op.path_params[-1])
    return update(ctx, obj, ctx.params)


def _stub(obj: Obj, name: str) -> Obj:
    """The deleted stub of ``obj``: ``{id, object, deleted: true}`` plus whatever else the
    ``deleted_<name>`` schema requires (a deleted discount keeps its fields)."""
    stub: Obj = {"id": obj.get("id", ""), "object": obj.get("object", name), "deleted": True}
    try:
        node, doc = _root(f"deleted_{name}")
    except FileNotFoundError:
        return stub
    props = node.get("properties", {})
    for key in node.get("required", ()):
        if key not in stub:
            stub[key] = obj[key] if key in obj else neutral(props[key], doc)
    return stub


def _delete(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    _parent(ctx, op, path_params)
    if not op.template.endswith("}"):  # DELETE /v1/subscriptions/{id}/discount
        obj = _singleton(ctx, op, path_params)
        stub = _stub(obj, op.item)
        _forget_singleton(ctx, op, path_params)
        return stub
    oid = path_params[op.path_params[-1]]
    obj = find(ctx, op.item, oid, param=op.path_params[-1])
    kind = obj["object"]
    has_stub = (op.object.startswith("deleted_") or "deleted" in catalog.objects().get(kind, {})
                or "deleted" in catalog.objects().get(op.item, {}))
    if not has_stub:  # DELETE /v1/subscriptions/{id} cancels and answers the object
        return _act(obj, "cancel")
    stub = _stub(obj, kind)
    ctx.store.delete(kind, oid, stub)
    return stub


def _filters(ctx: Any, name: str, exclude: set[str]) -> lists.Predicate | None:
    node, _ = _root(name)
    props = node.get("properties", {})
    checks = []
    for key, value in ctx.params.items():
        if key in LIST_MECHANICS or key in exclude or key not in props:
            continue
        if isinstance(value, dict):
            bounds = lists.created_filter(value)
            if bounds is not None:
                checks.append(lambda obj, k=key, b=bounds: isinstance(obj.get(k), int)
                              and b({"created": obj[k]}))
        elif not isinstance(value, list):
            checks.append(lambda obj, k=key, v=value: obj.get(k) == v)
    return lists.combine(*checks)


def _list(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    name = op.item
    url = _url(op, path_params)
    parent_id = _parent(ctx, op, path_params)
    members = catalog.members(name)
    predicate = _filters(ctx, members[0], set(path_params))
    if parent_id is not None:
        field = link_field(members[0], op.parent_object, op.parent_param)
        if field is None:
            return lists.page_of(_embedded(ctx, op, parent_id), ctx.params, url, predicate)
        if len(members) == 1:
            return lists.page(ctx.store.table(name), ctx.params, url, predicate,
                              where=(field, parent_id))
        predicate = lists.combine(predicate, lambda obj: obj.get(field) == parent_id)
    if len(members) == 1:
        return lists.page(ctx.store.table(name), ctx.params, url, predicate)
    everything = sorted((obj for m in members for obj in ctx.store.all(m)),
                        key=lambda obj: obj.get("created", 0), reverse=True)
    return lists.page_of(everything, ctx.params, url, predicate)


def _embedded(ctx: Any, op: catalog.Operation, parent_id: str) -> list[Obj]:
    """A nested list the child cannot name its parent in: the parent's own list field."""
    parent = op.parent_object
    if parent is None:
        return []
    obj = None
    for member in catalog.members(parent):
        obj = ctx.store.get(member, parent_id) or obj
    field = op.template.rsplit("/", 1)[-1]
    held = (obj or {}).get(field)
    if isinstance(held, dict) and isinstance(held.get("data"), list):
        return list(held["data"])
    return []


def _url(op: catalog.Operation, path_params: dict[str, str]) -> str:
    url = op.template
    for key, value in path_params.items():
        url = url.replace("{" + key + "}", value)
    return url


def _search(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    name = op.item
    fields = catalog.objects().get(name, {}).get("search_fields", {"metadata": "token"})
    return lists.search(ctx.store.table(name), ctx.params, op.template, fields)


def _singleton(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Obj:
    """The one object of its kind per account (and parent), built on first use.  Under a
    parent that holds it in a field of that name (a subscription's ``discount``), the
    parent's value; none there is Stripe's ``No such``."""
    name = op.item
    parent_id = _parent(ctx, op, path_params)
    held = _held_by_parent(ctx, op, parent_id)
    if held is not None:
        return held
    if parent_id is not None and "prefix" in catalog.objects().get(name, {}):
        raise errors.no_such(name, parent_id, op.parent_param, in_path=True)  # none held
    table = ctx.store.table(name)
    key = parent_id or ""
    obj = table.singletons.get(key)
    if obj is None:
        params = {}
        field = link_field(name, op.parent_object, op.parent_param)
        if field is not None and parent_id is not None:
            params[field] = parent_id
        obj = table.singletons[key] = build(ctx, name, params)
    return obj


def _field_of_parent(op: catalog.Operation) -> str | None:
    segments = op.template.split("/")
    index = len(segments) - 1
    while index > 0 and not segments[index - 1].startswith("{"):
        index -= 1
    field = segments[index] if index > 0 else None
    if field is None or op.parent_object is None:
        return None
    node, _ = _root(op.parent_object)
    return field if field in node.get("properties", {}) else None


def _held_by_parent(ctx: Any, op: catalog.Operation, parent_id: str | None) -> Obj | None:
    field = _field_of_parent(op) if parent_id is not None else None
    if field is None or op.parent_object is None:
        return None
    parent = find(ctx, op.parent_object, parent_id or "", param=op.parent_param)
    value = parent.get(field)
    if isinstance(value, str):
        value = next((ctx.store.get(m, value) for m in catalog.members(op.item)
                      if ctx.store.get(m, value) is not None), None)
    if not isinstance(value, dict):
        raise errors.no_such(op.item, parent_id or "", op.parent_param, in_path=True)
    return value


def _forget_singleton(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> None:
    parent_id = path_params.get(op.parent_param or "")
    field = _field_of_parent(op) if parent_id is not None else None
    if field is not None and op.parent_object is not None:
        find(ctx, op.parent_object, parent_id or "", param=op.parent_param)[field] = None
    else:
        ctx.store.table(op.item).singletons.pop(parent_id or "", None)


def _singleton_get(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    obj = _singleton(ctx, op, path_params)
    settable = {k: v for k, v in ctx.params.items() if k not in LIST_MECHANICS}
    if settable:  # a preview (``/v1/invoices/upcoming?customer=``): built from the params
        return {**obj, **{k: v for k, v in build(ctx, op.item, settable, with_id=False).items()
                          if k in settable}}
    return obj


def _singleton_update(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    return update(ctx, _singleton(ctx, op, path_params), ctx.params)


def _action(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    if op.target is None:  # an action on a singleton (``/v1/charges/{charge}/dispute/close``)
        obj = _singleton(ctx, op, path_params)
    else:
        oid = path_params[op.target]
        obj = find(ctx, op.item, oid, param=op.target)
    return _act(obj, op.action or "")


def _nested_create(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    return _create(ctx, op, path_params)


NO_DOWNLOADS = ("The Stripe fake serves no file downloads ({endpoint}); "  # our own
                "test the code that fetches them with a stub.")


def _download(ctx: Any, op: catalog.Operation, path_params: dict[str, str]) -> Any:
    raise errors.invalid(NO_DOWNLOADS.format(endpoint=op.endpoint))


_KINDS = {
    "download": _download,
    "create": _create, "nested_create": _nested_create, "retrieve": _retrieve,
    "update": _update, "delete": _delete, "list": _list, "search": _search,
    "singleton": _singleton_get, "singleton_update": _singleton_update, "action": _action,
}


# --- older versions ----------------------------------------------------------------------------


class OlderShape(versions.Change):
    """Generic objects are stored in the current shape; an older version gets its own
    schema's field set: fields it lacks dropped, fields it requires added with neutral values.
    Objects the resources reshape by hand (with their own changes) are left to those."""

    def __init__(self) -> None:
        super().__init__(versions.CURRENT, "Generic objects: the older schema's field set.")

    @property  # type: ignore[override]
    def objects(self) -> tuple[str, ...]:
        return _generic_objects()

    @objects.setter
    def objects(self, value: tuple[str, ...]) -> None:
        pass

    def downgrade(self, obj: Obj, view: Any) -> None:
        name = obj.get("object", "")
        old, keep, required = _older(f"deleted_{name}" if obj.get("deleted") is True else name)
        if old is None:
            return
        for key in [k for k in obj if k not in keep]:
            del obj[key]
        node, doc = old
        for key in required:
            if key not in obj:
                obj[key] = neutral(node["properties"][key], doc)


@cache
def _generic_objects() -> tuple[str, ...]:
    hand = {name for change in versions.CHANGES if not isinstance(change, OlderShape)
            for name in change.objects}
    return tuple(sorted(set(catalog.objects()) - hand))


@cache
def _older(name: str) -> tuple[tuple[Node, Doc] | None, frozenset[str], tuple[str, ...]]:
    try:
        doc = schemas.object_schema(versions.OLDEST, name)
    except FileNotFoundError:
        return None, frozenset(), ()
    props = doc.get("properties")
    if props is None:
        return None, frozenset(), ()
    return (doc, doc), frozenset(props), tuple(doc.get("required", ()))


_OLDER = OlderShape()


def register_older_shape() -> None:
    """Once, after the resources registered theirs (``resources.load_all``)."""
    if _OLDER not in versions.CHANGES:
        _generic_objects.cache_clear()
        versions.register(_OLDER)
