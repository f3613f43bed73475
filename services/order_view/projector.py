"""Applying history batches and receipt events to the orders view's tables.

Each message is applied in a transaction of the view's database, shared with the other
messages being applied at the same moment (``GroupedTransactions``: a commit per message
cost more than the message), and its offset is committed only afterwards (by
``consume``), so a crash in between redelivers it and the event ids make the second
application a no-op.

A batch whose first new event does not follow the last applied one means events were
missed (a wiped embedded broker, a view started after the topic's start was deleted).
With a ``HistorySource`` the row is then rebuilt from the execution's whole history, the
orchestrator's record of truth; without one the batch is applied as it is and the row's
path may lack the states of the missed events.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import ValidationError

from services.order_view import repository
from services.order_view.projection import (
    REVIEW_STATE,
    MalformedHistory,
    OrderRow,
    has_gap,
    project,
    read_events,
    unapplied,
)
from services.order_view.receipts import RECEIPT_KIND, MalformedReceipt, read_receipt
from stepstream.asl.history import HistoryEvent
from stepstream.messaging.bus import Record
from stepstream.messaging.contracts import HISTORY_KIND, HistoryBatch
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.sql.database import Database, Transaction
from stepstream.sql.grouped import GroupedTransactions
from stepstream.store.base import ExecutionReader

log = logging.getLogger(__name__)


class HistorySource(Protocol):
    """Where an execution's whole history can be read when the topic missed some of it."""

    async def history(self, execution_arn: str) -> list[HistoryEvent]:
        """Every event of the execution, oldest first (empty when it is unknown)."""
        ...


class StoreHistory:
    """A ``HistorySource`` reading the orchestrator's event store."""

    def __init__(self, store: ExecutionReader) -> None:
        self.store = store

    async def history(self, execution_arn: str) -> list[HistoryEvent]:
        stored = await self.store.read(execution_arn)
        return read_events(event.data for event in stored)


class OrderProjector:
    """Keeps the orders view: history batches of the named state machines, and receipts."""

    def __init__(
        self,
        *,
        database: Database,
        state_machines: frozenset[str],
        history: HistorySource | None = None,
        review_state: str = REVIEW_STATE,
    ) -> None:
        self.database = database
        self.state_machines = state_machines
        self.history = history
        self.review_state = review_state
        self.writes = GroupedTransactions(database)

    async def handle(self, envelope: Envelope, record: Record) -> None:
        """A ``consume`` handler: unreadable messages raise ``PoisonMessage``."""
        try:
            if envelope.kind == HISTORY_KIND:
                await self.apply_history(envelope.execution_id, envelope.payload)
            elif envelope.kind == RECEIPT_KIND:
                await self.apply_receipt(envelope.payload)
            else:
                raise PoisonMessage(
                    f"unexpected message kind {envelope.kind!r} on {record.topic}: "
                    f"the orders view reads {HISTORY_KIND!r} and {RECEIPT_KIND!r}"
                )
        except (MalformedHistory, MalformedReceipt) as exc:
            raise PoisonMessage(str(exc)) from None

    async def apply_history(self, execution_arn: str, payload: dict[str, Any]) -> OrderRow | None:
        """Apply one published batch; returns the row as stored (None when not an order)."""
        try:
            published = HistoryBatch.model_validate(payload)
        except ValidationError:
            raise MalformedHistory(
                "history batch needs 'state_machine' (a string) and 'events' (an array of objects)"
            ) from None
        state_machine = published.state_machine
        if state_machine not in self.state_machines:
            return None
        batch = read_events(published.events)

        async def apply(tx: Transaction) -> OrderRow | None:
            row = await repository.load_row(tx, execution_arn)
            fresh = unapplied(row, batch)
            if not fresh:
                return row
            if has_gap(row, fresh):
                fresh = await self._fill_gap(execution_arn, row, fresh)
            updated = project(
                row, execution_arn, state_machine, fresh, review_state=self.review_state
            )
            if updated is not None:
                await repository.save_row(tx, updated)
            return updated

        return await self.writes.run(apply)

    async def _fill_gap(
        self, execution_arn: str, row: OrderRow | None, fresh: list[HistoryEvent]
    ) -> list[HistoryEvent]:
        after = row.last_event_id if row is not None else 0
        if self.history is None:
            log.warning(
                "%s: events after %d missing and no history source; applying event %d on",
                execution_arn,
                after,
                fresh[0].id,
            )
            return fresh
        whole = await self.history.history(execution_arn)
        log.info(
            "%s: events after %d missing; read %d from the store", execution_arn, after, len(whole)
        )
        return unapplied(row, [*whole, *fresh])

    async def apply_receipt(self, payload: dict[str, Any]) -> bool:
        """Keep a receipt; True when it was new."""
        receipt = read_receipt(payload)
        return await self.writes.run(lambda tx: repository.save_receipt(tx, receipt))
