"""The shop's webhook endpoint as a FastAPI app: ``POST /stripe/webhook``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .webhooks import Ledger, verify


def create_app(secret: str, ledger: Ledger) -> FastAPI:
    app = FastAPI()

    @app.post("/stripe/webhook")
    async def stripe_webhook(request: Request) -> JSONResponse:
        event = verify(await request.body(), request.headers.get("stripe-signature"), secret)
        if event is None:
            return JSONResponse({"error": "bad signature"}, status_code=400)
        ledger.handle(event)
        return JSONResponse({"received": True})

    return app
