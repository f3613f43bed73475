"""The charge-payment process: the worker, its handlers, and the wiring of its parts.

Handlers stay thin: decode the order, call ``Payments``, return its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.charge_payment import CHARGE_PAYMENT, REFUND_PAYMENT, SERVICE
from services.charge_payment.payment_records import DDL, SqlPaymentRecords
from services.charge_payment.payments import ChargeOrder, Payments, RefundOrder
from services.charge_payment.settings import ChargePaymentSettings
from services.charge_payment.stripe_gateway import StripeGateway
from services.common.inputs import command_key, decode_input
from services.common.running import serve_worker
from stepstream.messaging.bus import Bus
from stepstream.sql.database import open_database
from stepstream.worker import CommandContext, Worker, WorkerSettings


@dataclass(frozen=True)
class ChargePaymentParts:
    """The wired service: the domain and the adapters it runs on."""

    payments: Payments
    records: SqlPaymentRecords
    gateway: StripeGateway


def build_worker(payments: Payments, *, settings: WorkerSettings, bus: Bus | None = None) -> Worker:
    """The worker serving ChargePayment and RefundPayment with ``payments``."""
    worker = Worker(name=SERVICE, settings=settings, bus=bus)

    @worker.handler(CHARGE_PAYMENT)
    async def charge(cmd: CommandContext) -> dict[str, Any]:
        order = decode_input(ChargeOrder, cmd.input, command=CHARGE_PAYMENT)
        key = command_key(cmd.idempotency_key, order.order_id)
        return await payments.charge(order, idempotency_key=key)

    @worker.handler(REFUND_PAYMENT)
    async def refund(cmd: CommandContext) -> dict[str, Any]:
        return await payments.refund(decode_input(RefundOrder, cmd.input, command=REFUND_PAYMENT))

    return worker


@asynccontextmanager
async def bootstrap(settings: ChargePaymentSettings) -> AsyncIterator[ChargePaymentParts]:
    """Open the database and the Stripe client; close them afterwards."""
    gateway = StripeGateway.connect(
        api_key=settings.api_key(),
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.stripe_timeout_seconds,
        max_network_retries=settings.stripe_max_network_retries,
    )
    try:
        database = await open_database(
            settings.database(), default_schema="charge_payment", ddl=DDL
        )
        try:
            records = SqlPaymentRecords(database)
            yield ChargePaymentParts(Payments(gateway=gateway, records=records), records, gateway)
        finally:
            await database.close()
    finally:
        await gateway.close()


async def serve(settings: ChargePaymentSettings, stop: asyncio.Event) -> None:
    """Serve commands until ``stop`` is set."""
    async with bootstrap(settings) as parts:
        await serve_worker(build_worker(parts.payments, settings=settings), stop)
