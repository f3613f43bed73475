"""The services' records on SQLite and PostgreSQL: one row per order, changed only as asked,
and a database too busy to answer named by each service's own error."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.book_shipment import bookings
from services.book_shipment.bookings import SqlBookings
from services.book_shipment.errors import ShipmentStoreBusy
from services.book_shipment.shipping import Booking
from services.charge_payment import payment_records
from services.charge_payment.errors import PaymentStoreBusy
from services.charge_payment.payment_records import SqlPaymentRecords
from services.charge_payment.payments import PaymentRecord, PaymentStatus
from services.emit_receipt import receipt_book
from services.emit_receipt.errors import ReceiptStoreBusy
from services.emit_receipt.receipt_book import SqlReceiptBook
from services.emit_receipt.receipts import Receipt
from services.reserve_stock import sql_inventory
from services.reserve_stock.errors import InventoryBusy
from services.reserve_stock.sql_inventory import SqlInventory
from stepstream.sql.database import Database, open_database
from stepstream.sql.sqlite import SQLiteDatabase

PENDING = PaymentRecord("o-1", "stepstream-abc", 1800, "eur", PaymentStatus.PENDING)


async def _opened(url: str, ddl: Sequence[str]) -> AsyncIterator[Database]:
    database = await open_database(url, default_schema="unused", ddl=ddl)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def payments(database_url: str) -> AsyncIterator[SqlPaymentRecords]:
    async for database in _opened(database_url, payment_records.DDL):
        yield SqlPaymentRecords(database)


@pytest.fixture
async def shipments(database_url: str) -> AsyncIterator[SqlBookings]:
    async for database in _opened(database_url, bookings.DDL):
        yield SqlBookings(database)


@pytest.fixture
async def receipts(database_url: str) -> AsyncIterator[SqlReceiptBook]:
    async for database in _opened(database_url, receipt_book.DDL):
        yield SqlReceiptBook(database)


async def test_a_payment_is_claimed_once_per_order(payments: SqlPaymentRecords) -> None:
    first = await payments.claim(PENDING)
    second = await payments.claim(replace(PENDING, key="stepstream-other", amount=5))

    assert first == second == PENDING
    assert await payments.all() == [PENDING]


async def test_a_payment_changes_only_from_the_status_expected(
    payments: SqlPaymentRecords,
) -> None:
    await payments.claim(PENDING)
    created = replace(PENDING, status=PaymentStatus.CREATED, intent_id="pi_1")

    assert await payments.replace(created, expected=PaymentStatus.PENDING)
    assert not await payments.replace(
        replace(PENDING, status=PaymentStatus.VOIDED), expected=PaymentStatus.PENDING
    )
    assert await payments.get("o-1") == created
    assert await payments.get("o-2") is None


async def test_of_two_racing_changes_one_wins(payments: SqlPaymentRecords) -> None:
    await payments.claim(PENDING)

    outcomes = await asyncio.gather(
        payments.replace(replace(PENDING, status=PaymentStatus.VOIDED), expected=PENDING.status),
        payments.replace(
            replace(PENDING, status=PaymentStatus.CREATED, intent_id="pi_1"),
            expected=PENDING.status,
        ),
    )

    assert sorted(outcomes) == [False, True]


async def test_a_booking_is_kept_once_per_order(shipments: SqlBookings) -> None:
    first = Booking("o-1", "shp_1", "TN1", "post")

    assert await shipments.save(first) == first
    assert await shipments.save(Booking("o-1", "shp_2", "TN2", "post")) == first
    assert await shipments.get("o-1") == first
    assert await shipments.all() == [first]


async def test_a_receipt_is_kept_once_per_order(receipts: SqlReceiptBook) -> None:
    receipt = Receipt(
        "o-1", "rcpt_1", "exec-1", 1800, "eur", "TN1", "pi_1", datetime(2031, 1, 2, tzinfo=UTC)
    )

    assert await receipts.record(receipt) == receipt
    assert await receipts.record(replace(receipt, receipt_id="rcpt_2", total=1)) == receipt
    assert await receipts.get("o-1") == receipt
    assert await receipts.all() == [receipt]


LOCKED_CALLS: list[
    tuple[Sequence[str], Callable[[Database], Awaitable[object]], type[Exception]]
] = [
    (payment_records.DDL, lambda db: SqlPaymentRecords(db).get("o-1"), PaymentStoreBusy),
    (bookings.DDL, lambda db: SqlBookings(db).get("o-1"), ShipmentStoreBusy),
    (receipt_book.DDL, lambda db: SqlReceiptBook(db).get("o-1"), ReceiptStoreBusy),
    (sql_inventory.DDL, lambda db: SqlInventory(db).release("o-1"), InventoryBusy),
]


@pytest.mark.parametrize(("ddl", "call", "error"), LOCKED_CALLS)
async def test_a_database_locked_by_another_process_is_each_services_busy_error(
    tmp_path: Path,
    ddl: Sequence[str],
    call: Callable[[Database], Awaitable[object]],
    error: type[Exception],
) -> None:
    path = tmp_path / "locked.db"
    database = SQLiteDatabase(path, busy_timeout_ms=50)
    await database.open(ddl)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(error, match="is busy"):
            await call(database)
    finally:
        other.close()
        await database.close()
