"""Ticket intake: the desk process over an in-memory bus, with its real ticket database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.review_desk.app import open_tickets, serve
from services.review_desk.desk import ReviewDesk
from services.review_desk.settings import ReviewDeskSettings
from services.review_desk.tickets import ticket_id_for
from stepstream.messaging import DeadLetter, Envelope, FakeBus
from stepstream.messaging.contracts import PUBLISH_KIND
from stepstream.messaging.fake import FakePublisher
from tests.integration.harness import eventually

PREFIX = "desk"
TOPIC = f"{PREFIX}.human-review"
ARN = "arn:aws:states:local:000000000000:execution:Fulfilment:ord-"


def ticket_envelope(n: int, **payload: Any) -> Envelope:
    message = {
        "executionArn": f"{ARN}{n}",
        "taskToken": f"token-{n}",
        "state": "BookShipment",
        "errorInfo": {"Error": "CarrierResponseMalformed", "Cause": f"answer {n} garbled"},
        "order": {"orderId": f"ord-{n}"},
    }
    body = {"message": message, "task_token": f"token-{n}", "state": "WaitForHumanReview"}
    return Envelope(kind=PUBLISH_KIND, execution_id=f"{ARN}{n}", payload={**body, **payload})


class RunningDesk:
    def __init__(self, bus: FakeBus, publisher: FakePublisher, desk: ReviewDesk) -> None:
        self.bus, self.publisher, self.desk = bus, publisher, desk

    async def send(self, envelope: Envelope) -> None:
        await self.publisher.publish(TOPIC, envelope.execution_id, envelope)

    def dead_letters(self) -> list[DeadLetter]:
        return [DeadLetter.from_record(r) for r in self.bus.records(f"{PREFIX}.dead-letter")]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[RunningDesk]:
    bus = FakeBus(partitions=1)
    settings = ReviewDeskSettings(topic_prefix=PREFIX, data_dir=tmp_path)
    stop = asyncio.Event()
    intake = asyncio.create_task(serve(settings, stop, bus=bus))
    publisher = bus.publisher()
    await publisher.start()
    database = await open_tickets(settings)
    try:
        yield RunningDesk(bus, publisher, ReviewDesk(database=database))
    finally:
        stop.set()
        await intake
        await database.close()
        await publisher.stop()


async def test_a_published_ticket_is_kept_with_its_failure(running: RunningDesk) -> None:
    await running.send(ticket_envelope(1))
    tickets = await eventually(running.desk.list_tickets, timeout=5)
    assert [t.ticket_id for t in tickets] == [ticket_id_for("token-1")]
    assert tickets[0].error == "CarrierResponseMalformed"
    assert tickets[0].cause == "answer 1 garbled"


async def test_a_ticket_published_again_is_one_ticket(running: RunningDesk) -> None:
    first = ticket_envelope(1)
    await running.send(first)
    await running.send(first)  # redelivered as it was
    await running.send(ticket_envelope(1))  # re-published by the relay: a new message id
    await running.send(ticket_envelope(2))
    await eventually(lambda: _committed(running.bus, 4), timeout=5)
    tickets = await running.desk.list_tickets()
    assert [t.task_token for t in tickets] == ["token-1", "token-2"]
    assert tickets[0].opened_at == first.created_at


async def test_malformed_messages_are_dead_lettered_and_intake_goes_on(
    running: RunningDesk,
) -> None:
    await running.publisher.publish_raw(TOPIC, b"k", b"{not json", ())
    await running.send(Envelope(kind="task.command", execution_id=f"{ARN}9", payload={}))
    no_token = ticket_envelope(3, task_token=None)
    del no_token.payload["message"]["taskToken"]
    await running.send(no_token)
    await running.send(ticket_envelope(4))

    await eventually(lambda: _committed(running.bus, 4), timeout=5)
    assert [t.task_token for t in await running.desk.list_tickets()] == ["token-4"]
    letters = running.dead_letters()
    reasons = [letter.reason for letter in letters]
    assert "not JSON" in reasons[0]
    assert "unexpected message kind 'task.command'" in reasons[1]
    assert "carries no task token" in reasons[2]
    assert all(letter.source_topic == TOPIC for letter in letters)
    assert letters[0].value == b"{not json"


async def _committed(bus: FakeBus, count: int) -> bool:
    """Whether intake has dealt with (and committed) the first ``count`` records."""
    return bus.committed(f"{PREFIX}.review-desk", TOPIC, 0) == count
