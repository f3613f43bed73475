"""Receipts in the service's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from services.emit_receipt.errors import ReceiptStoreBusy
from services.emit_receipt.receipts import Receipt
from stepstream.sql.database import Database, Row, busy_as

DDL = (
    """CREATE TABLE IF NOT EXISTS receipts (
        order_id TEXT PRIMARY KEY,
        receipt_id TEXT NOT NULL UNIQUE,
        execution_id TEXT NOT NULL,
        total BIGINT NOT NULL,
        currency TEXT NOT NULL,
        tracking_number TEXT NOT NULL,
        payment_intent_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
)

_COLUMNS = (
    "order_id, receipt_id, execution_id, total, currency, tracking_number, "
    "payment_intent_id, created_at"
)


def _receipt(row: Row) -> Receipt:
    return Receipt(
        order_id=row["order_id"],
        receipt_id=row["receipt_id"],
        execution_id=row["execution_id"],
        total=row["total"],
        currency=row["currency"],
        tracking_number=row["tracking_number"],
        payment_intent_id=row["payment_intent_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class SqlReceiptBook:
    """``ReceiptBook`` in table ``receipts`` of ``database`` (opened with ``DDL``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, receipt: Receipt) -> Receipt:
        with busy_as(ReceiptStoreBusy):
            async with self._database.transaction() as tx:
                await tx.execute(
                    f"INSERT INTO receipts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (order_id) DO NOTHING",
                    receipt.order_id,
                    receipt.receipt_id,
                    receipt.execution_id,
                    receipt.total,
                    receipt.currency,
                    receipt.tracking_number,
                    receipt.payment_intent_id,
                    receipt.created_at.isoformat(),
                )
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM receipts WHERE order_id = ?", receipt.order_id
                )
        assert row is not None
        return _receipt(row)

    async def get(self, order_id: str) -> Receipt | None:
        with busy_as(ReceiptStoreBusy):
            async with self._database.transaction() as tx:
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM receipts WHERE order_id = ?", order_id
                )
        return None if row is None else _receipt(row)

    async def all(self) -> list[Receipt]:
        with busy_as(ReceiptStoreBusy):
            async with self._database.transaction() as tx:
                rows = await tx.fetch_all(f"SELECT {_COLUMNS} FROM receipts ORDER BY order_id")
        return [_receipt(row) for row in rows]
