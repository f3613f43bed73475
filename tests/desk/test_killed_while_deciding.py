"""A desk killed while sending a decision: the decision, with its corrections, reaches the
execution once, whether the process died before the send or after it."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from services.review_desk.desk import ReviewDesk
from services.review_desk.tickets import TicketStatus
from stepstream.messaging.kafka import KafkaSettings
from tests.desk.test_decisions import waiting_tickets
from tests.review.support import advertise_stack, review_loop

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_decision_is_delivered_once_after_the_desk_died_sending_it(
    when: str, kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        [ticket_id] = (await waiting_tickets(loop, f"ord-{when}")).values()
        arn = (await loop.desk.ticket(ticket_id)).execution_arn
        advertise_stack(tmp_path, kafka, store_url, prefix)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.desk.dies_while_deciding",
            str(tmp_path), ticket_id, when, cwd=ROOT,
        )  # fmt: skip
        assert await process.wait() == 9
        assert (await loop.desk.ticket(ticket_id)).status is TicketStatus.DECIDING

        later = loop.desk.clock() + timedelta(minutes=5)
        desk = ReviewDesk(
            database=loop.desk.database, executions=loop.system.client, clock=lambda: later
        )
        [settled] = await desk.redeliver()
        assert settled.status is TicketStatus.RESOLVED and settled.operator == "otto"
        assert (await loop.system.finished(arn))["status"] == "SUCCEEDED"
        history = (await loop.system.client.get_execution_history(arn))["events"]
        answers = [
            json.loads(e["taskSucceededEventDetails"]["output"])
            for e in history
            if e["type"] == "TaskSucceeded"
            and "decision" in e["taskSucceededEventDetails"]["output"]
        ]
        assert len(answers) == 1
        assert answers[0]["changes"]["address"]["line1"] == "2 New Street"
        assert await desk.redeliver() == []
