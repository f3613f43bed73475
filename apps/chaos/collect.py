"""Reading the records the audit judges, each from the part of the system that owns it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.chaos.records import (
    BookingFacts,
    ExecutionFacts,
    PaymentFacts,
    ReceiptFacts,
    Records,
    ReservationFacts,
    TicketFacts,
)
from services.emit_receipt.receipt_book import DDL as RECEIPTS_DDL
from services.emit_receipt.receipt_book import SqlReceiptBook
from services.reserve_stock.sql_inventory import DDL as INVENTORY_DDL
from services.reserve_stock.sql_inventory import SqlInventory
from services.review_desk import repository as tickets_repository
from services.review_desk.app import open_tickets
from services.review_desk.settings import ReviewDeskSettings
from simulators.carrier import admin as carrier_admin
from simulators.stripe_api.admin_client import StandInAdmin
from stepstream.sql.database import open_database
from stepstream.store.base import ExecutionReader

MACHINE = "Fulfilment"
EVERYTHING = 10_000_000


async def stock(data_dir: Path) -> dict[str, int]:
    database = await open_database(
        f"sqlite:///{data_dir / 'reserve-stock.db'}",
        default_schema="reserve_stock",
        ddl=INVENTORY_DDL,
    )
    try:
        return await SqlInventory(database).stock()
    finally:
        await database.close()


async def executions(store: ExecutionReader, prefix: str) -> list[ExecutionFacts]:
    """Every execution of the fulfilment machine whose order belongs to this run."""
    found: list[ExecutionFacts] = []
    for record in await store.list_executions(MACHINE, limit=EVERYTHING):
        execution_input: dict[str, Any] = json.loads(record.input)
        if not str(execution_input.get("orderId", record.name)).startswith(prefix):
            continue
        events = [event.data for event in await store.read(record.execution_arn)]
        found.append(
            ExecutionFacts(
                arn=record.execution_arn,
                name=record.name,
                status=str(record.status),
                input=execution_input,
                events=events,
                output=record.output,
            )
        )
    return found


async def collect(
    *,
    data_dir: Path,
    store: ExecutionReader,
    urls: dict[str, str],
    prefix: str,
    accepted: list[str],
    stock_before: dict[str, int],
) -> Records:
    machine = await store.get_state_machine(MACHINE)
    if machine is None:
        raise RuntimeError(f"no state machine {MACHINE} in the store")
    records = Records(
        accepted=list(accepted),
        definition=json.loads(machine.definition),
        executions=await executions(store, prefix),
        stock_before=dict(stock_before),
    )
    ledger = await StandInAdmin(urls["stripe"]).ledger()
    records.payments = [
        PaymentFacts(e.id, e.metadata.get("order_id", e.id), e.captured, e.refunded, len(e.refunds))
        for e in ledger.payment_intents
        if e.metadata.get("order_id", "").startswith(prefix)
    ]
    records.bookings = [
        BookingFacts(s.shipment_id, s.order_id, str(s.status.value))
        for s in await carrier_admin.shipments(urls["carrier"])
        if s.order_id.startswith(prefix)
    ]
    await _inventory(records, data_dir, prefix)
    await _receipts(records, data_dir, prefix)
    await _tickets(records, data_dir)
    return records


async def _inventory(records: Records, data_dir: Path, prefix: str) -> None:
    database = await open_database(
        f"sqlite:///{data_dir / 'reserve-stock.db'}",
        default_schema="reserve_stock",
        ddl=INVENTORY_DDL,
    )
    try:
        inventory = SqlInventory(database)
        records.stock_now = await inventory.stock()
        records.reservations = [
            ReservationFacts(r.order_id, str(r.status.value), _lines(r.lines))
            for r in await inventory.reservations()
            if r.order_id.startswith(prefix)
        ]
    finally:
        await database.close()


def _lines(lines: Any) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.qty
    return totals


async def _receipts(records: Records, data_dir: Path, prefix: str) -> None:
    database = await open_database(
        f"sqlite:///{data_dir / 'emit-receipt.db'}", default_schema="emit_receipt", ddl=RECEIPTS_DDL
    )
    try:
        records.receipts = [
            ReceiptFacts(r.order_id, r.total)
            for r in await SqlReceiptBook(database).all()
            if r.order_id.startswith(prefix)
        ]
    finally:
        await database.close()


async def _tickets(records: Records, data_dir: Path) -> None:
    ours = {e.arn for e in records.executions}
    database = await open_tickets(ReviewDeskSettings(data_dir=data_dir))
    try:
        async with database.transaction() as tx:
            tickets = await tickets_repository.list_tickets(
                tx, include_closed=True, limit=EVERYTHING
            )
    finally:
        await database.close()
    records.tickets = [
        TicketFacts(
            t.ticket_id,
            t.execution_arn,
            str(t.status.value),
            t.opened_at,
            None if t.decision is None else str(t.decision.value),
        )
        for t in tickets
        if t.execution_arn in ours
    ]
