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
    """A request to be sent upstream carries a live-mode key: refused before anything leaves."""

    def __init__(self, prefix: str, where: str | None = None) -> None:
        self.where = where
        found = f" in its {where}" if where else ""
        super().__init__(
            f"refusing to send a request with a live-mode key ({prefix}...){found}: nothing "
            "was sent. Cassettes are recorded against Stripe test mode only; use an "
            "sk_test_/rk_test_ key and keep live keys out of requests")


class UpstreamError(CassetteError):
    """The upstream could not be reached or gave no readable answer while recording.

    Not an ``OSError`` on purpose: HTTP libraries and the stripe SDK pass it through unchanged
    instead of retrying or wrapping it."""

    def __init__(self, url: str, cause: str, *, cassette: str | None = None,
                 test: str | None = None) -> None:
        self.url, self.cause, self.cassette, self.test = url, cause, cassette, test
        parts = [f"test {test}" if test else None, f"cassette {cassette}" if cassette else None]
        context = ", ".join(p for p in parts if p)
        super().__init__(f"recording{' (' + context + ')' if context else ''}: the upstream "
                         f"{url} could not be reached: {cause}")

    def located(self, cassette: str, test: str | None) -> UpstreamError:
        return UpstreamError(self.url, self.cause, cassette=cassette, test=test)


class SecretInCassette(CassetteError):
    """A secret survived scrubbing; the cassette was not written."""

    def __init__(self, path: Path | str, found: list[str]) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: not written: it would contain secret-looking strings "
                         f"({', '.join(found[:3])}); add a filter for them")


class UnmatchedRequest(CassetteError):
    """No recorded response for this request and the record mode forbids recording it.

    Not a ``ConnectionError`` on purpose: HTTP libraries pass it through unchanged."""
