"""Tickets are derived from the executions that wait on review, not only from messages:
a desk finds the ticket whose message never reached it, and closes the ones nothing
waits on any more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.orchestrator.orchestrator import Orchestrator
from services.review_desk import repository
from services.review_desk.app import open_tickets, serve
from services.review_desk.desk import ReviewDesk
from services.review_desk.intake import TicketIntake
from services.review_desk.reconcile import reconcile
from services.review_desk.settings import ReviewDeskSettings
from services.review_desk.tickets import Decision, Ticket, TicketStatus
from stepstream.api.stack_file import DATA_DIR_VARIABLE
from stepstream.api.waiting import tasks_waiting_on
from stepstream.asl.messages import StopRequested
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.kafka import KafkaSettings
from stepstream.messaging.requests import StartExecution
from stepstream.messaging.topics import Topics
from stepstream.sql.database import Database
from stepstream.store.base import ExecutionStore
from stepstream.store.factory import open_store
from stepstream.store.memory import InMemoryStore
from tests.integration.harness import eventually
from tests.review.support import advertise_stack, stepstream

REVIEW = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
# An order that failed in a way nobody has seen, and now waits for an operator.
WAITS_FOR_REVIEW = {
    "StartAt": "WaitForHumanReview",
    "States": {
        "WaitForHumanReview": {
            "Type": "Task",
            "Resource": REVIEW,
            "Parameters": {
                "QueueUrl": "human-review",
                "MessageBody": {
                    "executionArn.$": "$$.Execution.Id",
                    "taskToken.$": "$$.Task.Token",
                    "state": "BookShipment",
                    "errorInfo": {"Error": "CarrierResponseMalformed", "Cause": "half a page"},
                    "order.$": "$",
                },
            },
            "End": True,
        }
    },
}
BINDINGS = {"resources": {REVIEW: {"topic": "human-review"}}}
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


async def waiting_for_review(store: ExecutionStore, topics: Topics, *orders: str) -> list[str]:
    """Executions that scheduled their review task; no relay runs, so no ticket was sent."""
    await store.put_state_machine("Review", json.dumps(WAITS_FOR_REVIEW), json.dumps(BINDINGS))
    orchestrator = Orchestrator(store=store, topics=topics)
    return [
        await orchestrator.start(
            StartExecution(state_machine="Review", name=order, input={"orderId": order})
        )
        for order in orders
    ]


async def test_a_desk_started_without_the_ticket_message_opens_the_ticket_from_the_store(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topics = Topics(prefix)
    store = await open_store(store_url)
    try:
        [arn] = await waiting_for_review(store, topics, "ord-7")
    finally:
        await store.close()
    advertise_stack(tmp_path, kafka, store_url, prefix)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    settings = ReviewDeskSettings(kafka=kafka, topic_prefix=prefix, data_dir=tmp_path)
    stop = asyncio.Event()
    desk_process = asyncio.create_task(serve(settings, stop))
    database = await open_tickets(settings)
    try:

        async def ticket() -> Ticket | None:
            tickets = await ReviewDesk(database=database).list_tickets()
            return next((t for t in tickets if t.execution_arn == arn), None)

        found: Ticket = await eventually(ticket, timeout=20)
        assert (found.failed_state, found.error) == ("BookShipment", "CarrierResponseMalformed")
        assert found.order == {"orderId": "ord-7"}
        assert found.review_state == "WaitForHumanReview"

        code, out, _ = await stepstream(capsys, "review", "list", "--data-dir", str(tmp_path))
        assert code == 0
        assert found.ticket_id in out and "ord-7" in out
    finally:
        stop.set()
        await desk_process
        await database.close()


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    yield memory
    await memory.close()


async def reconciled(database: Database, store: ExecutionStore) -> Any:
    return await reconcile(database, lambda: tasks_waiting_on(store, "human-review"), now=NOW)


async def test_a_ticket_opened_by_reconciliation_is_the_one_its_message_brings(
    sqlite_tickets: Database, store: InMemoryStore
) -> None:
    topics = Topics("t")
    [arn] = await waiting_for_review(store, topics, "ord-1")

    first = await reconciled(sqlite_tickets, store)
    again = await reconciled(sqlite_tickets, store)
    # The message that was never sent, arriving late after all.
    [outbox] = [p for p in await store.pending_outbox(100) if p.message.topic != topics.history()]
    late = await TicketIntake(database=sqlite_tickets).take(
        Envelope.model_validate_json(outbox.message.value)
    )

    assert [t.execution_arn for t in first.opened] == [arn]
    assert again.opened == [] and again.expired == []
    assert late.ticket_id == first.opened[0].ticket_id
    tickets = await ReviewDesk(database=sqlite_tickets).list_tickets(include_closed=True)
    assert [t.ticket_id for t in tickets] == [late.ticket_id]


async def test_tickets_whose_execution_no_longer_waits_are_expired(
    sqlite_tickets: Database, store: InMemoryStore
) -> None:
    topics = Topics("t")
    [stopped, waiting, decided] = await waiting_for_review(
        store, topics, "ord-stopped", "ord-waiting", "ord-decided"
    )
    opened = {t.execution_arn: t for t in (await reconciled(sqlite_tickets, store)).opened}
    await Orchestrator(store=store, topics=topics).deliver(stopped, StopRequested("Aborted", ""))
    await Orchestrator(store=store, topics=topics).deliver(decided, StopRequested("Aborted", ""))
    async with sqlite_tickets.transaction() as tx:
        # An operator's decision on its way is the desk's redelivery to settle, not this.
        await repository.claim(
            tx, opened[decided].ticket_id, decision=Decision.FAIL, note="", operator="ada", at=NOW
        )

    result = await reconciled(sqlite_tickets, store)

    assert [t.execution_arn for t in result.expired] == [stopped]
    desk = ReviewDesk(database=sqlite_tickets)
    assert (await desk.ticket(opened[stopped].ticket_id)).status is TicketStatus.EXPIRED
    assert (await desk.ticket(opened[waiting].ticket_id)).status is TicketStatus.OPEN
    assert (await desk.ticket(opened[decided].ticket_id)).status is TicketStatus.DECIDING
