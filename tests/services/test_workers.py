"""Each service as a worker on the embedded broker: a command in, the reply out.

Success replies carry what the definition's ResultSelectors read; failures carry the
error names its Retry and Catch match on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from simulators.carrier.admin import clear_faults, set_faults, shipments
from simulators.stripe_api import FaultConfig
from stepstream.broker import EmbeddedBroker
from stepstream.messaging.envelope import Envelope
from tests.messaging.support import eventually
from tests.services.conftest import kafka_settings
from tests.services.system import CARRIER_CLIENT_TIMEOUT, ServiceStack, order, running_services

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceStack]:
    async with running_services(kafka_settings(broker), tmp_path_factory.mktemp("data")) as stack:
        yield stack


def output(reply: Envelope) -> Any:
    assert reply.kind == "task.succeeded", reply.payload
    return reply.payload["output"]


def failure(reply: Envelope) -> tuple[str, str]:
    assert reply.kind == "task.failed", reply.payload
    return reply.payload["error"], reply.payload["cause"]


async def charge(services: ServiceStack, document: dict[str, Any]) -> Envelope:
    return await services.commands.call("charge-payment", "charge-payment", document)


async def test_charge_payment_answers_the_captured_payment(services: ServiceStack) -> None:
    answer = output(await charge(services, order("w-charge")))

    assert answer["status"] == "succeeded"
    assert (answer["amount"], answer["currency"]) == (1800, "eur")
    assert services.standin.ledger().entry(answer["paymentIntentId"]).captured == 1800


async def test_a_declined_card_answers_card_declined(services: ServiceStack) -> None:
    reply = await charge(services, order("w-declined", paymentMethod="pm_card_chargeDeclined"))

    error, cause = failure(reply)
    assert error == "CardDeclined" and "decline_code=generic_decline" in cause
    assert reply.payload["retriable"] is False


async def test_a_carrier_429_with_a_long_retry_after_fails_the_command_with_it(
    services: ServiceStack,
) -> None:
    # Too long to wait out in the service: the orchestrator's retry is to wait it.
    await set_faults(services.carrier.url, rate_429=1.0, retry_after_seconds=30)
    try:
        reply = await services.commands.call("book-shipment", "book-shipment", order("w-later"))
    finally:
        await clear_faults(services.carrier.url)

    error, cause = failure(reply)
    assert error == "CarrierRateLimited" and "Retry-After 30 s" in cause
    assert reply.payload["retry_after_seconds"] == 30


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (FaultConfig(rate_limit_next=1), "PaymentRateLimited"),
        (FaultConfig(error_next=1), "PaymentServiceUnavailable"),
    ],
)
async def test_stripe_trouble_answers_a_transient_error(
    services: ServiceStack, faults: FaultConfig, error: str
) -> None:
    services.standin.set_faults(faults)
    reply = await charge(services, order(f"w-{error}"))

    assert failure(reply)[0] == error
    assert reply.payload["retriable"] is True


async def test_refund_payment_answers_what_it_gave_back(services: ServiceStack) -> None:
    charged = output(await charge(services, order("w-refund")))

    reply = await services.commands.call(
        "charge-payment", "refund-payment", order("w-refund", payment=charged)
    )

    assert output(reply)["action"] == "refunded" and output(reply)["refunded"] == 1800


async def test_an_order_the_service_cannot_read_answers_invalid_order(
    services: ServiceStack,
) -> None:
    reply = await charge(services, order("w-invalid", amount="lots"))

    error, cause = failure(reply)
    assert error == "InvalidOrder" and "field 'amount' invalid" in cause


async def test_reserve_stock_answers_the_reservation(services: ServiceStack) -> None:
    reply = await services.commands.call("reserve-stock", "reserve-stock", order("w-reserve"))

    answer = output(reply)
    assert answer["reservationId"].startswith("res_")
    assert answer["items"] == [{"sku": "MUG", "qty": 2}]


async def test_an_order_beyond_the_stock_answers_out_of_stock(services: ServiceStack) -> None:
    document = order("w-short", items=[{"sku": "HAT", "qty": 4}])

    reply = await services.commands.call("reserve-stock", "reserve-stock", document)

    assert failure(reply) == (
        "OutOfStock",
        "order w-short cannot be met: SKU 'HAT': 4 wanted, 1 available",
    )


async def test_release_stock_answers_what_it_put_back(services: ServiceStack) -> None:
    await services.commands.call("reserve-stock", "reserve-stock", order("w-release"))

    reply = await services.commands.call("reserve-stock", "release-stock", order("w-release"))

    assert output(reply)["action"] == "released"
    assert output(reply)["items"] == [{"sku": "MUG", "qty": 2}]


async def test_book_shipment_answers_the_tracking_number(services: ServiceStack) -> None:
    reply = await services.commands.call("book-shipment", "book-shipment", order("w-book"))

    answer = output(reply)
    assert answer["carrier"] == "stepstream-post"
    assert answer["trackingNumber"] and answer["shipmentId"].startswith("shp_")


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ({"rate_429": 1.0, "retry_after_seconds": 30}, "CarrierRateLimited"),
        ({"rate_503": 1.0}, "CarrierUnavailable"),
        (
            {"rate_timeout": 1.0, "timeout_delay_seconds": 4 * CARRIER_CLIENT_TIMEOUT},
            "CarrierTimeout",
        ),
        ({"rate_reject": 1.0}, "ShipmentRejected"),
        ({"rate_malformed": 1.0, "malformed_kinds": ["html"]}, "CarrierResponseMalformed"),
    ],
)
async def test_carrier_faults_answer_the_errors_the_definition_knows_them_by(
    services: ServiceStack, faults: dict[str, Any], error: str
) -> None:
    await set_faults(services.carrier.url, **faults)
    try:
        reply = await services.commands.call("book-shipment", "book-shipment", order(f"w-{error}"))
    finally:
        await clear_faults(services.carrier.url)

    assert failure(reply)[0] == error


async def test_cancel_shipment_undoes_a_booking_whose_answer_came_too_late(
    services: ServiceStack,
) -> None:
    late = {"rate_timeout": 1.0, "timeout_delay_seconds": 4 * CARRIER_CLIENT_TIMEOUT}
    await set_faults(services.carrier.url, **late)
    try:
        booking = await services.commands.call("book-shipment", "book-shipment", order("w-late"))
    finally:
        await clear_faults(services.carrier.url)
    assert failure(booking)[0] == "CarrierTimeout"

    reply = await services.commands.call("book-shipment", "cancel-shipment", order("w-late"))

    [shipment] = [s for s in await shipments(services.carrier.url) if s.order_id == "w-late"]
    assert output(reply) == {"cancelled": True, "shipmentId": shipment.shipment_id}
    assert shipment.status == "cancelled"


async def test_cancel_shipment_of_an_order_never_booked_cancels_nothing(
    services: ServiceStack,
) -> None:
    reply = await services.commands.call("book-shipment", "cancel-shipment", order("w-unbooked"))

    assert output(reply) == {"cancelled": False, "shipmentId": None}


async def test_emit_receipt_answers_the_receipt_and_publishes_its_event(
    services: ServiceStack,
) -> None:
    document = order(
        "w-receipt",
        payment={"paymentIntentId": "pi_w", "amount": 1800, "currency": "eur"},
        shipment={"trackingNumber": "TNW", "shipmentId": "shp_w", "carrier": "post"},
    )

    reply = await services.commands.call(
        "emit-receipt", "emit-receipt", document, execution_id="exec-w"
    )

    answer = output(reply)
    assert answer["total"] == 1800
    event = await eventually(
        lambda: next((e for e in services.events() if e.payload["orderId"] == "w-receipt"), None)
    )
    assert (event.kind, event.execution_id) == ("receipt.emitted", "exec-w")
    assert event.payload["receiptId"] == answer["receiptId"]


async def test_a_receipt_for_an_order_not_shipped_answers_invalid_order(
    services: ServiceStack,
) -> None:
    reply = await services.commands.call("emit-receipt", "emit-receipt", order("w-unshipped"))

    assert failure(reply)[0] == "InvalidOrder"
