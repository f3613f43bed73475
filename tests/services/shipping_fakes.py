"""An in-memory carrier and bookings record for the book-shipment domain tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.book_shipment.shipping import Booking, ShipOrder


@dataclass
class FakeCarrier:
    """Books one shipment per idempotency key, as the carrier does; ``script`` errors first."""

    script: list[Exception] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    by_key: dict[str, Booking] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    async def book(self, order: ShipOrder, *, idempotency_key: str) -> Booking:
        self.calls.append((order.order_id, idempotency_key))
        await asyncio.sleep(0)
        if self.script:
            raise self.script.pop(0)
        if idempotency_key not in self.by_key:
            number = len(self.by_key) + 1
            self.by_key[idempotency_key] = Booking(
                order.order_id, f"shp_{number}", f"TN{number:08d}", "fake-post"
            )
        return self.by_key[idempotency_key]

    async def cancel(self, *, idempotency_key: str) -> str | None:
        self.calls.append(("cancel", idempotency_key))
        await asyncio.sleep(0)
        if self.script:
            raise self.script.pop(0)
        booking = self.by_key.get(idempotency_key)
        if booking is None:
            return None
        self.cancelled.add(booking.shipment_id)
        return booking.shipment_id


@dataclass
class MemoryBookings:
    bookings: dict[str, Booking] = field(default_factory=dict)

    async def get(self, order_id: str) -> Booking | None:
        return self.bookings.get(order_id)

    async def save(self, booking: Booking) -> Booking:
        return self.bookings.setdefault(booking.order_id, booking)

    async def all(self) -> list[Booking]:
        return [self.bookings[key] for key in sorted(self.bookings)]


@dataclass
class RecordingSleep:
    """Stands in for asyncio.sleep: notes each wait instead of waiting."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
