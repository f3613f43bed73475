"""The book-shipment process: the worker, its handler, and the wiring of its parts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.book_shipment import BOOK_SHIPMENT, CANCEL_SHIPMENT, SERVICE
from services.book_shipment.bookings import DDL, SqlBookings
from services.book_shipment.carrier_api import CarrierApi
from services.book_shipment.settings import BookShipmentSettings
from services.book_shipment.shipping import CancelOrder, ShipOrder, Shipping
from services.common.inputs import decode_input
from services.common.running import serve_worker
from stepstream.messaging.bus import Bus
from stepstream.sql.database import open_database
from stepstream.worker import CommandContext, Worker, WorkerSettings


@dataclass(frozen=True)
class BookShipmentParts:
    """The wired service: the domain and the adapters it runs on."""

    shipping: Shipping
    bookings: SqlBookings
    carrier: CarrierApi


def build_worker(shipping: Shipping, *, settings: WorkerSettings, bus: Bus | None = None) -> Worker:
    """The worker serving BookShipment and CancelShipment with ``shipping``."""
    worker = Worker(name=SERVICE, settings=settings, bus=bus)

    @worker.handler(BOOK_SHIPMENT)
    async def book(cmd: CommandContext) -> dict[str, Any]:
        return await shipping.book(decode_input(ShipOrder, cmd.input, command=BOOK_SHIPMENT))

    @worker.handler(CANCEL_SHIPMENT)
    async def cancel(cmd: CommandContext) -> dict[str, Any]:
        order = decode_input(CancelOrder, cmd.input, command=CANCEL_SHIPMENT)
        return await shipping.cancel(order)

    return worker


@asynccontextmanager
async def bootstrap(settings: BookShipmentSettings) -> AsyncIterator[BookShipmentParts]:
    """Open the bookings database and the carrier client; close them afterwards."""
    carrier = CarrierApi(
        base_url=settings.carrier_url,
        api_key=settings.carrier_api_key.get_secret_value(),
        timeout_seconds=settings.carrier_timeout_seconds,
    )
    await carrier.start()
    try:
        database = await open_database(settings.database(), default_schema="book_shipment", ddl=DDL)
        try:
            bookings = SqlBookings(database)
            shipping = Shipping(
                carrier=carrier,
                bookings=bookings,
                max_inline_wait_seconds=settings.carrier_max_inline_wait_seconds,
            )
            yield BookShipmentParts(shipping, bookings, carrier)
        finally:
            await database.close()
    finally:
        await carrier.close()


async def serve(settings: BookShipmentSettings, stop: asyncio.Event) -> None:
    """Serve commands until ``stop`` is set."""
    async with bootstrap(settings) as parts:
        await serve_worker(build_worker(parts.shipping, settings=settings), stop)
