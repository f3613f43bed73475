"""The four services as running workers on the embedded broker, with both simulators.

Each service is wired by its own ``bootstrap`` from its own settings, as its process
would be, and serves its command topic; ``Commands`` plays the orchestrator's part.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from services.book_shipment import service as book_shipment
from services.book_shipment.settings import BookShipmentSettings
from services.charge_payment import service as charge_payment
from services.charge_payment.settings import ChargePaymentSettings
from services.emit_receipt import service as emit_receipt
from services.emit_receipt.settings import EmitReceiptSettings
from services.reserve_stock import service as reserve_stock
from services.reserve_stock.settings import ReserveStockSettings
from simulators.carrier import CarrierSimulator
from simulators.stripe_api import StripeStandIn
from stepstream.broker import TopicSpec, ensure_topics
from stepstream.messaging.contracts import TaskCommand, command_envelope
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.kafka import KafkaBus, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.worker import Worker
from tests.messaging.support import Collector, eventually

SERVICES = ("charge-payment", "reserve-stock", "book-shipment", "emit-receipt")
CARRIER_KEY = "carrier-key-for-service-tests"
STRIPE_KEY = "sk_test_stepstream_service_tests"
CARRIER_CLIENT_TIMEOUT = 0.5
INITIAL_STOCK = {"MUG": 20, "HAT": 1, "SCARF": 5}
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
ANSWERS = ("task.succeeded", "task.failed")


def order(order_id: str, **changes: Any) -> dict[str, Any]:
    """An order document as the definition hands it to a task."""
    document: dict[str, Any] = {
        "orderId": order_id,
        "items": [{"sku": "MUG", "qty": 2, "unitPrice": 900}],
        "amount": 1800,
        "currency": "eur",
        "paymentMethod": "pm_card_visa",
        "address": {
            "name": "Ada Lovelace",
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
    }
    document.update(changes)
    return document


class Commands:
    """The orchestrator's side of the conversation: send commands, read the answers."""

    def __init__(self, bus: KafkaBus, topics: Topics) -> None:
        self.topics = topics
        self._publisher = bus.publisher()
        self._replies = bus.subscriber([topics.replies()], group_id=f"replies-{uuid.uuid4().hex}")
        self._collector = Collector(self._replies)

    async def start(self) -> None:
        await asyncio.gather(self._publisher.start(), self._replies.start())
        self._collector.start()

    async def stop(self) -> None:
        await self._collector.stop()
        await self._replies.stop()
        await self._publisher.stop()

    async def send(
        self,
        service: str,
        command: str,
        input: Any,
        *,
        execution_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Envelope:
        """Send a command; the key defaults to one per execution and command, as a state's."""
        execution_id = execution_id or f"exec-{uuid.uuid4().hex}"
        envelope = command_envelope(
            TaskCommand(resource=LAMBDA_INVOKE, command=command, input=input),
            execution_id=execution_id,
            command_id=uuid.uuid4().hex,
            idempotency_key=idempotency_key or f"{execution_id}#{command}",
        )
        return await self.resend(service, envelope)

    async def resend(self, service: str, envelope: Envelope) -> Envelope:
        """Publish ``envelope`` (again): a duplicate delivery of the same command."""
        topic = self.topics.commands(service)
        await self._publisher.publish(topic, envelope.execution_id, envelope)
        return envelope

    def answers_to(self, command: Envelope) -> list[Envelope]:
        replies = (decode(record.value) for record in self._collector.records)
        return [r for r in replies if r.command_id == command.command_id and r.kind in ANSWERS]

    async def answers(self, command: Envelope, count: int) -> list[Envelope]:
        """The first ``count`` answers (success or failure) to ``command``, waiting for them."""

        def enough() -> list[Envelope] | None:
            answers = self.answers_to(command)
            return answers[:count] if len(answers) >= count else None

        found: list[Envelope] = await eventually(enough)
        return found

    async def answer(self, command: Envelope) -> Envelope:
        return (await self.answers(command, 1))[0]

    async def call(self, service: str, command: str, input: Any, **options: Any) -> Envelope:
        """Send a command and wait for its answer."""
        return await self.answer(await self.send(service, command, input, **options))


@dataclass
class ServiceStack:
    commands: Commands
    standin: StripeStandIn
    carrier: CarrierSimulator
    payments: charge_payment.ChargePaymentParts
    stock: reserve_stock.ReserveStockParts
    shipping: book_shipment.BookShipmentParts
    receipts: emit_receipt.EmitReceiptParts
    receipt_events: Collector
    topics: Topics

    def events(self) -> list[Envelope]:
        """The receipt events published so far."""
        return [decode(record.value) for record in self.receipt_events.records]


@contextlib.asynccontextmanager
async def running_services(kafka: KafkaSettings, data_dir: Path) -> AsyncIterator[ServiceStack]:
    """The four services serving their topics under a prefix of their own; stopped after."""
    topics = Topics(f"svc{uuid.uuid4().hex[:10]}")
    names = [topics.commands(s) for s in SERVICES] + [topics.replies(), topics.dead_letter()]
    await ensure_topics(
        kafka.bootstrap_servers, [TopicSpec(n) for n in [*names, topics.receipts()]]
    )
    common: dict[str, Any] = {"kafka": kafka, "topic_prefix": topics.prefix, "data_dir": data_dir}
    bus = KafkaBus(settings=kafka)
    async with contextlib.AsyncExitStack() as stack:
        standin = await stack.enter_async_context(StripeStandIn(api_keys=[STRIPE_KEY]))
        carrier = await stack.enter_async_context(CarrierSimulator(api_key=CARRIER_KEY, seed=5))
        payment_settings = ChargePaymentSettings(
            **common, stripe_api_key=SecretStr(STRIPE_KEY), stripe_api_base=standin.url
        )
        stock_settings = ReserveStockSettings(**common, initial_stock=INITIAL_STOCK)
        shipping_settings = BookShipmentSettings(
            **common,
            carrier_url=carrier.url,
            carrier_api_key=SecretStr(CARRIER_KEY),
            carrier_timeout_seconds=CARRIER_CLIENT_TIMEOUT,
        )
        receipt_settings = EmitReceiptSettings(**common)
        payments = await stack.enter_async_context(charge_payment.bootstrap(payment_settings))
        stock = await stack.enter_async_context(reserve_stock.bootstrap(stock_settings))
        shipping = await stack.enter_async_context(book_shipment.bootstrap(shipping_settings))
        receipts = await stack.enter_async_context(emit_receipt.bootstrap(receipt_settings))
        workers: list[Worker] = [
            charge_payment.build_worker(payments.payments, settings=payment_settings),
            reserve_stock.build_worker(stock.keeper, settings=stock_settings),
            book_shipment.build_worker(shipping.shipping, settings=shipping_settings),
            emit_receipt.build_worker(receipts.receipts, settings=receipt_settings),
        ]
        commands = Commands(bus, topics)
        receipt_reader = bus.subscriber([topics.receipts()], group_id=f"rc-{uuid.uuid4().hex}")
        # Joining a group takes the embedded broker a while; all join at once.
        await asyncio.gather(
            commands.start(), receipt_reader.start(), *(worker.start() for worker in workers)
        )
        receipt_events = Collector(receipt_reader)
        receipt_events.start()
        try:
            yield ServiceStack(
                commands,
                standin,
                carrier,
                payments,
                stock,
                shipping,
                receipts,
                receipt_events,
                topics,
            )
        finally:
            await receipt_events.stop()
            await asyncio.gather(
                commands.stop(), receipt_reader.stop(), *(worker.stop() for worker in workers)
            )
