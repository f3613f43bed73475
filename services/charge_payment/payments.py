"""Charging an order once and giving the money back once, apart from Stripe and storage.

Every order has one payment record, claimed before Stripe is called. It holds the base
of the Stripe idempotency keys (derived from the first command's idempotency key) and
the PaymentIntent once one exists, so:

- a retried or duplicated ChargePayment replays the same Stripe requests, or answers
  from the record, and never charges twice;
- the intent is recorded before it is confirmed, so RefundPayment can always find what
  might have been charged: it refunds what was captured, cancels what was not, and
  does nothing where no intent exists.

Records change by compare-and-set on their status, so a charge and a refund of the
same order racing each other cannot both win.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import Field, field_validator

from services.charge_payment.errors import (
    CardDeclined,
    PaymentAlreadyReversed,
    PaymentConflict,
    PaymentNotCaptured,
)
from services.common.inputs import OrderInput
from services.common.orders import MAX_AMOUNT, PAYMENT_METHOD_PATTERN

SUCCEEDED = "succeeded"
CANCELED = "canceled"
_ATTEMPTS = 3


class ChargeOrder(OrderInput):
    """What ChargePayment reads from the order."""

    order_id: str = Field(alias="orderId", min_length=1)
    # Bounded as at placement: an absurd amount is a clear refusal, not an overflow in
    # the records or the payment API.
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="in the currency's smallest unit")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    payment_method: str = Field(alias="paymentMethod", pattern=PAYMENT_METHOD_PATTERN)

    @field_validator("currency")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class PaymentReference(OrderInput):
    payment_intent_id: str = Field(alias="paymentIntentId", min_length=1)
    amount: int = Field(default=0, ge=0)
    currency: str = ""


class RefundOrder(OrderInput):
    """What RefundPayment reads: the order, and the charge's result if it has one."""

    order_id: str = Field(alias="orderId", min_length=1)
    payment: PaymentReference | None = None


class PaymentStatus(StrEnum):
    PENDING = "pending"  # claimed; no PaymentIntent yet
    CREATED = "created"  # PaymentIntent created; perhaps confirmed, not known to be
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"  # an intent that took no money was cancelled
    VOIDED = "voided"  # reversed before any intent existed


FINAL_REVERSALS = frozenset({PaymentStatus.REFUNDED, PaymentStatus.CANCELLED, PaymentStatus.VOIDED})


@dataclass(frozen=True)
class PaymentRecord:
    """What the service knows about one order's payment."""

    order_id: str
    key: str  # the base of every Stripe Idempotency-Key for this order
    amount: int
    currency: str
    status: PaymentStatus
    intent_id: str | None = None
    decline: str | None = None
    refund_id: str | None = None
    refunded: int = 0

    def captured_as(self, intent: Intent) -> PaymentRecord:
        return replace(self, status=PaymentStatus.CAPTURED, intent_id=intent.id)


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as the gateway reports it; amounts in the smallest unit."""

    id: str
    status: str
    amount: int
    currency: str
    amount_received: int = 0
    amount_refunded: int = 0


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int


class PaymentGateway(Protocol):
    """Stripe's PaymentIntents and Refunds; raises the service's named errors."""

    async def create_intent(self, order: ChargeOrder, *, idempotency_key: str) -> Intent: ...

    async def confirm(
        self, intent_id: str, *, payment_method: str, idempotency_key: str
    ) -> Intent: ...

    async def retrieve(self, intent_id: str) -> Intent: ...

    async def refund(self, intent_id: str, *, idempotency_key: str) -> Refund: ...

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> Intent: ...


class PaymentRecords(Protocol):
    """The service's own record of each order's payment."""

    async def claim(self, record: PaymentRecord) -> PaymentRecord:
        """Store ``record`` unless the order has one; return the order's record."""
        ...

    async def get(self, order_id: str) -> PaymentRecord | None: ...

    async def replace(self, record: PaymentRecord, *, expected: PaymentStatus) -> bool:
        """Store ``record`` if the order's stored status is ``expected``; say if it was."""
        ...

    async def all(self) -> list[PaymentRecord]: ...


def key_base(order_id: str, idempotency_key: str) -> str:
    """A short Stripe idempotency key base (Stripe allows 255 characters) for the order.

    The order id is part of it, so a command key reused for another order (by a caller
    other than the orchestrator) can never replay the first order's payment.
    """
    text = f"{order_id}\n{idempotency_key}"
    return "stepstream-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def charge_output(record: PaymentRecord) -> dict[str, Any]:
    return {
        "paymentIntentId": record.intent_id,
        "amount": record.amount,
        "currency": record.currency,
        "status": SUCCEEDED,
    }


RefundAction = Literal["refunded", "cancelled", "none"]
_ACTIONS: dict[PaymentStatus, RefundAction] = {
    PaymentStatus.REFUNDED: "refunded",
    PaymentStatus.CANCELLED: "cancelled",
}


def refund_output(record: PaymentRecord) -> dict[str, Any]:
    """RefundPayment's summary: what was done to the order's payment, in the end."""
    action = _ACTIONS.get(record.status, "none")
    return {
        "orderId": record.order_id,
        "action": action,
        "paymentIntentId": record.intent_id,
        "refundId": record.refund_id,
        "refunded": record.refunded,
    }


class Payments:
    """ChargePayment and RefundPayment, over a gateway and the payment records."""

    def __init__(self, *, gateway: PaymentGateway, records: PaymentRecords) -> None:
        self._gateway = gateway
        self._records = records

    async def charge(self, order: ChargeOrder, *, idempotency_key: str) -> dict[str, Any]:
        """Take the order's amount once; answer the same for every repeat of the command."""
        record = await self._records.claim(
            PaymentRecord(
                order_id=order.order_id,
                key=key_base(order.order_id, idempotency_key),
                amount=order.amount,
                currency=order.currency,
                status=PaymentStatus.PENDING,
            )
        )
        for _ in range(_ATTEMPTS):
            _check_chargeable(record, order)
            if record.status is PaymentStatus.CAPTURED:
                return charge_output(record)
            try:
                return charge_output(await self._advance(record, order))
            except _Overtaken as overtaken:
                # A twin of this command recorded a step first; go on from where it got.
                record = overtaken.latest
        raise PaymentConflict(
            f"order {order.order_id}: its payment kept changing while it was being charged"
        )

    async def _advance(self, record: PaymentRecord, order: ChargeOrder) -> PaymentRecord:
        """Take the record to captured (or raise CardDeclined), recording each step."""
        if record.status is PaymentStatus.PENDING:
            intent = await self._gateway.create_intent(
                order, idempotency_key=f"{record.key}-create"
            )
            created = replace(record, status=PaymentStatus.CREATED, intent_id=intent.id)
            return await self._confirm(await self._store(created, record), order)
        # An earlier attempt created the intent and may have got further than it recorded;
        # Stripe knows.
        assert record.intent_id is not None
        intent = await self._gateway.retrieve(record.intent_id)
        if intent.status == SUCCEEDED:
            return await self._store(record.captured_as(intent), record)
        if intent.status == CANCELED:
            raise PaymentAlreadyReversed(
                f"order {order.order_id}: PaymentIntent {intent.id} was cancelled"
            )
        return await self._confirm(record, order)

    async def _confirm(self, record: PaymentRecord, order: ChargeOrder) -> PaymentRecord:
        assert record.intent_id is not None
        try:
            intent = await self._gateway.confirm(
                record.intent_id,
                payment_method=order.payment_method,
                idempotency_key=f"{record.key}-confirm",
            )
        except CardDeclined as declined:
            declined_record = replace(record, status=PaymentStatus.DECLINED, decline=str(declined))
            await self._store(declined_record, record)
            raise
        if intent.status != SUCCEEDED:
            raise PaymentNotCaptured(
                f"order {order.order_id}: PaymentIntent {intent.id} is {intent.status} after "
                "confirmation, not succeeded"
            )
        return await self._store(record.captured_as(intent), record)

    async def refund(self, order: RefundOrder) -> dict[str, Any]:
        """Undo the order's payment once: refund a capture, cancel the rest, or do nothing."""
        for _ in range(_ATTEMPTS):
            record = await self._records.get(order.order_id)
            if record is None:
                record = await self._records.claim(_untracked(order))
            reversed_ = await self._reverse(record)
            if reversed_ is not None:
                return refund_output(reversed_)
        raise PaymentConflict(
            f"order {order.order_id}: its payment kept changing while it was being refunded"
        )

    async def _reverse(self, record: PaymentRecord) -> PaymentRecord | None:
        """The record after undoing its payment, or None if another command changed it first."""
        if record.status in FINAL_REVERSALS or record.status is PaymentStatus.DECLINED:
            return record
        if record.status is PaymentStatus.PENDING:
            voided = replace(record, status=PaymentStatus.VOIDED)
            return voided if await self._records.replace(voided, expected=record.status) else None
        assert record.intent_id is not None
        intent = await self._gateway.retrieve(record.intent_id)
        if intent.status == SUCCEEDED:
            undone = await self._refund_capture(record, intent)
        else:
            if intent.status != CANCELED:
                await self._gateway.cancel(intent.id, idempotency_key=f"{record.key}-cancel")
            undone = replace(record, status=PaymentStatus.CANCELLED)
        return undone if await self._records.replace(undone, expected=record.status) else None

    async def _refund_capture(self, record: PaymentRecord, intent: Intent) -> PaymentRecord:
        refund_id = record.refund_id
        refunded = intent.amount_refunded
        if intent.amount_received > intent.amount_refunded:
            refund = await self._gateway.refund(intent.id, idempotency_key=f"{record.key}-refund")
            refund_id, refunded = refund.id, intent.amount_refunded + refund.amount
        return replace(
            record, status=PaymentStatus.REFUNDED, refund_id=refund_id, refunded=refunded
        )

    async def _store(self, updated: PaymentRecord, current: PaymentRecord) -> PaymentRecord:
        """Move the record from ``current`` to ``updated``; ``_Overtaken`` if it moved first."""
        if await self._records.replace(updated, expected=current.status):
            return updated
        latest = await self._records.get(current.order_id)
        if latest is None:
            raise PaymentConflict(f"order {current.order_id}: its payment record disappeared")
        raise _Overtaken(latest)


class _Overtaken(Exception):
    """Another command changed the order's record first; ``latest`` is what it holds now."""

    def __init__(self, latest: PaymentRecord) -> None:
        super().__init__(latest.status.value)
        self.latest = latest


def _check_chargeable(record: PaymentRecord, order: ChargeOrder) -> None:
    if record.status is PaymentStatus.DECLINED:
        raise CardDeclined(record.decline or f"order {order.order_id}: the card was declined")
    if record.status in FINAL_REVERSALS:
        raise PaymentAlreadyReversed(
            f"order {order.order_id}: its payment was {record.status.value}, "
            "so it is not charged again"
        )
    if (record.amount, record.currency) != (order.amount, order.currency):
        raise PaymentConflict(
            f"order {order.order_id} is being charged {record.amount} {record.currency}; "
            f"this command asks for {order.amount} {order.currency}"
        )


def _untracked(order: RefundOrder) -> PaymentRecord:
    """A record for an order this service has no record of (its database was replaced).

    With the intent the order document names, the refund goes ahead; without one,
    nothing was charged, and the voided record stops a late charge from taking money.
    """
    payment = order.payment
    base = PaymentRecord(
        order_id=order.order_id,
        key=key_base(order.order_id, "refund without a record"),
        amount=payment.amount if payment else 0,
        currency=payment.currency.lower() if payment else "",
        status=PaymentStatus.VOIDED,
    )
    if payment is None:
        return base
    return replace(base, status=PaymentStatus.CREATED, intent_id=payment.payment_intent_id)
