"""What can go wrong with a cassette, each as a readable exception."""

from __future__ import annotations

from pathlib import Path


class CassetteError(Exception):
    """Base class: a cassette cannot be used as asked."""


class CassetteFormatError(CassetteError):
    """The file exists but is unreadable or not a cassette; names the file and, when known,
    the line.  Never treated as an empty cassette (that would silently re-record it)."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: not a valid Stripe cassette: {problem}")


class CassetteNotFound(CassetteError):
    """Replay-only mode and no cassette file."""

    def __init__(self, path: Path | str, mode: str) -> None:
        self.path = str(path)
        super().__init__(
            f"cassette {self.path} does not exist and record mode {mode!r} does not record. "
            "Record it with --stripe-record-mode=once (against --stripe-upstream, default the "
            "real Stripe test mode), or run with --stripe-fallback-to-fake to use the fake.")


class LiveKeyRefused(CassetteError):
    """Recording was asked to send a live-mode key: refused before anything leaves."""

    def __init__(self, prefix: str) -> None:
        super().__init__(
            f"refusing to record with a live-mode key ({prefix}...): cassettes are recorded "
            "against Stripe test mode only; use an sk_test_/rk_test_ key")


class SecretInCassette(CassetteError):
    """A secret survived scrubbing; the cassette was not written."""

    def __init__(self, path: Path | str, found: list[str]) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: not written: it would contain secret-looking strings "
                         f"({', '.join(found[:3])}); add a filter for them")


class UnmatchedRequest(CassetteError):
    """No recorded response for this request and the record mode forbids recording it.

    Not a ``ConnectionError`` on purpose: HTTP libraries pass it through unchanged."""
