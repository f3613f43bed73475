"""What every inventory must do, whatever holds it; run against each by subclassing.

A subclass provides ``inventories``: a factory of inventories over the same storage (new
connections each time where there are connections), so races between processes can be
staged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from services.reserve_stock.inventory import Inventory, Line, ReservationStatus

Inventories = Callable[[], Awaitable[Inventory]]

MUG, HAT = Line("MUG", 2), Line("HAT", 1)


class InventoryContract:
    @pytest.fixture
    async def inventory(self, inventories: Inventories) -> Inventory:
        made = await inventories()
        await made.stock_up({"MUG": 5, "HAT": 1})
        return made

    async def test_stock_up_sets_only_skus_not_known_yet(self, inventory: Inventory) -> None:
        await inventory.reserve("o-1", [MUG], reservation_id="r-1")

        applied = await inventory.stock_up({"MUG": 5, "SCARF": 7})

        assert applied == {"SCARF": 7}
        assert await inventory.stock() == {"HAT": 1, "MUG": 3, "SCARF": 7}

    async def test_a_reservation_takes_every_line_from_stock(self, inventory: Inventory) -> None:
        reservation = await inventory.reserve("o-1", [HAT, MUG], reservation_id="r-1")

        assert reservation.status is ReservationStatus.RESERVED
        assert (reservation.reservation_id, reservation.lines) == ("r-1", (HAT, MUG))
        assert await inventory.stock() == {"HAT": 0, "MUG": 3}

    async def test_reserving_again_returns_the_same_reservation_and_takes_nothing(
        self, inventory: Inventory
    ) -> None:
        first = await inventory.reserve("o-1", [MUG], reservation_id="r-1")
        again = await inventory.reserve("o-1", [MUG], reservation_id="r-2")

        assert again == first
        assert (await inventory.stock())["MUG"] == 3

    async def test_a_reservation_is_all_or_nothing_and_its_rejection_stands(
        self, inventory: Inventory
    ) -> None:
        rejected = await inventory.reserve("o-1", [Line("HAT", 2), MUG], reservation_id="r-1")

        assert rejected.status is ReservationStatus.REJECTED
        assert rejected.cause is not None and "'HAT': 2 wanted, 1 available" in rejected.cause
        assert await inventory.stock() == {"HAT": 1, "MUG": 5}
        await inventory.stock_up({"BAG": 1})
        assert await inventory.reserve("o-1", [Line("HAT", 2), MUG], reservation_id="r-2") == (
            rejected
        )

    async def test_a_sku_never_stocked_is_named_in_the_rejection(
        self, inventory: Inventory
    ) -> None:
        rejected = await inventory.reserve("o-1", [Line("UMBRELLA", 1)], reservation_id="r-1")

        assert rejected.status is ReservationStatus.REJECTED
        assert rejected.cause is not None and "'UMBRELLA': 1 wanted, not stocked" in rejected.cause

    async def test_release_puts_back_exactly_what_the_order_took_once(
        self, inventory: Inventory
    ) -> None:
        await inventory.reserve("o-1", [HAT, MUG], reservation_id="r-1")
        await inventory.reserve("o-2", [Line("MUG", 1)], reservation_id="r-2")

        first = await inventory.release("o-1")
        again = await inventory.release("o-1")

        assert first.released_now and not again.released_now
        assert first.reservation.status is ReservationStatus.RELEASED
        assert first.reservation.lines == (HAT, MUG)
        assert again.reservation == first.reservation
        assert await inventory.stock() == {"HAT": 1, "MUG": 4}

    async def test_releasing_an_order_that_reserved_nothing_voids_it(
        self, inventory: Inventory
    ) -> None:
        release = await inventory.release("o-1")

        assert not release.released_now
        assert release.reservation.status is ReservationStatus.VOID
        late = await inventory.reserve("o-1", [MUG], reservation_id="r-late")
        assert late.status is ReservationStatus.VOID
        assert await inventory.stock() == {"HAT": 1, "MUG": 5}

    async def test_a_rejected_reservation_releases_nothing(self, inventory: Inventory) -> None:
        await inventory.reserve("o-1", [Line("MUG", 9)], reservation_id="r-1")

        release = await inventory.release("o-1")

        assert not release.released_now
        assert release.reservation.status is ReservationStatus.REJECTED
        assert await inventory.stock() == {"HAT": 1, "MUG": 5}

    async def test_orders_racing_for_the_last_units_cannot_all_win(
        self, inventories: Inventories
    ) -> None:
        first, second = await inventories(), await inventories()
        await first.stock_up({"LAST": 3})

        outcomes = await asyncio.gather(
            *(
                (first if n % 2 else second).reserve(
                    f"o-{n}", [Line("LAST", 1)], reservation_id=f"r-{n}"
                )
                for n in range(8)
            )
        )

        statuses = [outcome.status for outcome in outcomes]
        assert statuses.count(ReservationStatus.RESERVED) == 3
        assert statuses.count(ReservationStatus.REJECTED) == 5
        assert (await first.stock())["LAST"] == 0

    async def test_one_order_reserved_from_two_places_at_once_takes_stock_once(
        self, inventories: Inventories
    ) -> None:
        first, second = await inventories(), await inventories()
        await first.stock_up({"MUG": 5})

        one, other = await asyncio.gather(
            first.reserve("o-1", [MUG], reservation_id="r-a"),
            second.reserve("o-1", [MUG], reservation_id="r-b"),
        )

        assert one == other
        assert (await first.stock())["MUG"] == 3

    async def test_releases_at_once_put_stock_back_once(self, inventories: Inventories) -> None:
        first, second = await inventories(), await inventories()
        await first.stock_up({"MUG": 5})
        await first.reserve("o-1", [MUG], reservation_id="r-1")

        releases = await asyncio.gather(first.release("o-1"), second.release("o-1"))

        assert sorted(release.released_now for release in releases) == [False, True]
        assert (await first.stock())["MUG"] == 5

    async def test_reservations_are_listed_with_their_lines_and_states(
        self, inventory: Inventory
    ) -> None:
        await inventory.reserve("o-1", [MUG], reservation_id="r-1")
        await inventory.reserve("o-2", [Line("HAT", 3)], reservation_id="r-2")
        await inventory.release("o-3")

        listed = {r.order_id: (r.status, r.lines) for r in await inventory.reservations()}

        assert listed == {
            "o-1": (ReservationStatus.RESERVED, (MUG,)),
            "o-2": (ReservationStatus.REJECTED, (Line("HAT", 3),)),
            "o-3": (ReservationStatus.VOID, ()),
        }
