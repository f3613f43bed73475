"""Bookings in the service's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.book_shipment.errors import ShipmentStoreBusy
from services.book_shipment.shipping import Booking
from stepstream.sql.database import Database, Row, busy_as

DDL = (
    """CREATE TABLE IF NOT EXISTS bookings (
        order_id TEXT PRIMARY KEY,
        shipment_id TEXT NOT NULL,
        tracking_number TEXT NOT NULL,
        carrier TEXT NOT NULL,
        booked_at TEXT NOT NULL
    )""",
)

_COLUMNS = "order_id, shipment_id, tracking_number, carrier"


def _booking(row: Row) -> Booking:
    return Booking(row["order_id"], row["shipment_id"], row["tracking_number"], row["carrier"])


class SqlBookings:
    """``Bookings`` in table ``bookings`` of ``database`` (opened with ``DDL``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def get(self, order_id: str) -> Booking | None:
        with busy_as(ShipmentStoreBusy):
            async with self._database.transaction() as tx:
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM bookings WHERE order_id = ?", order_id
                )
        return None if row is None else _booking(row)

    async def save(self, booking: Booking) -> Booking:
        with busy_as(ShipmentStoreBusy):
            async with self._database.transaction() as tx:
                await tx.execute(
                    f"INSERT INTO bookings ({_COLUMNS}, booked_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (order_id) DO NOTHING",
                    booking.order_id,
                    booking.shipment_id,
                    booking.tracking_number,
                    booking.carrier,
                    datetime.now(UTC).isoformat(),
                )
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM bookings WHERE order_id = ?", booking.order_id
                )
        assert row is not None
        return _booking(row)

    async def all(self) -> list[Booking]:
        with busy_as(ShipmentStoreBusy):
            async with self._database.transaction() as tx:
                rows = await tx.fetch_all(f"SELECT {_COLUMNS} FROM bookings ORDER BY order_id")
        return [_booking(row) for row in rows]
