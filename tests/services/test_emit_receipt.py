"""EmitReceipt as domain logic, and its events on an in-memory bus."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.errors import InvalidOrder
from services.common.inputs import decode_input
from services.emit_receipt.errors import ReceiptNotPublished
from services.emit_receipt.receipt_events import BusReceiptEvents
from services.emit_receipt.receipts import Receipt, ReceiptOrder, Receipts
from stepstream.messaging.envelope import decode
from stepstream.messaging.fake import FakeBus, FakePublisher
from stepstream.messaging.topics import Topics

ORDER: dict[str, Any] = {
    "orderId": "o-1",
    "amount": 1800,
    "currency": "eur",
    "payment": {
        "paymentIntentId": "pi_1",
        "amount": 1800,
        "currency": "EUR",
        "status": "succeeded",
    },
    "reservation": {"reservationId": "res_1", "items": [{"sku": "MUG", "qty": 2}]},
    "shipment": {"trackingNumber": "SS12345678XX", "shipmentId": "shp_1", "carrier": "post"},
}
NOON = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
TOPICS = Topics("shop")


def receipt_order(**changes: Any) -> ReceiptOrder:
    return decode_input(ReceiptOrder, {**ORDER, **changes}, command="emit-receipt")


@dataclass
class MemoryReceiptBook:
    receipts: dict[str, Receipt] = field(default_factory=dict)

    async def record(self, receipt: Receipt) -> Receipt:
        return self.receipts.setdefault(receipt.order_id, receipt)

    async def get(self, order_id: str) -> Receipt | None:
        return self.receipts.get(order_id)

    async def all(self) -> list[Receipt]:
        return [self.receipts[key] for key in sorted(self.receipts)]


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus(partitions=1)


@pytest.fixture
async def publisher(bus: FakeBus) -> AsyncIterator[FakePublisher]:
    async with bus.publisher() as publisher:
        yield publisher


@pytest.fixture
def book() -> MemoryReceiptBook:
    return MemoryReceiptBook()


@pytest.fixture
def receipts(book: MemoryReceiptBook, publisher: FakePublisher) -> Receipts:
    numbers = itertools.count(1)
    return Receipts(
        book=book,
        events=BusReceiptEvents(publisher, TOPICS),
        clock=lambda: NOON,
        new_id=lambda: f"rcpt_{next(numbers)}",
    )


async def test_a_receipt_totals_what_was_charged_and_answers_its_id(
    receipts: Receipts, book: MemoryReceiptBook
) -> None:
    answer = await receipts.emit(receipt_order(amount=9999), execution_id="exec-1")

    assert answer == {"receiptId": "rcpt_1", "total": 1800}
    stored = await book.get("o-1")
    assert stored is not None
    assert (stored.currency, stored.tracking_number, stored.payment_intent_id) == (
        "eur",
        "SS12345678XX",
        "pi_1",
    )


async def test_the_receipt_event_goes_to_the_receipts_topic_keyed_by_order(
    receipts: Receipts, bus: FakeBus
) -> None:
    await receipts.emit(receipt_order(), execution_id="exec-1")

    [record] = bus.records(TOPICS.receipts())
    envelope = decode(record.value)
    assert record.key == b"o-1"
    assert (envelope.kind, envelope.execution_id) == ("receipt.emitted", "exec-1")
    assert envelope.payload == {
        "orderId": "o-1",
        "receiptId": "rcpt_1",
        "total": 1800,
        "currency": "eur",
        "trackingNumber": "SS12345678XX",
        "paymentIntentId": "pi_1",
        "createdAt": "2031-05-01T12:00:00+00:00",
    }


async def test_a_repeat_answers_the_same_receipt_and_publishes_it_again(
    receipts: Receipts, book: MemoryReceiptBook, bus: FakeBus
) -> None:
    first = await receipts.emit(receipt_order(), execution_id="exec-1")
    again = await receipts.emit(receipt_order(), execution_id="exec-1")

    assert again == first
    assert len(await book.all()) == 1
    events = [decode(record.value).payload for record in bus.records(TOPICS.receipts())]
    assert len(events) == 2 and events[0] == events[1]


async def test_an_event_that_cannot_be_sent_is_named_and_the_receipt_kept(
    book: MemoryReceiptBook,
) -> None:
    stopped = FakeBus().publisher()  # never started: every publish fails
    receipts = Receipts(book=book, events=BusReceiptEvents(stopped, TOPICS))

    with pytest.raises(ReceiptNotPublished, match="is recorded but its event could not"):
        await receipts.emit(receipt_order(), execution_id="exec-1")
    assert await book.get("o-1") is not None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"shipment": None}, "field 'shipment' invalid"),
        ({"payment": {"paymentIntentId": "pi_1", "currency": "eur"}}, "payment.amount' missing"),
    ],
)
def test_an_order_not_charged_and_shipped_cannot_have_a_receipt(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidOrder, match=problem):
        receipt_order(**changes)
