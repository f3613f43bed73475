"""The projector: history batches and receipts into the view's tables, each applied once."""

from __future__ import annotations

import pytest

from services.order_view import repository
from services.order_view.projection import MalformedHistory, OrderStatus, read_events
from services.order_view.projector import OrderProjector
from services.order_view.receipts import MalformedReceipt
from stepstream.asl.history import HistoryEvent
from stepstream.messaging import Envelope, PoisonMessage, Record
from stepstream.sql.database import Database
from tests.orders.recorded import Recorded, recorded

RECEIPT = {
    "orderId": "ord-happy",
    "receiptId": "rc-9",
    "total": 1800,
    "currency": "eur",
    "trackingNumber": "TN1",
    "paymentIntentId": "pi_1",
    "createdAt": "2026-01-01T00:00:00+00:00",
}


class FakeHistory:
    """Whole histories by execution, and how often each was asked for."""

    def __init__(self, *histories: Recorded) -> None:
        self.histories = {h.execution_arn: read_events(h.events) for h in histories}
        self.asked: list[str] = []

    async def history(self, execution_arn: str) -> list[HistoryEvent]:
        self.asked.append(execution_arn)
        return self.histories.get(execution_arn, [])


def projector(database: Database, history: FakeHistory | None = None) -> OrderProjector:
    return OrderProjector(
        database=database, state_machines=frozenset({"Fulfilment"}), history=history
    )


async def test_batches_in_order_build_the_row(sqlite_view: Database) -> None:
    happy = recorded("happy")
    view = projector(sqlite_view)
    for batch in happy.batches(4):
        await view.apply_history(happy.execution_arn, happy.payload(batch))
    async with sqlite_view.transaction() as tx:
        stored = await repository.load_row(tx, happy.execution_arn)
    assert stored is not None and stored.status is OrderStatus.SUCCEEDED
    assert stored.last_event_id == len(happy.events)


async def test_a_batch_delivered_again_changes_nothing(sqlite_view: Database) -> None:
    waiting = recorded("review-waiting")
    view = projector(sqlite_view)
    batches = waiting.batches(5)
    for batch in batches:
        await view.apply_history(waiting.execution_arn, waiting.payload(batch))
    before = await view.apply_history(waiting.execution_arn, waiting.payload(batches[-1]))
    again = await view.apply_history(waiting.execution_arn, waiting.payload(batches[0]))
    assert before == again
    assert again is not None and again.path.count("BookShipment") == 1


async def test_missed_events_are_read_from_the_history_source(sqlite_view: Database) -> None:
    happy = recorded("happy")
    source = FakeHistory(happy)
    view = projector(sqlite_view, source)
    await view.apply_history(happy.execution_arn, happy.payload(happy.events[:3]))
    row = await view.apply_history(happy.execution_arn, happy.payload(happy.events[10:]))
    assert source.asked == [happy.execution_arn]
    assert row is not None and row.path[:2] == ("ChargePayment", "ReserveStock")
    assert row.status is OrderStatus.SUCCEEDED


async def test_without_a_source_missed_events_leave_a_shorter_path(sqlite_view: Database) -> None:
    happy = recorded("happy")
    view = projector(sqlite_view)
    await view.apply_history(happy.execution_arn, happy.payload(happy.events[:3]))
    row = await view.apply_history(happy.execution_arn, happy.payload(happy.events[10:]))
    assert row is not None and row.status is OrderStatus.SUCCEEDED
    assert row.path == ("ChargePayment", "BookShipment", "EmitReceipt", "OrderFulfilled")


async def test_executions_of_other_state_machines_are_not_orders(sqlite_view: Database) -> None:
    happy = recorded("happy")
    view = projector(sqlite_view)
    other = {"state_machine": "Payroll", "events": happy.events}
    assert await view.apply_history(happy.execution_arn, other) is None
    async with sqlite_view.transaction() as tx:
        assert await repository.list_orders(tx) == []


async def test_a_receipt_is_kept_once(sqlite_view: Database) -> None:
    view = projector(sqlite_view)
    assert await view.apply_receipt(RECEIPT)
    assert not await view.apply_receipt(RECEIPT)
    async with sqlite_view.transaction() as tx:
        kept = await repository.find_receipt(tx, "ord-happy")
    assert kept is not None and kept.total == 1800


async def test_unreadable_messages_are_poison(sqlite_view: Database) -> None:
    view = projector(sqlite_view)
    record = Record(topic="p.history", partition=0, offset=0, key=None, value=b"")
    cases = [
        Envelope(kind="history.events", execution_id="arn", payload={"events": []}),
        Envelope(
            kind="history.events",
            execution_id="arn",
            payload={"state_machine": "Fulfilment", "events": [{"id": "x"}]},
        ),
        Envelope(kind="receipt.emitted", execution_id="o", payload={"orderId": "o", "total": -1}),
        Envelope(kind="order.placed", execution_id="o", payload={}),
    ]
    reasons = []
    for envelope in cases:
        with pytest.raises(PoisonMessage) as refused:
            await view.handle(envelope, record)
        reasons.append(refused.value.reason)
    assert "needs 'state_machine'" in reasons[0]
    assert "event 0" in reasons[1]
    assert "field 'total' invalid" in reasons[2] and "field 'receiptId' missing" in reasons[2]
    assert "unexpected message kind 'order.placed'" in reasons[3]
    with pytest.raises(MalformedHistory):
        await view.apply_history("arn", {"state_machine": "Fulfilment", "events": "none"})
    with pytest.raises(MalformedReceipt):
        await view.apply_receipt({"orderId": "o"})
