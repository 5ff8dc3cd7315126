"""The account's objects: per type, in creation order, with deleted stubs kept apart.

Lists read newest first.  The clock never moves backwards, so creation order *is* Stripe's
order (``created`` descending, ties broken by a monotonic sequence) and a list page costs
what the page costs, not what the store holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import errors

Obj = dict[str, Any]


class Table:
    """One object type: insertion-ordered rows with positions for cursors."""

    __slots__ = ("rows", "order", "position", "deleted")

    def __init__(self) -> None:
        self.rows: dict[str, Obj] = {}
        self.order: list[str | None] = []
        self.position: dict[str, int] = {}
        self.deleted: dict[str, Obj] = {}

    def add(self, obj: Obj) -> Obj:
        oid = obj["id"]
        self.position[oid] = len(self.order)
        self.order.append(oid)
        self.rows[oid] = obj
        return obj

    def remove(self, oid: str, stub: Obj | None) -> None:
        del self.rows[oid]
        self.order[self.position.pop(oid)] = None
        if stub is not None:
            self.deleted[oid] = stub

    def newest_first(self, before: int | None = None) -> Iterator[Obj]:
        """Objects older than position ``before`` (all when None), newest first."""
        order, rows = self.order, self.rows
        index = len(order) if before is None else before
        while index > 0:
            index -= 1
            oid = order[index]
            if oid is not None:
                yield rows[oid]

    def oldest_first(self, after: int) -> Iterator[Obj]:
        """Objects newer than position ``after``, oldest first."""
        order, rows = self.order, self.rows
        for index in range(after + 1, len(order)):
            oid = order[index]
            if oid is not None:
                yield rows[oid]


class Store:
    """All objects of one account.  Resources own their rules; this only keeps objects."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}

    def table(self, object_type: str) -> Table:
        table = self.tables.get(object_type)
        if table is None:
            table = self.tables[object_type] = Table()
        return table

    def add(self, obj: Obj) -> Obj:
        return self.table(obj["object"]).add(obj)

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
        self.table(object_type).remove(oid, stub)

    def all(self, object_type: str) -> Iterator[Obj]:
        table = self.tables.get(object_type)
        return table.newest_first() if table else iter(())

    def count(self, object_type: str) -> int:
        table = self.tables.get(object_type)
        return len(table.rows) if table else 0
