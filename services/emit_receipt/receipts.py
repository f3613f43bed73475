"""One receipt per order, recorded and then announced, apart from storage and the broker.

The receipt row is written once per order (a repeat finds it and answers the same); its
event is published after the row is committed, by the first command and again by every
repeat, so an event lost to a crash between the two is sent by the retry. Consumers
take the event as idempotent by order id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import Field, field_validator

from services.common.inputs import OrderInput

RECEIPT_EMITTED = "receipt.emitted"


class PaidWith(OrderInput):
    payment_intent_id: str = Field(alias="paymentIntentId", min_length=1)
    amount: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")

    @field_validator("currency")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ShippedWith(OrderInput):
    tracking_number: str = Field(alias="trackingNumber", min_length=1)


class ReceiptOrder(OrderInput):
    """What EmitReceipt reads: the order and the results of charging and shipping it."""

    order_id: str = Field(alias="orderId", min_length=1)
    payment: PaidWith
    shipment: ShippedWith


@dataclass(frozen=True)
class Receipt:
    """An order's receipt; ``total`` is the amount charged, in the smallest unit."""

    order_id: str
    receipt_id: str
    execution_id: str
    total: int
    currency: str
    tracking_number: str
    payment_intent_id: str
    created_at: datetime

    def output(self) -> dict[str, Any]:
        return {"receiptId": self.receipt_id, "total": self.total}

    def event_payload(self) -> dict[str, Any]:
        """The payload of the ``receipt.emitted`` event."""
        return {
            "orderId": self.order_id,
            "receiptId": self.receipt_id,
            "total": self.total,
            "currency": self.currency,
            "trackingNumber": self.tracking_number,
            "paymentIntentId": self.payment_intent_id,
            "createdAt": self.created_at.isoformat(),
        }


class ReceiptBook(Protocol):
    """The service's receipts, one per order."""

    async def record(self, receipt: Receipt) -> Receipt:
        """Store ``receipt`` unless the order has one; return the order's receipt."""
        ...

    async def get(self, order_id: str) -> Receipt | None: ...

    async def all(self) -> list[Receipt]: ...


class ReceiptEvents(Protocol):
    """Where receipt events go; raises ReceiptNotPublished when they cannot."""

    async def publish(self, receipt: Receipt) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_receipt_id() -> str:
    return f"rcpt_{uuid.uuid4().hex[:24]}"


class Receipts:
    """EmitReceipt over the receipt book and the event publisher."""

    def __init__(
        self,
        *,
        book: ReceiptBook,
        events: ReceiptEvents,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = new_receipt_id,
    ) -> None:
        self._book = book
        self._events = events
        self._clock = clock
        self._new_id = new_id

    async def emit(self, order: ReceiptOrder, *, execution_id: str) -> dict[str, Any]:
        """Record the order's receipt once, announce it, and answer its id and total."""
        receipt = await self._book.record(
            Receipt(
                order_id=order.order_id,
                receipt_id=self._new_id(),
                execution_id=execution_id,
                total=order.payment.amount,
                currency=order.payment.currency,
                tracking_number=order.shipment.tracking_number,
                payment_intent_id=order.payment.payment_intent_id,
                created_at=self._clock(),
            )
        )
        await self._events.publish(receipt)
        return receipt.output()
