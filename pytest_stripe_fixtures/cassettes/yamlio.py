"""Cassette files: vcrpy's YAML layout, JSON bodies kept readable, safe concurrent writes.

The layout is vcrpy's (``version: 1``, ``interactions: [{request, response}]``, optional
``metadata``), so vcrpy can read our cassettes.  Additions vcrpy ignores: ``metadata``
(recorder, stripe-python version, Stripe-Versions seen, recording time, the run that last
replaced it), ``recorded_at`` and the recording test's ``episode`` per interaction.  Response bodies are
pretty JSON in YAML block scalars.  Every field is type-checked on load (a wrong type, a
malformed URI or a truncated JSON body is a :class:`CassetteFormatError` with file and line).

Reading uses the C (libyaml) loader when PyYAML has it; parsed files are cached by
(size, mtime, inode).  Writing takes an exclusive lock on the cassette's directory, removes
temporaries a killed writer left, appends the new interactions to the file's text (the list
of interactions comes last; nothing already there is parsed or dumped again), writes a
temporary file and renames it over the cassette: readers see the old file or the new one,
never half of one.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    episode: str | None = None  # the test that recorded it (a shared cassette keeps each)

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive), first value."""
        return _first(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return _first(self.response_headers, name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.recorded_at:
            out["recorded_at"] = self.recorded_at
        if self.episode:
            out["episode"] = self.episode
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
_ITEM_RE = re.compile(r"^ *- (?:recorded_at|episode|request|response):", re.MULTILINE)


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
        except _Invalid as exc:
            lines = _item_lines(text)
            line = lines[index] if len(lines) == len(raw) else None
            raise CassetteFormatError(path, f"interaction #{index}: {exc}", line) from None
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


class _Invalid(ValueError):
    """A field of an interaction has the wrong type or value (the message says which)."""


_METHOD_RE = re.compile(r"[A-Za-z]+\Z")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{what} must be a mapping, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number",
            float: "a number", str: "a string", bytes: "binary"}.get(type(value), type(value).__name__)


def _interaction(item: Any) -> Interaction:
    item = _mapping(item, "an interaction")
    if "request" not in item or "response" not in item:
        raise _Invalid("needs both 'request' and 'response'")
    request = _mapping(item["request"], "request")
    response = _mapping(item["response"], "response")
    method = request.get("method")
    if not isinstance(method, str) or not _METHOD_RE.match(method):
        raise _Invalid(f"request.method must be an HTTP method such as POST, not {method!r}")
    uri = request.get("uri")
    if not isinstance(uri, str):
        raise _Invalid(f"request.uri must be a string, not {_kind(uri)}")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise _Invalid(f"request.uri {uri!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(f"request.uri {uri!r} is not an http(s) URL")
    status = response.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        raise _Invalid(f"response.status.code must be an HTTP status (100-599), not {code!r}")
    reason = status.get("message") if isinstance(status, dict) else ""
    if reason is not None and not isinstance(reason, (str, int)):
        raise _Invalid(f"response.status.message must be text, not {_kind(reason)}")
    body = response.get("body")
    text = body.get("string") if isinstance(body, dict) and "string" in body else body
    if isinstance(body, dict) and "string" not in body:
        raise _Invalid("response.body must be text or {string: text}, not a mapping without "
                       "'string'")
    response_body = _body(text, "response.body") or ""
    response_headers = _headers(response.get("headers"), "response.headers")
    _check_json(response_body, response_headers)
    recorded_at = item.get("recorded_at")
    episode = item.get("episode")
    return Interaction(
        method=method.upper(), uri=uri,
        request_headers=_headers(request.get("headers"), "request.headers"),
        request_body=_body(request.get("body"), "request.body"),
        status=code, reason=str(reason or ""), response_headers=response_headers,
        response_body=response_body, recorded_at=str(recorded_at) if recorded_at else None,
        episode=str(episode) if episode else None)


def _check_json(body: str, headers: dict[str, list[str]]) -> None:
    """A body that is JSON (by its Content-Type or its first character) must parse: a truncated
    one would otherwise fail later, in the SDK, far from the cassette."""
    content_type = (_first(headers, "Content-Type") or "").lower()
    stripped = body.lstrip()
    if "json" not in content_type and stripped[:1] not in ("{", "["):
        return
    if not stripped and "json" not in content_type:
        return
    try:
        json.loads(body)
    except ValueError as exc:
        raise _Invalid(f"response.body is not valid JSON (truncated?): {exc}") from None


def _headers(raw: Any, what: str = "headers") -> dict[str, list[str]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise _Invalid(f"{what} must be a mapping of names to values, not {_kind(raw)}")
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                raise _Invalid(f"{what}[{key!r}] must be text or a list of text, not "
                               f"{_kind(item)}")
        out[str(key)] = [str(x) for x in values]
    return out


def _body(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    if isinstance(value, dict):
        if set(value) == {"string"} or "string" in value:  # vcrpy's {string: ...} variant
            return _body(value["string"], what)
        raise _Invalid(f"{what} must be text or {{string: text}}, not a mapping")
    if isinstance(value, str):
        return value
    raise _Invalid(f"{what} must be text, not {_kind(value)}")


# --- writing -------------------------------------------------------------------------


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # no &anchors/*aliases: every interaction reads on its own


def _represent_str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(interactions: list[Interaction], metadata: dict[str, Any]) -> str:
    return dump_header(metadata) + dump_items(interactions, empty="interactions: []\n")


def dump_header(metadata: dict[str, Any]) -> str:
    """Everything before the interactions (which come last, so a save can append)."""
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    if metadata:
        data["metadata"] = metadata
    return _dump(data)


def dump_items(interactions: list[Interaction], *, empty: str = "") -> str:
    """``interactions:`` and its items (``empty`` without items), or only the items when
    ``empty`` is ``""`` (appended after an existing list)."""
    if not interactions:
        return empty
    items = _dump([i.to_dict() for i in interactions])
    return ("interactions:\n" if empty else "") + items


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


_LIST_RE = re.compile(r"^interactions:[ \t]*\n", re.MULTILINE)
_TOP_KEY_RE = re.compile(r"^[^\s#-]", re.MULTILINE)


def split_header(text: str) -> tuple[dict[str, Any], int] | None:
    """``(metadata, offset of the interactions list)`` when the file has our layout (block
    list of interactions last, after the header), so new items can be appended as text;
    None otherwise (then the whole file is parsed and rewritten)."""
    match = _LIST_RE.search(text)
    if match is None or not text.endswith("\n") or _TOP_KEY_RE.search(text, match.end()):
        return None
    try:
        head = yaml.load(text[:match.start()], Loader=_Loader) or {}
    except yaml.YAMLError:
        return None
    if not isinstance(head, dict):
        return None
    metadata = head.get("metadata") or {}
    return (metadata if isinstance(metadata, dict) else {}), match.start()


def read_metadata(path: Path) -> dict[str, Any] | None:
    """The metadata of a cassette without parsing its interactions; None if there is no file."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(65536).decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot read it: {exc.strerror or exc}") from None
    match = _LIST_RE.search(start)
    if match is not None:
        with contextlib.suppress(yaml.YAMLError):
            head = yaml.load(start[:match.start()], Loader=_Loader) or {}
            if isinstance(head, dict):
                metadata = head.get("metadata") or {}
                return metadata if isinstance(metadata, dict) else {}
    return load(path).metadata


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


def save(path: Path, recorded: list[Interaction], *,
         metadata: Callable[[dict[str, Any], list[Interaction]], dict[str, Any]],
         replace: Callable[[dict[str, Any]], bool] | None = None,
         drop: Callable[[Interaction], bool] | None = None) -> str:
    """Add ``recorded`` to the cassette at ``path``, under an exclusive lock, atomically.

    ``replace(old_metadata)`` True: the file is replaced by ``recorded``.  ``drop``: existing
    interactions it selects are removed first (this needs the whole file parsed).  Otherwise
    the new interactions are appended as text: the cost is the new items plus copying the
    file's bytes, never a parse or dump of what was already there.  ``metadata(old, added)``
    gives the new metadata.  What is added is scanned for secrets (decoded values) first;
    nothing is written if one is found.  Returns ``"created"``, ``"replaced"``,
    ``"appended"`` or ``"merged"``."""
    path = Path(path)
    with locked(path.parent):
        _remove_stale_temporaries(path)
        _refuse_secrets(path, recorded)
        try:
            text: str | None = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            text = None
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteFormatError(path, f"cannot read it: {exc}") from None
        split = split_header(text) if text is not None else None
        old: dict[str, Any] = split[0] if split is not None else {}
        if text is not None and split is None:
            try:
                old = parse(text, path).metadata
            except CassetteFormatError:
                if replace is None or not replace({}):
                    raise  # never silently replaced, unless the mode replaces it anyway
        if text is None or (replace is not None and replace(old)):
            out, how = dumps(recorded, metadata({}, recorded)), "created" if text is None \
                else "replaced"
        elif drop is None and split is not None and recorded:
            head = dump_header(metadata(old, recorded))
            rest = text[split[1]:]
            if rest.startswith("interactions: []"):
                rest = "interactions:\n"
            out, how = head + rest + dump_items(recorded), "appended"
        else:
            current = parse(text, path).interactions
            kept = [i for i in current if drop is None or not drop(i)]
            out, how = dumps(kept + recorded, metadata(old, recorded)), "merged"
        _atomic_write(path, out)
    return how


def _refuse_secrets(path: Path, interactions: list[Interaction]) -> None:
    found: list[str] = []
    for item in interactions:
        for value in (item.uri, item.request_body or "", item.response_body,
                      *(v for vs in item.request_headers.values() for v in vs),
                      *(v for vs in item.response_headers.values() for v in vs)):
            found.extend(f for f in find_secrets(value) if f not in found)
    if found:
        raise SecretInCassette(path, found)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of this cassette left by a writer that died (``kill -9``) mid-save.
    Called under the lock, so no live writer owns one."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


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
