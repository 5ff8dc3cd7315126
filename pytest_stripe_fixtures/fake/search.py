"""Stripe's Search query language: parse a ``query`` once, match stored objects fast.

Grammar (docs "Search query language", see STRIPE-API-RULES.md §6)::

    query   := clause ((WS | WS AND WS | WS OR WS) clause)*     -- AND and OR never mixed
    clause  := ["-"] field op value                              -- no spaces inside a clause
    field   := name ("." name)* | 'metadata[' quoted ']'
    op      := ":" | "~" | ">=" | "<=" | ">" | "<"
    value   := quoted | integer/decimal (unquoted) | null (unquoted, any case)
    quoted  := '"' ... '"' | "'" ... "'"                           -- \\" \\' \\\\ escape

Matching (all case-insensitive):

* ``:`` on a *token* field: equality with the value's string form (booleans as
  ``true``/``false``).
* ``:`` on a *string* field: the field contains the query's words, contiguous and in the
  same order; words are split on whitespace only, so ids and emails match whole.
* ``~`` (string fields only, value of 3+ characters): substring.
* ``:``, ``>``, ``<``, ``>=``, ``<=`` on *numeric* fields: numeric comparison; quoted digits
  are accepted.
* ``field:null`` matches ``None``, ``""`` or a missing field / metadata key; dotted fields
  walk nested dicts and a missing step is null.

Every problem with a query raises :class:`SearchQueryError` and nothing else.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["FieldTypes", "SearchQueryError", "compile_query"]

FieldTypes = Mapping[str, str]
"""Field name -> ``"string"`` | ``"token"`` | ``"numeric"``; ``"metadata"`` enables
``metadata["k"]`` clauses."""

Predicate = Callable[[Mapping[str, Any]], bool]

# --- message templates (one place) -------------------------------------------------------
# All [R]: Stripe's wording for search query errors is not verified; these are placeholders
# in the fake's own style. Positions are 1-based character offsets into the query.
MESSAGES: dict[str, str] = {
    "not_string": "Invalid query: the query must be a string.",
    "empty": "Invalid query: the query must contain at least one clause.",
    "unterminated_string": (
        "Invalid query: the quoted string starting at character {pos} is not closed."
    ),
    "expected_field": "Invalid query: expected a field name at character {pos}, found `{found}`.",
    "parentheses": "Invalid query: parentheses are not supported in search queries.",
    "dangling_negation": (
        "Invalid query: `-` at character {pos} must be immediately followed by a clause."
    ),
    "metadata_key": (
        'Invalid query: metadata must be queried as metadata["key"] with a non-empty quoted key.'
    ),
    "brackets": 'Invalid query: `{field}` does not support the ["key"] syntax, only metadata does.',
    "unknown_field": "Invalid query: `{field}` is not a supported search field.",
    "expected_operator": (
        "Invalid query: expected an operator (`:`, `~`, `>`, `<`, `>=` or `<=`) after `{field}`."
    ),
    "missing_value": "Invalid query: missing value after `{field}{op}`.",
    "unquoted_value": "Invalid query: the value `{value}` for `{field}` must be quoted.",
    "expected_whitespace": (
        "Invalid query: expected whitespace after the value of `{field}` at character {pos}."
    ),
    "unsupported_operator": (
        "Invalid query: the `{op}` operator is not supported on the {type} field `{field}`."
    ),
    "null_operator": "Invalid query: `null` can only be used with the `:` operator.",
    "substring_too_short": (
        "Invalid query: the `~` operator requires a value of at least 3 characters."
    ),
    "not_numeric": (
        "Invalid query: the value `{value}` for the numeric field `{field}` is not a number."
    ),
    "dangling_keyword": "Invalid query: `{keyword}` must be placed between two clauses.",
    "mixed_keywords": "Invalid query: AND and OR cannot be combined in the same query.",
    "too_many_clauses": "Invalid query: a query can combine at most {limit} clauses.",
}


class SearchQueryError(Exception):
    """Malformed or unsupported query; ``.message`` is the user-facing text (one sentence)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _error(key: str, **kwargs: Any) -> SearchQueryError:
    return SearchQueryError(MESSAGES[key].format(**kwargs))


# --- grammar constants -------------------------------------------------------------------

_TYPES = ("string", "token", "numeric")
_OPERATORS: dict[str, frozenset[str]] = {
    "token": frozenset({":"}),
    "string": frozenset({":", "~"}),
    "numeric": frozenset({":", ">", "<", ">=", "<="}),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ":": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
_QUOTES = "\"'"
_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_KEYWORDS = ("AND", "OR")
_MIN_SUBSTRING = 3
MAX_CLAUSES = 10  # "You can combine up to 10 query clauses in a search" (docs) [C]


class _Clause(NamedTuple):
    field: str  # declared field name ("metadata" for metadata clauses)
    key: str | None  # metadata key, else None
    op: str
    value: str | None  # None means null
    negated: bool
    label: str  # field as written, for messages


# --- parsing -----------------------------------------------------------------------------


class _Parser:
    """Single left-to-right scan; no backtracking beyond one word for AND/OR."""

    def __init__(self, query: str, fields: Mapping[str, str]) -> None:
        self.q = query
        self.n = len(query)
        self.i = 0
        self.fields = fields

    def parse(self) -> tuple[list[_Clause], str]:
        """Return the clauses and the joiner (``"AND"`` or ``"OR"``)."""
        clauses: list[_Clause] = []
        joiners: set[str] = set()
        pending: str | None = None  # keyword waiting for its right-hand clause
        while True:
            self._skip_ws()
            if self.i >= self.n:
                break
            keyword = self._keyword()
            if keyword is not None:
                if not clauses or pending is not None:
                    raise _error("dangling_keyword", keyword=keyword)
                pending = keyword
                joiners.add(keyword)
                continue
            if clauses and pending is None:
                joiners.add("AND")  # whitespace-separated clauses are ANDed
            if len(clauses) == MAX_CLAUSES:
                raise _error("too_many_clauses", limit=MAX_CLAUSES)
            clauses.append(self._clause())
            pending = None
        if pending is not None:
            raise _error("dangling_keyword", keyword=pending)
        if not clauses:
            raise _error("empty")
        if len(joiners) > 1:
            raise _error("mixed_keywords")
        return clauses, ("OR" if "OR" in joiners else "AND")

    def _skip_ws(self) -> None:
        q, n, i = self.q, self.n, self.i
        while i < n and q[i].isspace():
            i += 1
        self.i = i

    def _keyword(self) -> str | None:
        """Consume a bare ``AND``/``OR`` word (any case) and return it upper-cased."""
        q, n, j = self.q, self.n, self.i
        while j < n and j - self.i <= 3 and not q[j].isspace():
            j += 1
        word = q[self.i : j].upper()
        if word in _KEYWORDS and (j >= n or q[j].isspace()):
            self.i = j
            return word
        return None

    def _read_quoted(self, i: int) -> tuple[str, int]:
        """Read the quoted string opening at ``i``; return (text, index after closing quote)."""
        q, n = self.q, self.n
        quote = q[i]
        start = i
        i += 1
        parts: list[str] = []
        while i < n:
            c = q[i]
            if c == quote:
                return "".join(parts), i + 1
            if c == "\\" and i + 1 < n and q[i + 1] in "\"'\\":
                parts.append(q[i + 1])
                i += 2
                continue
            parts.append(c)
            i += 1
        raise _error("unterminated_string", pos=start + 1)

    def _clause(self) -> _Clause:
        q, n, i = self.q, self.n, self.i
        negated = q[i] == "-"
        if negated:
            i += 1
            if i >= n or q[i].isspace():
                raise _error("dangling_negation", pos=i)
        if q[i] in "()":
            raise _error("parentheses")

        # field
        j = i
        while j < n and q[j] in _FIELD_CHARS:
            j += 1
        field = q[i:j]
        if not field:
            raise _error("expected_field", pos=i + 1, found=q[i])
        i = j
        key: str | None = None
        label = field
        if i < n and q[i] == "[":
            if field != "metadata":
                raise _error("brackets", field=field)
            if i + 1 >= n or q[i + 1] not in _QUOTES:
                raise _error("metadata_key")
            key, i = self._read_quoted(i + 1)
            if i >= n or q[i] != "]" or not key:
                raise _error("metadata_key")
            i += 1
            label = f'metadata["{key}"]'
        elif field == "metadata":
            raise _error("metadata_key")
        if field not in self.fields:
            raise _error("unknown_field", field=field)

        # operator
        if q[i : i + 2] in (">=", "<="):
            op = q[i : i + 2]
        elif i < n and q[i] in ":~<>":
            op = q[i]
        else:
            raise _error("expected_operator", field=label)
        i += len(op)

        # value
        if i >= n or q[i].isspace():
            raise _error("missing_value", field=label, op=op)
        value: str | None
        if q[i] in _QUOTES:
            value, i = self._read_quoted(i)
            if i < n and not q[i].isspace():
                raise _error("expected_whitespace", field=label, pos=i + 1)
        else:
            j = i
            while j < n and not q[j].isspace():
                j += 1
            raw = q[i:j]
            i = j
            if raw.lower() == "null":
                value = None
            elif _NUMBER.fullmatch(raw):
                value = raw
            else:
                raise _error("unquoted_value", value=raw, field=label)
        self.i = i
        clause = _Clause(field, key, op, value, negated, label)
        _check(clause, self.fields[field])
        return clause


def _check(clause: _Clause, ftype: str) -> None:
    """Semantic checks: operator vs field type, null, substring length, numbers."""
    if clause.op not in _OPERATORS[ftype]:
        raise _error("unsupported_operator", op=clause.op, type=ftype, field=clause.label)
    if clause.value is None:
        if clause.op != ":":
            raise _error("null_operator")
        return
    if clause.op == "~" and len(clause.value) < _MIN_SUBSTRING:
        raise _error("substring_too_short")
    if ftype == "numeric" and _parse_number(clause.value) is None:
        raise _error("not_numeric", value=clause.value, field=clause.label)


def _parse_number(text: str) -> float | None:
    """Decimal text -> int/float, or None (also for absurdly long digit strings)."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError:  # int() refuses > sys.get_int_max_str_digits() digits
        return None


# --- value access and normalisation ------------------------------------------------------


def _getter(field: str, key: str | None) -> Callable[[Mapping[str, Any]], Any]:
    if key is not None:

        def get_metadata(obj: Mapping[str, Any]) -> Any:
            md = obj.get("metadata")
            return md.get(key) if isinstance(md, Mapping) else None

        return get_metadata
    if "." not in field:

        def get_field(obj: Mapping[str, Any]) -> Any:
            return obj.get(field)

        return get_field
    parts = tuple(field.split("."))

    def get_path(obj: Mapping[str, Any]) -> Any:
        cur: Any = obj
        for part in parts:
            if not isinstance(cur, Mapping):
                return None
            cur = cur.get(part)
        return cur

    return get_path


def _text(value: Any) -> str | None:
    """String form of a stored scalar (booleans as true/false); None for null/containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return _parse_number(value)
    return None


def _words(text: str) -> str:
    """Space-delimited, case-folded word sequence: phrase match becomes a substring test."""
    return " " + " ".join(text.casefold().split()) + " "


# --- predicates --------------------------------------------------------------------------


def _predicate(clause: _Clause, ftype: str) -> Predicate:
    get = _getter(clause.field, clause.key)
    value = clause.value

    if value is None:

        def is_null(obj: Mapping[str, Any]) -> bool:
            v = get(obj)
            return v is None or v == ""

        return is_null

    if ftype == "numeric":
        target = _parse_number(value)
        compare = _COMPARE[clause.op]

        def numeric(obj: Mapping[str, Any]) -> bool:
            v = _number(get(obj))
            return v is not None and compare(v, target)

        return numeric

    if clause.op == "~":
        needle = value.casefold()

        def substring(obj: Mapping[str, Any]) -> bool:
            t = _text(get(obj))
            return t is not None and needle in t.casefold()

        return substring

    if ftype == "string":
        phrase = _words(value)

        def words(obj: Mapping[str, Any]) -> bool:
            t = _text(get(obj))
            return t is not None and phrase in _words(t)

        return words

    expected = value.casefold()

    def token(obj: Mapping[str, Any]) -> bool:
        t = _text(get(obj))
        return t is not None and t.casefold() == expected

    return token


def _negate(pred: Predicate) -> Predicate:
    def negated(obj: Mapping[str, Any]) -> bool:
        return not pred(obj)

    return negated


def _combine(preds: tuple[Predicate, ...], joiner: str) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if joiner == "OR":

        def any_of(obj: Mapping[str, Any]) -> bool:
            for pred in preds:
                if pred(obj):
                    return True
            return False

        return any_of

    def all_of(obj: Mapping[str, Any]) -> bool:
        for pred in preds:
            if not pred(obj):
                return False
        return True

    return all_of


# --- public entry point ------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compile_cached(query: str, fields: frozenset[tuple[str, str]]) -> Predicate:
    types = dict(fields)
    for name, ftype in types.items():
        if ftype not in _TYPES:  # a bug in the caller's field table, not in the query
            raise ValueError(f"search field {name!r} has unknown type {ftype!r}")
    clauses, joiner = _Parser(query, types).parse()
    preds = []
    for clause in clauses:
        pred = _predicate(clause, types[clause.field])
        preds.append(_negate(pred) if clause.negated else pred)
    return _combine(tuple(preds), joiner)


def compile_query(query: str, fields: FieldTypes) -> Predicate:
    """Parse once (raise SearchQueryError on any problem), return a predicate over a stored object.

    Compiled predicates are cached on ``(query, frozenset(fields.items()))``, so paginating
    through the same query does not re-parse it.
    """
    if not isinstance(query, str):
        raise _error("not_string")
    return _compile_cached(query, frozenset(fields.items()))
