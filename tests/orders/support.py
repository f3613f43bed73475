"""The fulfilment definition on a real broker, with fake services standing in for the four."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from services.order_view.app import serve
from services.order_view.settings import OrderViewSettings
from stepstream.messaging import Envelope
from stepstream.messaging.kafka import KafkaSettings
from stepstream.worker import CommandContext
from tests.integration.harness import System

DEFINITIONS = Path(__file__).parents[2] / "definitions"
GARBLED_LINE = "GARBLE"


class CarrierResponseMalformed(Exception):
    pass


async def register_fulfilment(system: System) -> None:
    await system.client.create_state_machine(
        "Fulfilment",
        (DEFINITIONS / "fulfilment.asl.json").read_text(),
        (DEFINITIONS / "fulfilment.bindings.json").read_text(),
    )


async def add_fake_services(system: System) -> None:
    """The four services as fakes; the carrier garbles its answer for line1 GARBLE."""

    async def charge(command: CommandContext) -> Any:
        order = command.input
        return {
            "paymentIntentId": f"pi_{order['orderId']}",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": "succeeded",
        }

    async def reserve(command: CommandContext) -> Any:
        return {"reservationId": f"rs_{command.input['orderId']}", "items": command.input["items"]}

    async def book(command: CommandContext) -> Any:
        order = command.input
        if order["address"]["line1"] == GARBLED_LINE:
            raise CarrierResponseMalformed("the carrier answered with half a page of HTML")
        return {"trackingNumber": f"TRK-{order['orderId']}", "shipmentId": "s1", "carrier": "sim"}

    async def emit(command: CommandContext) -> Any:
        order = command.input
        receipt = {
            "orderId": order["orderId"],
            "receiptId": f"rc_{order['orderId']}",
            "total": order["payment"]["amount"],
            "currency": order["currency"],
            "trackingNumber": order["shipment"]["trackingNumber"],
            "paymentIntentId": order["payment"]["paymentIntentId"],
        }
        envelope = Envelope(
            kind="receipt.emitted", execution_id=command.execution_id, payload=receipt
        )
        await system.client.publisher.publish(system.topics.receipts(), order["orderId"], envelope)
        return {"receiptId": receipt["receiptId"], "total": receipt["total"]}

    async def undo(command: CommandContext) -> Any:
        return {"undone": True}

    await system.add_worker("charge-payment", {"charge-payment": charge, "refund-payment": undo})
    await system.add_worker("reserve-stock", {"reserve-stock": reserve, "release-stock": undo})
    await system.add_worker("book-shipment", {"book-shipment": book})
    await system.add_worker("emit-receipt", {"emit-receipt": emit})


@contextlib.asynccontextmanager
async def order_view(
    kafka: KafkaSettings, store_url: str, prefix: str, data_dir: Path
) -> AsyncIterator[OrderViewSettings]:
    """The orders view process, running in this event loop."""
    settings = OrderViewSettings(
        kafka=kafka, topic_prefix=prefix, data_dir=data_dir, store_url=store_url
    )
    stop = asyncio.Event()
    process = asyncio.create_task(serve(settings, stop))
    try:
        yield settings
    finally:
        stop.set()
        await process
