"""The orders view's tables, held to one contract on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from services.order_view import repository
from services.order_view.projection import OrderRow, OrderStatus
from services.order_view.receipts import Receipt
from stepstream.sql.database import Database

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ARN = "arn:aws:states:local:000000000000:execution:Fulfilment:"


def row(order_id: str, *, last: int = 3, minutes: int = 0, **changes: object) -> OrderRow:
    base = OrderRow(
        execution_arn=ARN + order_id,
        order_id=order_id,
        state_machine="Fulfilment",
        status=OrderStatus.RUNNING,
        path=("ChargePayment", "ReserveStock"),
        current_state="ReserveStock",
        error=None,
        cause=None,
        retries=0,
        tracking_number=None,
        receipt_id=None,
        receipt_total=None,
        started_at=T0 + timedelta(minutes=minutes),
        updated_at=T0 + timedelta(minutes=minutes, seconds=last),
        last_event_id=last,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def receipt(order_id: str, total: int = 1800) -> Receipt:
    return Receipt(orderId=order_id, receiptId=f"rc-{order_id}", total=total, currency="eur")


async def test_a_row_is_stored_and_read_back_as_it_was(view_db: Database) -> None:
    done = row(
        "o1",
        last=24,
        status=OrderStatus.FAILED,
        error="OrderFulfillmentFailed",
        cause="compensated",
        retries=4,
        tracking_number="TN1",
        receipt_id="rc1",
        receipt_total=1800,
        current_state=None,
    )
    async with view_db.transaction() as tx:
        assert await repository.save_row(tx, done)
        assert await repository.load_row(tx, done.execution_arn) == done
        assert await repository.load_row(tx, ARN + "other") is None


async def test_rows_only_move_forwards(view_db: Database) -> None:
    newer = row("o1", last=9, status=OrderStatus.SUCCEEDED)
    async with view_db.transaction() as tx:
        await repository.save_row(tx, row("o1", last=3))
        assert await repository.save_row(tx, newer)
        assert not await repository.save_row(tx, row("o1", last=5))
        assert not await repository.save_row(tx, newer)
        assert await repository.load_row(tx, newer.execution_arn) == newer


async def test_orders_are_found_by_id_or_execution_and_listed_newest_first(
    view_db: Database,
) -> None:
    async with view_db.transaction() as tx:
        for order_id, minutes in (("old", 0), ("new", 9), ("mid", 4)):
            await repository.save_row(tx, row(order_id, minutes=minutes))
        by_id = await repository.find_order(tx, "mid")
        by_arn = await repository.find_order(tx, ARN + "mid")
        missing = await repository.find_order(tx, "nope")
        listed = await repository.list_orders(tx)
    assert by_id is not None and by_id == by_arn and by_id.row.order_id == "mid"
    assert missing is None
    assert [view.row.order_id for view in listed] == ["new", "mid", "old"]


async def test_a_receipt_is_kept_once_and_joined_to_its_order(view_db: Database) -> None:
    async with view_db.transaction() as tx:
        await repository.save_row(tx, row("o1"))
        assert await repository.save_receipt(tx, receipt("o1"))
        assert not await repository.save_receipt(tx, receipt("o1", total=1))
        assert await repository.save_receipt(tx, receipt("not-seen-yet"))
        shown = await repository.find_order(tx, "o1")
        early = await repository.find_receipt(tx, "not-seen-yet")
    assert shown is not None and shown.receipt == receipt("o1")
    assert early == receipt("not-seen-yet")
    document = shown.to_json()
    assert document["receipt"]["total"] == 1800 and document["status"] == "RUNNING"
    assert document["path"] == ["ChargePayment", "ReserveStock"]
