"""The fake against the recordings: replay every recorded request on a fresh fake and report
each difference in *shape*.

Compared: HTTP status; for errors ``type``, ``code``, ``param`` and ``message``; for every
object the keys present, the JSON type of each value (null, boolean, number, string, object,
array), nesting, list lengths, and the values that decide shape (``object``, ``status``,
``type``, ``deleted`` and every boolean).  Ignored: ids, timestamps, secrets, amounts and
other values that legitimately differ between two runs.

Responses about the API key (HTTP 401) are skipped: keys are never recorded, so the fake
cannot be asked the same question.

Ids are mapped as the replay goes: when the recording says ``cus_9s6X...`` where the fake says
``cus_Ab12...``, later requests for ``cus_9s6X...`` are sent to the fake as ``cus_Ab12...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..transports.sdk import is_stripe_url
from . import yamlio

VALUE_KEYS = frozenset({"object", "status", "type", "deleted"})
ERROR_KEYS = ("type", "code", "param", "message")
KEY = "sk_test_verify_fake"
_ID_RE = re.compile(r"[a-z]{2,10}_[0-9A-Za-z]{8,}\Z")
_WORD_RE = re.compile(r"[0-9A-Za-z_]+")


@dataclass
class Difference:
    where: str  # "(status)", "error.code", "sources.data[0].customer"
    recording: str
    fake: str

    def __str__(self) -> str:
        return f"{self.where}: recording {self.recording}, fake {self.fake}"


@dataclass
class Exchange:
    index: int
    line: int | None
    request: str  # "DELETE /v1/customers/cus_X/sources/src_Y"
    differences: list[Difference] = field(default_factory=list)


@dataclass
class CassetteReport:
    path: str
    exchanges: list[Exchange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def differing(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.differences]


def verify(path: Path | str, label: str | None = None) -> CassetteReport:
    """Replay one cassette against a fresh fake."""
    from ..fake import Request, StripeFake

    report = CassetteReport(label or str(path))
    try:
        document = yamlio.load(path)
    except Exception as exc:  # a broken cassette is reported, not raised
        report.error = str(exc)
        return report
    fake = StripeFake(seed=0)
    ids: dict[str, str] = {}
    for index, item in enumerate(document.interactions):
        parts = urlsplit(item.uri)
        if not is_stripe_url(item.uri) or item.status == 401:
            why = "not a Stripe host" if item.status != 401 else "HTTP 401 (keys are not recorded)"
            report.skipped.append(f"#{index} {item.method} {parts.path}: {why}")
            continue
        headers = {"Authorization": f"Bearer {KEY}"}
        version = item.header("Stripe-Version") or item.response_header("Stripe-Version")
        if version:
            headers["Stripe-Version"] = version
        content_type = item.header("Content-Type")
        if content_type:
            headers["Content-Type"] = content_type
        path, query = _swap(parts.path, ids), _swap(parts.query, ids)
        body = _swap(item.request_body, ids) if item.request_body else None
        response = fake.handle(Request(item.method, path, query, body, headers))
        exchange = Exchange(index, document.line_of(index), f"{item.method} {parts.path}")
        try:
            recorded = json.loads(item.response_body) if item.response_body.strip() else None
        except ValueError:
            recorded = None
        try:
            produced = response.json()
        except ValueError:
            produced = None
        exchange.differences = compare(item.status, recorded, response.status, produced, ids)
        report.exchanges.append(exchange)
    return report


def _swap(text: str, ids: dict[str, str]) -> str:
    if not ids or not text:
        return text
    return _WORD_RE.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def compare(status: int, recorded: Any, fake_status: int, produced: Any,
            ids: dict[str, str] | None = None) -> list[Difference]:
    """Shape differences between a recorded response and the fake's (learns ids into ``ids``)."""
    ids = ids if ids is not None else {}
    found: list[Difference] = []
    if status != fake_status:
        found.append(Difference("(status)", f"HTTP {status}", f"HTTP {fake_status}" + (
            f" {_error_summary(produced)}" if fake_status >= 400 else "")))
        return found
    if status >= 400:
        mine = recorded.get("error", {}) if isinstance(recorded, dict) else {}
        theirs = produced.get("error", {}) if isinstance(produced, dict) else {}
        for key in ERROR_KEYS:
            want, got = mine.get(key), theirs.get(key)
            if key == "message" and isinstance(want, str):
                want = _swap(want, ids)
            if want != got:
                found.append(Difference(f"error.{key}", _show(want), _show(got)))
        _walk(recorded, produced, "", found, ids, errors=True)
        return found
    _walk(recorded, produced, "", found, ids, errors=False)
    return found


def _error_summary(body: Any) -> str:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return "(" + ", ".join(f"{k}={error[k]!r}" for k in ERROR_KEYS if error.get(k)) + ")"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value)
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + '..."'


def _walk(mine: Any, theirs: Any, where: str, found: list[Difference], ids: dict[str, str],
          errors: bool) -> None:
    kind, other = _kind(mine), _kind(theirs)
    if kind != other:
        found.append(Difference(where or "(body)", _describe(mine), _describe(theirs)))
        return
    if kind == "object":
        for key in mine:
            path = f"{where}.{key}" if where else key
            if key not in theirs:
                found.append(Difference(path, f"has it ({_describe(mine[key])})", "lacks it"))
            elif not (errors and where == "error" and key in ERROR_KEYS):
                _walk(mine[key], theirs[key], path, found, ids, errors)
        for key in theirs:
            if key not in mine:
                path = f"{where}.{key}" if where else key
                found.append(Difference(path, "lacks it", f"has it ({_describe(theirs[key])})"))
        return
    if kind == "array":
        if len(mine) != len(theirs):
            found.append(Difference(where, f"{len(mine)} item(s)", f"{len(theirs)} item(s)"))
        for position, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            _walk(a, b, f"{where}[{position}]", found, ids, errors)
        return
    if kind == "string" and mine != theirs:
        last = where.rsplit(".", 1)[-1]
        if last == "id" or _ID_RE.match(mine):
            ids.setdefault(mine, theirs)
        elif last in VALUE_KEYS:
            found.append(Difference(where, _show(mine), _show(theirs)))
    elif kind == "boolean" and mine != theirs:
        found.append(Difference(where, _show(mine), _show(theirs)))


def _describe(value: Any) -> str:
    kind = _kind(value)
    return kind if kind in ("object", "array", "null") else f"{kind} {_show(value)}"


def format_reports(reports: Iterable[CassetteReport]) -> str:
    """A readable report: one block per cassette with differences, then a summary."""
    reports = list(reports)
    lines: list[str] = []
    total = differing = 0
    for report in reports:
        total += len(report.exchanges)
        differing += len(report.differing)
        if report.error:
            lines.append(f"{report.path}: not verified: {report.error}")
            continue
        skipped = f" ({len(report.skipped)} skipped)" if report.skipped else ""
        if not report.differing:
            lines.append(f"{report.path}: {len(report.exchanges)} interaction(s), same shape"
                         + skipped)
        else:
            lines.append(f"{report.path}: {len(report.differing)} of {len(report.exchanges)} "
                         f"interaction(s) differ{skipped}")
        lines.extend(f"  skipped {why}" for why in report.skipped)
        for exchange in report.differing:
            where = f"#{exchange.index}" + (f" line {exchange.line}" if exchange.line else "")
            lines.append(f"  {where} {exchange.request}")
            for difference in exchange.differences:
                lines.append(f"      {difference}")
    lines.append(f"fake vs recordings: {len(reports)} cassette(s), {total} interaction(s) "
                 f"replayed, {total - differing} same shape, {differing} differ")
    return "\n".join(lines)
