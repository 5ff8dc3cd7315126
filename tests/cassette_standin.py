"""A stand-in for api.stripe.com on 127.0.0.1: the fake served by ``http.server``.

Minimal on purpose (the project's real server is ``transports/server.py``); cassette tests
record against it.  Run it alone to re-record the project's cassettes::

    python tests/cassette_standin.py 12111 &
    python -m pytest tests/test_cassettes_project.py -p no:cacheprovider \\
        --stripe-record-mode=rewrite --stripe-upstream=http://127.0.0.1:12111
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pytest_stripe_fixtures.fake import Request, StripeFake


class StandIn:
    """``with StandIn() as url:`` serves a fresh fake until the block ends."""

    def __init__(self, port: int = 0, seed: int | None = 7, now: int | None = 1_700_000_000) -> None:
        self.fake = StripeFake(seed=seed, now=now)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        fake, log = self.fake, self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = dict(self.headers.items())
                log.append((self.command, self.path, headers))
                response = fake.handle(Request(self.command, self.path, body=body,
                                               headers=headers))
                data = response.content
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Set-Cookie", "machine_identifier=abc123; Secure")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    with StandIn(int(sys.argv[1]) if len(sys.argv) > 1 else 12111) as standin:
        print(standin.url, flush=True)
        threading.Event().wait()
