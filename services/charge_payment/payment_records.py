"""Payment records in the service's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.charge_payment.errors import PaymentStoreBusy
from services.charge_payment.payments import PaymentRecord, PaymentStatus
from stepstream.sql.database import Database, Row, busy_as

DDL = (
    """CREATE TABLE IF NOT EXISTS payments (
        order_id TEXT PRIMARY KEY,
        idempotency_base TEXT NOT NULL,
        amount BIGINT NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        intent_id TEXT,
        decline TEXT,
        refund_id TEXT,
        refunded BIGINT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)

_COLUMNS = (
    "order_id, idempotency_base, amount, currency, status, intent_id, decline, refund_id, "
    "refunded, updated_at"
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _values(record: PaymentRecord) -> tuple[Any, ...]:
    return (
        record.order_id,
        record.key,
        record.amount,
        record.currency,
        record.status.value,
        record.intent_id,
        record.decline,
        record.refund_id,
        record.refunded,
        _now(),
    )


def _record(row: Row) -> PaymentRecord:
    return PaymentRecord(
        order_id=row["order_id"],
        key=row["idempotency_base"],
        amount=row["amount"],
        currency=row["currency"],
        status=PaymentStatus(row["status"]),
        intent_id=row["intent_id"],
        decline=row["decline"],
        refund_id=row["refund_id"],
        refunded=row["refunded"],
    )


class SqlPaymentRecords:
    """``PaymentRecords`` in table ``payments`` of ``database`` (opened with ``DDL``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def claim(self, record: PaymentRecord) -> PaymentRecord:
        with busy_as(PaymentStoreBusy):
            async with self._database.transaction() as tx:
                await tx.execute(
                    f"INSERT INTO payments ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (order_id) DO NOTHING",
                    *_values(record),
                )
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM payments WHERE order_id = ?", record.order_id
                )
        assert row is not None
        return _record(row)

    async def get(self, order_id: str) -> PaymentRecord | None:
        with busy_as(PaymentStoreBusy):
            async with self._database.transaction() as tx:
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM payments WHERE order_id = ?", order_id
                )
        return None if row is None else _record(row)

    async def replace(self, record: PaymentRecord, *, expected: PaymentStatus) -> bool:
        values = _values(record)
        with busy_as(PaymentStoreBusy):
            async with self._database.transaction() as tx:
                changed = await tx.execute(
                    "UPDATE payments SET idempotency_base = ?, amount = ?, currency = ?, "
                    "status = ?, intent_id = ?, decline = ?, refund_id = ?, refunded = ?, "
                    "updated_at = ? WHERE order_id = ? AND status = ?",
                    *values[1:],
                    record.order_id,
                    expected.value,
                )
        return changed == 1

    async def all(self) -> list[PaymentRecord]:
        with busy_as(PaymentStoreBusy):
            async with self._database.transaction() as tx:
                rows = await tx.fetch_all(f"SELECT {_COLUMNS} FROM payments ORDER BY order_id")
        return [_record(row) for row in rows]
