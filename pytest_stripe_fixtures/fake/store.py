"""The account's objects: per type, in creation order, with deleted stubs kept apart.

Lists read newest first.  The clock never moves backwards, so creation order *is* Stripe's
order (``created`` descending, ties broken by a monotonic sequence) and a list page costs
what the page costs, not what the store holds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from . import errors

Obj = dict[str, Any]


Where = tuple[str, Any]  # (index name, value): equality on an index built by Table.index
KeyFn = Callable[[Obj], Any]

_KEYS: dict[tuple[str, str], KeyFn] = {}  # (object type, index name) -> key, see keyed_index


def keyed_index(object_type: str, name: str, key: KeyFn) -> None:
    """Declare (once, at import) the index ``name`` of ``object_type`` as ``key(obj)`` (e.g. a
    promotion code's lower-cased ``code``) instead of a field, so that every use of the name,
    ``lists.page(where=...)`` included, finds the same index."""
    _KEYS[(object_type, name)] = key


class Table:
    """One object type: insertion-ordered rows with positions for cursors.

    ``index(name)`` keeps, per value of a field (or of a key declared by :func:`keyed_index`)
    that never changes after creation (a price's ``product``, a promotion code's lower-cased
    ``code``), the positions holding it, so a filtered list page or a uniqueness check costs
    what the matches cost, not what the table holds.
    """

    __slots__ = ("object_type", "rows", "order", "position", "deleted", "indexes", "unique",
                 "generation", "search_cache", "singletons")

    def __init__(self, object_type: str = "") -> None:
        self.object_type = object_type
        self.rows: dict[str, Obj] = {}
        self.order: list[str | None] = []
        self.position: dict[str, int] = {}
        self.deleted: dict[str, Obj] = {}
        self.indexes: dict[str, tuple[KeyFn, dict[Any, list[int]]]] = {}
        self.unique: dict[str, dict[Any, str]] = {}  # field -> value -> id (e.g. lookup_key)
        self.generation = 0  # moves whenever the rows may have changed (see Store.touch)
        self.search_cache: dict[Any, Any] = {}  # lists.py keeps search matches here
        self.singletons: dict[str, Obj] = {}  # objects without ids, by parent id ("" if none)

    def holder(self, field: str, value: Any) -> Obj | None:
        """The object holding a unique, changeable ``field`` value (kept by ``claim``)."""
        oid = self.unique.get(field, {}).get(value)
        return None if oid is None else self.rows.get(oid)

    def claim(self, field: str, value: Any, obj: Obj) -> None:
        """Record ``obj`` as the holder of ``value`` (and forget its previous value)."""
        held = self.unique.setdefault(field, {})
        previous = obj.get(field)
        if previous is not None and held.get(previous) == obj["id"]:
            del held[previous]
        if value is not None:
            held[value] = obj["id"]

    def add(self, obj: Obj) -> Obj:
        oid = obj["id"]
        self.generation += 1
        position = self.position[oid] = len(self.order)
        self.order.append(oid)
        self.rows[oid] = obj
        for key, index in self.indexes.values():
            index.setdefault(key(obj), []).append(position)
        return obj

    def index(self, name: str) -> dict[Any, list[int]]:
        """Value -> ascending positions, built on first use: of the key declared for ``name``
        (:func:`keyed_index`), else of the field ``name``.  Only for values fixed at creation."""
        entry = self.indexes.get(name)
        if entry is None:
            key = _KEYS.get((self.object_type, name)) or (lambda obj: obj.get(name))
            index: dict[Any, list[int]] = {}
            for position, oid in enumerate(self.order):
                if oid is not None:
                    index.setdefault(key(self.rows[oid]), []).append(position)
            entry = self.indexes[name] = (key, index)
        return entry[1]

    def remove(self, oid: str, stub: Obj | None) -> None:
        self.generation += 1
        for held in self.unique.values():
            for value in [v for v, holder in held.items() if holder == oid]:
                del held[value]
        del self.rows[oid]
        self.order[self.position.pop(oid)] = None
        if stub is not None:
            self.deleted[oid] = stub

    def newest_first(self, before: int | None = None, where: Where | None = None
                     ) -> Iterator[Obj]:
        """Objects older than position ``before`` (all when None), newest first; ``where``
        narrows to one value of an indexed field."""
        order, rows = self.order, self.rows
        if where is not None:
            positions = self.index(where[0]).get(where[1], ())
            end = len(positions) if before is None else bisect_left(positions, before)
            for i in range(end - 1, -1, -1):
                oid = order[positions[i]]
                if oid is not None:
                    yield rows[oid]
            return
        index = len(order) if before is None else before
        while index > 0:
            index -= 1
            oid = order[index]
            if oid is not None:
                yield rows[oid]

    def oldest_first(self, after: int, where: Where | None = None) -> Iterator[Obj]:
        """Objects newer than position ``after``, oldest first (``where`` as above)."""
        order, rows = self.order, self.rows
        if where is not None:
            positions = self.index(where[0]).get(where[1], ())
            for i in range(bisect_right(positions, after), len(positions)):
                oid = order[positions[i]]
                if oid is not None:
                    yield rows[oid]
            return
        for index in range(after + 1, len(order)):
            oid = order[index]
            if oid is not None:
                yield rows[oid]


class Store:
    """All objects of one account.  Resources own their rules; this only keeps objects."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.recorder: Any = None  # events.Recorder while a write request runs
        self.owner: Any = None  # (fake, account), for events emitted outside a request

    def table(self, object_type: str) -> Table:
        table = self.tables.get(object_type)
        if table is None:
            table = self.tables[object_type] = Table(object_type)
        return table

    def add(self, obj: Obj) -> Obj:
        if self.recorder is not None:
            self.recorder.append((0, obj))  # events.CREATED
        return self.table(obj["object"]).add(obj)

    def touch(self) -> None:
        """Objects may change in place (any write request, or a test editing them): forget
        what was derived from them (cached search matches)."""
        for table in self.tables.values():
            table.generation += 1

    def get(self, object_type: str, oid: str) -> Obj | None:
        table = self.tables.get(object_type)
        return table.rows.get(oid) if table else None

    def get_deleted(self, object_type: str, oid: str) -> Obj | None:
        table = self.tables.get(object_type)
        return table.deleted.get(oid) if table else None

    def require(self, object_type: str, oid: str, *, param: str | None, in_path: bool,
                name: str | None = None) -> Obj:
        """The object, or Stripe's ``No such <name>: '<id>'`` (404 in the path, 400 in the body)."""
        obj = self.get(object_type, oid)
        if obj is None:
            raise errors.no_such(name or object_type, oid, param, in_path=in_path)
        return obj

    def delete(self, object_type: str, oid: str, stub: Obj | None = None) -> None:
        """Remove an object; ``stub`` (e.g. a deleted customer) stays readable by id."""
        table = self.table(object_type)
        if self.recorder is not None:
            self.recorder.append((1, table.rows[oid]))  # events.DELETED: the object as it was
        table.remove(oid, stub)

    def all(self, object_type: str) -> Iterator[Obj]:
        table = self.tables.get(object_type)
        return table.newest_first() if table else iter(())

    def count(self, object_type: str) -> int:
        table = self.tables.get(object_type)
        return len(table.rows) if table else 0
