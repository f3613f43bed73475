"""The charge-payment service's errors; their class names are the definition's error names."""

from __future__ import annotations

from services.common.errors import ServiceError


class CardDeclined(ServiceError):
    """The card was declined; the cause carries Stripe's decline code."""


class PaymentRateLimited(ServiceError):
    """Stripe answered 429: too many requests now (with its Retry-After, if it sent one)."""

    retriable = True


class PaymentServiceUnavailable(ServiceError):
    """Stripe could not be reached, or answered with a server error."""

    retriable = True


class PaymentRequestRefused(ServiceError):
    """Stripe refused the request as invalid (a bad key, parameters or state)."""


class PaymentConflict(ServiceError):
    """The order's payment is not what this command asks for (another amount or currency),
    or it changed while this command was working on it."""


class PaymentAlreadyReversed(ServiceError):
    """The order's payment was refunded or cancelled; it is not charged again."""


class PaymentNotCaptured(ServiceError):
    """Stripe left the payment in a state that is neither captured nor declined."""


class PaymentStoreBusy(ServiceError):
    """The service's own database could not record the payment now."""

    retriable = True
