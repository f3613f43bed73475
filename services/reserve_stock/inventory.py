"""Reserving and releasing stock per order, apart from any database.

An order has at most one reservation, and its row is written whatever the outcome:
``reserved`` (stock taken), ``rejected`` (out of stock, nothing taken), ``released``
(stock put back) or ``void`` (released before anything was reserved). So every repeat
of ReserveStock answers as the first did, ReleaseStock puts stock back once, and a
ReserveStock arriving after its order was compensated cannot take stock any more.

The decision itself (``plan_reservation``) is a pure function here; an ``Inventory``
adapter runs it on the stock it has locked, in one transaction.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from pydantic import Field

from services.common.inputs import OrderInput
from services.reserve_stock.errors import OutOfStock, ReservationConflict, ReservationReleased


class OrderItem(OrderInput):
    sku: str = Field(min_length=1)
    qty: int = Field(ge=1)


class ReserveOrder(OrderInput):
    """What ReserveStock reads from the order."""

    order_id: str = Field(alias="orderId", min_length=1)
    items: list[OrderItem] = Field(min_length=1)


class ReleaseOrder(OrderInput):
    """What ReleaseStock reads from the order."""

    order_id: str = Field(alias="orderId", min_length=1)


@dataclass(frozen=True, order=True)
class Line:
    sku: str
    qty: int


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    REJECTED = "rejected"
    RELEASED = "released"
    VOID = "void"


@dataclass(frozen=True)
class Reservation:
    """An order's reservation; ``lines`` are what it asked for, one per SKU."""

    order_id: str
    reservation_id: str | None
    status: ReservationStatus
    lines: tuple[Line, ...] = ()
    cause: str | None = None


@dataclass(frozen=True)
class Release:
    """What ReleaseStock found, and whether this call put stock back."""

    reservation: Reservation
    released_now: bool


@dataclass(frozen=True)
class Shortfall:
    sku: str
    wanted: int
    available: int | None  # None: the SKU is not stocked at all


class Inventory(Protocol):
    """Stock per SKU and one reservation per order, changed atomically."""

    async def reserve(
        self, order_id: str, lines: Sequence[Line], *, reservation_id: str
    ) -> Reservation:
        """The order's reservation if it has one; else ``plan_reservation`` on the current
        stock, applied and stored (stock taken only if reserved)."""
        ...

    async def release(self, order_id: str) -> Release:
        """Put back what the order reserved, once; mark an order without a reservation void."""
        ...

    async def stock(self) -> dict[str, int]:
        """Units available per SKU."""
        ...

    async def reservations(self) -> list[Reservation]:
        """Every reservation, by order id."""
        ...

    async def stock_up(self, levels: Mapping[str, int]) -> dict[str, int]:
        """Set the stock of SKUs not known yet; return the levels that were applied."""
        ...


def order_lines(items: Iterable[OrderItem]) -> tuple[Line, ...]:
    """One line per SKU (quantities of repeated SKUs added up), sorted by SKU."""
    wanted: Counter[str] = Counter()
    for item in items:
        wanted[item.sku] += item.qty
    return tuple(sorted(Line(sku, qty) for sku, qty in wanted.items()))


def shortfalls(lines: Sequence[Line], available: Mapping[str, int]) -> list[Shortfall]:
    """The lines that stock cannot meet."""
    return [
        Shortfall(line.sku, line.qty, available.get(line.sku))
        for line in lines
        if available.get(line.sku, 0) < line.qty
    ]


def out_of_stock_cause(order_id: str, short: Sequence[Shortfall]) -> str:
    parts = [
        f"SKU {s.sku!r}: {s.wanted} wanted, "
        + ("not stocked" if s.available is None else f"{s.available} available")
        for s in short
    ]
    return f"order {order_id} cannot be met: " + "; ".join(parts)


def plan_reservation(
    order_id: str, reservation_id: str, lines: Sequence[Line], available: Mapping[str, int]
) -> Reservation:
    """All lines reserved, or none: a rejection naming every SKU that falls short."""
    short = shortfalls(lines, available)
    if short:
        return Reservation(
            order_id,
            reservation_id,
            ReservationStatus.REJECTED,
            tuple(lines),
            out_of_stock_cause(order_id, short),
        )
    return Reservation(order_id, reservation_id, ReservationStatus.RESERVED, tuple(lines))


def lines_output(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "qty": line.qty} for line in lines]


def check_reserved(reservation: Reservation, lines: Sequence[Line]) -> Reservation:
    """``reservation`` if it holds ``lines``; else the named error its state calls for."""
    match reservation.status:
        case ReservationStatus.REJECTED:
            raise OutOfStock(reservation.cause or f"order {reservation.order_id} is out of stock")
        case ReservationStatus.RELEASED | ReservationStatus.VOID:
            raise ReservationReleased(
                f"order {reservation.order_id}: its stock was released "
                f"({reservation.status.value}); it is not reserved again"
            )
    if reservation.lines != tuple(lines):
        raise ReservationConflict(
            f"order {reservation.order_id} reserved {lines_output(reservation.lines)}; "
            f"this command asks for {lines_output(lines)}"
        )
    return reservation


def new_reservation_id() -> str:
    return f"res_{uuid.uuid4().hex[:24]}"


class StockKeeper:
    """ReserveStock and ReleaseStock over an ``Inventory``."""

    def __init__(
        self, *, inventory: Inventory, new_id: Callable[[], str] = new_reservation_id
    ) -> None:
        self._inventory = inventory
        self._new_id = new_id

    async def reserve(self, order: ReserveOrder) -> dict[str, Any]:
        """Reserve every item of the order, or raise OutOfStock; the same answer every time."""
        lines = order_lines(order.items)
        reservation = await self._inventory.reserve(
            order.order_id, lines, reservation_id=self._new_id()
        )
        reserved = check_reserved(reservation, lines)
        return {"reservationId": reserved.reservation_id, "items": lines_output(reserved.lines)}

    async def release(self, order: ReleaseOrder) -> dict[str, Any]:
        """Put back what the order reserved, once; nothing for an order that reserved nothing."""
        release = await self._inventory.release(order.order_id)
        reservation = release.reservation
        held = reservation.status is ReservationStatus.RELEASED
        if release.released_now:
            action = "released"
        elif held:
            action = "already-released"
        else:
            action = "none"
        return {
            "orderId": order.order_id,
            "reservationId": reservation.reservation_id,
            "action": action,
            "items": lines_output(reservation.lines) if held else [],
        }
