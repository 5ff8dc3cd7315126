"""Webhooks (STRIPE-API-RULES-PAYMENTS.md §8.4-8.6): endpoints, signed delivery the SDK's own
verifier accepts, retries, and the in-process targets (plain callables, WSGI, ASGI).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from flask import Flask, request
from helpers import request_error as _error

from pytest_stripe_fixtures.fake import webhooks
from pytest_stripe_fixtures.fake.webhooks import RETRY_SCHEDULE, WebhookDeliveryError

pytest_plugins = ["pytester"]

SECRET = "whsec_test_secret"
OLD = "2023-08-16"


class Recorder:
    """A plain ``(payload, headers) -> status`` webhook target."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, payload: bytes, headers: dict[str, str]) -> int:
        self.calls.append((payload, headers))
        return self.status

    def events(self, secret: str = SECRET) -> list[stripe.Event]:
        return [stripe.Webhook.construct_event(p, h["Stripe-Signature"], secret)
                for p, h in self.calls]


# --- signatures --------------------------------------------------------------------------------


def test_signed_exactly_as_the_sdk_signs():
    payload = b'{"id": "evt_1", "object": "event"}'
    assert webhooks.sign(payload, SECRET, 1700000000) == (
        stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET, 1700000000))


def test_deliveries_verify_with_construct_event_even_days_later(stripe_fake):
    target = Recorder()
    stripe_fake.webhooks.deliver_to(target, secret=SECRET)
    stripe_fake.clock.advance(5 * 24 * 3600)  # `created` follows the fake clock ...
    stripe.Customer.create(email="jenny@example.com")
    (event,) = target.events()  # ... the signature's timestamp is wall time
    assert event.type == "customer.created" and event.created == stripe_fake.clock.now()
    payload, headers = target.calls[0]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["User-Agent"].startswith("Stripe/1.0")
    sent = json.loads(payload)
    assert sent.pop("pending_webhooks") == 1  # this delivery is still pending while it is sent
    retrieved = stripe.Event.retrieve(event.id).to_dict()
    assert retrieved.pop("pending_webhooks") == 0
    assert sent == retrieved


def test_a_wrong_secret_or_an_old_timestamp_fails_verification(stripe_fake):
    target = Recorder()
    stripe_fake.webhooks.deliver_to(target, secret=SECRET)
    stripe.Product.create(name="Tee")
    payload, headers = target.calls[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_other")
    old_payload, old_headers = webhooks.signed_request(payload, SECRET,
                                                       timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(old_payload, old_headers["Stripe-Signature"], SECRET)
    tampered = payload.replace(b"Tee", b"Tea")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, headers["Stripe-Signature"], SECRET)


def test_a_hand_made_event_signed_for_a_unit_test():
    event = {"id": "evt_test", "object": "event", "type": "charge.succeeded",
             "data": {"object": {"id": "ch_test", "object": "charge"}}}
    payload, headers = webhooks.signed_request(event, SECRET)
    verified = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], SECRET)
    assert verified.data.object.id == "ch_test"


# --- in-process targets ------------------------------------------------------------------------


def test_only_the_subscribed_types_are_delivered(stripe_fake):
    target = Recorder()
    stripe_fake.webhooks.deliver_to(target, secret=SECRET, events=["customer.deleted"])
    customer = stripe.Customer.create()
    stripe.Customer.delete(customer.id)
    assert [e.type for e in target.events()] == ["customer.deleted"]
    assert stripe_fake.events[0].pending_webhooks == 0


def test_a_failing_handler_is_retried_then_reported(stripe_fake):
    target = Recorder(status=500)
    stripe_fake.webhooks.deliver_to(target, secret=SECRET)
    stripe.Product.create(name="Tee")
    attempts = stripe_fake.webhooks.attempts
    assert [a.number for a in attempts] == [1, 2, 3, 4] and len(target.calls) == 4
    created = stripe_fake.events[0].created
    assert [a.scheduled_at - created for a in attempts] == [0, *RETRY_SCHEDULE]
    (failure,) = stripe_fake.webhooks.failures
    assert failure.status == 500 and failure.event_type == "product.created"
    assert "product.created" in str(failure) and "HTTP 500" in str(failure)
    assert stripe_fake.events[0].pending_webhooks == 1
    assert stripe.Event.list(delivery_success=False).data[0].id == failure.event_id
    assert stripe.Event.list(delivery_success=True).data == []
    stripe_fake.webhooks.failures.clear()  # the test expected it: no failure at teardown


def test_a_handler_that_recovers_on_a_retry(stripe_fake):
    answers = iter([503, 200])
    stripe_fake.webhooks.deliver_to(lambda payload, headers: next(answers), secret=SECRET)
    stripe.Product.create(name="Tee")
    assert [a.status for a in stripe_fake.webhooks.attempts] == [503, 200]
    assert stripe_fake.webhooks.failures == []
    assert stripe.Event.list(delivery_success=True).data[0].pending_webhooks == 0


def test_collected_deliveries_wait_for_flush(stripe_fake):
    target = Recorder()
    stripe_fake.webhooks.deliver_to(target, secret=SECRET)
    stripe_fake.webhooks.collect()
    stripe.Customer.create(source="tok_visa")
    assert target.calls == [] and stripe_fake.events[0].pending_webhooks == 1
    stripe_fake.webhooks.flush()
    assert [e.type for e in target.events()] == ["customer.created", "customer.source.created"]
    failing = Recorder(status=400)
    stripe_fake.webhooks.deliver_to(failing, secret=SECRET)
    stripe.Product.create(name="Tee")
    with pytest.raises(WebhookDeliveryError, match="product.created"):
        stripe_fake.webhooks.flush()
    stripe_fake.webhooks.failures.clear()


def test_a_handler_may_call_the_api_back(stripe_fake):
    seen = []

    def handler(payload: bytes, headers: dict[str, str]) -> int:
        event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], SECRET)
        if event.type == "customer.created":
            stripe.Customer.modify(event.data.object.id, metadata={"welcomed": "yes"})
        seen.append(event.type)
        return 200

    stripe_fake.webhooks.deliver_to(handler, secret=SECRET)
    customer = stripe.Customer.create()
    assert seen == ["customer.created", "customer.updated"]
    assert stripe.Customer.retrieve(customer.id).metadata.to_dict() == {"welcomed": "yes"}


def test_a_wsgi_app_as_target(stripe_fake):
    app = Flask(__name__)
    received = []

    @app.post("/stripe/webhook")
    def webhook():
        event = stripe.Webhook.construct_event(request.data,
                                               request.headers["Stripe-Signature"], SECRET)
        received.append(event.type)
        return "", 200

    stripe_fake.webhooks.deliver_to(app, path="/stripe/webhook", secret=SECRET)
    stripe.Charge.create(amount=100, currency="usd", source="tok_visa")
    assert received == ["charge.succeeded"]


def test_a_default_secret_is_handed_out(stripe_fake):
    target = stripe_fake.webhooks.deliver_to(Recorder())
    assert target.secret.startswith("whsec_")


# --- /v1/webhook_endpoints ---------------------------------------------------------------------


def test_endpoint_crud_and_the_secret_shown_once(stripe_client):
    endpoint = stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hook", "enabled_events": ["charge.succeeded"],
        "description": "orders", "metadata": {"team": "shop"}})
    assert endpoint.id.startswith("we_") and endpoint.secret.startswith("whsec_")
    assert endpoint.status == "enabled" and endpoint.api_version is None
    fetched = stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert "secret" not in fetched and fetched.description == "orders"
    updated = stripe_client.v1.webhook_endpoints.update(endpoint.id, params={
        "disabled": True, "enabled_events": ["*"]})
    assert updated.status == "disabled" and updated.enabled_events == ["*"]
    assert [e.id for e in stripe_client.v1.webhook_endpoints.list().data] == [endpoint.id]
    deleted = stripe_client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True
    assert _error(lambda: stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
                  ).http_status == 404
    assert _error(lambda: stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hook", "enabled_events": ["no.such_event"]})
                  ).http_status == 400


def test_an_endpoint_url_mapped_to_an_app_gets_its_events_in_its_version(stripe_fake,
                                                                         stripe_client):
    target = Recorder()
    stripe_fake.webhooks.mount(target, "/hooks/stripe")
    endpoint = stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://shop.example/hooks/stripe", "enabled_events": ["customer.created"],
        "api_version": OLD})
    stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://shop.example/hooks/unmounted", "enabled_events": ["*"]})
    customer = stripe_client.v1.customers.create()
    (event,) = target.events(endpoint.secret)
    assert event.api_version == OLD
    assert event.data.object.to_dict() == stripe.Customer.retrieve(
        customer.id, stripe_version=OLD).to_dict()
    assert stripe_fake.events[0].pending_webhooks == 1  # the unmounted endpoint is pending
    (unmounted,) = [a for a in stripe_fake.webhooks.attempts if a.target.endswith("unmounted")]
    assert unmounted.status is None and "no app is mounted" in unmounted.error


def test_disabled_endpoints_get_nothing(stripe_fake, stripe_client):
    target = Recorder()
    stripe_fake.webhooks.mount(target, "/hook")
    endpoint = stripe_client.v1.webhook_endpoints.create(params={
        "url": "https://shop.example/hook", "enabled_events": ["*"]})
    stripe_client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    stripe_client.v1.products.create(params={"name": "Tee"})
    assert target.calls == []


# --- served mode -------------------------------------------------------------------------------


def test_served_mode_posts_real_http_to_loopback_endpoints():
    from pytest_stripe_fixtures.transports.server import StripeServer

    received: list[tuple[str, bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with StripeServer() as server:
            client = stripe.StripeClient("sk_test_served", base_addresses={"api": server.url})
            url = f"http://127.0.0.1:{receiver.server_address[1]}/webhook"
            endpoint = client.v1.webhook_endpoints.create(params={
                "url": url, "enabled_events": ["product.created"]})
            remote = client.v1.webhook_endpoints.create(params={
                "url": "https://example.com/webhook", "enabled_events": ["product.created"]})
            client.v1.products.create(params={"name": "Tee"})
            server.fake.webhooks.wait()
            (path, body, signature), = received
            event = stripe.Webhook.construct_event(body, signature, endpoint.secret)
            assert path == "/webhook" and event.type == "product.created"
            refused = [a for a in server.fake.webhooks.attempts if a.target == remote.url]
            assert refused and "not a loopback address" in refused[0].error
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_the_plugin_fails_a_test_whose_handler_failed(pytester):
    pytester.makepyfile('''
        import stripe

        def test_checkout(stripe_fake):
            stripe_fake.webhooks.deliver_to(lambda payload, headers: (400, b"bad sig"))
            stripe.Product.create(name="Tee")
    ''')
    result = pytester.runpytest("-p", "stripe_fixtures")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*a webhook handler failed every delivery attempt*",
                                "*product.created evt_*HTTP 400 *bad sig*"])
