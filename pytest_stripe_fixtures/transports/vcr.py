"""Route requests for Stripe's hosts to a :class:`~pytest_stripe_fixtures.cassettes.Cassette`.

Two layers, both answering from the same cassette:

* the ``stripe`` SDK's HTTP-client layer (as :mod:`.sdk` does for the fake): every SDK
  request, whatever HTTP library the SDK uses, reaches the cassette without building an HTTP
  request at all.  This is the cheap path: replay costs the SDK's own work plus one dict
  lookup.
* vcrpy's patches (``http.client``/urllib, urllib3/requests, httpx sync and async, aiohttp,
  httplib2, tornado, boto3 ...), for code that calls Stripe's HTTP API without the SDK.
  The cassette claims only Stripe's hosts; other traffic goes where it would have gone
  without us (vcrpy passes it through unrecorded).
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..cassettes.cassette import Cassette
from .sdk import SDKInterceptor, is_stripe_url


class _VcrAdapter:
    """The part of vcrpy's ``Cassette`` interface that its patched clients call."""

    custom_patches: tuple[Any, ...] = ()
    skip_patchers: tuple[str, ...] = ()
    write_protected = False  # so vcrpy never blocks traffic that is not Stripe's

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self._path = f"_stripe_{id(cassette)}"

    def can_play_response_for(self, request: Any) -> bool:
        return is_stripe_url(request.uri)

    def filter_request(self, request: Any) -> Any:
        return request if is_stripe_url(request.uri) else None

    def append(self, request: Any, response: Any) -> None:
        """Traffic to other hosts is not recorded."""

    def play_response(self, request: Any) -> dict[str, Any]:
        body = getattr(request, "body_bytes", None)
        if body is None:
            body = request.body
        reply = self.cassette.respond(request.method, request.uri, request.headers, body)
        out: dict[str, list[str]] = {}
        for name, value in reply.headers:
            out.setdefault(name, []).append(value)
        return {"status": {"code": reply.status, "message": reply.reason},
                "headers": out, "body": {"string": reply.body.encode("utf-8")}}


class CassetteInterceptor:
    """Context manager: while active, Stripe requests are answered by ``cassette``.

    ``sdk=False`` leaves the SDK to its HTTP library (so vcrpy's patches see it too): only
    useful to measure or debug that path."""

    def __init__(self, cassette: Cassette, *, sdk: bool = True) -> None:
        self.cassette = cassette
        self.sdk = sdk
        self._stack: contextlib.ExitStack | None = None

    def __enter__(self) -> Cassette:
        stack = contextlib.ExitStack()
        try:
            from vcr.patch import CassettePatcherBuilder

            for patcher in CassettePatcherBuilder(_VcrAdapter(self.cassette)).build():
                stack.enter_context(patcher)
            if self.sdk:
                stack.enter_context(SDKInterceptor(answer=self.cassette.respond_sdk))
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self.cassette

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
