"""Booking one shipment per order, apart from HTTP and storage.

A booking is recorded per order, so a repeated BookShipment answers from the record
without calling the carrier. The carrier is always called with the order id as its
Idempotency-Key, so a command retried after a time-out or a garbled answer (when the
carrier may have booked without our knowing) gets that same shipment back.

A 429 whose Retry-After is short is waited out here and tried once more: cheaper than
a round trip through the orchestrator's back-off. A longer one (or a second 429) fails
the command with CarrierRateLimited carrying the carrier's Retry-After, which the worker
sends with the failure: the definition's Retry then waits at least that long, so a
carrier that asked for 30 s is not called again after the 4 s the back-off drew. A
service holds no command, and no worker slot, for that long.

CancelShipment undoes a booking by that same key, and always asks the carrier: a
booking whose answer never came is recorded nowhere here, yet the carrier may hold it.
A key that booked nothing is a no-op.

An operator who corrects the address before a retry raises the order's
``shipmentRevision``: the booking at the old address is cancelled, and the new one is
made under a key of its own (the order id and the revision), since the carrier rightly
refuses one key for two different requests. CancelShipment cancels every revision up to
the order's, so compensation leaves no booking behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pydantic import Field

from services.book_shipment.errors import CarrierRateLimited
from services.common.inputs import OrderInput

# How many times an operator may correct an order's address.
MAX_REVISION = 20


class ShippingAddress(OrderInput):
    name: str = Field(min_length=1)
    line1: str = Field(min_length=1)
    city: str = Field(min_length=1)
    postal_code: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")


class ShippedItem(OrderInput):
    sku: str = Field(min_length=1)
    qty: int = Field(ge=1)


class ShipOrder(OrderInput):
    """What BookShipment reads from the order."""

    order_id: str = Field(alias="orderId", min_length=1, max_length=200)
    address: ShippingAddress
    items: list[ShippedItem] = Field(min_length=1)
    shipment_revision: int = Field(default=0, alias="shipmentRevision", ge=0, le=MAX_REVISION)


class CancelOrder(OrderInput):
    """What CancelShipment reads from the order."""

    order_id: str = Field(alias="orderId", min_length=1, max_length=200)
    shipment_revision: int = Field(default=0, alias="shipmentRevision", ge=0, le=MAX_REVISION)


def booking_key(order_id: str, revision: int) -> str:
    """The carrier's Idempotency-Key for a revision of the order's shipment ('~' is in no
    order id, so no other order's key can look like it)."""
    return order_id if revision == 0 else f"{order_id}~r{revision}"


@dataclass(frozen=True)
class Booking:
    """A shipment the carrier booked for an order."""

    order_id: str
    shipment_id: str
    tracking_number: str
    carrier: str

    def output(self) -> dict[str, Any]:
        return {
            "trackingNumber": self.tracking_number,
            "shipmentId": self.shipment_id,
            "carrier": self.carrier,
        }


class Carrier(Protocol):
    """The carrier's booking API; raises the service's named errors."""

    async def book(self, order: ShipOrder, *, idempotency_key: str) -> Booking: ...

    async def cancel(self, *, idempotency_key: str) -> str | None:
        """Cancel what ``idempotency_key`` booked; its shipment id, or None if it booked none."""
        ...


class Bookings(Protocol):
    """The service's own record of each order's booking."""

    async def get(self, order_id: str) -> Booking | None: ...

    async def save(self, booking: Booking) -> Booking:
        """Store ``booking`` unless the order has one; return the order's booking."""
        ...

    async def all(self) -> list[Booking]: ...


Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class Shipping:
    """BookShipment over a carrier and the bookings record."""

    def __init__(
        self,
        *,
        carrier: Carrier,
        bookings: Bookings,
        max_inline_wait_seconds: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._carrier = carrier
        self._bookings = bookings
        self._max_inline_wait = max_inline_wait_seconds
        self._sleep = sleep

    async def book(self, order: ShipOrder) -> dict[str, Any]:
        """Book the order's shipment once; the same tracking number for every repeat."""
        key = booking_key(order.order_id, order.shipment_revision)
        known = await self._bookings.get(key)
        if known is not None:
            return known.output()
        booking = await self._book_at_carrier(order, key)
        # Recorded under its key, so each revision of the shipment is recorded apart.
        return (await self._bookings.save(replace(booking, order_id=key))).output()

    async def cancel(self, order: CancelOrder) -> dict[str, Any]:
        """Cancel the order's shipment at the carrier (every revision of it), if it booked
        one; safe to repeat."""
        found: str | None = None
        for revision in range(order.shipment_revision, -1, -1):
            shipment_id = await self._cancel_at_carrier(booking_key(order.order_id, revision))
            found = found or shipment_id
        return {"cancelled": found is not None, "shipmentId": found}

    async def _cancel_at_carrier(self, key: str) -> str | None:
        return await self._within_rate_limit(lambda: self._carrier.cancel(idempotency_key=key))

    async def _book_at_carrier(self, order: ShipOrder, key: str) -> Booking:
        return await self._within_rate_limit(lambda: self._carrier.book(order, idempotency_key=key))

    async def _within_rate_limit(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except CarrierRateLimited as limited:
            wait = limited.retry_after_seconds
            if wait is None or wait > self._max_inline_wait:
                raise
        await self._sleep(wait)
        return await call()
