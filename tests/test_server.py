"""The fake served over HTTP (``stripe-fixtures serve``): the same engine, reached through a
socket.  The SDK only needs its API base pointed at the server; every secret key is its own
account; malformed HTTP is answered, never dropped."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
import served
import stripe

from pytest_stripe_fixtures.fake import Request, StripeFake
from pytest_stripe_fixtures.transports.server import CONTROL_PREFIX, StripeServer

KEY = "sk_test_fake"
server, conformant = served.server, served.conformant  # the fixtures of tests/served.py
OTHER_KEY = "sk_test_other"

def client(server: StripeServer, key: str = KEY, **options: Any) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": server.url}, max_network_retries=0,
                               **options)


def call(server: StripeServer, method: str, path: str, body: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One request over a fresh connection: status, headers, decoded JSON."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        sent = {"Authorization": f"Bearer {KEY}", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        conn.close()


def exchange(server: StripeServer, data: bytes) -> tuple[int, dict[str, str], Any]:
    """Send raw bytes; read until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert int(headers["Content-Length"]) == len(body)
    return int(status_line.split()[1]), headers, json.loads(body)


# --- the SDK, pointed at the server ---------------------------------------------------------


def test_the_sdk_works_unchanged_once_its_api_base_points_at_the_server(server):
    stripe_client = client(server)
    product = stripe_client.v1.products.create(params={"name": "Gold plan",
                                                       "metadata": {"tier": "gold"}})
    price = stripe_client.v1.prices.create(params={
        "product": product.id, "unit_amount": 2000, "currency": "usd",
        "recurring": {"interval": "month"}, "expand": ["product"]})
    assert product.id.startswith("prod_") and product.livemode is False
    assert price.product.name == "Gold plan"
    listed = stripe_client.v1.prices.list(params={"product": product.id})
    assert [p.id for p in listed.auto_paging_iter()] == [price.id]


def test_global_style_with_api_base(server, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", KEY)
    monkeypatch.setattr(stripe, "api_base", server.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    product = stripe.Product.create(name="Mug")
    assert stripe.Product.retrieve(product.id).name == "Mug"


def test_errors_arrive_as_the_sdk_exception_classes(server):
    stripe_client = client(server)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.products.retrieve("prod_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert missing.value.user_message == "No such product: 'prod_missing'"
    assert missing.value.request_id.startswith("req_")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.raw_request("post", "/v1/products", name="Mug", colour="red")
    assert (unknown.value.http_status, unknown.value.param) == (400, "colour")
    assert unknown.value.user_message == "Received unknown parameter: colour"
    with pytest.raises(stripe.AuthenticationError):
        client(server, "sk_live_notreal").v1.products.list()


def test_idempotent_retries_replay_over_http(server):
    body = "name=Mug"
    first = call(server, "POST", "/v1/products", body, {"Idempotency-Key": "order-1"})
    again = call(server, "POST", "/v1/products", body, {"Idempotency-Key": "order-1"})
    assert first[2] == again[2]
    assert again[1]["Idempotent-Replayed"] == "true"
    assert again[1]["Idempotency-Key"] == "order-1"
    assert len(server.fake.objects("product", KEY)) == 1


def test_the_api_version_header_is_honoured(server):
    new = client(server).v1.products.create(params={"name": "Mug"})
    old = client(server, stripe_version="2023-08-16").v1.products.retrieve(new.id)
    assert "marketing_features" in new and "features" not in new
    assert "features" in old and "marketing_features" not in old


def test_served_answers_equal_the_in_process_answers(server):
    """Same seed, same clock: byte for byte the responses the in-process fake gives."""
    served = StripeServer(seed=7, now=1_700_000_000)
    in_process = StripeFake(seed=7, now=1_700_000_000, isolate_keys=True)
    steps = [
        ("POST", "/v1/products", "name=Mug&metadata[sku]=M1"),
        ("POST", "/v1/prices", "product={product}&unit_amount=1200&currency=usd"),
        ("GET", "/v1/products/{product}?expand[]=default_price", None),
        ("GET", "/v1/prices?product={product}&limit=1", None),
        ("POST", "/v1/products/{product}", "metadata[sku]=&metadata[color]=blue"),
        ("GET", "/v1/products/search?query=metadata['color']:'blue'", None),
        ("GET", "/v1/products/prod_missing", None),
        ("POST", "/v1/prices", "currency=usd"),
        ("DELETE", "/v1/prices/anything", None),
    ]
    headers = {"Authorization": f"Bearer {KEY}"}
    with served:
        ids: dict[str, str] = {}
        for method, template, body in steps:
            path = template.format(**ids)
            expected = in_process.handle(Request(method, path, body=body, headers=headers))
            status, got_headers, got = call(served, method, path, body)
            assert (status, got) == (expected.status, expected.json()), f"{method} {path}"
            for name, value in expected.headers.items():
                assert got_headers[name] == value
            if expected.json().get("object") == "product":
                ids.setdefault("product", expected.json()["id"])


# --- accounts -------------------------------------------------------------------------------


def test_each_secret_key_is_its_own_account(server):
    mine, theirs = client(server, KEY), client(server, OTHER_KEY)
    product = mine.v1.products.create(params={"name": "Mine"})
    assert [p.id for p in mine.v1.products.list()] == [product.id]
    assert list(theirs.v1.products.list()) == []
    with pytest.raises(stripe.InvalidRequestError) as info:
        theirs.v1.products.retrieve(product.id)
    assert info.value.code == "resource_missing"


def test_reset_forgets_one_account_or_all(server):
    mine, theirs = client(server, KEY), client(server, OTHER_KEY)
    mine.v1.products.create(params={"name": "Mine"})
    theirs.v1.products.create(params={"name": "Theirs"})
    status, _, body = call(server, "POST", CONTROL_PREFIX + "reset", f"key={KEY}")
    assert (status, body["reset"]) == (200, "account")
    assert list(mine.v1.products.list()) == []
    assert [p.name for p in theirs.v1.products.list()] == ["Theirs"]
    status, _, body = call(server, "POST", CONTROL_PREFIX + "reset")
    assert (status, body["reset"]) == (200, "all")
    assert list(theirs.v1.products.list()) == []


def test_reset_rejects_unknown_parameters_and_empty_keys(server):
    status, _, body = call(server, "POST", CONTROL_PREFIX + "reset", "everything=true")
    assert (status, body["error"]["param"]) == (400, "everything")
    status, _, body = call(server, "POST", CONTROL_PREFIX + "reset", "key=")
    assert (status, body["error"]["param"]) == (400, "key")


def test_health_and_unknown_control_endpoints(server):
    status, _, body = call(server, "GET", CONTROL_PREFIX + "health")
    assert (status, body["status"]) == (200, "ok")
    status, _, body = call(server, "GET", CONTROL_PREFIX + "reset")
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"
    assert "POST /_stripe_fixtures/reset" in body["error"]["message"]


def test_the_stripe_server_fixture_serves_for_the_session(stripe_server):
    request = urllib.request.Request(stripe_server.url + "/v1/products", data=b"name=Mug",
                                     headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["name"] == "Mug"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", stripe_server.url)


# --- HTTP ------------------------------------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        sockets = set()
        for name in ("A", "B", "C"):
            conn.request("POST", "/v1/products", body=f"name={name}",
                         headers={"Authorization": f"Bearer {KEY}",
                                  "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            assert response.status == 200 and response.getheader("Connection") is None
            response.read()
            sockets.add(id(conn.sock))
        assert len(sockets) == 1
    finally:
        conn.close()


def test_basic_auth_and_bracket_params_as_curl_sends_them(server):
    auth = "Basic " + __import__("base64").b64encode(f"{KEY}:".encode()).decode()
    status, _, body = call(server, "POST", "/v1/products",
                           "name=Mug&metadata[size]=L&images[]=https://x.test/m.png",
                           {"Authorization": auth})
    assert status == 200
    assert (body["metadata"], body["images"]) == ({"size": "L"}, ["https://x.test/m.png"])


def test_a_chunked_body_is_read(server):
    data = (b"POST /v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_fake\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nname=\r\n3;ext=1\r\nMug\r\n0\r\n\r\n")
    status, _, body = exchange(server, data)
    assert (status, body["name"]) == (200, "Mug")


def test_methods_stripe_does_not_have_get_stripes_unrecognized_url(server):
    status, _, body = call(server, "PUT", "/v1/products", "name=Mug")
    assert status == 404
    assert body["error"]["message"].startswith("Unrecognized request URL (PUT: /v1/products).")


def test_head_gets_headers_without_a_body(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("HEAD", "/v1/products", headers={"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()
        assert response.status == 404 and response.read() == b""
        conn.request("GET", "/v1/products", headers={"Authorization": f"Bearer {KEY}"})
        assert conn.getresponse().status == 200  # the connection is still in step
    finally:
        conn.close()


MALFORMED = {
    "garbage request line": (b"GARBAGE\r\n\r\n", 400),
    "control character in the method": (b"G\x00T /v1/products HTTP/1.1\r\n\r\n", 400),
    "unknown HTTP version": (b"GET /v1/products HTTP/x.y\r\n\r\n", 400),
    "HTTP/2 on the HTTP/1 port": (b"GET /v1/products HTTP/2.0\r\n\r\n", 505),
    "non-numeric Content-Length": (b"POST /v1/products HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
    "negative Content-Length": (b"POST /v1/products HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    "conflicting Content-Length": (
        b"POST /v1/products HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    "malformed chunk size": (
        b"POST /v1/products HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    "oversized body": (
        b"POST /v1/products HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413),
    "header line too long": (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
    "too many headers": (b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 101 + b"\r\n", 431),
    "request line too long": (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
}


@pytest.mark.parametrize("data, status", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_gets_an_error_answer_then_the_connection_closes(server, data, status):
    got_status, headers, body = exchange(server, data)
    assert got_status == status
    assert headers["Connection"] == "close"
    assert headers["Content-Type"] == "application/json"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("Malformed HTTP request: ")
    assert call(server, "GET", "/v1/products")[0] == 200  # and the server goes on


# --- the command ----------------------------------------------------------------------------


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pytest_stripe_fixtures", "serve", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, f"no banner, got {line!r}"
    return match.group(0)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_command_logs_one_line_per_request_and_stops_cleanly(stop):
    process = _serve("--port", "0")
    idle: http.client.HTTPConnection | None = None
    try:
        host, port = _wait_for_url(process).removeprefix("http://").split(":")
        idle = http.client.HTTPConnection(host, int(port), timeout=10)  # kept open, keep-alive
        idle.request("POST", "/v1/products", body="name=Mug",
                     headers={"Authorization": f"Bearer {KEY}",
                              "Content-Type": "application/x-www-form-urlencoded"})
        assert idle.getresponse().read()
        assert process.stderr is not None
        assert re.fullmatch(r"POST /v1/products 200 \d+\.\dms\n", process.stderr.readline())
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
        if idle is not None:
            idle.close()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert err.strip() == "stripe-fixtures: stopped"


def test_quiet_logs_nothing():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _serve("--port", str(port), "--quiet")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert (process.returncode, out, err) == (0, "", "")


def test_a_port_in_use_is_a_one_line_error(server):
    process = _serve("--port", str(server.port), "--quiet")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err == (f"stripe-fixtures serve: cannot listen on 127.0.0.1:{server.port}: "
                   "the port is already in use\n")


def test_a_bad_api_version_is_a_one_line_error():
    process = _serve("--port", "0", "--api-version", "yesterday")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err == ("stripe-fixtures serve: --api-version 'yesterday' is not an API version "
                   "(e.g. 2023-08-16 or 2026-10-28.endive)\n")


def test_internal_errors_taken_by_another_thread_first_are_not_an_error() -> None:
    class TakenMeanwhile(list):  # another handler thread pops the last entry first
        def pop(self, index: int = -1) -> str:
            super().pop(index)
            return super().pop(index)

    logged: list[str] = []
    owner = StripeServer(error_log=logged.append)
    owner.fake.internal_errors = TakenMeanwhile(["GET /v1/a\nboom"])
    owner._report_internal_errors()  # before the fix: IndexError in the handler thread
    assert logged == [] and owner.fake.internal_errors == []
