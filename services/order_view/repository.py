"""The orders view's tables: one row per order execution, one receipt per order.

The SQL is written once for SQLite and PostgreSQL (``stepstream.sql.database``). Rows are
written only forwards: an upsert carrying an older ``last_event_id`` than the stored row
changes nothing, so a slow or repeated writer cannot roll the view back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.order_view.projection import OrderRow, OrderStatus
from services.order_view.receipts import Receipt
from stepstream.sql.database import Row, Transaction

DEFAULT_SCHEMA = "order_view"

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS orders (
        execution_arn TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        state_machine TEXT NOT NULL,
        status TEXT NOT NULL,
        path TEXT NOT NULL,
        current_state TEXT,
        error TEXT,
        cause TEXT,
        retries BIGINT NOT NULL,
        tracking_number TEXT,
        receipt_id TEXT,
        receipt_total BIGINT,
        started_at TEXT,
        updated_at TEXT NOT NULL,
        last_event_id BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS orders_by_order_id ON orders (order_id)",
    """CREATE TABLE IF NOT EXISTS order_receipts (
        order_id TEXT PRIMARY KEY,
        receipt_id TEXT NOT NULL,
        total BIGINT NOT NULL,
        currency TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
)

_COLUMNS = (
    "execution_arn",
    "order_id",
    "state_machine",
    "status",
    "path",
    "current_state",
    "error",
    "cause",
    "retries",
    "tracking_number",
    "receipt_id",
    "receipt_total",
    "started_at",
    "updated_at",
    "last_event_id",
)

_UPSERT = (
    f"INSERT INTO orders ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (execution_arn) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    + " WHERE orders.last_event_id < excluded.last_event_id"
)

_SELECT = (
    "SELECT "
    + ", ".join(f"o.{c}" for c in _COLUMNS)
    + ", r.body AS receipt_body FROM orders o LEFT JOIN order_receipts r ON r.order_id = o.order_id"
)
# The engines sort NULL differently; an order seen without its start sorts by its last event.
_NEWEST_FIRST = "COALESCE(o.started_at, o.updated_at) DESC, o.execution_arn"


@dataclass(frozen=True)
class OrderView:
    """An order as the commands show it: its execution's row and its receipt, if any."""

    row: OrderRow
    receipt: Receipt | None

    def to_json(self) -> dict[str, Any]:
        row = self.row
        receipt = self.receipt.to_json() if self.receipt is not None else None
        if receipt is None and row.receipt_id is not None:
            receipt = {"receiptId": row.receipt_id, "total": row.receipt_total}
        return {
            "orderId": row.order_id,
            "executionArn": row.execution_arn,
            "status": str(row.status),
            "path": list(row.path),
            "currentState": row.current_state,
            "error": row.error,
            "cause": row.cause,
            "retries": row.retries,
            "trackingNumber": row.tracking_number
            or (self.receipt.trackingNumber if self.receipt else None),
            "receipt": receipt,
            "startedAt": _iso(row.started_at),
            "updatedAt": _iso(row.updated_at),
        }


async def load_row(tx: Transaction, execution_arn: str) -> OrderRow | None:
    found = await tx.fetch_one(
        f"SELECT {', '.join(_COLUMNS)} FROM orders WHERE execution_arn = ?{tx.for_update}",
        execution_arn,
    )
    return None if found is None else _row(found)


async def save_row(tx: Transaction, row: OrderRow) -> bool:
    """Store ``row`` unless the stored one is as new or newer; True when it was stored."""
    values = (
        row.execution_arn,
        row.order_id,
        row.state_machine,
        str(row.status),
        json.dumps(list(row.path)),
        row.current_state,
        row.error,
        row.cause,
        row.retries,
        row.tracking_number,
        row.receipt_id,
        row.receipt_total,
        _iso(row.started_at),
        _iso(row.updated_at),
        row.last_event_id,
    )
    return await tx.execute(_UPSERT, *values) > 0


async def save_receipt(tx: Transaction, receipt: Receipt) -> bool:
    """Keep the first receipt of an order; True when this one was new."""
    changed = await tx.execute(
        "INSERT INTO order_receipts (order_id, receipt_id, total, currency, body) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
        receipt.orderId,
        receipt.receiptId,
        receipt.total,
        receipt.currency,
        receipt.model_dump_json(),
    )
    return changed > 0


async def list_orders(tx: Transaction, *, limit: int = 1000) -> list[OrderView]:
    """Orders, the most recently started first."""
    rows = await tx.fetch_all(f"{_SELECT} ORDER BY {_NEWEST_FIRST} LIMIT ?", limit)
    return [_view(found) for found in rows]


async def find_order(tx: Transaction, order_id_or_arn: str) -> OrderView | None:
    """The order with this id (its latest execution) or this execution ARN."""
    rows = await tx.fetch_all(
        f"{_SELECT} WHERE o.order_id = ? OR o.execution_arn = ? ORDER BY {_NEWEST_FIRST} LIMIT 1",
        order_id_or_arn,
        order_id_or_arn,
    )
    return _view(rows[0]) if rows else None


async def find_receipt(tx: Transaction, order_id: str) -> Receipt | None:
    found = await tx.fetch_one("SELECT body FROM order_receipts WHERE order_id = ?", order_id)
    return None if found is None else Receipt.model_validate_json(found["body"])


def _view(found: Row) -> OrderView:
    body = found.get("receipt_body")
    receipt = Receipt.model_validate_json(body) if body else None
    return OrderView(row=_row(found), receipt=receipt)


def _row(found: Row) -> OrderRow:
    return OrderRow(
        execution_arn=found["execution_arn"],
        order_id=found["order_id"],
        state_machine=found["state_machine"],
        status=OrderStatus(found["status"]),
        path=tuple(_strings(json.loads(found["path"]))),
        current_state=found["current_state"],
        error=found["error"],
        cause=found["cause"],
        retries=int(found["retries"]),
        tracking_number=found["tracking_number"],
        receipt_id=found["receipt_id"],
        receipt_total=None if found["receipt_total"] is None else int(found["receipt_total"]),
        started_at=_moment(found["started_at"]),
        updated_at=datetime.fromisoformat(found["updated_at"]),
        last_event_id=int(found["last_event_id"]),
    )


def _strings(values: Sequence[Any]) -> list[str]:
    return [str(value) for value in values]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
