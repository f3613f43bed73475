"""The book-shipment service's errors; their class names are the definition's error names.

CarrierRateLimited, CarrierUnavailable and CarrierTimeout are retried by the definition;
ShipmentRejected is compensated; the rest are unknown to it and go to review.
"""

from __future__ import annotations

from services.common.errors import ServiceError


class CarrierRateLimited(ServiceError):
    """The carrier answered 429; ``retry_after_seconds`` is its Retry-After, if given."""

    retriable = True


class CarrierUnavailable(ServiceError):
    """The carrier answered 503 (or another server error), or could not be reached."""

    retriable = True


class CarrierTimeout(ServiceError):
    """The carrier did not answer within the client's time-out; it may have booked."""

    retriable = True


class ShipmentRejected(ServiceError):
    """The carrier refused to ship to the order's address; trying again will not help."""


class CarrierResponseMalformed(ServiceError):
    """The carrier answered something that is not a shipment; it may have booked."""


class CarrierRequestRefused(ServiceError):
    """The carrier refused the request itself (bad key, bad body, key reused)."""


class ShipmentStoreBusy(ServiceError):
    """The service's own database could not record the booking now."""

    retriable = True
