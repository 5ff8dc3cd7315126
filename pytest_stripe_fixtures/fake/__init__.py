"""The fake Stripe engine: a plain library, request in, response out."""

from .clock import Clock
from .engine import Context, RequestRecord, StripeFake
from .errors import StripeError
from .http import Request, Response

__all__ = ["Clock", "Context", "Request", "RequestRecord", "Response", "StripeError",
           "StripeFake"]
