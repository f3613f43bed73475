"""Duplicated commands over the real broker change the world once.

Each command is delivered three times: once, again as the very same message (a
redelivery after a crash), and once more as a new command with the same idempotency
key (the orchestrator's retry of the state). The simulators' and databases' own books
are the proof.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from services.reserve_stock.inventory import ReservationStatus
from simulators.carrier.admin import shipments
from stepstream.broker import EmbeddedBroker
from stepstream.messaging.envelope import Envelope
from tests.messaging.support import eventually
from tests.services.conftest import kafka_settings
from tests.services.system import ServiceStack, order, running_services

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceStack]:
    async with running_services(kafka_settings(broker), tmp_path_factory.mktemp("data")) as stack:
        yield stack


async def thrice(
    services: ServiceStack, service: str, command: str, document: dict[str, Any]
) -> list[Any]:
    """Deliver a command three ways and return the three outputs."""
    commands = services.commands
    execution = f"exec-{document['orderId']}"
    key = f"{execution}#{command}"
    first = await commands.send(service, command, document, execution_id=execution)
    await commands.resend(service, first)
    retry = await commands.send(
        service, command, document, execution_id=execution, idempotency_key=key
    )
    answers = [*await commands.answers(first, 2), await commands.answer(retry)]
    return [_output(answer) for answer in answers]


def _output(reply: Envelope) -> Any:
    assert reply.kind == "task.succeeded", reply.payload
    return reply.payload["output"]


def _paid(services: ServiceStack, order_id: str) -> list[Any]:
    ledger = services.standin.ledger()
    return [e for e in ledger.payment_intents if e.metadata.get("order_id") == order_id]


async def test_a_duplicated_charge_charges_once(services: ServiceStack) -> None:
    answers = await thrice(services, "charge-payment", "charge-payment", order("i-charge"))

    assert answers[0] == answers[1] == answers[2]
    [entry] = _paid(services, "i-charge")
    assert (entry.captured, entry.charge_attempts) == (1800, 1)


async def test_a_duplicated_reservation_reserves_once(services: ServiceStack) -> None:
    before = (await services.stock.inventory.stock())["MUG"]

    answers = await thrice(services, "reserve-stock", "reserve-stock", order("i-reserve"))

    assert answers[0] == answers[1] == answers[2]
    assert (await services.stock.inventory.stock())["MUG"] == before - 2
    mine = [r for r in await services.stock.inventory.reservations() if r.order_id == "i-reserve"]
    assert [r.status for r in mine] == [ReservationStatus.RESERVED]


async def test_a_duplicated_booking_books_once(services: ServiceStack) -> None:
    answers = await thrice(services, "book-shipment", "book-shipment", order("i-book"))

    assert answers[0] == answers[1] == answers[2]
    booked = [s for s in await shipments(services.carrier.url) if s.order_id == "i-book"]
    assert [s.tracking_number for s in booked] == [answers[0]["trackingNumber"]]


async def test_a_duplicated_receipt_is_written_once_and_its_event_repeated_alike(
    services: ServiceStack,
) -> None:
    document = order(
        "i-receipt",
        payment={"paymentIntentId": "pi_i", "amount": 1800, "currency": "eur"},
        shipment={"trackingNumber": "TNI", "shipmentId": "shp_i", "carrier": "post"},
    )

    answers = await thrice(services, "emit-receipt", "emit-receipt", document)

    assert answers[0] == answers[1] == answers[2]
    receipts = [r for r in await services.receipts.book.all() if r.order_id == "i-receipt"]
    assert [r.receipt_id for r in receipts] == [answers[0]["receiptId"]]
    events = await eventually(
        lambda: (
            found
            if len(found := [e for e in services.events() if e.payload["orderId"] == "i-receipt"])
            >= 3
            else None
        )
    )
    assert all(event.payload == events[0].payload for event in events)


async def test_a_repeated_compensation_refunds_and_releases_once(services: ServiceStack) -> None:
    document = order("i-undo", items=[{"sku": "SCARF", "qty": 2}])
    charged = (await thrice(services, "charge-payment", "charge-payment", document))[0]
    await thrice(services, "reserve-stock", "reserve-stock", document)
    stocked = (await services.stock.inventory.stock())["SCARF"]
    compensation = {**document, "payment": charged, "errorInfo": {"Error": "ShipmentRejected"}}

    refunds, releases = await asyncio.gather(
        thrice(services, "charge-payment", "refund-payment", compensation),
        thrice(services, "reserve-stock", "release-stock", compensation),
    )

    [entry] = _paid(services, "i-undo")
    assert (entry.captured, entry.refunded, len(entry.refunds)) == (1800, 1800, 1)
    assert all(refund == refunds[0] for refund in refunds)
    assert (await services.stock.inventory.stock())["SCARF"] == stocked + 2
    assert sorted(release["action"] for release in releases) == [
        "already-released",
        "already-released",
        "released",
    ]


async def test_a_whole_order_delivered_thrice_adds_up(services: ServiceStack) -> None:
    document = order("i-whole", items=[{"sku": "MUG", "qty": 3}], amount=2700)
    stock_before = (await services.stock.inventory.stock())["MUG"]

    document["payment"] = (await thrice(services, "charge-payment", "charge-payment", document))[0]
    document["reservation"] = (await thrice(services, "reserve-stock", "reserve-stock", document))[
        0
    ]
    document["shipment"] = (await thrice(services, "book-shipment", "book-shipment", document))[0]
    document["receipt"] = (await thrice(services, "emit-receipt", "emit-receipt", document))[0]

    [entry] = _paid(services, "i-whole")
    receipt = await services.receipts.book.get("i-whole")
    assert receipt is not None and entry.captured - entry.refunded == receipt.total == 2700
    booked = [s for s in await shipments(services.carrier.url) if s.order_id == "i-whole"]
    shipped = sum(parcel.qty for shipment in booked for parcel in shipment.parcels)
    assert stock_before - (await services.stock.inventory.stock())["MUG"] == shipped == 3
