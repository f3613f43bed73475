"""ReserveStock and ReleaseStock as domain logic, over an inventory in memory."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.common.errors import InvalidOrder
from services.common.inputs import decode_input
from services.reserve_stock.errors import OutOfStock, ReservationConflict, ReservationReleased
from services.reserve_stock.inventory import (
    Line,
    ReleaseOrder,
    ReserveOrder,
    StockKeeper,
    order_lines,
)
from tests.services.inventory_fakes import MemoryInventory

ORDER: dict[str, Any] = {
    "orderId": "o-1",
    "items": [{"sku": "MUG", "qty": 2, "unitPrice": 900}],
    "amount": 1800,
}


def reserve_order(**changes: Any) -> ReserveOrder:
    return decode_input(ReserveOrder, {**ORDER, **changes}, command="reserve-stock")


def release_order(order_id: str = "o-1") -> ReleaseOrder:
    return decode_input(ReleaseOrder, {"orderId": order_id}, command="release-stock")


@pytest.fixture
async def inventory() -> MemoryInventory:
    inventory = MemoryInventory()
    await inventory.stock_up({"MUG": 3, "HAT": 1})
    return inventory


@pytest.fixture
def keeper(inventory: MemoryInventory) -> StockKeeper:
    numbers = itertools.count(1)
    return StockKeeper(inventory=inventory, new_id=lambda: f"res_{next(numbers)}")


async def test_a_reservation_answers_its_id_and_items(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    answer = await keeper.reserve(reserve_order())

    assert answer == {"reservationId": "res_1", "items": [{"sku": "MUG", "qty": 2}]}
    assert await inventory.stock() == {"HAT": 1, "MUG": 1}


async def test_a_repeated_reservation_answers_the_same_and_takes_nothing_more(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    first = await keeper.reserve(reserve_order())
    again = await keeper.reserve(reserve_order())

    assert again == first
    assert (await inventory.stock())["MUG"] == 1


async def test_an_order_that_cannot_be_met_is_out_of_stock_naming_sku_and_availability(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    order = reserve_order(items=[{"sku": "MUG", "qty": 2}, {"sku": "HAT", "qty": 4}])

    with pytest.raises(OutOfStock, match="order o-1 cannot be met: SKU 'HAT': 4 wanted, 1 avail"):
        await keeper.reserve(order)
    with pytest.raises(OutOfStock):
        await keeper.reserve(order)

    assert await inventory.stock() == {"HAT": 1, "MUG": 3}


async def test_release_answers_what_was_put_back_and_only_the_first_puts_it_back(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    await keeper.reserve(reserve_order())

    first = await keeper.release(release_order())
    again = await keeper.release(release_order())

    assert first == {
        "orderId": "o-1",
        "reservationId": "res_1",
        "action": "released",
        "items": [{"sku": "MUG", "qty": 2}],
    }
    assert again == {**first, "action": "already-released"}
    assert (await inventory.stock())["MUG"] == 3


async def test_releasing_an_order_that_reserved_nothing_is_a_no_op(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    answer = await keeper.release(release_order())

    assert answer == {"orderId": "o-1", "reservationId": None, "action": "none", "items": []}
    assert await inventory.stock() == {"HAT": 1, "MUG": 3}


async def test_a_reservation_after_its_release_is_refused(
    keeper: StockKeeper, inventory: MemoryInventory
) -> None:
    await keeper.release(release_order())

    with pytest.raises(ReservationReleased, match="order o-1"):
        await keeper.reserve(reserve_order())
    assert await inventory.stock() == {"HAT": 1, "MUG": 3}


async def test_the_same_order_asking_for_other_items_is_a_conflict(keeper: StockKeeper) -> None:
    await keeper.reserve(reserve_order())

    with pytest.raises(ReservationConflict, match="this command asks for"):
        await keeper.reserve(reserve_order(items=[{"sku": "HAT", "qty": 1}]))


def test_an_order_naming_a_sku_twice_asks_for_their_sum() -> None:
    order = reserve_order(items=[{"sku": "MUG", "qty": 1}, {"sku": "HAT", "qty": 1}] * 2)

    assert order_lines(order.items) == (Line("HAT", 2), Line("MUG", 2))


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([], "field 'items' invalid"),
        ([{"sku": "MUG", "qty": 0}], "field 'items.0.qty' invalid"),
        ([{"qty": 1}], "field 'items.0.sku' missing"),
    ],
)
def test_items_that_cannot_be_reserved_are_an_invalid_order(
    items: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(InvalidOrder, match=problem):
        reserve_order(items=items)
