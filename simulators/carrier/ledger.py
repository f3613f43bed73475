"""The carrier's book of shipments: bookings, idempotency keys and cancellations.

All of it lives in memory and every method runs without awaiting, so on one event loop a
check-then-book can never interleave with another request's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import Shipment, ShipmentRequest, ShipmentStatus

CARRIER_NAME = "stepstream-post"

# Weights of the UPU S10 check digit, the scheme of international postal tracking numbers.
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_tracking_number(serial: int, prefix: str = "SS", country: str = "XX") -> str:
    """A tracking number in the S10 form: two letters, eight digits, a check digit, country."""
    digits = f"{serial % 100_000_000:08d}"
    remainder = sum(int(d) * w for d, w in zip(digits, _S10_WEIGHTS, strict=True)) % 11
    check = {0: 5, 1: 0}.get(remainder, 11 - remainder)
    return f"{prefix}{digits}{check}{country}"


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request body."""


class ShipmentNotFound(Exception):
    """No shipment has that id, or the idempotency key booked none."""


class KeyCancelled(Exception):
    """The idempotency key was cancelled before it booked anything; it books nothing now."""


@dataclass(frozen=True, slots=True)
class Booking:
    """The result of a booking request: the shipment and whether it is a replay."""

    shipment: Shipment
    replayed: bool


class ShipmentLedger:
    """Every shipment the carrier booked, with the idempotency keys that booked them."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._shipments: dict[str, Shipment] = {}
        self._by_key: dict[str, tuple[str, str]] = {}
        self._voided_keys: set[str] = set()
        # A random start keeps tracking numbers of two simulator runs apart.
        self._serial = secrets.randbelow(50_000_000)

    def book(
        self, request: ShipmentRequest, *, idempotency_key: str | None, label_base: str
    ) -> Booking:
        """Book a shipment, or return the one this idempotency key booked before.

        Raises IdempotencyConflict when the key was used with a different body, and
        KeyCancelled when it was cancelled before it booked anything.
        """
        if idempotency_key is not None and idempotency_key in self._voided_keys:
            raise KeyCancelled(idempotency_key)
        fingerprint = request.fingerprint()
        if idempotency_key is not None and idempotency_key in self._by_key:
            known_fingerprint, shipment_id = self._by_key[idempotency_key]
            if known_fingerprint != fingerprint:
                raise IdempotencyConflict(idempotency_key)
            return Booking(self._shipments[shipment_id], replayed=True)
        shipment = self._new_shipment(request, label_base)
        self._shipments[shipment.shipment_id] = shipment
        if idempotency_key is not None:
            self._by_key[idempotency_key] = (fingerprint, shipment.shipment_id)
        return Booking(shipment, replayed=False)

    def get(self, shipment_id: str) -> Shipment:
        try:
            return self._shipments[shipment_id]
        except KeyError:
            raise ShipmentNotFound(shipment_id) from None

    def cancel(self, shipment_id: str) -> Shipment:
        """Cancel a shipment; cancelling it again changes nothing and returns it as it is."""
        shipment = self.get(shipment_id)
        if shipment.status is ShipmentStatus.CANCELLED:
            return shipment
        cancelled = shipment.model_copy(
            update={"status": ShipmentStatus.CANCELLED, "cancelled_at": self._now()}
        )
        self._shipments[shipment_id] = cancelled
        return cancelled

    def cancel_by_key(self, idempotency_key: str) -> Shipment:
        """Cancel the shipment ``idempotency_key`` booked, as often as asked.

        A key that booked nothing raises ShipmentNotFound and is voided, so a booking with
        it still on its way (the client gave up on it) cannot book after its cancellation.
        """
        known = self._by_key.get(idempotency_key)
        if known is None:
            self._voided_keys.add(idempotency_key)
            raise ShipmentNotFound(idempotency_key)
        return self.cancel(known[1])

    def all(self) -> list[Shipment]:
        """Every shipment in booking order."""
        return list(self._shipments.values())

    @property
    def booked_count(self) -> int:
        return len(self._shipments)

    @property
    def cancelled_count(self) -> int:
        return sum(s.status is ShipmentStatus.CANCELLED for s in self._shipments.values())

    def _new_shipment(self, request: ShipmentRequest, label_base: str) -> Shipment:
        self._serial += 1
        shipment_id = f"shp_{secrets.token_hex(12)}"
        return Shipment(
            shipment_id=shipment_id,
            tracking_number=s10_tracking_number(self._serial),
            carrier=CARRIER_NAME,
            status=ShipmentStatus.BOOKED,
            order_id=request.order_id,
            reference=request.reference,
            service_level=request.service_level,
            address=request.address,
            parcels=request.parcels,
            label_url=f"{label_base}/v1/shipments/{shipment_id}/label",
            created_at=self._now(),
        )
