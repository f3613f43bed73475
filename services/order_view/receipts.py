"""Receipt events, as emit-receipt publishes them, read into the view's own model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from stepstream.messaging.envelope import describe_validation_error

RECEIPT_KIND = "receipt.emitted"


class MalformedReceipt(ValueError):
    """A receipt event the view cannot read; the message says what is wrong."""


class Receipt(BaseModel):
    """One order's receipt. Fields the view does not use are ignored, so the event may grow."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    orderId: str = Field(min_length=1)
    receiptId: str = Field(min_length=1)
    total: StrictInt = Field(ge=0)
    currency: str = Field(min_length=1)
    trackingNumber: str | None = None
    paymentIntentId: str | None = None
    createdAt: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def read_receipt(payload: dict[str, Any]) -> Receipt:
    """The receipt in an event's payload, or ``MalformedReceipt`` naming every bad field."""
    try:
        return Receipt.model_validate(payload)
    except ValidationError as exc:
        raise MalformedReceipt(f"receipt event: {describe_validation_error(exc)}") from None
