"""Cassette files: vcrpy's YAML layout, JSON bodies kept readable, safe concurrent writes.

The layout is vcrpy's (``version: 1``, ``interactions: [{request, response}]``, optional
``metadata``), so vcrpy can read our cassettes.  Additions vcrpy ignores: ``metadata``
(recorder, stripe-python version, Stripe-Versions seen, recording time) and a
``recorded_at`` per interaction.  Response bodies are pretty JSON in YAML block scalars.

Reading uses the C (libyaml) loader when PyYAML has it; parsed files are cached by
(size, mtime, inode).  Writing takes an exclusive lock on the cassette's directory, re-reads
the file under the lock (another process may have written it meanwhile), merges, writes a
temporary file and renames it over the cassette: readers see the old file or the new one,
never half of one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CassetteFormatError, SecretInCassette
from .scrub import find_secrets

FORMAT_VERSION = 1
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class Interaction:
    """One recorded request and its response (bodies as text)."""

    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_body: str | None
    status: int
    reason: str
    response_headers: dict[str, list[str]]
    response_body: str
    recorded_at: str | None = None

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive), first value."""
        return _first(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return _first(self.response_headers, name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.recorded_at:
            out["recorded_at"] = self.recorded_at
        out["request"] = {"method": self.method, "uri": self.uri, "body": self.request_body,
                          "headers": self.request_headers}
        out["response"] = {"status": {"code": self.status, "message": self.reason},
                           "headers": self.response_headers,
                           "body": {"string": self.response_body}}
        return out


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    lname = name.lower()
    for key, values in headers.items():
        if key.lower() == lname and values:
            return values[0]
    return None


@dataclass
class Document:
    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = field(default="", repr=False)
    indexes: dict[Any, Any] = field(default_factory=dict, repr=False)  # built by Cassette
    _lines: list[int] | None = field(default=None, repr=False)

    def line_of(self, index: int) -> int | None:
        """1-based line where interaction ``index`` starts (found only when asked)."""
        if self._lines is None:
            self._lines = _item_lines(self.text)
        lines = self._lines
        if len(lines) != len(self.interactions) or index >= len(lines):
            return None
        return lines[index]


# --- reading -------------------------------------------------------------------------

_cache: dict[str, tuple[tuple[int, int, int], Document]] = {}
_cache_lock = threading.Lock()
_ITEM_RE = re.compile(r"^ *- (?:recorded_at|request|response):", re.MULTILINE)


def load(path: Path | str, *, use_cache: bool = True) -> Document:
    """Parse a cassette file; :class:`CassetteFormatError` (file and line) if it is not one."""
    path = Path(path)
    try:
        stat = path.stat()
        signature = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        key = str(path.resolve())
        if use_cache:
            with _cache_lock:
                hit = _cache.get(key)
            if hit is not None and hit[0] == signature:
                return hit[1]
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot read it: {exc.strerror or exc}") from None
    document = parse(text, path)
    if use_cache:
        with _cache_lock:
            _cache[key] = (signature, document)
    return document


class _NeedFullLoader(Exception):
    """The file uses YAML features the fast builder leaves to PyYAML (anchors, tags)."""


_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_PLAIN = {"null": None, "~": None, "": None, "Null": None, "NULL": None, "true": True,
          "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _fast_load(text: str) -> Any:
    """Build plain dicts, lists and scalars straight from libyaml's events.

    About three times faster than ``yaml.load`` (which builds a node tree, then resolves
    and constructs every node in Python): a cassette is mostly small scalars.  Plain scalars
    resolve to null, booleans and integers; everything else stays a string, which is all a
    cassette needs.  Anchors, aliases, tags and complex keys go to PyYAML's own loader."""
    from yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
    )

    loader = _Loader(text)
    get_event = loader.get_event
    plain, is_int, no_key = _PLAIN, _INT_RE.match, _NO_KEY
    stack: list[tuple[Any, bool]] = []
    container: Any = None
    key: Any = no_key
    is_list = False
    root: Any = None
    try:
        while True:
            event = get_event()
            if event is None:
                break
            cls = type(event)
            if cls is ScalarEvent:
                if event.anchor is not None:
                    raise _NeedFullLoader
                value: Any = event.value
                if not event.style:
                    if not event.implicit[0]:
                        raise _NeedFullLoader
                    if value in plain:
                        value = plain[value]
                    elif is_int(value):
                        value = int(value)
                elif event.tag is not None and not event.implicit[1]:
                    raise _NeedFullLoader
                if is_list:
                    container.append(value)
                elif key is no_key:
                    key = value
                else:
                    container[key] = value
                    key = no_key
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                if event.anchor is not None or (event.tag is not None and not event.implicit):
                    raise _NeedFullLoader
                new: Any = {} if cls is MappingStartEvent else []
                if container is None:
                    root = new
                elif is_list:
                    container.append(new)
                elif key is no_key or key == "<<":
                    raise _NeedFullLoader  # a complex key, or a merge key
                else:
                    container[key] = new
                stack.append((container, is_list))
                container, key, is_list = new, no_key, cls is SequenceStartEvent
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                container, is_list = stack.pop()
                key = no_key
            elif cls is AliasEvent:
                raise _NeedFullLoader
    finally:
        loader.dispose()
    return root


_NO_KEY = object()


def parse(text: str, path: Path | str = "<cassette>") -> Document:
    path = Path(path)
    try:
        try:
            data = _fast_load(text)
        except _NeedFullLoader:
            data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise CassetteFormatError(path, f"YAML syntax error: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise CassetteFormatError(path, f"YAML error: {exc}") from None
    if not isinstance(data, dict) or "interactions" not in data:
        what = "empty file" if data is None else "no 'interactions' list at the top level"
        raise CassetteFormatError(path, what, 1)
    raw = data["interactions"]
    if not isinstance(raw, list):
        raise CassetteFormatError(path, "'interactions' is not a list", _line_of_key(text,
                                                                                  "interactions"))
    interactions = []
    for index, item in enumerate(raw):
        try:
            interactions.append(_interaction(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            lines = _item_lines(text)
            line = lines[index] if len(lines) == len(raw) else None
            raise CassetteFormatError(
                path, f"interaction #{index} is malformed ({type(exc).__name__}: {exc}); "
                "expected request{method, uri, body, headers} and "
                "response{status{code, message}, headers, body{string}}", line) from None
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise CassetteFormatError(path, "'metadata' is not a mapping", _line_of_key(text,
                                                                                 "metadata"))
    return Document(path, interactions, metadata, text)


def _item_lines(text: str) -> list[int]:
    """1-based line where each interaction starts (counted incrementally: linear time)."""
    lines, line, position = [], 1, 0
    for match in _ITEM_RE.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _line_of_key(text: str, key: str) -> int | None:
    match = re.search(rf"^{key}:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _interaction(item: dict[str, Any]) -> Interaction:
    request, response = item["request"], item["response"]
    status = response["status"]
    code = int(status["code"]) if isinstance(status, dict) else int(status)
    body = response["body"]
    text = body["string"] if isinstance(body, dict) else body
    return Interaction(
        method=str(request["method"]).upper(), uri=str(request["uri"]),
        request_headers=_headers(request.get("headers")), request_body=_text(request.get("body")),
        status=code, reason=str(status.get("message") or "") if isinstance(status, dict) else "",
        response_headers=_headers(response.get("headers")), response_body=_text(text) or "",
        recorded_at=str(item["recorded_at"]) if item.get("recorded_at") else None)


def _headers(raw: Any) -> dict[str, list[str]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise TypeError("headers must be a mapping")
    return {str(k): [str(x) for x in v] if isinstance(v, list) else [str(v)]
            for k, v in raw.items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    if isinstance(value, dict) and "string" in value:  # vcrpy variants
        return _text(value["string"])
    return str(value)


# --- writing -------------------------------------------------------------------------


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # no &anchors/*aliases: every interaction reads on its own


def _represent_str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(interactions: list[Interaction], metadata: dict[str, Any]) -> str:
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    if metadata:
        data["metadata"] = metadata
    data["interactions"] = [i.to_dict() for i in interactions]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive, cross-process lock on a directory (flock; a lock file on Windows)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        with open(directory / ".stripe-cassettes.lock", "a+b") as handle:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def save(path: Path, merge: Callable[[list[Interaction] | None], list[Interaction]],
         metadata: Callable[[list[Interaction]], dict[str, Any]], *,
         read_existing: bool = True) -> Document:
    """Lock, re-read the file (``merge`` gets its interactions, or None if absent), write the
    merged result (with ``metadata(merged)``) atomically.  Refuses to write anything
    secret-looking."""
    path = Path(path)
    with locked(path.parent):
        current = None
        if read_existing and path.exists():
            current = load(path, use_cache=False).interactions
        interactions = merge(current)
        text = dumps(interactions, metadata(interactions))
        found = find_secrets(text)
        if found:
            raise SecretInCassette(path, found)
        _atomic_write(path, text)
    return parse(text, path)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
