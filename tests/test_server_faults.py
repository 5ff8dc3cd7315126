"""The served fake under stress and on demand: faults injected with ``curl`` through
``/_stripe_fixtures/faults``, the SDK's retries against them, accounts that never wait for one
another, folded headers, resets, and a connection cap that answers instead of hanging."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import served
import stripe

from pytest_stripe_fixtures.transports.server import CONTROL_PREFIX, StripeServer

KEY = "sk_test_fake"
server, conformant = served.server, served.conformant  # the fixtures of tests/served.py


def curl(server: StripeServer, *args: str) -> tuple[int, int, dict[str, str], Any]:
    """``curl`` against the server: (exit code, status, headers, JSON body)."""
    done = subprocess.run(["curl", "-s", "-i", "--max-time", "10", "-u", f"{KEY}:", *args],
                          capture_output=True, timeout=30)
    if done.returncode:
        return done.returncode, 0, {}, None
    head, _, body = done.stdout.decode().partition("\r\n\r\n")
    while head.startswith("HTTP/1.1 100"):  # curl's Expect: 100-continue
        head, _, body = body.partition("\r\n\r\n")
    status_line, *lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return 0, int(status_line.split()[1]), headers, json.loads(body)


def add_fault(server: StripeServer, *params: str) -> dict[str, Any]:
    args = [a for p in params for a in ("--data-urlencode", p)]
    code, status, _, body = curl(server, server.url + CONTROL_PREFIX + "faults", *args)
    assert (code, status) == (0, 200), body
    return body


def sdk(server: StripeServer, key: str = KEY, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": server.url},
                               max_network_retries=retries)


def test_faults_are_added_listed_and_cleared_with_curl(server):
    fault = add_fault(server, "pattern=POST /v1/products", "error=api_error", "times=2")
    assert (fault["object"], fault["error"], fault["times"]) == ("stripe_fixtures.fault",
                                                                 "api_error", 2)
    statuses = []
    for _ in range(3):
        code, status, headers, body = curl(server, server.url + "/v1/products", "-d", "name=Mug",
                                           "-H", "Idempotency-Key: order-1")
        statuses.append(status)
        assert headers["Request-Id"].startswith("req_")
        assert headers["Idempotency-Key"] == "order-1"
    assert statuses == [500, 500, 200]
    assert body["name"] == "Mug"
    code, status, _, listed = curl(server, server.url + CONTROL_PREFIX + "faults")
    assert [f["fired"] for f in listed["data"]] == [2]
    code, status, _, _ = curl(server, "-X", "DELETE", server.url + CONTROL_PREFIX + "faults")
    assert status == 200
    assert curl(server, server.url + CONTROL_PREFIX + "faults")[3]["data"] == []


def test_the_sdks_retries_against_the_served_fake(server):
    add_fault(server, "pattern=POST /v1/products", "error=api_error", "times=2")
    product = sdk(server, retries=2).v1.products.create(params={"name": "Mug"})
    assert [p.id for p in sdk(server).v1.products.list()] == [product.id]
    add_fault(server, "pattern=POST /v1/products", "error=lock_timeout", "times=3")
    with pytest.raises(stripe.RateLimitError):
        sdk(server, retries=2).v1.products.create(params={"name": "Cup"})
    add_fault(server, "pattern=POST /v1/customers", "error=card_declined",
              "decline_code=expired_card", f"key={KEY}")
    with pytest.raises(stripe.CardError) as info:
        sdk(server, retries=2).v1.customers.create(params={"email": "a@example.com"})
    assert info.value.error.decline_code == "expired_card"


def test_dropped_connections_and_timeouts_over_http(server):
    add_fault(server, "pattern=GET /v1/products", "error=connection")
    code, *_ = curl(server, server.url + "/v1/products")
    assert code in (52, 56)  # empty reply / connection reset
    add_fault(server, "pattern=GET /v1/products", "error=timeout", "latency=1")
    code, *_ = curl(server, "--max-time", "0.3", server.url + "/v1/products")
    assert code == 28  # curl's timeout
    add_fault(server, "pattern=GET /v1/products", "error=connection", "times=1")
    assert sdk(server, retries=1).v1.products.list().data == []  # retried after the drop
    add_fault(server, "pattern=GET /v1/products", "error=connection")
    with pytest.raises(stripe.APIConnectionError):
        sdk(server).v1.products.list()


def test_bad_faults_are_refused_with_stripe_errors(server):
    code, status, _, body = curl(server, server.url + CONTROL_PREFIX + "faults",
                                 "-d", "error=meteor", "--data-urlencode", "pattern=GET /v1/x")
    assert status == 400 and "meteor" in body["error"]["message"]
    code, status, _, body = curl(server, server.url + CONTROL_PREFIX + "faults", "-d", "x=1")
    assert (status, body["error"]["param"]) == (400, "pattern")


def test_a_slow_request_of_one_key_does_not_delay_another_key(server):
    slow = server.fake.account("sk_test_slow")
    slow.lock.acquire()  # as if a long request of that key were running
    answered: list[int] = []
    waiting = threading.Thread(target=lambda: answered.append(
        len(sdk(server, "sk_test_slow").v1.products.list().data)))
    try:
        waiting.start()
        for _ in range(5):  # another key is answered meanwhile, every time
            sdk(server, "sk_test_quick").v1.products.create(params={"name": "Mug"})
        assert waiting.is_alive() and answered == []
    finally:
        slow.lock.release()
    waiting.join(10)
    assert answered == [0]


def test_latency_of_one_key_does_not_delay_another_key(server):
    add_fault(server, "pattern=GET /v1/products", "error=", "latency=1.5", "key=sk_test_slow")
    slow = threading.Thread(target=lambda: sdk(server, "sk_test_slow").v1.products.list())
    slow.start()
    time.sleep(0.1)
    assert sdk(server, "sk_test_quick").v1.products.list().data == []
    assert slow.is_alive()  # still waiting its 1.5 seconds
    slow.join(10)


def test_folded_headers_are_unfolded_never_echoed_with_line_breaks(server):
    data = (b"POST /v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_fake\r\n"
            b"Idempotency-Key: order\r\n  42\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
            b"name=Mug")
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head = received.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert "\r\nIdempotency-Key: order 42\r\n" in head
    assert head.startswith("HTTP/1.1 200 ")


def test_reset_names_the_accounts_it_found(server):
    for key in ("sk_test_a", "sk_test_b"):
        sdk(server, key).v1.products.create(params={"name": "Mug"})
    code, status, _, body = curl(server, server.url + CONTROL_PREFIX + "reset",
                                 "-d", "key=sk_test_a", "-d", "key=sk_test_b")
    assert (body["reset"], body["keys"]) == ("accounts", {"sk_test_a": True, "sk_test_b": True})
    assert sdk(server, "sk_test_a").v1.products.list().data == []
    assert sdk(server, "sk_test_b").v1.products.list().data == []
    code, status, _, body = curl(server, server.url + CONTROL_PREFIX + "reset",
                                 "-d", "key=sk_test_nobody")
    assert (body["reset"], body["keys"]) == ("none", {"sk_test_nobody": False})


def test_at_the_connection_cap_the_longest_idle_connection_makes_room():
    with StripeServer(max_connections=4) as capped:
        idle = [socket.create_connection((capped.host, capped.port), timeout=10)
                for _ in range(6)]
        try:
            time.sleep(0.2)
            assert sdk(capped).v1.products.list().data == []
        finally:
            for sock in idle:
                sock.close()


SERVE_WITH_256_FDS = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from pytest_stripe_fixtures.transports.server import StripeServer
server = StripeServer()
print(server.port, flush=True)
server.serve_forever()
"""


@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1024,
                    reason="the test itself needs more than 300 descriptors")
def test_with_256_descriptors_300_idle_connections_do_not_lock_new_clients_out():
    process = subprocess.Popen([sys.executable, "-c", SERVE_WITH_256_FDS],
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    idle: list[socket.socket] = []
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        url = f"http://127.0.0.1:{port}"
        client = stripe.StripeClient(KEY, base_addresses={"api": url}, max_network_retries=0,
                                     http_client=stripe.RequestsClient(timeout=10))
        assert client.v1.products.create(params={"name": "Mug"}).name == "Mug"
        cpu = _cpu_seconds(process.pid)
        time.sleep(1.0)
        assert _cpu_seconds(process.pid) - cpu < 0.5  # not spinning on accept()
    finally:
        for sock in idle:
            sock.close()
        process.kill()
        process.wait(10)


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
