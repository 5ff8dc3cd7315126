"""One cassette in use: replay from an index, record what is missing, save safely.

Every recorded interaction belongs to an *episode*: the test that recorded it.  A cassette
shared by several tests (``@pytest.mark.stripe_cassette("shared/catalog")``) keeps each
test's episode, so identical requests from two tests both survive, and a test replays its
own episode first.  A *run* is one ``pytest`` invocation (all pytest-xdist workers share it).

Record modes (vcrpy's and pytest-recording's meanings, made exact for shared cassettes):

``none``          replay only; a request without a recording fails (default)
``once``          a cassette absent when the run first used it is recorded by every test
                  of that run that uses it (each appends its episode, nothing replayed);
                  a cassette from an earlier run is replayed only, like ``none``
``new_episodes``  replay what is recorded, record the rest (appended to the test's episode)
``all``           never replay; each test's episode replaces its old one, other tests'
                  episodes are kept
``rewrite``       never replay; the first test of a run to save replaces the whole file,
                  every later test of the same run appends its episode
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..fake.http import Headers
from . import matching, scrub, upstream, yamlio
from .errors import CassetteError, CassetteNotFound, UnmatchedRequest, UpstreamError
from .yamlio import Interaction


class RecordMode(str, Enum):  # noqa: UP042 - str() must stay the plain value
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"
    REWRITE = "rewrite"

    @classmethod
    def parse(cls, value: str | RecordMode) -> RecordMode:
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"record mode {value!r} is not one of: {valid}") from None


@dataclass
class Reply:
    """A response as any transport hands it back."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class Cassette:
    """Replays and records the Stripe requests of one test.

    ``respond`` is the single entry point of every transport.  Unmatched requests raise
    :class:`UnmatchedRequest` and are kept in ``misses`` for the end-of-test report.
    """

    def __init__(self, path: Path | str, mode: RecordMode | str = RecordMode.NONE, *,
                 upstream_url: str = upstream.DEFAULT_UPSTREAM,
                 filters: scrub.Filters | None = None, label: str | None = None,
                 episode: str | None = None, run: str | None = None) -> None:
        self.path = Path(path)
        self.mode = RecordMode.parse(mode)
        self.upstream = upstream_url
        self.filters = filters or scrub.Filters()
        self.label = label or str(self.path)
        self.episode = episode
        self.run = run or uuid.uuid4().hex  # outside pytest: each use is its own run
        self.recorded: list[Interaction] = []
        self.user_agents: set[str] = set()
        self.misses: list[UnmatchedRequest] = []
        self.failures: list[CassetteError] = []  # upstream failures while recording
        self.played: list[int] = []
        self._lock = threading.Lock()
        self._cursor: dict[matching.Key, int] = {}
        self._order: dict[matching.Key, list[int]] = {}
        self.replays, self.records, load = self._plan()
        if load and self.path.exists():
            self.document = yamlio.load(self.path)
        elif self.mode is RecordMode.NONE:
            raise CassetteNotFound(self.label, self.mode.value)
        else:
            self.document = yamlio.Document(self.path)
        self.existed = self.path.exists()
        self.interactions = self.document.interactions
        self._index, self._entries = self._build_index()

    def _plan(self) -> tuple[bool, bool, bool]:
        """(replays, records, needs the file parsed) for this mode, file and run."""
        mode = self.mode
        if mode is RecordMode.NONE:
            return True, False, True
        if mode is RecordMode.NEW_EPISODES:
            return True, True, True
        if mode is RecordMode.ONCE:
            metadata = yamlio.read_metadata(self.path)
            if metadata is not None and metadata.get("run") != self.run:
                return True, False, True  # recorded by an earlier run: replay only
            return False, True, False
        if mode is RecordMode.ALL:
            return False, True, True  # other tests' episodes are kept: the file must be sound
        return False, True, False  # rewrite

    def _build_index(self) -> tuple[dict[matching.Key, list[int]],
                                    list[tuple[str, str, dict[str, Any]]]]:
        """Request key -> positions (in recorded order), built once per parsed file and
        filters: a cassette shared by many tests is indexed once."""
        cached = self.document.indexes.get(self.filters)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        index: dict[matching.Key, list[int]] = {}
        entries: list[tuple[str, str, dict[str, Any]]] = []
        for position, interaction in enumerate(self.interactions):
            key, params = self._key(interaction.method, interaction.uri,
                                    interaction.request_body)
            index.setdefault(key, []).append(position)
            entries.append((key[0], key[1], params))
        self.document.indexes[self.filters] = (index, entries)
        return index, entries

    def _positions(self, key: matching.Key) -> list[int] | None:
        """Recordings of ``key``, this test's own episode first (then the others, in
        recorded order)."""
        order = self._order.get(key)
        if order is None:
            positions = self._index.get(key)
            if not positions:
                return None
            own = [p for p in positions if self.interactions[p].episode == self.episode]
            order = own + [p for p in positions if self.interactions[p].episode != self.episode] \
                if own and len(own) != len(positions) else positions
            self._order[key] = order
        return order

    def _key(self, method: str, uri: str,
             body: str | None) -> tuple[matching.Key, dict[str, Any]]:
        """Keyed as stored: secrets redacted, the user's filtered params ``FILTERED``."""
        return matching.request_key(method, scrub.redact(uri), scrub.redact(body) if body else body,
                                    self.filters)

    # --- answering ------------------------------------------------------------------

    def respond(self, method: str, url: str, headers: Mapping[str, Any] | None,
                body: str | bytes | None) -> Reply:
        """The recorded reply, or a fresh recording, or :class:`UnmatchedRequest`."""
        text = _body_text(body)
        found = self._replay(method, url, text)
        if found is not None:
            item = self.interactions[found]
            return Reply(item.status, item.reason,
                         [(k, v) for k, vs in item.response_headers.items() for v in vs],
                         item.response_body)
        return self._record(method, url, headers, body)

    def respond_sdk(self, method: str, url: str, headers: Mapping[str, Any] | None,
                    body: str | bytes | None) -> tuple[str, int, Headers]:
        """``respond`` in the stripe SDK's HTTP-client shape ``(body, status, headers)``."""
        text = _body_text(body)
        found = self._replay(method, url, text)
        if found is not None:
            item = self.interactions[found]
            return item.response_body, item.status, Headers(
                [(k, v) for k, vs in item.response_headers.items() for v in vs])
        fresh = self._record(method, url, headers, body)
        return fresh.body, fresh.status, Headers(fresh.headers)

    def _replay(self, method: str, url: str, body: str | None) -> int | None:
        """The position of the recording to replay; None to record; raises when neither."""
        key, params = self._key(method, url, body)
        if self.replays:
            with self._lock:
                positions = self._positions(key)
                if positions:
                    n = self._cursor.get(key, 0)
                    if n < len(positions):
                        self._cursor[key] = n + 1
                        self.played.append(positions[n])
                        return positions[n]
        if not self.records:
            miss = self._unmatched(key, params)
            with self._lock:
                self.misses.append(miss)
            raise miss
        return None

    def _record(self, method: str, url: str, headers: Mapping[str, Any] | None,
                body: str | bytes | None) -> Reply:
        plain = Headers({k: _text(v) for k, v in (headers or {}).items()})
        agent = plain.get("User-Agent")
        if agent:
            self.user_agents.add(agent)
        data = body.encode("utf-8") if isinstance(body, str) else body
        where = upstream.target(url, self.upstream)
        try:
            raw = upstream.send(method.upper(), where, plain, data)
        except UpstreamError as exc:
            located = exc.located(self.label, self.episode)
            with self._lock:
                self.failures.append(located)
            raise located from None
        text = raw.body.decode("utf-8", errors="replace")
        interaction = self._scrubbed(method.upper(), url, plain, _body_text(body), raw, text)
        with self._lock:
            self.recorded.append(interaction)
        reply_headers = [(k, v) for k, v in raw.headers if k.lower() not in (
            "content-length", "content-encoding", "transfer-encoding", "connection")]
        return Reply(raw.status, raw.reason, reply_headers, text)

    def _scrubbed(self, method: str, url: str, headers: Headers, body: str | None,
                  raw: upstream.Raw, text: str) -> Interaction:
        parts = urlsplit(url)
        query, request_body = parts.query, body or None
        if self.filters.params:
            if query:
                query = _refilter(query, self.filters)
            if request_body:
                parsed = matching.json_body(request_body)
                request_body = _refilter(request_body, self.filters) if parsed is None \
                    else json.dumps(scrub.filter_params(parsed, self.filters))
        uri = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        response_body = _pretty(text)
        response_body = scrub.filter_json_body(response_body, self.filters)
        return Interaction(
            method=method, uri=scrub.redact(uri),
            request_headers=scrub.request_headers(headers, self.filters),
            request_body=scrub.redact(request_body) if request_body is not None else None,
            status=raw.status, reason=raw.reason,
            response_headers=scrub.response_headers(raw.headers, self.filters),
            response_body=scrub.redact(response_body), recorded_at=_now(), episode=self.episode)

    # --- failures -------------------------------------------------------------------

    def _unmatched(self, key: matching.Key, params: dict[str, Any]) -> UnmatchedRequest:
        method, path, _ = key
        lines = [f"{method} {path} has no recorded response in cassette {self.label} "
                 f"(record mode {self.mode.value!r})",
                 f"  params: {matching.describe_params(params)}"]
        recorded = len(self._index.get(key, ()))
        if recorded:
            lines.append(f"  the cassette holds {recorded} response(s) for exactly this request "
                         "and all were already replayed (identical requests replay in "
                         "recorded order, once each)")
        else:
            candidates = [(i, m, p, prm) for i, (m, p, prm) in enumerate(self._entries)]
            nearest = matching.closest(method, path, params, candidates)
            if nearest:
                lines.append("  closest recorded requests:")
            for index, diffs in nearest:
                m, p, prm = self._entries[index]
                line = self.document.line_of(index)
                where = f"#{index}" + (f" (line {line})" if line else "")
                lines.append(f"    {where}: {m} {p}  params: {matching.describe_params(prm, 6)}")
                lines.append(f"      differs: {'; '.join(diffs) or 'no difference (replayed)'}")
            if not self.interactions:
                lines.append("  (the cassette holds no interactions)")
        lines.append("  to record it, run with --stripe-record-mode=new_episodes "
                     "(or re-record with --stripe-record-mode=rewrite)")
        return UnmatchedRequest("\n".join(lines))

    # --- saving ---------------------------------------------------------------------

    def save(self) -> bool:
        """Add what was recorded to the file, as the mode says (nothing recorded: the file is
        left alone)."""
        with self._lock:
            recorded = list(self.recorded)
        if not recorded:
            return False
        mode, episode, filters, run = self.mode, self.episode, self.filters, self.run
        agents = set(self.user_agents)

        def replace(old: dict[str, Any]) -> bool:
            return mode is RecordMode.REWRITE and old.get("run") != run

        drop = None
        if mode is RecordMode.ALL:
            keys = {matching.request_key(i.method, i.uri, i.request_body, filters)[0]
                    for i in recorded}

            def drop(item: Interaction) -> bool:  # this test's old episode
                if item.episode is not None or episode is not None:
                    return item.episode == episode
                return matching.request_key(item.method, item.uri, item.request_body,
                                            filters)[0] in keys

        yamlio.save(self.path, recorded, replace=replace, drop=drop,
                    metadata=lambda old, added: _metadata(old, added, agents, run))
        with self._lock:
            del self.recorded[:len(recorded)]
        return True


def _metadata(old: dict[str, Any], added: list[Interaction], user_agents: set[str],
              run: str) -> dict[str, Any]:
    """Who recorded the cassette with what: shown to readers, ignored by replay.  ``run``
    says which run replaced or created it (``once`` and ``rewrite`` decide by it)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    versions = set(old.get("stripe_versions") or ()) | {
        v for i in added for v in (i.header("Stripe-Version"), i.response_header("Stripe-Version"))
        if v}
    agents = set(old.get("user_agents") or ()) | user_agents
    return {"recorded_with": f"pytest-stripe-fixtures {installed('pytest-stripe-fixtures')}",
            "stripe_python": installed("stripe"), "stripe_versions": sorted(versions),
            "user_agents": sorted(agents), "recorded_at": _now(),
            "run": old.get("run") or run}


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _pretty(text: str) -> str:
    """JSON bodies re-indented like Stripe's own (2 spaces), so they read well in YAML."""
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "["):
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _refilter(text: str, filters: scrub.Filters) -> str:
    """A form-encoded query or body with the user's filtered params ``FILTERED``; unchanged
    when it is not Stripe's form encoding (re-encoding it would mangle it)."""
    from ..fake import formcodec

    params = matching.decode_form(text)
    if params is None:
        return text
    return urlencode(formcodec.encode(scrub.filter_params(params, filters)), safe="[]")


def _body_text(body: str | bytes | None) -> str | None:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body
