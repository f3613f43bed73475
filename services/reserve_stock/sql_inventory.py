"""The inventory in the service's own database (SQLite or PostgreSQL).

Each reservation and release is one transaction. The order's reservation row is
inserted first (``ON CONFLICT DO NOTHING``), so of two commands for one order the second
waits for the first and then finds its row; the stock rows the order needs are then
locked in SKU order (PostgreSQL) or the whole file is (SQLite), so two orders racing for
the last unit cannot both take it. ``available >= 0`` is also a table constraint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from services.reserve_stock.errors import InventoryBusy
from services.reserve_stock.inventory import (
    Line,
    Release,
    Reservation,
    ReservationStatus,
    plan_reservation,
)
from stepstream.sql.database import Database, Row, Transaction, busy_as

DDL = (
    """CREATE TABLE IF NOT EXISTS stock (
        sku TEXT PRIMARY KEY,
        available BIGINT NOT NULL CHECK (available >= 0)
    )""",
    """CREATE TABLE IF NOT EXISTS reservations (
        order_id TEXT PRIMARY KEY,
        reservation_id TEXT,
        status TEXT NOT NULL,
        cause TEXT,
        created_at TEXT NOT NULL,
        released_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS reservation_lines (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        qty BIGINT NOT NULL,
        PRIMARY KEY (order_id, sku)
    )""",
)

# Only ever seen inside the transaction that inserts it.
_CLAIMED = "claimed"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat()


class SqlInventory:
    """``Inventory`` in tables of ``database`` (opened with ``DDL``)."""

    def __init__(self, database: Database, *, clock: Callable[[], str] = _utc_now) -> None:
        self._database = database
        self._clock = clock

    async def reserve(
        self, order_id: str, lines: Sequence[Line], *, reservation_id: str
    ) -> Reservation:
        with busy_as(InventoryBusy):
            async with self._database.transaction() as tx:
                claimed = await tx.execute(
                    "INSERT INTO reservations (order_id, reservation_id, status, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
                    order_id,
                    reservation_id,
                    _CLAIMED,
                    self._clock(),
                )
                if not claimed:
                    return await _load(tx, order_id)
                available = await _lock_stock(tx, [line.sku for line in lines])
                reservation = plan_reservation(order_id, reservation_id, lines, available)
                await _apply(tx, reservation)
                return reservation

    async def release(self, order_id: str) -> Release:
        now = self._clock()
        with busy_as(InventoryBusy):
            async with self._database.transaction() as tx:
                voided = await tx.execute(
                    "INSERT INTO reservations (order_id, status, created_at, released_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
                    order_id,
                    ReservationStatus.VOID.value,
                    now,
                    now,
                )
                if voided:
                    return Release(Reservation(order_id, None, ReservationStatus.VOID), False)
                found = await _load(tx, order_id, lock=True)
                if found.status is not ReservationStatus.RESERVED:
                    return Release(found, False)
                for line in found.lines:
                    await tx.execute(
                        "UPDATE stock SET available = available + ? WHERE sku = ?",
                        line.qty,
                        line.sku,
                    )
                await tx.execute(
                    "UPDATE reservations SET status = ?, released_at = ? WHERE order_id = ?",
                    ReservationStatus.RELEASED.value,
                    now,
                    order_id,
                )
                released = Reservation(
                    order_id, found.reservation_id, ReservationStatus.RELEASED, found.lines
                )
                return Release(released, True)

    async def stock(self) -> dict[str, int]:
        with busy_as(InventoryBusy):
            async with self._database.transaction() as tx:
                rows = await tx.fetch_all("SELECT sku, available FROM stock ORDER BY sku")
        return {row["sku"]: row["available"] for row in rows}

    async def reservations(self) -> list[Reservation]:
        with busy_as(InventoryBusy):
            async with self._database.transaction() as tx:
                heads = await tx.fetch_all(
                    "SELECT order_id, reservation_id, status, cause FROM reservations "
                    "ORDER BY order_id"
                )
                lines = await tx.fetch_all(
                    "SELECT order_id, sku, qty FROM reservation_lines ORDER BY order_id, sku"
                )
        by_order: dict[str, list[Line]] = {}
        for row in lines:
            by_order.setdefault(row["order_id"], []).append(Line(row["sku"], row["qty"]))
        return [_reservation(head, by_order.get(head["order_id"], [])) for head in heads]

    async def stock_up(self, levels: Mapping[str, int]) -> dict[str, int]:
        applied: dict[str, int] = {}
        with busy_as(InventoryBusy):
            async with self._database.transaction() as tx:
                for sku, qty in sorted(levels.items()):
                    if await tx.execute(
                        "INSERT INTO stock (sku, available) VALUES (?, ?) "
                        "ON CONFLICT (sku) DO NOTHING",
                        sku,
                        qty,
                    ):
                        applied[sku] = qty
        return applied


async def _lock_stock(tx: Transaction, skus: Sequence[str]) -> dict[str, int]:
    if not skus:
        return {}
    marks = ", ".join("?" for _ in skus)
    rows = await tx.fetch_all(
        f"SELECT sku, available FROM stock WHERE sku IN ({marks}) ORDER BY sku{tx.for_update}",
        *skus,
    )
    return {row["sku"]: row["available"] for row in rows}


async def _apply(tx: Transaction, reservation: Reservation) -> None:
    if reservation.status is ReservationStatus.RESERVED:
        for line in reservation.lines:
            await tx.execute(
                "UPDATE stock SET available = available - ? WHERE sku = ?", line.qty, line.sku
            )
    for line in reservation.lines:
        await tx.execute(
            "INSERT INTO reservation_lines (order_id, sku, qty) VALUES (?, ?, ?)",
            reservation.order_id,
            line.sku,
            line.qty,
        )
    await tx.execute(
        "UPDATE reservations SET status = ?, cause = ? WHERE order_id = ?",
        reservation.status.value,
        reservation.cause,
        reservation.order_id,
    )


async def _load(tx: Transaction, order_id: str, *, lock: bool = False) -> Reservation:
    head = await tx.fetch_one(
        "SELECT order_id, reservation_id, status, cause FROM reservations WHERE order_id = ?"
        + (tx.for_update if lock else ""),
        order_id,
    )
    assert head is not None, f"reservation of {order_id} vanished inside its transaction"
    rows = await tx.fetch_all(
        "SELECT sku, qty FROM reservation_lines WHERE order_id = ? ORDER BY sku", order_id
    )
    return _reservation(head, [Line(row["sku"], row["qty"]) for row in rows])


def _reservation(head: Row, lines: Sequence[Line]) -> Reservation:
    return Reservation(
        order_id=head["order_id"],
        reservation_id=head["reservation_id"],
        status=ReservationStatus(head["status"]),
        lines=tuple(lines),
        cause=head["cause"],
    )
