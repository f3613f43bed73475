"""book-shipment against the carrier simulator, each fault at rate 1.0.

The simulator's own book (``/_admin/shipments``) and counts (``/_admin/stats``) are the
proof of what the carrier did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.book_shipment.bookings import DDL, SqlBookings
from services.book_shipment.carrier_api import CarrierApi, retry_after_seconds
from services.book_shipment.errors import (
    CarrierRateLimited,
    CarrierRequestRefused,
    CarrierResponseMalformed,
    CarrierTimeout,
    CarrierUnavailable,
    ShipmentRejected,
)
from services.book_shipment.shipping import ShipOrder, Shipping
from services.common.inputs import decode_input
from simulators.carrier import CarrierSimulator, Shipment
from simulators.carrier.admin import clear_faults, set_faults, shipments, stats
from simulators.carrier.stats import Outcome
from stepstream.sql.database import open_database
from tests.services.shipping_fakes import RecordingSleep
from tests.services.test_book_shipment import ORDER

API_KEY = "carrier-key-for-tests"
CLIENT_TIMEOUT = 0.5


def ship_order(**changes: Any) -> ShipOrder:
    return decode_input(ShipOrder, {**ORDER, **changes}, command="book-shipment")


@pytest.fixture
async def simulator() -> AsyncIterator[CarrierSimulator]:
    async with CarrierSimulator(api_key=API_KEY, seed=11) as running:
        yield running


@pytest.fixture
async def carrier(simulator: CarrierSimulator) -> AsyncIterator[CarrierApi]:
    api = CarrierApi(base_url=simulator.url, api_key=API_KEY, timeout_seconds=CLIENT_TIMEOUT)
    await api.start()
    try:
        yield api
    finally:
        await api.close()


async def booked(simulator: CarrierSimulator) -> list[Shipment]:
    return await shipments(simulator.url)


async def test_a_booking_returns_the_carriers_shipment_booked_under_the_order_id(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    booking = await carrier.book(ship_order(), idempotency_key="o-1")

    [shipment] = await booked(simulator)
    assert (booking.shipment_id, booking.tracking_number, booking.carrier) == (
        shipment.shipment_id,
        shipment.tracking_number,
        shipment.carrier,
    )
    assert shipment.order_id == "o-1"
    assert [(p.sku, p.qty) for p in shipment.parcels] == [("MUG", 2)]


async def test_the_same_key_again_is_the_same_shipment(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    first = await carrier.book(ship_order(), idempotency_key="o-1")
    again = await carrier.book(ship_order(), idempotency_key="o-1")

    assert again == first
    assert len(await booked(simulator)) == 1


async def test_a_429_is_carrier_rate_limited_with_its_retry_after(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_429=1.0, retry_after_seconds=7)

    with pytest.raises(CarrierRateLimited, match="Retry-After 7 s") as raised:
        await carrier.book(ship_order(), idempotency_key="o-1")

    assert raised.value.retry_after_seconds == 7.0
    assert await booked(simulator) == []


async def test_a_429_without_retry_after_has_none(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_429=1.0)

    with pytest.raises(CarrierRateLimited) as raised:
        await carrier.book(ship_order(), idempotency_key="o-1")

    assert raised.value.retry_after_seconds is None


async def test_a_short_retry_after_is_waited_out_once_then_raised(
    carrier: CarrierApi, simulator: CarrierSimulator, tmp_path: Path
) -> None:
    await set_faults(simulator.url, rate_429=1.0, retry_after_seconds=1)
    database = await open_database(f"sqlite:///{tmp_path / 'b.db'}", default_schema="x", ddl=DDL)
    sleep = RecordingSleep()
    shipping = Shipping(carrier=carrier, bookings=SqlBookings(database), sleep=sleep)
    try:
        with pytest.raises(CarrierRateLimited):
            await shipping.book(ship_order())
    finally:
        await database.close()

    assert sleep.waits == [1.0]
    assert (await stats(simulator.url)).outcomes[Outcome.RATE_LIMITED] == 2


async def test_a_503_is_carrier_unavailable(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_503=1.0)

    with pytest.raises(CarrierUnavailable, match="503"):
        await carrier.book(ship_order(), idempotency_key="o-1")
    assert await booked(simulator) == []


async def test_a_slow_answer_is_carrier_timeout_and_the_retry_finds_the_booking(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_timeout=1.0, timeout_delay_seconds=5 * CLIENT_TIMEOUT)

    with pytest.raises(CarrierTimeout, match=f"within {CLIENT_TIMEOUT:g} s"):
        await carrier.book(ship_order(), idempotency_key="o-1")
    await clear_faults(simulator.url)
    booking = await carrier.book(ship_order(), idempotency_key="o-1")

    [shipment] = await booked(simulator)
    assert booking.tracking_number == shipment.tracking_number


async def test_a_booking_whose_answer_came_too_late_is_cancelled_by_its_key(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_timeout=1.0, timeout_delay_seconds=5 * CLIENT_TIMEOUT)
    with pytest.raises(CarrierTimeout):
        await carrier.book(ship_order(), idempotency_key="o-1")
    await clear_faults(simulator.url)

    cancelled = await carrier.cancel(idempotency_key="o-1")
    again = await carrier.cancel(idempotency_key="o-1")

    [shipment] = await booked(simulator)
    assert cancelled == again == shipment.shipment_id
    assert shipment.status == "cancelled"
    assert (await stats(simulator.url)).cancelled == 1


async def test_a_cancel_of_a_key_that_booked_nothing_answers_none(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    assert await carrier.cancel(idempotency_key="o-never") is None
    assert (await stats(simulator.url)).cancelled == 0


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ({"rate_429": 1.0, "retry_after_seconds": 30}, CarrierRateLimited),
        ({"rate_503": 1.0}, CarrierUnavailable),
        ({"rate_timeout": 1.0, "timeout_delay_seconds": 5 * CLIENT_TIMEOUT}, CarrierTimeout),
        ({"rate_malformed": 1.0, "malformed_kinds": ["html"]}, CarrierResponseMalformed),
    ],
)
async def test_a_cancel_the_carrier_did_not_confirm_is_an_error(
    carrier: CarrierApi, simulator: CarrierSimulator, faults: dict[str, Any], error: type[Exception]
) -> None:
    await carrier.book(ship_order(), idempotency_key="o-1")
    await set_faults(simulator.url, **faults)

    with pytest.raises(error):
        await carrier.cancel(idempotency_key="o-1")


@pytest.mark.parametrize("kind", ["truncated_json", "html", "wrong_fields"])
async def test_a_garbled_answer_is_malformed_and_the_retry_finds_the_booking(
    carrier: CarrierApi, simulator: CarrierSimulator, kind: str
) -> None:
    await set_faults(simulator.url, rate_malformed=1.0, malformed_kinds=[kind])

    with pytest.raises(CarrierResponseMalformed, match="not a shipment"):
        await carrier.book(ship_order(), idempotency_key="o-1")
    await clear_faults(simulator.url)
    booking = await carrier.book(ship_order(), idempotency_key="o-1")

    [shipment] = await booked(simulator)
    assert booking.tracking_number == shipment.tracking_number


async def test_an_injected_rejection_is_shipment_rejected(
    carrier: CarrierApi, simulator: CarrierSimulator
) -> None:
    await set_faults(simulator.url, rate_reject=1.0)

    with pytest.raises(ShipmentRejected, match="order o-1"):
        await carrier.book(ship_order(), idempotency_key="o-1")
    assert await booked(simulator) == []


async def test_an_address_the_carrier_does_not_serve_is_shipment_rejected(
    carrier: CarrierApi,
) -> None:
    address = {**ORDER["address"], "country": "JP", "postal_code": "100-0001"}

    with pytest.raises(ShipmentRejected, match="'JP' is not served"):
        await carrier.book(ship_order(address=address), idempotency_key="o-1")


async def test_a_wrong_api_key_is_refused(simulator: CarrierSimulator) -> None:
    api = CarrierApi(base_url=simulator.url, api_key="not-the-key", timeout_seconds=2)
    await api.start()
    try:
        with pytest.raises(CarrierRequestRefused, match="401 unauthorized"):
            await api.book(ship_order(), idempotency_key="o-1")
    finally:
        await api.close()


async def test_the_same_key_with_another_order_body_is_refused(carrier: CarrierApi) -> None:
    await carrier.book(ship_order(), idempotency_key="o-1")

    with pytest.raises(CarrierRequestRefused, match="409 idempotency_conflict"):
        await carrier.book(ship_order(items=[{"sku": "HAT", "qty": 1}]), idempotency_key="o-1")


async def test_an_unreachable_carrier_is_carrier_unavailable() -> None:
    stopped = CarrierSimulator(api_key=API_KEY)
    await stopped.start()
    url = stopped.url
    await stopped.stop()
    api = CarrierApi(base_url=url, api_key=API_KEY, timeout_seconds=2)
    await api.start()
    try:
        with pytest.raises(CarrierUnavailable, match="could not be reached"):
            await api.book(ship_order(), idempotency_key="o-1")
    finally:
        await api.close()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("Wed, 01 Jan 2031 00:00:10 GMT", 10.0),
        ("Wed, 01 Jan 2031 00:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_a_date(
    header: str | None, seconds: float | None
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    response = httpx.Response(429, headers=headers)
    now = datetime(2031, 1, 1, tzinfo=UTC)

    assert retry_after_seconds(response, now=now) == seconds
