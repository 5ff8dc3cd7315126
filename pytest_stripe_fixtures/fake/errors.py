"""Stripe's error envelope, and one constructor per kind of error the fake raises.

Every message template lives here, tagged with the confidence of the reference
(`STRIPE-API-RULES.md`): [V] verified, [C] corroborated, [S] spec, [R] reconstructed.
Correct a wording here and every resource follows.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes/"

# --- message templates (one place) -------------------------------------------------------
NO_API_KEY = (  # [V]
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
BAD_AUTH_HEADER = (  # [V]
    "You did not provide an API key, though you did set your Authorization header to \"{value}\". "
    "Using Bearer auth, your Authorization header should look something like 'Authorization: "
    "Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we "
    "can help at https://support.stripe.com/."
)
INVALID_API_KEY = "Invalid API Key provided: {masked}"  # [V]
PUBLISHABLE_KEY = (  # [V] text, [R] status 401
    "This API call cannot be made with a publishable API key. Please use a secret API key. You "
    "can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
LIVE_KEY = (  # our own: the fake never pretends to be live mode
    "pytest-stripe-fixtures only speaks test mode: the request used a live mode key "
    "({masked}). Use a test key such as 'sk_test_...' in tests."
)
UNRECOGNIZED_URL = (  # [V]
    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
    "help at https://support.stripe.com/."
)
UNRECOGNIZED_URL_SLASH = (  # [V]
    "Unrecognized request URL ({method}: {path}). If you are trying to list objects, remove the "
    "trailing slash. If you are trying to retrieve an object, make sure you passed a valid "
    "(non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at "
    "https://support.stripe.com/."
)
INVALID_VERSION = "Invalid Stripe API version: {value}"  # [C]
NO_SUCH = "No such {object}: '{id}'"  # [V]
UNKNOWN_PARAM = "Received unknown parameter: {param}"  # [V]
MISSING_PARAM = "Missing required param: {param}."  # [V]
EMPTY_STRING = (  # [V]
    "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a "
    "parameter; however '{param}' cannot be unset. You should remove '{param}' from your request "
    "or supply a non-empty value."
)
EMPTY_ID = (  # [V]
    "You cannot set '{param}' to an empty string. We interpret empty strings as null in "
    "requests. You may set '{param}' to null to delete the property."
)
ONE_OF = "You may only specify one of these parameters: {params}."  # [V]
MIN_VALUE = "This value must be greater than or equal to {limit}."  # [V]
MIN_VALUE_FLOAT = "This value must be greater than or equal to {limit} (it currently is '{value}')."  # [V]
MAX_VALUE = "This value must be less than or equal to {limit} (it currently is '{value}')."  # [R]
INVALID_INTEGER = "Invalid integer: {value}"  # [C]
INVALID_DECIMAL = "Invalid decimal: {value}"  # [R]
INVALID_NUMBER = "Invalid number: {value}"  # [R]
INVALID_BOOLEAN = "Invalid boolean: {value}"  # [R]
INVALID_ENUM = "Invalid {param}: must be one of {choices}"  # [C]
INVALID_STRING_LENGTH = "Invalid string: {value}; must be at most {limit} characters"  # [R]
# Params whose too-long values Stripe words in their own way (leaf param name -> template).
TOO_LONG_BY_PARAM = {
    # [V] captured in several public reports (2016-2022), e.g. sagemathinc/cocalc#5712
    "statement_descriptor": ("The statement descriptor must be at most {limit} characters. "
                             "{value} is {length} characters long."),
}
INVALID_ARRAY = "Invalid array"  # [R]
INVALID_STRING = "Invalid {param}: must be a string"  # [R] (a hash or array where a string is expected)
INVALID_HASH = "Invalid hash"  # [V]
IDEMPOTENCY_PARAMS = (  # [V]
    "Keys for idempotent requests can only be used with the same parameters they were first used "
    "with. Try using a key other than '{key}' if you meant to execute a different request."
)
IDEMPOTENCY_ENDPOINT = (  # [V]
    "Keys for idempotent requests can only be used for the same endpoint they were first used "
    "for ('{old}' vs '{new}'). Try using a key other than '{key}' if you meant to execute a "
    "different request."
)
IDEMPOTENCY_IN_USE = (  # [R] (wording not verified)
    "There is currently another in-progress request using this Idempotent Key (that probably "
    "means you submitted twice, and the other request is still going through): {key}. Please "
    "try again later."
)
RATE_LIMIT = (  # [C]
    "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
LOCK_TIMEOUT = (  # [C]
    "This object cannot be accessed right now because another API request or Stripe process is "
    "currently accessing it. If you see this error intermittently, retry the request. If you "
    "see this error frequently and are making multiple concurrent requests to a single object, "
    "make your requests serially or at a lower rate. See https://stripe.com/docs/rate-limits "
    "for more details."
)
API_ERROR = "An unknown error occurred"  # [V] (stripe-go#547)
CARD_DECLINED_GENERIC = "Your card was declined."  # [V]
IDEMPOTENCY_KEY_TOO_LONG = "Idempotency keys can be at most 255 characters long."  # [R]
CANNOT_EXPAND = "This property cannot be expanded ({field})."  # [V]
CANNOT_EXPAND_LIST = (  # [V]
    "This property cannot be expanded ({field}). You may want to try expanding 'data.{field}' "
    "instead."
)
EXPAND_TOO_DEEP = "You cannot expand more than 4 levels of a property."  # [V]
METADATA_TOO_MANY_KEYS = (  # [V]
    "Metadata can have up to 50 keys, but you've set {count}. Email us at "
    "support+metadata@stripe.com for more information."
)
METADATA_KEY = "Invalid key: {key} must be a string under 40 characters"  # [V]
METADATA_KEY_BRACKETS = "Metadata keys cannot contain square brackets: {key}"  # [R]
METADATA_VALUE = "Invalid val: {value} must be a string under 500 characters"  # [V]


class StripeError(Exception):
    """An API error: becomes ``{"error": {...}}`` with ``status``.

    ``saved`` says whether idempotency stores it: errors found while executing the endpoint
    are saved and replayed; parameter validation failures are not (docs, "Idempotent requests").
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved
        self.extra = extra or {}

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        """The JSON body, keys in alphabetical order as Stripe sends them."""
        err: dict[str, Any] = dict(self.extra)
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOCS + self.code.replace("_", "-")
        err["message"] = self.message
        if self.param is not None:
            err["param"] = self.param
        if request_log_url:
            err["request_log_url"] = request_log_url
        err["type"] = self.type
        return {"error": dict(sorted(err.items()))}


# --- constructors ------------------------------------------------------------------------


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 parameter error, raised before execution (not saved for idempotency)."""
    return StripeError(message, param=param, code=code)


def conflict(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 raised while executing against current state (saved for idempotency)."""
    return StripeError(message, param=param, code=code, saved=True)


def no_such(obj: str, id: str, param: str | None, *, in_path: bool) -> StripeError:
    """``resource_missing``: 404 for ids in the URL path, 400 for ids in the body [V]."""
    return StripeError(
        NO_SUCH.format(object=obj, id=id),
        status=404 if in_path else 400,
        code="resource_missing",
        param=param,
        saved=True,
    )


def unknown_param(param: str) -> StripeError:
    return invalid(UNKNOWN_PARAM.format(param=param), param, "parameter_unknown")


def missing_param(param: str) -> StripeError:
    return invalid(MISSING_PARAM.format(param=param), param, "parameter_missing")


def empty_param(param: str) -> StripeError:
    return invalid(EMPTY_STRING.format(param=param), param, "parameter_invalid_empty")


def one_of(*params: str) -> StripeError:
    return invalid(ONE_OF.format(params=", ".join(params)), params[0])


def too_small(param: str, limit: Any, value: Any = None) -> StripeError:
    if isinstance(limit, float):
        return invalid(MIN_VALUE_FLOAT.format(limit=limit, value=value), param)
    return invalid(MIN_VALUE.format(limit=limit), param)


def too_large(param: str, limit: Any, value: Any) -> StripeError:
    return invalid(MAX_VALUE.format(limit=limit, value=value), param)


def unrecognized_url(method: str, path: str) -> StripeError:
    template = UNRECOGNIZED_URL_SLASH if path.endswith("/") else UNRECOGNIZED_URL
    return StripeError(template.format(method=method, path=path), status=404)


def unauthorized(message: str) -> StripeError:
    return StripeError(message, status=401)


def mask_key(key: str) -> str:
    """``sk_test_abc...wxyz`` -> ``sk_test_********wxyz`` as Stripe prints it [V]."""
    prefix_end = key.find("_", key.find("_") + 1) + 1 if key.count("_") >= 2 else 0
    prefix, rest = key[:prefix_end], key[prefix_end:]
    if len(rest) <= 4:
        return prefix + rest
    return prefix + "*" * (len(rest) - 4) + rest[-4:]
