"""BookShipment as domain logic, over an in-memory carrier and bookings record."""

from __future__ import annotations

from typing import Any

import pytest

from services.book_shipment.errors import CarrierRateLimited, CarrierUnavailable, ShipmentRejected
from services.book_shipment.shipping import CancelOrder, ShipOrder, Shipping
from services.common.errors import InvalidOrder
from services.common.inputs import decode_input
from tests.services.shipping_fakes import FakeCarrier, MemoryBookings, RecordingSleep

ORDER: dict[str, Any] = {
    "orderId": "o-1",
    "items": [{"sku": "MUG", "qty": 2, "unitPrice": 900}],
    "address": {
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    },
    "payment": {"paymentIntentId": "pi_1"},
}


def ship_order(**changes: Any) -> ShipOrder:
    return decode_input(ShipOrder, {**ORDER, **changes}, command="book-shipment")


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def shipping(carrier: FakeCarrier, sleep: RecordingSleep) -> Shipping:
    return Shipping(
        carrier=carrier, bookings=MemoryBookings(), max_inline_wait_seconds=2.0, sleep=sleep
    )


async def test_a_booking_answers_what_the_definition_selects(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    answer = await shipping.book(ship_order())

    assert answer == {"trackingNumber": "TN00000001", "shipmentId": "shp_1", "carrier": "fake-post"}
    assert carrier.calls == [("o-1", "o-1")]


async def test_a_repeated_booking_answers_from_the_record_without_the_carrier(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    first = await shipping.book(ship_order())
    again = await shipping.book(ship_order())

    assert again == first
    assert len(carrier.calls) == 1


async def test_a_short_retry_after_is_waited_out_and_tried_once_more(
    shipping: Shipping, carrier: FakeCarrier, sleep: RecordingSleep
) -> None:
    carrier.script = [CarrierRateLimited("429", retry_after_seconds=1.0)]

    answer = await shipping.book(ship_order())

    assert answer["trackingNumber"] == "TN00000001"
    assert sleep.waits == [1.0]
    assert len(carrier.calls) == 2


async def test_a_second_429_after_the_wait_is_raised(
    shipping: Shipping, carrier: FakeCarrier, sleep: RecordingSleep
) -> None:
    carrier.script = [
        CarrierRateLimited("429", retry_after_seconds=2.0),
        CarrierRateLimited("429 again", retry_after_seconds=2.0),
    ]

    with pytest.raises(CarrierRateLimited, match="429 again"):
        await shipping.book(ship_order())
    assert sleep.waits == [2.0]
    assert len(carrier.calls) == 2


@pytest.mark.parametrize("retry_after", [None, 2.5, 60.0])
async def test_a_429_without_a_short_retry_after_is_left_to_the_definition(
    shipping: Shipping, carrier: FakeCarrier, sleep: RecordingSleep, retry_after: float | None
) -> None:
    carrier.script = [CarrierRateLimited("429", retry_after_seconds=retry_after)]

    with pytest.raises(CarrierRateLimited) as raised:
        await shipping.book(ship_order())
    assert raised.value.retry_after_seconds == retry_after
    assert sleep.waits == []
    assert len(carrier.calls) == 1


async def test_a_rejection_is_raised_and_nothing_is_recorded(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    carrier.script = [ShipmentRejected("address_rejected")]

    with pytest.raises(ShipmentRejected):
        await shipping.book(ship_order())
    answer = await shipping.book(ship_order())

    assert answer["trackingNumber"] == "TN00000001"


def cancel_order(order_id: str = "o-1") -> CancelOrder:
    return decode_input(CancelOrder, {**ORDER, "orderId": order_id}, command="cancel-shipment")


async def test_a_cancel_undoes_the_shipment_booked_under_the_order_id(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    booked = await shipping.book(ship_order())

    answer = await shipping.cancel(cancel_order())
    again = await shipping.cancel(cancel_order())

    assert answer == again == {"cancelled": True, "shipmentId": booked["shipmentId"]}
    assert carrier.cancelled == {booked["shipmentId"]}
    assert carrier.calls[-1] == ("cancel", "o-1")


async def test_a_cancel_asks_the_carrier_even_when_no_booking_was_recorded(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    # The carrier booked, but its answer never arrived: only the carrier knows.
    await carrier.book(ship_order(), idempotency_key="o-1")

    answer = await shipping.cancel(cancel_order())

    assert answer == {"cancelled": True, "shipmentId": "shp_1"}


async def test_a_cancel_of_an_order_never_booked_is_a_no_op(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    answer = await shipping.cancel(cancel_order("o-never"))

    assert answer == {"cancelled": False, "shipmentId": None}
    assert carrier.cancelled == set()


async def test_a_cancel_the_carrier_cannot_take_now_is_raised(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    carrier.script = [CarrierUnavailable("503")]

    with pytest.raises(CarrierUnavailable):
        await shipping.cancel(cancel_order())


async def test_a_corrected_address_is_booked_under_a_key_of_its_own_and_cancel_takes_both(
    shipping: Shipping, carrier: FakeCarrier
) -> None:
    first = await shipping.book(ship_order())
    moved = {**ORDER["address"], "line1": "1 New Street"}
    second = await shipping.book(ship_order(address=moved, shipmentRevision=1))
    again = await shipping.book(ship_order(address=moved, shipmentRevision=1))

    assert [key for _, key in carrier.calls] == ["o-1", "o-1~r1"]
    assert second == again and second["shipmentId"] != first["shipmentId"]
    revised = decode_input(
        CancelOrder, {**ORDER, "shipmentRevision": 1}, command="cancel-shipment"
    )
    answer = await shipping.cancel(revised)
    assert carrier.cancelled == {first["shipmentId"], second["shipmentId"]}
    assert answer == {"cancelled": True, "shipmentId": second["shipmentId"]}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"address": {"name": "A", "line1": "1 Road", "city": "X"}}, "address.postal_code"),
        ({"address": {**ORDER["address"], "country": "Britain"}}, "address.country"),
        ({"items": []}, "field 'items' invalid"),
        ({"orderId": "o" * 201}, "field 'orderId' invalid"),
    ],
)
def test_an_order_that_cannot_be_shipped_is_invalid_naming_the_field(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidOrder, match=problem):
        ship_order(**changes)
