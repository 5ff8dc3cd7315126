"""The shop's webhook endpoint as a Flask app: ``POST /stripe/webhook``."""

from __future__ import annotations

from flask import Flask, request

from .webhooks import Ledger, verify


def create_app(secret: str, ledger: Ledger) -> Flask:
    app = Flask(__name__)

    @app.post("/stripe/webhook")
    def stripe_webhook():  # type: ignore[no-untyped-def]
        event = verify(request.get_data(), request.headers.get("Stripe-Signature"), secret)
        if event is None:
            return {"error": "bad signature"}, 400
        ledger.handle(event)
        return {"received": True}, 200

    return app
