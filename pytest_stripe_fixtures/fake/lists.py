"""List and search pagination, the same for every resource (STRIPE-API-RULES.md sections 5-6)."""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import errors
from .search import SearchQueryError, compile_query
from .store import Obj, Table, Where

Predicate = Callable[[Obj], bool]
View = Callable[[Obj], Mapping[str, Any]]  # what a search query sees of a stored object

DEFAULT_LIMIT = 10
MIN_LIMIT, MAX_LIMIT = 1, 100  # out-of-range limit is a 400 ([R]: unverified, see errors.py)
INVALID_PAGE = "Invalid page: {page}"  # [R]


def check_limit(params: dict[str, Any]) -> int:
    limit = params.get("limit", DEFAULT_LIMIT)
    if limit < MIN_LIMIT:
        raise errors.too_small("limit", MIN_LIMIT)
    if limit > MAX_LIMIT:
        raise errors.too_large("limit", MAX_LIMIT, limit)
    return limit


def created_filter(created: Any) -> Predicate | None:
    """``created=123`` or ``created[gt|gte|lt|lte]=123`` as a predicate."""
    if created is None:
        return None
    if isinstance(created, int):
        return lambda obj: obj["created"] == created
    checks = []
    if "gt" in created:
        checks.append(lambda v, b=created["gt"]: v > b)
    if "gte" in created:
        checks.append(lambda v, b=created["gte"]: v >= b)
    if "lt" in created:
        checks.append(lambda v, b=created["lt"]: v < b)
    if "lte" in created:
        checks.append(lambda v, b=created["lte"]: v <= b)
    return lambda obj: all(check(obj["created"]) for check in checks)


def combine(*predicates: Predicate | None) -> Predicate | None:
    active = [p for p in predicates if p is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    return lambda obj: all(p(obj) for p in active)


def page(table: Table, params: dict[str, Any], url: str,
         predicate: Predicate | None = None, where: Where | None = None) -> Obj:
    """A ``list`` envelope: newest first, cursors, ``created`` filter, ``has_more``.

    ``where=(field, value)`` walks only the objects with that value of an immutable field
    (``Table.index``), so the page costs what the page holds, not what the table holds."""
    limit = check_limit(params)
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise errors.one_of("starting_after", "ending_before")
    predicate = combine(created_filter(params.get("created")), predicate)
    if before is not None:
        items = _take(table.oldest_first(_cursor(table, before, "ending_before"), where),
                      predicate, limit)
        has_more = len(items) > limit
        data = items[:limit][::-1]
    else:
        start = _cursor(table, after, "starting_after") if after is not None else None
        items = _take(table.newest_first(start, where), predicate, limit)
        has_more = len(items) > limit
        data = items[:limit]
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def page_of(objects: Iterable[Obj], params: dict[str, Any], url: str,
            predicate: Predicate | None = None, table: Table | None = None) -> Obj:
    """A ``list`` envelope over an explicit newest-first sequence (sub-lists, ``ids`` lists).

    Cursors are placed before filtering: with ``table`` any object of the table is a valid
    cursor (as in :func:`page`); without, the cursor must be one of ``objects``."""
    limit = check_limit(params)
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise errors.one_of("starting_after", "ending_before")
    items = list(objects)
    if table is not None:
        rank = {o["id"]: -table.position[o["id"]] for o in items}  # newest first = lowest

        def cursor(oid: str, param: str) -> int:
            return -_cursor(table, oid, param)
    else:
        rank = {o["id"]: i for i, o in enumerate(items)}

        def cursor(oid: str, param: str) -> int:
            if oid not in rank:
                raise errors.no_such(_kind(oid), oid, param, in_path=False)
            return rank[oid]
    test = combine(created_filter(params.get("created")), predicate)
    if before is not None:
        end = cursor(before, "ending_before")
        newer = [o for o in items if rank[o["id"]] < end and (test is None or test(o))]
        data, has_more = newer[-limit:], len(newer) > limit
    else:
        start = cursor(after, "starting_after") if after is not None else None
        older = [o for o in items if (start is None or rank[o["id"]] > start)
                 and (test is None or test(o))]
        data, has_more = older[:limit], len(older) > limit
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def newest_of(table: Table, objects: Iterable[Obj | None]) -> list[Obj]:
    """Objects fetched by id or key (None for a miss), newest first by table position: a
    list narrowed to a few ids costs what the ids cost, not what the table holds."""
    found = [obj for obj in objects if obj is not None]
    found.sort(key=lambda obj: table.position[obj["id"]], reverse=True)
    return found


def search(table: Table, params: dict[str, Any], url: str, fields: dict[str, str],
           view: View | None = None) -> Obj:
    """A search endpoint: compile ``query`` against the resource's field table, then page.

    ``view`` (a module-level function, so that it is the same on every request) shows the
    query a derived form of each object, e.g. a charge's search-only ``refunded`` state."""
    try:
        predicate = compile_query(params["query"], fields)
    except SearchQueryError as exc:
        raise errors.invalid(exc.message, "query") from exc
    return search_page(table, params, url, predicate, view)


class _Matches:
    """The positions matching one query, newest first, found lazily (only as far as a page
    needs) and kept while the table is unchanged, so paging through search results costs what
    the pages cost."""

    __slots__ = ("generation", "positions", "cursor", "test")

    def __init__(self, generation: int, end: int, test: Predicate) -> None:
        self.generation = generation
        self.positions: list[int] = []
        self.cursor = end  # positions below it are not examined yet
        self.test = test

    def grow(self, table: Table, *, count: int | None = None, below: int | None = None) -> None:
        """Examine older rows until ``count`` matches are known or every position at or above
        ``below`` is examined (both None: the whole table)."""
        order, rows, positions, test = table.order, table.rows, self.positions, self.test
        while self.cursor > 0:
            if count is not None and len(positions) >= count:
                break
            if below is not None and count is None and self.cursor <= below:
                break
            self.cursor -= 1
            oid = order[self.cursor]
            if oid is not None and test(rows[oid]):
                positions.append(self.cursor)


def _matches(table: Table, predicate: Predicate, view: View | None) -> _Matches:
    """The cached matches of ``predicate`` (seeing ``view(obj)`` when given) on ``table``."""
    key = (predicate, view)
    found = table.search_cache.get(key)
    if found is None or found.generation != table.generation:
        if len(table.search_cache) > 64:
            table.search_cache.clear()
        test = predicate if view is None else (lambda obj: predicate(view(obj)))
        found = table.search_cache[key] = _Matches(table.generation, len(table.order), test)
    return found


def search_page(table: Table, params: dict[str, Any], url: str, predicate: Predicate,
                view: View | None = None) -> Obj:
    """A ``search_result``: ``next_page`` is an opaque cursor, ``total_count`` when expanded."""
    limit = check_limit(params)
    token = params.get("page")
    start = _decode_page(token) if token else None
    matches = _matches(table, predicate, view)
    first = 0
    if start is not None:  # the page begins with the first match older than ``start``
        matches.grow(table, below=start)
        first = bisect_right(matches.positions, -start, key=lambda position: -position)
    matches.grow(table, count=first + limit + 1)
    positions = matches.positions[first:first + limit]
    has_more = len(matches.positions) > first + limit
    result: Obj = {"object": "search_result",
                   "data": [table.rows[table.order[p]] for p in positions],  # type: ignore[index]
                   "has_more": has_more,
                   "next_page": _encode_page(positions[-1]) if has_more else None, "url": url}
    if "total_count" in (params.get("expand") or ()):
        matches.grow(table)
        result["total_count"] = len(matches.positions)
    return result


def _encode_page(position: int | None) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode().rstrip("=")


def _decode_page(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "pos" or not value.isascii() or not value.isdigit() or len(value) > 18:
            raise ValueError(raw)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise errors.invalid(INVALID_PAGE.format(page=token), "page") from exc


def _take(objects: Iterable[Obj], predicate: Predicate | None, limit: int) -> list[Obj]:
    """The first ``limit + 1`` matches (one more tells ``has_more``)."""
    out: list[Obj] = []
    for obj in objects:
        if predicate is None or predicate(obj):
            out.append(obj)
            if len(out) > limit:
                break
    return out


def _cursor(table: Table, oid: str, param: str) -> int:
    position = table.position.get(oid)
    if position is None:
        raise errors.no_such(_kind(oid), oid, param, in_path=False)
    return position


def _kind(oid: str) -> str:
    """Best-effort object name for a cursor id (the message names the object)."""
    prefix = oid.split("_", 1)[0] if "_" in oid else ""
    from .ids import PREFIXES

    for name, (p, _) in PREFIXES.items():
        if p and p[:-1] == prefix:
            return name
    return "object"
