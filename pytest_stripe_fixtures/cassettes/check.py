"""``stripe-fixtures check [PATH ...]``: validate cassettes, exit non-zero on any problem.

For every ``*.yaml``/``*.yml`` file under the given paths (default ``cassettes/``):

* the file must load (a YAML or layout error is reported with its line);
* no secret may be present: ``sk_``/``rk_``/``whsec_`` strings anywhere, or an
  ``Authorization``, ``Cookie`` or client-telemetry header;
* every recorded Stripe response must match ``schemas/`` for its API version (the
  ``Stripe-Version`` of the exchange).  Versions without schemas and endpoints outside
  ``schemas/`` are listed as not checked, not as failures.

``--verify-fake`` also replays each cassette against the fake and prints the differences in
shape (:mod:`.verify`); they are information, not failures.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..transports.sdk import is_stripe_url
from .scrub import SECRET_HEADERS, SECRET_RE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["cassettes"],
                        help="cassette files or directories (default: cassettes/)")
    parser.add_argument("--verify-fake", action="store_true",
                        help="also replay every cassette against the fake and report shape "
                             "differences")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print problems only")


@dataclass
class FileResult:
    path: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: int = 0
    interactions: int = 0


def find_cassettes(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")
                                and p.is_file() and not p.name.startswith(".")))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{name}: no such file or directory")
    return found


def check_file(path: Path) -> FileResult:
    from . import yamlio
    from .errors import CassetteFormatError

    result = FileResult(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(f"{path}: cannot read it: {exc}")
        return result
    for match in SECRET_RE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        result.problems.append(f"{path}:{line}: secret-looking string {match.group(0)[:12]}...")
    try:
        document = yamlio.parse(text, path)
    except CassetteFormatError as exc:
        result.problems.append(str(exc))
        return result
    result.interactions = len(document.interactions)
    for index, item in enumerate(document.interactions):
        where = f"{path}:{document.line_of(index) or '?'}: #{index} {item.method} " \
                f"{urlsplit(item.uri).path}"
        for name in [*item.request_headers, *item.response_headers]:
            if name.lower() in SECRET_HEADERS:
                result.problems.append(f"{where}: {name} header recorded")
        _check_schema(item, where, result)
    return result


def _check_schema(item: Any, where: str, result: FileResult) -> None:
    from ..conformance import problems
    from ..fake import versions

    if not is_stripe_url(item.uri):
        result.notes.append(f"{where}: not a Stripe host, not checked")
        return
    version = item.response_header("Stripe-Version") or item.header("Stripe-Version")
    if version not in versions.SUPPORTED:
        result.notes.append(f"{where}: no schemas for Stripe-Version {version!r} "
                            f"(have {', '.join(versions.SUPPORTED)}), not checked")
        return
    endpoint = endpoint_for(item.method, unquote(urlsplit(item.uri).path))
    if endpoint is None and item.status < 400:
        result.notes.append(f"{where}: endpoint not in schemas/, not checked")
        return
    try:
        body = json.loads(item.response_body)
    except ValueError as exc:
        result.problems.append(f"{where}: response body is not JSON ({exc})")
        return
    result.checked += 1
    for problem in problems(version, endpoint, item.status, body):
        result.problems.append(f"{where} ({version}): {problem}")


def endpoint_for(method: str, path: str) -> str | None:
    """``"DELETE /v1/customers/{customer}/sources/{id}"`` for a concrete request (the fake's
    routes are exactly the endpoints in ``schemas/``)."""
    from ..fake import resources
    from ..fake.routing import ROUTER

    resources.load_all()
    found = ROUTER.match(method, path)
    return found[0].endpoint if found else None


def run(args: argparse.Namespace) -> int:
    try:
        files = find_cassettes(args.paths)
    except FileNotFoundError as exc:
        print(f"stripe-fixtures check: {exc}")
        return 2
    if not files:
        print(f"stripe-fixtures check: no cassettes (*.yaml) under {', '.join(args.paths)}")
        return 2
    failed = 0
    interactions = checked = 0
    for path in files:
        result = check_file(path)
        interactions += result.interactions
        checked += result.checked
        if result.problems:
            failed += 1
            print(f"FAIL {path}")
            for problem in result.problems:
                print(f"  {problem}")
        elif not args.quiet:
            print(f"ok   {path} ({result.interactions} interaction(s), "
                  f"{result.checked} checked against schemas/)")
        if not args.quiet:
            for note in result.notes:
                print(f"  note: {note}")
    print(f"{len(files)} cassette(s), {interactions} interaction(s), {checked} response(s) "
          f"checked against schemas/: {failed} cassette(s) with problems")
    if args.verify_fake:
        from .verify import format_reports, verify

        print()
        print(format_reports(verify(path) for path in files))
    return 1 if failed else 0
