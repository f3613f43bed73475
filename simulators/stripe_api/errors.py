"""Errors in the shape Stripe's API answers with, and the status codes that go with them.

The SDK picks its exception class from the status code and ``error.type`` alone
(402 -> CardError, 401 -> AuthenticationError, 429 -> RateLimitError, 400/404 with
``idempotency_error`` -> IdempotencyError, other 400/404 -> InvalidRequestError), so both
have to be right for the caller's ``except`` clauses to work unchanged.
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

INVALID_REQUEST = "invalid_request_error"
CARD_ERROR = "card_error"
API_ERROR = "api_error"
IDEMPOTENCY_ERROR = "idempotency_error"

_DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error answer: HTTP status plus the ``error`` object of Stripe's body.

    ``replayable`` says whether an idempotent request stores this answer. Stripe stores
    an answer only once the endpoint has started to act; a request refused while its
    parameters were checked is not stored, so fixing it and retrying under the same key
    works.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        replayable: bool = True,
        extra: JsonObject | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.replayable = replayable
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> JsonObject:
        """The JSON body of the answer, ``{"error": {...}}``."""
        error: JsonObject = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = _DOC_BASE + self.code.replace("_", "-")
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None) -> StripeError:
    """A 400 raised while checking parameters: never stored for idempotent replay."""
    return StripeError(400, message, code=code, param=param, replayable=False)


def unexpected_state(message: str, *, param: str | None = None, **extra: Any) -> StripeError:
    """A 400 for an action the object's current state does not allow."""
    return StripeError(
        400, message, code="payment_intent_unexpected_state", param=param, extra=extra
    )


def missing_resource(kind: str, object_id: str, *, param: str) -> StripeError:
    """A 404 for an id that names nothing."""
    return StripeError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
        replayable=False,
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). This stand-in serves payment "
        "intents and refunds only.",
        replayable=False,
    )


def authentication(message: str) -> StripeError:
    return StripeError(401, message, replayable=False)


def rate_limited(retry_after_seconds: int | None = None) -> StripeError:
    """A 429; with ``retry_after_seconds``, a Retry-After header saying when to come back."""
    headers = {} if retry_after_seconds is None else {"Retry-After": str(retry_after_seconds)}
    return StripeError(
        429,
        "Too many requests hit the API too quickly; back off exponentially and retry.",
        code="rate_limit",
        replayable=False,
        headers=headers,
    )


def api_error() -> StripeError:
    return StripeError(
        500,
        "An error occurred with our connection to Stripe; the request can be retried.",
        type=API_ERROR,
        replayable=False,
    )


def idempotency_mismatch(key: str) -> StripeError:
    return StripeError(
        400,
        f"Keys for idempotent requests can only be used with the same parameters they "
        f"were first used with. Try a key other than '{key}' if you meant to make a "
        "different request.",
        type=IDEMPOTENCY_ERROR,
        replayable=False,
    )
