"""In-memory stand-ins for Stripe and the payment records, with Stripe's behaviour in brief.

The fake gateway keeps one answer per idempotency key (declines included, as Stripe
does), moves money the way PaymentIntents do, and keeps a ledger the tests read.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from services.charge_payment.errors import CardDeclined, PaymentRequestRefused
from services.charge_payment.payments import (
    ChargeOrder,
    Intent,
    PaymentRecord,
    PaymentStatus,
    Refund,
)

DECLINING = {"pm_card_chargeDeclined": "generic_decline"}
CANCELABLE = {"requires_payment_method", "requires_confirmation", "requires_capture"}


@dataclass
class _Answer:
    result: Any = None
    error: Exception | None = None


@dataclass
class FakePaymentGateway:
    """A Stripe account in memory; ``fail_next`` errors strike before a request acts."""

    intents: dict[str, Intent] = field(default_factory=dict)
    refunds: list[Refund] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    before: Callable[[str], Awaitable[None]] | None = None
    _failures: dict[str, list[Exception]] = field(default_factory=dict)
    _lost: dict[str, list[Exception]] = field(default_factory=dict)
    _answers: dict[str, _Answer] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, operation: str, error: Exception) -> None:
        """The next ``operation`` raises ``error`` before doing anything."""
        self._failures.setdefault(operation, []).append(error)

    def lose_next_answer(self, operation: str, error: Exception) -> None:
        """The next ``operation`` takes effect, then raises ``error``: its answer is lost."""
        self._lost.setdefault(operation, []).append(error)

    @property
    def captured(self) -> int:
        return sum(intent.amount_received for intent in self.intents.values())

    @property
    def refunded(self) -> int:
        return sum(refund.amount for refund in self.refunds)

    async def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        # A request is a round trip: other tasks run meanwhile, as they would.
        await asyncio.sleep(0)
        if self.before is not None:
            await self.before(operation)
        if self._failures.get(operation):
            raise self._failures[operation].pop(0)

    def _once(self, operation: str, key: str, act: Callable[[], Any]) -> Any:
        if key not in self._answers:
            try:
                self._answers[key] = _Answer(result=act())
            except CardDeclined as declined:
                self._answers[key] = _Answer(error=declined)
        answer = self._answers[key]
        if answer.error is not None:
            raise answer.error
        if self._lost.get(operation):
            raise self._lost[operation].pop(0)
        return answer.result

    async def create_intent(self, order: ChargeOrder, *, idempotency_key: str) -> Intent:
        await self._enter("create")

        def create() -> Intent:
            intent = Intent(
                id=f"pi_{next(self._ids)}",
                status="requires_payment_method",
                amount=order.amount,
                currency=order.currency,
            )
            self.intents[intent.id] = intent
            return intent

        result: Intent = self._once("create", idempotency_key, create)
        return result

    async def confirm(self, intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
        await self._enter("confirm")

        def confirm() -> Intent:
            intent = self.intents[intent_id]
            if intent.status not in CANCELABLE - {"requires_capture"}:
                raise PaymentRequestRefused(f"cannot confirm {intent_id}: {intent.status}")
            if payment_method in DECLINING:
                raise CardDeclined(
                    f"Your card was declined. (decline_code={DECLINING[payment_method]})"
                )
            done = replace(intent, status="succeeded", amount_received=intent.amount)
            self.intents[intent_id] = done
            return done

        result: Intent = self._once("confirm", idempotency_key, confirm)
        return result

    async def retrieve(self, intent_id: str) -> Intent:
        await self._enter("retrieve")
        return self.intents[intent_id]

    async def refund(self, intent_id: str, *, idempotency_key: str) -> Refund:
        await self._enter("refund")

        def refund() -> Refund:
            intent = self.intents[intent_id]
            remaining = intent.amount_received - intent.amount_refunded
            if intent.status != "succeeded" or remaining <= 0:
                raise PaymentRequestRefused(f"nothing to refund on {intent_id}")
            made = Refund(id=f"re_{next(self._ids)}", amount=remaining)
            self.refunds.append(made)
            self.intents[intent_id] = replace(intent, amount_refunded=intent.amount_received)
            return made

        result: Refund = self._once("refund", idempotency_key, refund)
        return result

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> Intent:
        await self._enter("cancel")

        def cancel() -> Intent:
            intent = self.intents[intent_id]
            if intent.status not in CANCELABLE:
                raise PaymentRequestRefused(f"cannot cancel {intent_id}: {intent.status}")
            cancelled = replace(intent, status="canceled")
            self.intents[intent_id] = cancelled
            return cancelled

        result: Intent = self._once("cancel", idempotency_key, cancel)
        return result


@dataclass
class MemoryPaymentRecords:
    """``PaymentRecords`` in a dict."""

    records: dict[str, PaymentRecord] = field(default_factory=dict)

    async def claim(self, record: PaymentRecord) -> PaymentRecord:
        await asyncio.sleep(0)
        return self.records.setdefault(record.order_id, record)

    async def get(self, order_id: str) -> PaymentRecord | None:
        await asyncio.sleep(0)
        return self.records.get(order_id)

    async def replace(self, record: PaymentRecord, *, expected: PaymentStatus) -> bool:
        await asyncio.sleep(0)
        current = self.records.get(record.order_id)
        if current is None or current.status is not expected:
            return False
        self.records[record.order_id] = record
        return True

    async def all(self) -> list[PaymentRecord]:
        return [self.records[key] for key in sorted(self.records)]
