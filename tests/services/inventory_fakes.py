"""An inventory in memory that keeps the same contract as the database ones."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace

from services.reserve_stock.inventory import (
    Line,
    Release,
    Reservation,
    ReservationStatus,
    plan_reservation,
)


class MemoryInventory:
    """``Inventory`` in dicts; one lock stands for the database's transaction."""

    def __init__(self) -> None:
        self.levels: dict[str, int] = {}
        self.by_order: dict[str, Reservation] = {}
        self._lock = asyncio.Lock()

    async def reserve(
        self, order_id: str, lines: Sequence[Line], *, reservation_id: str
    ) -> Reservation:
        async with self._lock:
            await asyncio.sleep(0)  # other tasks run meanwhile, as with a database
            found = self.by_order.get(order_id)
            if found is not None:
                return found
            reservation = plan_reservation(order_id, reservation_id, lines, self.levels)
            if reservation.status is ReservationStatus.RESERVED:
                for line in lines:
                    self.levels[line.sku] -= line.qty
            self.by_order[order_id] = reservation
            return reservation

    async def release(self, order_id: str) -> Release:
        async with self._lock:
            await asyncio.sleep(0)
            found = self.by_order.get(order_id)
            if found is None:
                void = Reservation(order_id, None, ReservationStatus.VOID)
                self.by_order[order_id] = void
                return Release(void, False)
            if found.status is not ReservationStatus.RESERVED:
                return Release(found, False)
            for line in found.lines:
                self.levels[line.sku] += line.qty
            released = replace(found, status=ReservationStatus.RELEASED)
            self.by_order[order_id] = released
            return Release(released, True)

    async def stock(self) -> dict[str, int]:
        return dict(sorted(self.levels.items()))

    async def reservations(self) -> list[Reservation]:
        return [self.by_order[key] for key in sorted(self.by_order)]

    async def stock_up(self, levels: Mapping[str, int]) -> dict[str, int]:
        async with self._lock:
            applied = {sku: qty for sku, qty in sorted(levels.items()) if sku not in self.levels}
            self.levels.update(applied)
            return applied
