"""The emit-receipt process: the worker, its handler, and the wiring of its parts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.common.inputs import decode_input
from services.common.running import serve_worker
from services.emit_receipt import EMIT_RECEIPT, SERVICE
from services.emit_receipt.receipt_book import DDL, SqlReceiptBook
from services.emit_receipt.receipt_events import BusReceiptEvents
from services.emit_receipt.receipts import ReceiptOrder, Receipts
from services.emit_receipt.settings import EmitReceiptSettings
from stepstream.messaging.bus import Bus
from stepstream.messaging.kafka import KafkaPublisher
from stepstream.messaging.topics import Topics
from stepstream.sql.database import open_database
from stepstream.worker import CommandContext, Worker, WorkerSettings


@dataclass(frozen=True)
class EmitReceiptParts:
    """The wired service: the domain and the adapters it runs on."""

    receipts: Receipts
    book: SqlReceiptBook


def build_worker(receipts: Receipts, *, settings: WorkerSettings, bus: Bus | None = None) -> Worker:
    """The worker serving EmitReceipt with ``receipts``."""
    worker = Worker(name=SERVICE, settings=settings, bus=bus)

    @worker.handler(EMIT_RECEIPT)
    async def emit(cmd: CommandContext) -> dict[str, Any]:
        order = decode_input(ReceiptOrder, cmd.input, command=EMIT_RECEIPT)
        return await receipts.emit(order, execution_id=cmd.execution_id)

    return worker


@asynccontextmanager
async def bootstrap(settings: EmitReceiptSettings) -> AsyncIterator[EmitReceiptParts]:
    """Open the receipts database and a publisher for receipt events; close them afterwards."""
    publisher = KafkaPublisher(settings=settings.kafka)
    await publisher.start()
    try:
        database = await open_database(settings.database(), default_schema="emit_receipt", ddl=DDL)
        try:
            book = SqlReceiptBook(database)
            events = BusReceiptEvents(publisher, Topics(settings.topic_prefix))
            yield EmitReceiptParts(Receipts(book=book, events=events), book)
        finally:
            await database.close()
    finally:
        await publisher.stop()


async def serve(settings: EmitReceiptSettings, stop: asyncio.Event) -> None:
    """Serve commands until ``stop`` is set."""
    async with bootstrap(settings) as parts:
        await serve_worker(build_worker(parts.receipts, settings=settings), stop)
