"""The emit-receipt service's errors; their class names are the definition's error names."""

from __future__ import annotations

from services.common.errors import ServiceError


class ReceiptStoreBusy(ServiceError):
    """The receipts database could not record the receipt now."""

    retriable = True


class ReceiptNotPublished(ServiceError):
    """The receipt is recorded but its event could not be published; a retry publishes it."""

    retriable = True
